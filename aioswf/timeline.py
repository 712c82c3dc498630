"""A workflow run's history, read for a person: what ran, for how long, and how it ended.

:func:`build_timeline` folds the raw events of ``GetWorkflowExecutionHistory`` into one
:class:`Step` per thing the workflow did (an activity attempt, a timer, a signal received,
a child workflow, a marker, a Lambda function, a signal or cancellation sent elsewhere),
each with its start, its end and its outcome, and a :class:`Timeline` around them with the
run's input, result or failure, its parent and the runs it continued from and into. The
``aioswf history`` command and the web view both show this model, so they always agree.

Payloads are decoded through the client's :class:`~aioswf.converter.DataConverter` and shown
as compact JSON text; a payload the converter cannot read is shown as it is.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aioswf._envelope import unwrap
from aioswf._failure import Failure
from aioswf._history import _as_datetime
from aioswf._payload_wire import REF_KEY
from aioswf.converter import DataConverter
from aioswf.exceptions import PayloadConversionError, PayloadError

#: The status of a run that has not closed.
OPEN = "OPEN"


@dataclass(slots=True)
class Step:
    """One thing a workflow run did, from the events that recorded it.

    Attributes:
        kind: ``"activity"``, ``"timer"``, ``"signal"``, ``"child"``, ``"marker"``,
            ``"lambda"``, ``"signal-external"``, ``"cancel-external"``, ``"cancel-request"``
            or ``"decision"`` (a decision SWF refused, or a decision task that timed out).
        name: what ran: the activity or workflow type as ``name/version``, the timer's
            duration, the signal's or marker's name.
        id: SWF's id for it (activity id, timer id, child workflow id), or ``""``.
        status: ``"scheduled"``, ``"running"``, ``"completed"``, ``"failed"``,
            ``"timed out"``, ``"canceled"``, ``"terminated"``, ``"fired"``, ``"received"``,
            ``"recorded"`` or ``"refused"``.
        started: when it was scheduled, started or received.
        ended: when it ended; ``None`` while it is in flight.
        attempt: the attempt number of an activity (``"3.2"`` is attempt 2 of activity 3).
        input: its input, as text.
        result: its result, as text.
        error: the failure's type name (or the timeout type, or SWF's cause).
        message: the failure's message.
        traceback: the failure's traceback, when the failing side sent one.
        worker: the identity of the worker that picked it up.
        run_id: a child's run id, once it started.
        event_ids: the events that make it up.
    """

    kind: str
    name: str
    id: str = ""
    status: str = "scheduled"
    started: datetime | None = None
    ended: datetime | None = None
    attempt: int = 1
    input: str | None = None
    result: str | None = None
    error: str | None = None
    message: str | None = None
    traceback: str | None = None
    worker: str | None = None
    run_id: str | None = None
    event_ids: list[int] = field(default_factory=list)

    @property
    def duration(self) -> timedelta | None:
        """How long it took (or has taken so far, for ``None`` as ``ended``)."""
        if self.started is None or self.ended is None:
            return None
        return self.ended - self.started

    @property
    def in_flight(self) -> bool:
        """Whether it has not ended yet."""
        return self.ended is None and self.status in ("scheduled", "running")


@dataclass(slots=True)
class Timeline:
    """One workflow run, read.

    Attributes:
        workflow_id: the execution's workflow id (``""`` when the history does not say).
        run_id: the run's id (``""`` when the history does not say).
        workflow_type: ``name/version``.
        status: ``"OPEN"``, or SWF's close status (``"COMPLETED"``, ``"FAILED"``,
            ``"CANCELED"``, ``"TERMINATED"``, ``"TIMED_OUT"``, ``"CONTINUED_AS_NEW"``).
        started: when the run started.
        closed: when it closed.
        task_list: its decision task list.
        tags: its tags.
        input: its input, as text.
        result: its result, as text.
        error: the failure's type name, the timeout type, or the termination reason.
        message: the failure's message.
        traceback: the failure's traceback.
        parent: ``(workflow_id, run_id)`` of the parent execution.
        continued_from: the run id this run continued from.
        continued_to: the run id this run continued as.
        cancel_requested: whether cancellation was asked for.
        decision_tasks: how many decision tasks completed.
        steps: what the run did, in the order it began.
    """

    workflow_id: str = ""
    run_id: str = ""
    workflow_type: str = ""
    status: str = OPEN
    started: datetime | None = None
    closed: datetime | None = None
    task_list: str = ""
    tags: tuple[str, ...] = ()
    input: str | None = None
    result: str | None = None
    error: str | None = None
    message: str | None = None
    traceback: str | None = None
    parent: tuple[str, str] | None = None
    continued_from: str | None = None
    continued_to: str | None = None
    cancel_requested: bool = False
    decision_tasks: int = 0
    steps: list[Step] = field(default_factory=list)

    @property
    def pending(self) -> list[Step]:
        """The activities, timers, children and Lambda functions still in flight."""
        return [step for step in self.steps if step.in_flight]

    @property
    def signals(self) -> list[Step]:
        """The signals the run received, in order."""
        return [step for step in self.steps if step.kind == "signal"]

    @property
    def children(self) -> list[Step]:
        """The child workflows the run started."""
        return [step for step in self.steps if step.kind == "child"]

    @property
    def duration(self) -> timedelta | None:
        """How long the run took, once it closed."""
        if self.started is None or self.closed is None:
            return None
        return self.closed - self.started


def show_payload(converter: DataConverter, data: str | None) -> str | None:
    """``data`` decoded by ``converter`` and written as compact JSON, for reading.

    Headers beside an input are left out. A payload whose codecs or store this converter
    lacks is shown as ``<encoded payload, not readable here: …>`` with the reason; other data
    the converter cannot decode is returned as it is, so nothing is hidden from the reader.
    Stored payloads must have been read first (:func:`fetch_payloads`).
    """
    if data is None or data == "":
        return None
    plain, _headers = unwrap(data)
    try:
        plain = converter.payload_json(plain)
    except PayloadConversionError as error:
        reason = error.__cause__ if isinstance(error.__cause__, PayloadError) else error
        return f"<encoded payload, not readable here: {reason}>"
    try:
        value = converter.decode(plain)
    except Exception:  # a payload this converter cannot read is still worth showing
        return data
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


async def fetch_payloads(converter: DataConverter, events: Iterable[Mapping[str, Any]]) -> None:
    """Read the stored payloads ``events`` refer to, so that a timeline can show them.

    What cannot be read is shown as a placeholder saying why, not raised; one payload that
    cannot be read does not keep the others from being read.
    """
    for event in events:
        for attributes in event.values():
            if not isinstance(attributes, Mapping):
                continue
            for value in attributes.values():
                if isinstance(value, str) and REF_KEY in value:
                    with contextlib.suppress(PayloadError):
                        await converter.download(value)


def build_timeline(
    events: Iterable[Mapping[str, Any]],
    *,
    converter: DataConverter | None = None,
    workflow_id: str = "",
    run_id: str = "",
) -> Timeline:
    """Fold a run's history events (oldest first) into a :class:`Timeline`.

    Args:
        events: the events as ``WorkflowHandle.history()`` yields them or a history file
            holds them (timestamps as ``datetime`` or epoch seconds).
        converter: decodes payloads; the default JSON converter if not given.
        workflow_id: the execution's workflow id, which the events do not carry.
        run_id: the run's id, which the events do not carry.
    """
    builder = _Builder(converter or DataConverter(), Timeline(workflow_id, run_id))
    for event in events:
        builder.apply(event)
    return builder.timeline


def _attrs(event: Mapping[str, Any]) -> dict[str, Any]:
    kind = str(event["eventType"])
    value: dict[str, Any] = event.get(kind[0].lower() + kind[1:] + "EventAttributes") or {}
    return value


def _time(value: Any) -> datetime | None:
    return None if value is None else _as_datetime(value, "history")


def _type_name(type_: Mapping[str, Any] | None) -> str:
    return f"{type_['name']}/{type_['version']}" if type_ else ""


_ACTIVITY_ENDS = {
    "ActivityTaskCompleted": "completed",
    "ActivityTaskFailed": "failed",
    "ActivityTaskTimedOut": "timed out",
    "ActivityTaskCanceled": "canceled",
}
_LAMBDA_ENDS = {
    "StartLambdaFunctionFailed": "failed",
    "LambdaFunctionCompleted": "completed",
    "LambdaFunctionFailed": "failed",
    "LambdaFunctionTimedOut": "timed out",
}
_CHILD_ENDS = {
    "ChildWorkflowExecutionCompleted": "completed",
    "ChildWorkflowExecutionFailed": "failed",
    "ChildWorkflowExecutionTimedOut": "timed out",
    "ChildWorkflowExecutionCanceled": "canceled",
    "ChildWorkflowExecutionTerminated": "terminated",
    "StartChildWorkflowExecutionFailed": "failed",
}
_RUN_ENDS = {
    "WorkflowExecutionCompleted": "COMPLETED",
    "WorkflowExecutionFailed": "FAILED",
    "WorkflowExecutionTimedOut": "TIMED_OUT",
    "WorkflowExecutionCanceled": "CANCELED",
    "WorkflowExecutionTerminated": "TERMINATED",
    "WorkflowExecutionContinuedAsNew": "CONTINUED_AS_NEW",
}
# Decisions SWF refused: the step names the decision, the cause says why.
_REFUSED = {
    "ScheduleActivityTaskFailed",
    "RequestCancelActivityTaskFailed",
    "StartTimerFailed",
    "CancelTimerFailed",
    "RecordMarkerFailed",
    "ScheduleLambdaFunctionFailed",
    "CompleteWorkflowExecutionFailed",
    "FailWorkflowExecutionFailed",
    "CancelWorkflowExecutionFailed",
    "ContinueAsNewWorkflowExecutionFailed",
}


class _Builder:
    """Applies events one at a time, keeping the open steps by the event that began them."""

    def __init__(self, converter: DataConverter, timeline: Timeline) -> None:
        self.converter = converter
        self.timeline = timeline
        self.by_event: dict[int, Step] = {}  # scheduled/initiated/started event id -> step
        self.timers: dict[str, Step] = {}

    def payload(self, data: Any) -> str | None:
        return show_payload(self.converter, data if isinstance(data, str) else None)

    def add(self, step: Step, event_id: int, at: datetime | None) -> Step:
        step.started = at
        step.event_ids.append(event_id)
        self.by_event[event_id] = step
        self.timeline.steps.append(step)
        return step

    def end(self, step: Step | None, status: str, event_id: int, at: datetime | None) -> None:
        if step is None:
            return
        step.status, step.ended = status, at
        step.event_ids.append(event_id)

    def fail(self, step: Step | None, attrs: Mapping[str, Any]) -> None:
        if step is None:
            return
        if "timeoutType" in attrs:
            step.error = attrs["timeoutType"]
            step.message = self.payload(attrs.get("details"))
        elif "cause" in attrs:
            step.error = attrs["cause"]
        elif "reason" in attrs:
            failure = Failure.decode(attrs.get("reason"), attrs.get("details"), self.converter)
            step.error, step.message = failure.type_name, failure.message
            step.traceback = failure.traceback or None
        elif "details" in attrs:
            step.message = attrs["details"]

    def apply(self, event: Mapping[str, Any]) -> None:
        kind = str(event["eventType"])
        event_id = int(event["eventId"])
        at = _time(event.get("eventTimestamp"))
        attrs = _attrs(event)
        handler = getattr(self, "on_" + kind, None)
        if handler is not None:
            handler(event_id, at, attrs)
        elif kind in _ACTIVITY_ENDS:
            step = self.by_event.get(int(attrs.get("scheduledEventId", 0)))
            self.end(step, _ACTIVITY_ENDS[kind], event_id, at)
            self.fail(step, attrs)
            if step is not None and kind == "ActivityTaskCompleted":
                step.result = self.payload(attrs.get("result"))
        elif kind in _LAMBDA_ENDS:
            step = self.by_event.get(int(attrs.get("scheduledEventId", 0)))
            self.end(step, _LAMBDA_ENDS[kind], event_id, at)
            self.fail(step, attrs)
            if step is not None and kind == "LambdaFunctionCompleted":
                step.result = self.payload(attrs.get("result"))
        elif kind in _CHILD_ENDS:
            step = self.by_event.get(int(attrs.get("initiatedEventId", 0)))
            self.end(step, _CHILD_ENDS[kind], event_id, at)
            self.fail(step, attrs)
            if step is not None and kind == "ChildWorkflowExecutionCompleted":
                step.result = self.payload(attrs.get("result"))
        elif kind in _RUN_ENDS:
            self.close(kind, at, attrs)
        elif kind in _REFUSED:
            name = kind.removesuffix("Failed")
            step = self.add(Step("decision", name, status="refused"), event_id, at)
            step.ended, step.error = at, attrs.get("cause")
            step.id = str(attrs.get("activityId") or attrs.get("timerId") or "")

    # --- the run ------------------------------------------------------------------------

    def on_WorkflowExecutionStarted(self, _id: int, at: datetime | None, attrs: Any) -> None:
        run = self.timeline
        run.started = at
        run.workflow_type = _type_name(attrs.get("workflowType"))
        run.task_list = (attrs.get("taskList") or {}).get("name", "")
        run.tags = tuple(attrs.get("tagList") or ())
        run.input = self.payload(attrs.get("input"))
        run.continued_from = attrs.get("continuedExecutionRunId")
        parent = attrs.get("parentWorkflowExecution")
        if parent:
            run.parent = (parent["workflowId"], parent["runId"])

    def on_WorkflowExecutionCancelRequested(self, event_id: int, at: Any, attrs: Any) -> None:
        self.timeline.cancel_requested = True
        step = self.add(Step("cancel-request", "cancellation requested"), event_id, at)
        step.status, step.ended = "received", at
        step.error = attrs.get("cause")

    def on_DecisionTaskCompleted(self, *_: Any) -> None:
        self.timeline.decision_tasks += 1

    def on_DecisionTaskTimedOut(self, event_id: int, at: Any, attrs: Any) -> None:
        step = self.add(Step("decision", "decision task", status="timed out"), event_id, at)
        step.ended, step.error = at, attrs.get("timeoutType")

    def close(self, kind: str, at: datetime | None, attrs: Mapping[str, Any]) -> None:
        run = self.timeline
        run.status, run.closed = _RUN_ENDS[kind], at
        if kind == "WorkflowExecutionCompleted":
            run.result = self.payload(attrs.get("result"))
        elif kind == "WorkflowExecutionFailed":
            failure = Failure.decode(attrs.get("reason"), attrs.get("details"))
            run.error, run.message = failure.type_name, failure.message
            run.traceback = failure.traceback or None
        elif kind == "WorkflowExecutionTimedOut":
            run.error = attrs.get("timeoutType")
        elif kind == "WorkflowExecutionTerminated":
            run.error = attrs.get("reason") or attrs.get("cause") or "terminated"
            run.message = attrs.get("details")
        elif kind == "WorkflowExecutionCanceled":
            run.message = attrs.get("details")
        elif kind == "WorkflowExecutionContinuedAsNew":
            run.continued_to = attrs.get("newExecutionRunId")

    # --- activities and Lambda functions -------------------------------------------------

    def on_ActivityTaskScheduled(self, event_id: int, at: Any, attrs: Any) -> None:
        activity_id = str(attrs.get("activityId", ""))
        attempt = activity_id.rpartition(".")[2] if "." in activity_id else "1"
        step = Step("activity", _type_name(attrs.get("activityType")), activity_id)
        step.attempt = int(attempt) if attempt.isdigit() else 1
        step.input = self.payload(attrs.get("input"))
        self.add(step, event_id, at)

    def on_ActivityTaskStarted(self, event_id: int, _at: Any, attrs: Any) -> None:
        step = self.by_event.get(int(attrs.get("scheduledEventId", 0)))
        if step is not None:
            step.status, step.worker = "running", attrs.get("identity")
            step.event_ids.append(event_id)

    def on_ActivityTaskCancelRequested(self, event_id: int, _at: Any, attrs: Any) -> None:
        for step in self.timeline.steps:
            if step.kind == "activity" and step.id == attrs.get("activityId"):
                step.event_ids.append(event_id)

    def on_LambdaFunctionScheduled(self, event_id: int, at: Any, attrs: Any) -> None:
        step = Step("lambda", str(attrs.get("name", "")), str(attrs.get("id", "")))
        step.input = attrs.get("input")
        self.add(step, event_id, at)

    def on_LambdaFunctionStarted(self, event_id: int, _at: Any, attrs: Any) -> None:
        self.on_ActivityTaskStarted(event_id, _at, attrs)

    # --- timers ----------------------------------------------------------------------------

    def on_TimerStarted(self, event_id: int, at: Any, attrs: Any) -> None:
        timer_id = str(attrs.get("timerId", ""))
        seconds = attrs.get("startToFireTimeout", "?")
        step = self.add(Step("timer", f"{seconds}s", timer_id), event_id, at)
        step.status = "running"
        self.timers[timer_id] = step

    def on_TimerFired(self, event_id: int, at: Any, attrs: Any) -> None:
        self.end(self.timers.pop(str(attrs.get("timerId")), None), "fired", event_id, at)

    def on_TimerCanceled(self, event_id: int, at: Any, attrs: Any) -> None:
        self.end(self.timers.pop(str(attrs.get("timerId")), None), "canceled", event_id, at)

    # --- signals and markers ---------------------------------------------------------------

    def on_WorkflowExecutionSignaled(self, event_id: int, at: Any, attrs: Any) -> None:
        step = self.add(Step("signal", str(attrs.get("signalName", ""))), event_id, at)
        step.status, step.ended = "received", at
        step.input = self.payload(attrs.get("input"))
        sender = attrs.get("externalWorkflowExecution")
        step.worker = sender["workflowId"] if sender else None

    def on_MarkerRecorded(self, event_id: int, at: Any, attrs: Any) -> None:
        step = self.add(Step("marker", str(attrs.get("markerName", ""))), event_id, at)
        step.status, step.ended = "recorded", at
        # A side effect's value is a payload like any other (encoded, perhaps stored).
        step.result = self.payload(attrs.get("details"))

    # --- children and other executions ------------------------------------------------------

    def on_StartChildWorkflowExecutionInitiated(self, event_id: int, at: Any, attrs: Any) -> None:
        step = Step("child", _type_name(attrs.get("workflowType")), str(attrs.get("workflowId")))
        step.input = self.payload(attrs.get("input"))
        self.add(step, event_id, at)

    def on_ChildWorkflowExecutionStarted(self, event_id: int, _at: Any, attrs: Any) -> None:
        step = self.by_event.get(int(attrs.get("initiatedEventId", 0)))
        if step is not None:
            step.status = "running"
            step.run_id = (attrs.get("workflowExecution") or {}).get("runId")
            step.event_ids.append(event_id)

    def on_SignalExternalWorkflowExecutionInitiated(self, event_id: int, at: Any, a: Any) -> None:
        step = Step("signal-external", str(a.get("signalName", "")), str(a.get("workflowId", "")))
        step.input = self.payload(a.get("input"))
        self.add(step, event_id, at)

    def on_ExternalWorkflowExecutionSignaled(self, event_id: int, at: Any, attrs: Any) -> None:
        step = self.by_event.get(int(attrs.get("initiatedEventId", 0)))
        self.end(step, "completed", event_id, at)

    def on_SignalExternalWorkflowExecutionFailed(self, event_id: int, at: Any, a: Any) -> None:
        step = self.by_event.get(int(a.get("initiatedEventId", 0)))
        self.end(step, "failed", event_id, at)
        self.fail(step, a)

    def on_RequestCancelExternalWorkflowExecutionInitiated(
        self, event_id: int, at: Any, attrs: Any
    ) -> None:
        step = Step("cancel-external", "cancellation", str(attrs.get("workflowId", "")))
        self.add(step, event_id, at)

    def on_ExternalWorkflowExecutionCancelRequested(self, event_id: int, at: Any, a: Any) -> None:
        step = self.by_event.get(int(a.get("initiatedEventId", 0)))
        self.end(step, "completed", event_id, at)

    def on_RequestCancelExternalWorkflowExecutionFailed(
        self, event_id: int, at: Any, attrs: Any
    ) -> None:
        step = self.by_event.get(int(attrs.get("initiatedEventId", 0)))
        self.end(step, "failed", event_id, at)
        self.fail(step, attrs)


def format_time(value: datetime | None) -> str:
    """A time as ``YYYY-MM-DD HH:MM:SS`` in UTC (``""`` for ``None``)."""
    return "" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(value: timedelta | None) -> str:
    """A duration for reading: ``312ms``, ``4.2s``, ``3m05s``, ``2h10m``, ``14d``."""
    if value is None:
        return ""
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
    return f"{seconds / 86400:.3g}d"


def shorten(text: str | None, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    if text is None:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def step_detail(step: Step, width: int = 120) -> str:
    """What a step's line says beyond its status: the failure, else the result or input."""
    if step.error or step.message:
        return shorten(": ".join(part for part in (step.error, step.message) if part), width)
    if step.result is not None:
        return "→ " + shorten(step.result, width)
    if step.input is not None:
        return shorten(step.input, width)
    return ""
