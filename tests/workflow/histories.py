"""Build SWF histories by hand and drive a workflow instance through them, as a decider would.

`History` appends events the way SWF records them; `Simulation` plays the decider: it starts
decision tasks, feeds the instance (cached, or replaying from scratch every time), and records
the decisions it answers with as SWF would.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aioswf._decider import Activation, CacheMiss, InstanceOptions, WorkflowInstance
from aioswf._definitions import workflow_definition
from aioswf.converter import DataConverter

START = datetime(2024, 1, 1, tzinfo=UTC)

_ECHO = {
    "ScheduleActivityTask": "ActivityTaskScheduled",
    "RequestCancelActivityTask": "ActivityTaskCancelRequested",
    "StartTimer": "TimerStarted",
    "CancelTimer": "TimerCanceled",
    "RecordMarker": "MarkerRecorded",
    "CompleteWorkflowExecution": "WorkflowExecutionCompleted",
    "FailWorkflowExecution": "WorkflowExecutionFailed",
    "CancelWorkflowExecution": "WorkflowExecutionCanceled",
    "ContinueAsNewWorkflowExecution": "WorkflowExecutionContinuedAsNew",
    "StartChildWorkflowExecution": "StartChildWorkflowExecutionInitiated",
    "SignalExternalWorkflowExecution": "SignalExternalWorkflowExecutionInitiated",
    "RequestCancelExternalWorkflowExecution": "RequestCancelExternalWorkflowExecutionInitiated",
    "ScheduleLambdaFunction": "LambdaFunctionScheduled",
}


def _key(kind: str, suffix: str) -> str:
    return kind[0].lower() + kind[1:] + suffix


class History:
    """A workflow history under construction."""

    def __init__(
        self,
        workflow_type: tuple[str, str],
        input: str | None = None,
        task_list: str = "tasks",
    ) -> None:
        self.events: list[dict[str, Any]] = []
        self.now = START
        self.timer_started: dict[str, int] = {}
        self.activity_scheduled: dict[str, int] = {}
        self.initiated: dict[str, int] = {}
        """``*Initiated`` event ids by child workflow id or by signal/cancel control."""
        self.lambda_scheduled: dict[str, int] = {}
        started: dict[str, Any] = {
            "workflowType": {"name": workflow_type[0], "version": workflow_type[1]},
            "taskList": {"name": task_list},
            "childPolicy": "TERMINATE",
            "executionStartToCloseTimeout": "3600",
            "taskStartToCloseTimeout": "30",
        }
        if input is not None:
            started["input"] = input
        self.add("WorkflowExecutionStarted", started)

    def add(self, kind: str, attributes: dict[str, Any] | None = None) -> int:
        event_id = len(self.events) + 1
        event: dict[str, Any] = {"eventId": event_id, "eventType": kind, "eventTimestamp": self.now}
        event[_key(kind, "EventAttributes")] = attributes or {}
        self.events.append(event)
        return event_id

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def start_decision_task(self) -> int:
        scheduled = self.add("DecisionTaskScheduled", {"taskList": {"name": "tasks"}})
        return self.add("DecisionTaskStarted", {"scheduledEventId": scheduled})

    def complete_decision_task(
        self, started: int, decisions: Sequence[dict[str, Any]], context: str | None = None
    ) -> None:
        attrs: dict[str, Any] = {"scheduledEventId": started - 1, "startedEventId": started}
        if context is not None:
            attrs["executionContext"] = context
        completed = self.add("DecisionTaskCompleted", attrs)
        for decision in decisions:
            kind = decision["decisionType"]
            data = dict(decision[_key(kind, "DecisionAttributes")])
            data["decisionTaskCompletedEventId"] = completed
            if kind == "CancelTimer":
                data["startedEventId"] = self.timer_started[data["timerId"]]
            event_id = self.add(_ECHO[kind], data)
            if kind == "StartTimer":
                self.timer_started[data["timerId"]] = event_id
            if kind == "ScheduleActivityTask":
                self.activity_scheduled[data["activityId"]] = event_id
            if kind == "StartChildWorkflowExecution":
                self.initiated[data["workflowId"]] = event_id
            if kind.endswith("ExternalWorkflowExecution"):
                self.initiated[data["control"]] = event_id
            if kind == "ScheduleLambdaFunction":
                self.lambda_scheduled[data["id"]] = event_id

    def time_out_decision_task(self, started: int) -> None:
        self.add(
            "DecisionTaskTimedOut",
            {
                "timeoutType": "START_TO_CLOSE",
                "scheduledEventId": started - 1,
                "startedEventId": started,
            },
        )

    # --- what happens outside the workflow -----------------------------------------------

    def activity_completed(self, activity_id: str, result: Any = None) -> None:
        scheduled = self.activity_scheduled[activity_id]
        started = self.add("ActivityTaskStarted", {"scheduledEventId": scheduled})
        attrs = {"scheduledEventId": scheduled, "startedEventId": started}
        if result is not None:
            attrs["result"] = json.dumps(result)
        self.add("ActivityTaskCompleted", attrs)

    def activity_failed(self, activity_id: str, reason: str, details: str | None = None) -> None:
        scheduled = self.activity_scheduled[activity_id]
        started = self.add("ActivityTaskStarted", {"scheduledEventId": scheduled})
        attrs = {"scheduledEventId": scheduled, "startedEventId": started, "reason": reason}
        if details is not None:
            attrs["details"] = details
        self.add("ActivityTaskFailed", attrs)

    def activity_timed_out(self, activity_id: str, timeout_type: str) -> None:
        scheduled = self.activity_scheduled[activity_id]
        self.add(
            "ActivityTaskTimedOut",
            {"scheduledEventId": scheduled, "startedEventId": 0, "timeoutType": timeout_type},
        )

    def timer_fired(self, timer_id: str) -> None:
        started = self.timer_started[timer_id]
        self.add("TimerFired", {"timerId": timer_id, "startedEventId": started})

    def signal(self, name: str, *args: Any) -> None:
        attrs: dict[str, Any] = {"signalName": name}
        if args:
            attrs["input"] = json.dumps(list(args))
        self.add("WorkflowExecutionSignaled", attrs)

    def cancel_requested(self) -> None:
        self.add("WorkflowExecutionCancelRequested", {})

    def child_started(self, workflow_id: str, run_id: str = "child-run") -> None:
        self.add(
            "ChildWorkflowExecutionStarted",
            {
                "workflowExecution": {"workflowId": workflow_id, "runId": run_id},
                "initiatedEventId": self.initiated[workflow_id],
            },
        )

    def child_closed(self, workflow_id: str, kind: str, **attributes: Any) -> None:
        """``ChildWorkflowExecution<kind>`` (Completed, Failed, TimedOut…)."""
        self.add(
            f"ChildWorkflowExecution{kind}",
            {
                "workflowExecution": {"workflowId": workflow_id, "runId": "child-run"},
                "initiatedEventId": self.initiated[workflow_id],
                **attributes,
            },
        )

    def external_done(self, control: str, kind: str, **attributes: Any) -> None:
        """The outcome of a signal or cancel request, by the decision's control."""
        self.add(kind, {"initiatedEventId": self.initiated[control], **attributes})

    def lambda_closed(self, lambda_id: str, kind: str, **attributes: Any) -> None:
        scheduled = self.lambda_scheduled[lambda_id]
        self.add(kind, {"scheduledEventId": scheduled, **attributes})


