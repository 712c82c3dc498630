"""Matching a replayed task's decisions with the events that recorded them.

Replay takes a one-loop path for the common task (its decisions exactly the ones recorded)
and the general one for everything else, which words every mismatch. Each history below,
recorded by a run and then edited where a replay would meet changed code, must come out of
both the same: the same failure with the same message, or the same decisions.
"""

from __future__ import annotations

import asyncio
import copy
import gc
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from aioswf import activity, workflow
from aioswf._decider import Activation
from aioswf._decider.commands import DecisionBook
from tests.workflow.histories import Simulation, decide_last_again

Event = dict[str, Any]


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def add_one(n: int) -> int:
    return n + 1


@workflow.defn(name="Matched")
class Matched:
    @workflow.run
    async def run(self, n: int) -> int:
        first = await workflow.execute_activity(add_one, n)
        both = await asyncio.gather(
            workflow.execute_activity(add_one, first),
            workflow.execute_activity(add_one, first + 1, task_priority=3),
        )
        await asyncio.sleep(5)
        if workflow.patched("faster"):
            first += 1
        noted = workflow.side_effect(lambda: 7)
        return first + sum(both) + noted + await workflow.execute_activity(add_one, 0)


def recorded() -> list[Event]:
    """A finished run of :class:`Matched`, every task answered as the code decided."""
    sim = Simulation(Matched, 1)
    sim.run_id = "run-1"
    sim.decide()
    sim.history.activity_completed("1", 2)
    sim.decide()
    sim.history.activity_completed("2", 3)
    sim.history.activity_completed("3", 4)
    sim.decide()
    sim.history.timer_fired("1")
    sim.decide()
    sim.history.activity_completed("4", 1)
    sim.decide()
    sim.close()
    return sim.history.events


def _attributes(event: Event) -> dict[str, Any]:
    kind: str = event["eventType"]
    attributes: dict[str, Any] = event[kind[0].lower() + kind[1:] + "EventAttributes"]
    return attributes


def _echoes(events: list[Event], kind: str) -> Iterator[Event]:
    return (e for e in events if e["eventType"] == kind)


def _edit(change: Callable[[list[Event]], None]) -> list[Event]:
    events = copy.deepcopy(recorded())
    change(events)
    return events


def _set(kind: str, nth: int, **values: Any) -> Callable[[list[Event]], None]:
    def change(events: list[Event]) -> None:
        _attributes(list(_echoes(events, kind))[nth]).update(values)

    return change


def _retype(kind: str, nth: int, new_kind: str) -> Callable[[list[Event]], None]:
    def change(events: list[Event]) -> None:
        event = list(_echoes(events, kind))[nth]
        attributes = _attributes(event)
        del event[kind[0].lower() + kind[1:] + "EventAttributes"]
        event["eventType"] = new_kind
        event[new_kind[0].lower() + new_kind[1:] + "EventAttributes"] = attributes

    return change


def _swap_second_and_third_activity(events: list[Event]) -> None:
    second, third = list(_echoes(events, "ActivityTaskScheduled"))[1:3]
    second_data, third_data = _attributes(second), _attributes(third)
    for data, other in ((second_data, dict(third_data)), (third_data, dict(second_data))):
        data.update({k: v for k, v in other.items() if k != "decisionTaskCompletedEventId"})


def _drop_echo(kind: str, nth: int) -> Callable[[list[Event]], None]:
    def change(events: list[Event]) -> None:
        event = list(_echoes(events, kind))[nth]
        # Kept in place as an event no decision made, so the ids stay in order.
        event["eventType"] = "DecisionTaskScheduled"
        event["decisionTaskScheduledEventAttributes"] = {"taskList": {"name": "tasks"}}

    return change


def _add_marker(name: str) -> Callable[[list[Event]], None]:
    def change(events: list[Event]) -> None:
        # Recorded with the first task's activity, in place of an event no decision made.
        started = next(_echoes(events, "ActivityTaskStarted"))
        started["eventType"] = "MarkerRecorded"
        del started["activityTaskStartedEventAttributes"]
        started["markerRecordedEventAttributes"] = {
            "markerName": name,
            "decisionTaskCompletedEventId": 4,
        }

    return change


