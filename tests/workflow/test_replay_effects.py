"""What replay must not repeat and what it must tolerate: the unknown-signal warning is logged
once, when its task is first decided; a patch goes from ``patched`` to ``deprecate_patch`` to
removed without breaking the replay of any run recorded on the way."""

from __future__ import annotations

import asyncio
import logging

import pytest

from aioswf import workflow
from aioswf._decider import WorkflowInstance
from aioswf._definitions import workflow_definition
from aioswf.converter import DataConverter
from tests.workflow.histories import Simulation, attrs_of, decide_last_again, kinds, same_decisions
from tests.workflow.workflows import greet

pytestmark = pytest.mark.parametrize("cache", [True, False], ids=["cached", "replayed"])

SIGNALS_LOGGER = "aioswf._decider.signals"


@workflow.defn
class Listener:
    def __init__(self) -> None:
        self.count = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.count >= 3)
        return self.count

    @workflow.signal
    def ping(self, n: int) -> None:
        self.count += n


def dropped(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == SIGNALS_LOGGER and r.levelno == logging.WARNING
    ]


def test_dropped_signal_is_logged_once_when_first_decided(
    cache: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=SIGNALS_LOGGER)
    sim = Simulation(Listener, cache=cache)
    sim.history.signal("nope", 1)
    assert sim.decide() == []
    assert len(dropped(caplog)) == 1
    assert "no handler for signal 'nope'" in dropped(caplog)[0]

    # Task 2: one known signal, one unknown. The first task is replayed before it when the
    # cache is off. (A signal whose input cannot be decoded is not dropped: the run fails.)
    sim.history.signal("ping", 1)
    sim.history.signal("other", 1)
    assert sim.decide() == []
    messages = dropped(caplog)
    assert len(messages) == 2
    assert "no handler for signal 'other'" in messages[1]

    # Task 3 closes the run; earlier tasks are replayed (cache off) and log nothing again.
    sim.history.signal("ping", 2)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    assert len(dropped(caplog)) == 2
    sim.replay()
    assert len(dropped(caplog)) == 2
    sim.close()


@workflow.defn(name="Ship")
class ShipPatched:
    @workflow.run
    async def run(self) -> str:
        await asyncio.sleep(1)
        if workflow.patched("insure"):
            await workflow.execute_activity(greet, "insure")
            return "insured"
        return "plain"


@workflow.defn(name="Ship")
class ShipDeprecated:
    @workflow.run
    async def run(self) -> str:
        await asyncio.sleep(1)
        workflow.deprecate_patch("insure")
        await workflow.execute_activity(greet, "insure")
        return "insured"


@workflow.defn(name="Ship")
class ShipFinal:
    @workflow.run
    async def run(self) -> str:
        await asyncio.sleep(1)
        await workflow.execute_activity(greet, "insure")
        return "insured"


def ship(cls: type[object], cache: bool) -> Simulation:
    """Run ``cls`` to completion; returns the simulation, whose history is recorded."""
    sim = Simulation(cls, cache=cache)
    assert kinds(sim.decide()) == ["StartTimer"]
    sim.history.timer_fired("1")
    middle = sim.decide()
    assert kinds(middle)[-1] == "ScheduleActivityTask"
    sim.history.activity_completed("1", "hello insure")
    assert attrs_of(sim.decide()[0]) == {"result": '"insured"'}
    return sim


def replays_with(cls: type[object], sim: Simulation) -> None:
    """``sim``'s whole history replays with ``cls`` and its last task decides the same."""

    def fresh() -> WorkflowInstance:
        return WorkflowInstance(
            workflow_definition(cls),
            domain="test",
            workflow_id="wf-1",
            run_id=sim.run_id,
            converter=DataConverter(),
        )

    replay = fresh()
    assert replay.run_to_completion(sim.history.events, None).failure is None
    replay.close()
    activation, recorded = decide_last_again(fresh, sim.history.events)
    assert activation.failure is None
    assert kinds(recorded) == ["CompleteWorkflowExecution"]
    assert same_decisions(activation.decisions, recorded)


def test_deprecated_patch_records_no_marker(cache: bool) -> None:
    sim = ship(ShipDeprecated, cache)
    assert "MarkerRecorded" not in [e["eventType"] for e in sim.history.events]
    sim.close()


def test_history_with_the_patch_marker_replays_deprecated_and_removed(cache: bool) -> None:
    sim = ship(ShipPatched, cache)
    markers = [e for e in sim.history.events if e["eventType"] == "MarkerRecorded"]
    assert len(markers) == 1
    replays_with(ShipDeprecated, sim)
    replays_with(ShipFinal, sim)
    sim.close()


def test_history_without_the_patch_marker_replays_deprecated(cache: bool) -> None:
    sim = ship(ShipFinal, cache)
    replays_with(ShipDeprecated, sim)
    sim.close()


def test_a_patch_marker_the_code_asks_about_is_still_matched(cache: bool) -> None:
    # Skipping is only for markers nobody asks about: the patched code still takes the new
    # branch on replay because it finds its marker.
    sim = ship(ShipPatched, cache)
    replays_with(ShipPatched, sim)
    sim.close()