_runs = itertools.count(1)


class Simulation:
    """A decider at work on one execution of ``workflow``, started with ``args``.

    Args:
        cache: keep the instance between tasks (new events only) or replay every task.
    """

    def __init__(
        self,
        workflow: type[Any],
        *args: Any,
        cache: bool = True,
        options: InstanceOptions | None = None,
        raw_input: str | None = None,
    ) -> None:
        self.definition = workflow_definition(workflow)
        self.cache = cache
        self.options = options or InstanceOptions()
        data = raw_input if raw_input is not None else (json.dumps(list(args)) if args else None)
        self.history = History((self.definition.name, self.definition.version), data)
        self.run_id = f"run-{next(_runs)}"
        self.instance: WorkflowInstance | None = None
        self.activations: list[Activation] = []

    def new_instance(self) -> WorkflowInstance:
        return WorkflowInstance(
            self.definition,
            domain="test",
            workflow_id="wf-1",
            run_id=self.run_id,
            converter=DataConverter(),
            options=self.options,
        )

    def decide(self, *, complete: bool = True) -> list[dict[str, Any]]:
        """Start a decision task, decide it, and record the answer in history."""
        started = self.history.start_decision_task()
        activation = self.activate(started)
        self.activations.append(activation)
        if complete:  # a retried task is answered too: with its back-off timer
            self.history.complete_decision_task(
                started, activation.decisions, activation.execution_context
            )
        return activation.decisions

    def activate(self, started: int) -> Activation:
        instance = self.instance if self.cache else None
        events = self.history.events
        activation = None
        if instance is not None:
            try:
                activation = instance.run_to_completion(
                    [e for e in events if e["eventId"] > instance.last_started_id], started
                )
            except CacheMiss:  # as the poller does: replay from the start
                instance = None
        if instance is None or activation is None:
            if self.instance is not None:
                self.instance.close()
            instance = self.instance = self.new_instance()
            activation = instance.run_to_completion(events, started)
        if activation.failure is not None or not self.cache:
            instance.close()
            self.instance = None
        return activation

    def replay(self) -> Activation:
        """Replay the whole history with a fresh instance, then decide its last task again.

        Returns:
            The failure of either, and as decisions whatever the last task decides now that
            history did not record then: none when replay reaches the recorded end. (A replay
            alone decides nothing by construction, so it cannot show that.)
        """
        instance = self.new_instance()
        try:
            replayed = instance.run_to_completion(self.history.events, None)
        finally:
            instance.close()
        again, recorded = decide_last_again(self.new_instance, self.history.events)
        failure = replayed.failure or again.failure
        if failure is not None or same_decisions(again.decisions, recorded):
            return Activation(failure=failure)
        return Activation(again.decisions)

    def close(self) -> None:
        if self.instance is not None:
            self.instance.close()