FAILING: dict[str, Callable[[list[Event]], None]] = {
    "activity id": _set("ActivityTaskScheduled", 1, activityId="9"),
    "activity type": _set(
        "ActivityTaskScheduled", 2, activityType={"name": "other", "version": "1"}
    ),
    "activity type version": _set(
        "ActivityTaskScheduled", 0, activityType={"name": "add_one", "version": "2"}
    ),
    "activity input": _set("ActivityTaskScheduled", 1, input="[41]"),
    "activity input, spaced": _set("ActivityTaskScheduled", 1, input="[ 2 ]"),
    "timer duration": _set("TimerStarted", 0, startToFireTimeout="6"),
    "timer id": _set("TimerStarted", 0, timerId="7"),
    "decision kind": _retype("ActivityTaskScheduled", 1, "TimerStarted"),
    "two activities swapped": _swap_second_and_third_activity,
    "a decision missing from history": _drop_echo("ActivityTaskScheduled", 2),
    "an event no decision made": _add_marker("someone-else"),
    "side effect renamed": _set("MarkerRecorded", 1, markerName="aioswf.side_effect.2"),
    # Its echo matches; the run then fails, which the code did not decide then.
    "refused schedule": _retype("ActivityTaskScheduled", 3, "ScheduleActivityTaskFailed"),
}
"""Edits a replay must refuse, naming what differs."""
PASSING: dict[str, Callable[[list[Event]], None]] = {
    "as recorded": lambda events: None,
    "a patch marker missing from history": _drop_echo("MarkerRecorded", 0),
    "a patch marker no code asks for": _add_marker("aioswf.patch.older"),
}
"""Edits a replay takes as they are."""


def _replay(events: list[Event]) -> tuple[str | None, type[BaseException] | None, Any]:
    """What a fresh replay of ``events`` and a new decision of their last task give."""
    sim = Simulation(Matched, 1)
    sim.run_id = "run-1"  # as recorded
    instance = sim.new_instance()
    try:
        replayed = instance.run_to_completion(events, None)
    finally:
        instance.close()
    again: Activation
    again, _ = decide_last_again(sim.new_instance, events)
    failure = replayed.failure or again.failure
    decisions = None if failure is not None else again.decisions
    return (str(failure) if failure else None), type(failure) if failure else None, decisions


@pytest.mark.parametrize("edit", [*FAILING, *PASSING])
def test_the_common_path_and_the_general_one_agree(
    edit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = _edit(FAILING.get(edit) or PASSING[edit])
    taken: list[bool] = []
    original = DecisionBook.take_replayed

    def counted(self: DecisionBook, *args: Any, **kwargs: Any) -> Any:
        commands = original(self, *args, **kwargs)
        taken.append(commands is not None)
        return commands

    monkeypatch.setattr(DecisionBook, "take_replayed", counted)
    common = _replay(events)
    monkeypatch.setattr(DecisionBook, "take_replayed", lambda *args, **kwargs: None)
    general = _replay(events)
    assert common == general
    if edit in FAILING:
        assert common[0] is not None
        assert "is not deterministic" in common[0]
        assert not all(taken)  # the task that differs took the general path
    else:
        assert common[0] is None
    if edit == "as recorded":
        assert all(taken)  # every replayed task took the common path


@workflow.defn(name="Looping")
class Looping:
    @workflow.run
    async def run(self, steps: int) -> int:
        total = 0
        for _ in range(steps):
            total = await workflow.execute_activity(add_one, total)
            await asyncio.sleep(1)
        return total


def test_a_replay_leaves_no_cycle_behind_its_decisions() -> None:
    # A decision's echo is delivered once, then the command forgets its machine: the two,
    # which refer to each other, are freed as soon as the machine is done, not by the next
    # pass of the garbage collector (a replay makes one of each per decision).
    steps = 50
    sim = Simulation(Looping, steps)
    for n in range(steps):
        sim.decide()
        sim.history.activity_completed(str(n + 1), n + 1)
        sim.decide()
        sim.history.timer_fired(str(n + 1))
    events = sim.history.events
    sim.close()
    instance = sim.new_instance()
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        assert instance.run_to_completion(events, None).failure is None
        left = len(gc.get_objects()) - before
    finally:
        gc.enable()
        instance.close()
    assert left < steps  # not a few objects per decision
