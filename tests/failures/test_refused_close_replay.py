"""A close refused for news (UNHANDLED_DECISION), decided again: the decisions SWF applied
beside it are found again, not sent twice, and replay agrees, cache on and off."""

from __future__ import annotations

import json

import pytest

from aioswf import workflow
from tests.failures.workflows import note
from tests.workflow.histories import Simulation, attrs_of, kinds


@workflow.defn
class Farewell:
    def __init__(self) -> None:
        self.n = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.n > 0)
        workflow.start_activity(note, "bye")  # not awaited: decided beside the close
        return self.n

    @workflow.signal
    def add(self) -> None:
        self.n += 1


def refuse_close(sim: Simulation, *, news: int, expected: list[str]) -> None:
    """Decide a task whose close SWF refuses because ``news`` signals arrived meanwhile."""
    started = sim.history.start_decision_task()
    activation = sim.activate(started)
    assert kinds(activation.decisions) == expected
    for _ in range(news):
        sim.history.signal("add")
    applied = [d for d in activation.decisions if d["decisionType"] != "CompleteWorkflowExecution"]
    sim.history.complete_decision_task(started, applied)
    completed = max(
        e["eventId"] for e in sim.history.events if e["eventType"] == "DecisionTaskCompleted"
    )
    sim.history.add(
        "CompleteWorkflowExecutionFailed",
        {"cause": "UNHANDLED_DECISION", "decisionTaskCompletedEventId": completed},
    )


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_the_close_is_decided_again_with_the_news(cache: bool) -> None:
    sim = Simulation(Farewell, cache=cache)
    sim.decide()
    sim.history.signal("add")
    refuse_close(sim, news=2, expected=["ScheduleActivityTask", "CompleteWorkflowExecution"])
    # Refused again: the activity SWF scheduled beside the first close is not sent twice.
    refuse_close(sim, news=1, expected=["CompleteWorkflowExecution"])
    decisions = sim.decide()
    assert kinds(decisions) == ["CompleteWorkflowExecution"]
    assert json.loads(attrs_of(decisions[0])["result"]) == 4
    replayed = sim.replay()
    assert replayed.failure is None
    assert replayed.decisions == []
    sim.close()


@workflow.defn
class Hops:
    @workflow.run
    async def run(self, n: int) -> None:
        workflow.continue_as_new(n + 1)


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_a_close_refused_for_another_cause_fails_the_run_saying_why(cache: bool) -> None:
    sim = Simulation(Hops, 0, cache=cache)
    started = sim.history.start_decision_task()
    activation = sim.activate(started)
    assert kinds(activation.decisions) == ["ContinueAsNewWorkflowExecution"]
    sim.history.complete_decision_task(started, [])
    completed = max(
        e["eventId"] for e in sim.history.events if e["eventType"] == "DecisionTaskCompleted"
    )
    sim.history.add(
        "ContinueAsNewWorkflowExecutionFailed",
        {"cause": "WORKFLOW_TYPE_DEPRECATED", "decisionTaskCompletedEventId": completed},
    )
    decisions = sim.decide()
    assert kinds(decisions) == ["FailWorkflowExecution"]
    assert attrs_of(decisions[0])["reason"] == "CloseRefused"
    message = json.loads(attrs_of(decisions[0])["details"])["message"]
    assert "ContinueAsNewWorkflowExecution" in message
    assert "WORKFLOW_TYPE_DEPRECATED" in message
    sim.close()
