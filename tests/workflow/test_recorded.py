"""Recorded histories (as GetWorkflowExecutionHistory returned them) replayed by today's code."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aioswf import NondeterminismError, workflow
from aioswf._decider import WorkflowInstance
from aioswf._definitions import workflow_definition
from aioswf.converter import DataConverter
from tests.workflow.histories import decide_last_again, kinds
from tests.workflow.workflows import Order, greet

HISTORIES = Path(__file__).parent.parent / "histories"

ECHO_OF = {
    "ActivityTaskScheduled": "ScheduleActivityTask",
    "TimerStarted": "StartTimer",
    "WorkflowExecutionCompleted": "CompleteWorkflowExecution",
}


def load(name: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads((HISTORIES / name).read_text())["events"]
    return events


def instance_of(cls: type[Any], events: list[dict[str, Any]]) -> WorkflowInstance:
    started = events[0]["workflowExecutionStartedEventAttributes"]
    assert started["workflowType"]["name"] == workflow_definition(cls).name
    return WorkflowInstance(
        workflow_definition(cls),
        domain="recorded",
        workflow_id="order-o-7",
        run_id="recorded-run",
        converter=DataConverter(),
    )


def test_recorded_order_replays_to_the_recorded_end() -> None:
    events = load("order.json")
    instance = instance_of(Order, events)
    activation = instance.run_to_completion(events, None)
    instance.close()
    assert activation.failure is None
    # Replaying alone decides nothing by construction: decide the last task again, and it
    # must close the execution exactly as recorded, with nothing else.
    again, recorded = decide_last_again(lambda: instance_of(Order, events), events)
    assert again.failure is None
    assert kinds(recorded) == ["CompleteWorkflowExecution"]
    assert again.decisions == recorded


def test_every_recorded_task_decides_the_same_with_cache_on_and_off() -> None:
    events = load("order.json")
    cached = instance_of(Order, events)
    starts = [e["eventId"] for e in events if e["eventType"] == "DecisionTaskStarted"]
    for started in starts:
        prefix = events[:started]
        fresh = instance_of(Order, events)
        replayed = fresh.run_to_completion(prefix, started)
        fresh.close()
        new = [e for e in prefix if e["eventId"] > cached.last_started_id]
        incremental = cached.run_to_completion(new, started)
        assert replayed.decisions == incremental.decisions
        recorded = [
            ECHO_OF[e["eventType"]]
            for e in events
            if e["eventType"] in ECHO_OF
            and _attrs(e).get("decisionTaskCompletedEventId") == started + 1
        ]
        assert [d["decisionType"] for d in replayed.decisions] == recorded
    cached.close()


def _attrs(event: dict[str, Any]) -> dict[str, Any]:
    kind = event["eventType"]
    attributes: dict[str, Any] = event[kind[0].lower() + kind[1:] + "EventAttributes"]
    return attributes


@workflow.defn(name="Order")
class OrderWithoutGather:
    def __init__(self) -> None:
        self.approved_by: str | None = None

    @workflow.run
    async def run(self, order_id: str) -> None:
        await workflow.execute_activity(greet, order_id)
        await asyncio.sleep(60)

    @workflow.signal
    async def approve(self, by: str) -> None:
        self.approved_by = by


def test_recorded_history_catches_a_changed_workflow() -> None:
    events = load("order.json")
    instance = instance_of(OrderWithoutGather, events)
    activation = instance.run_to_completion(events, None)
    instance.close()
    assert isinstance(activation.failure, NondeterminismError)
    # The first activity already differs: the same type and id, called with other input.
    message = str(activation.failure)
    assert "activityId='1'" in message
    assert """with input='["o-7-0"]' where the code decided it with input='["o-7"]'""" in message