def kinds(decisions: Sequence[dict[str, Any]]) -> list[str]:
    return [d["decisionType"] for d in decisions]


def attrs_of(decision: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = decision[_key(decision["decisionType"], "DecisionAttributes")]
    return attributes


_DECISION_OF = {echo: decision for decision, echo in _ECHO.items()}
_ECHO_ONLY = frozenset({"decisionTaskCompletedEventId", "startedEventId"})


def recorded_decisions(events: Sequence[Mapping[str, Any]], completed: int) -> list[dict[str, Any]]:
    """The decisions that the task completed in event ``completed`` made, as sent."""
    decisions = []
    for event in events:
        kind = event["eventType"]
        data = event.get(_key(kind, "EventAttributes")) or {}
        if kind in _DECISION_OF and data.get("decisionTaskCompletedEventId") == completed:
            decision = _DECISION_OF[kind]
            attributes = {k: v for k, v in data.items() if k not in _ECHO_ONLY}
            decisions.append(
                {"decisionType": decision, _key(decision, "DecisionAttributes"): attributes}
            )
    return decisions


def decide_last_again(
    new_instance: Callable[[], WorkflowInstance], events: Sequence[Mapping[str, Any]]
) -> tuple[Activation, list[dict[str, Any]]]:
    """Replay ``events`` up to their last completed decision task and decide it afresh.

    Returns:
        What the code decides in that task now, and what history says it decided then.
        Replaying with ``None`` decides nothing by construction; deciding the last task
        again is what shows that replay reaches the same end.
    """
    completed = [e for e in events if e["eventType"] == "DecisionTaskCompleted"]
    assert completed, "the history has no completed decision task"
    last = completed[-1]
    started = int(last[_key("DecisionTaskCompleted", "EventAttributes")]["startedEventId"])
    instance = new_instance()
    try:
        activation = instance.run_to_completion(
            [e for e in events if e["eventId"] <= started], started
        )
    finally:
        instance.close()
    return activation, recorded_decisions(events, int(last["eventId"]))


def same_decisions(decided: Sequence[dict[str, Any]], recorded: Sequence[dict[str, Any]]) -> bool:
    """Whether ``decided`` are ``recorded``: same kinds in order, and every attribute the
    service kept unchanged is equal (a service adds defaults to what it records)."""
    if kinds(decided) != kinds(recorded):
        return False
    for mine, theirs in zip(decided, recorded, strict=True):
        ours, saved = attrs_of(mine), attrs_of(theirs)
        if any(k in saved and saved[k] != v for k, v in ours.items()):
            return False
    return True


def retried(decisions: Sequence[dict[str, Any]]) -> bool:
    """Whether ``decisions`` are the answer of a retried task: only its back-off timer."""
    return kinds(decisions) == ["StartTimer"] and attrs_of(decisions[0])["timerId"].startswith(
        "aioswf-retry-"
    )
