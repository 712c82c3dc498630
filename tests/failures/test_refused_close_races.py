"""A close refused for news while other decisions of the same task were refused too (they
raced the news: the activity completed, the timer fired): deciding again matches what SWF
did with each of them, and a run that cannot be decided again backs off longer and longer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aioswf import DecisionFailure, workflow
from tests.failures.workflows import note
from tests.workflow.histories import Simulation, kinds


@workflow.defn
class AwaitsNote:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(note, "hi")


@workflow.defn
class Sleeps:
    @workflow.run
    async def run(self) -> str:
        await asyncio.sleep(60)
        return "slept"


def refuse_close(
    sim: Simulation, started: int, decisions: list[dict[str, Any]], refused: dict[str, str]
) -> None:
    """Record the answer of task ``started``: its close refused for news, and every decision
    whose type is in ``refused`` refused with the cause given; the others applied."""
    applied = [d for d in decisions if d["decisionType"] not in refused]
    sim.history.complete_decision_task(started, [d for d in applied if not _closes(d)])
    completed = sim.history.events[-1 - sum(not _closes(d) for d in applied)]["eventId"]
    for decision in decisions:
        kind = decision["decisionType"]
        if kind in refused and not _closes(decision):
            data = dict(decision[kind[:1].lower() + kind[1:] + "DecisionAttributes"])
            data.update(cause=refused[kind], decisionTaskCompletedEventId=completed)
            sim.history.add(f"{kind}Failed", data)
    close = next(d for d in decisions if _closes(d))["decisionType"]
    sim.history.add(
        f"{close}Failed", {"cause": "UNHANDLED_DECISION", "decisionTaskCompletedEventId": completed}
    )


def _closes(decision: dict[str, Any]) -> bool:
    return decision["decisionType"].endswith("WorkflowExecution")


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_a_cancel_racing_the_activitys_completion(cache: bool) -> None:
    sim = Simulation(AwaitsNote, cache=cache)
    assert kinds(sim.decide()) == ["ScheduleActivityTask"]
    sim.history.cancel_requested()
    started = sim.history.start_decision_task()
    decided = sim.activate(started).decisions
    assert kinds(decided) == ["RequestCancelActivityTask", "CancelWorkflowExecution"]
    sim.history.activity_completed("1", "hi")  # the news: too late to cancel
    refuse_close(sim, started, decided, {"RequestCancelActivityTask": "ACTIVITY_ID_UNKNOWN"})
    again = sim.decide()
    assert sim.activations[-1].failure is None
    assert kinds(again) == ["CancelWorkflowExecution"]
    replayed = sim.replay()
    assert replayed.failure is None
    assert replayed.decisions == []
    sim.close()


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_a_cancel_racing_the_timers_firing(cache: bool) -> None:
    sim = Simulation(Sleeps, cache=cache)
    assert kinds(sim.decide()) == ["StartTimer"]
    sim.history.cancel_requested()
    started = sim.history.start_decision_task()
    decided = sim.activate(started).decisions
    assert kinds(decided) == ["CancelTimer", "CancelWorkflowExecution"]
    sim.history.timer_fired("1")
    refuse_close(sim, started, decided, {"CancelTimer": "TIMER_ID_UNKNOWN"})
    again = sim.decide()
    assert sim.activations[-1].failure is None
    assert kinds(again) == ["CancelWorkflowExecution"]
    assert sim.replay().failure is None
    sim.close()


@workflow.defn
class SchedulesThenReturns:
    def __init__(self) -> None:
        self.n = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.n > 0)
        if self.n == 1:
            workflow.start_activity(note, "only when alone")
        return self.n

    @workflow.signal
    def add(self) -> None:
        self.n += 1


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_a_refused_decision_the_code_no_longer_makes_is_let_go(cache: bool) -> None:
    sim = Simulation(SchedulesThenReturns, cache=cache)
    sim.decide()
    sim.history.signal("add")
    started = sim.history.start_decision_task()
    decided = sim.activate(started).decisions
    assert kinds(decided) == ["ScheduleActivityTask", "CompleteWorkflowExecution"]
    sim.history.signal("add")
    refuse_close(sim, started, decided, {"ScheduleActivityTask": "ACTIVITY_CREATION_RATE_EXCEEDED"})
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    assert sim.activations[-1].failure is None
    assert sim.replay().failure is None
    sim.close()


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_the_back_off_grows_when_every_attempt_fails_deciding_again(cache: bool) -> None:
    sim = Simulation(SchedulesThenReturns, cache=cache)
    sim.decide()
    sim.history.signal("add")
    started = sim.history.start_decision_task()
    decided = sim.activate(started).decisions
    sim.history.signal("add")
    # SWF applied the activity beside the refused close; the code, with the news, no longer
    # schedules it: each attempt to decide again fails the same way.
    refuse_close(sim, started, decided, {})
    seen = []
    for _ in range(4):
        sim.decide()
        failure, _ = DecisionFailure.from_context(sim.activations[-1].execution_context)
        assert failure is not None
        seen.append((failure.attempts, failure.retry_in.total_seconds()))
        sim.history.timer_fired(f"aioswf-retry-{sim.history.events[-3]['eventId'] - 0}")
    assert seen == [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)]
    sim.close()
