"""Reading SWF history: event attributes, timestamps, and the plan of a decision task.

A *run point* is a decision task whose code must run: every completed decision task after the
instance's last one (replayed, its decisions matched against the events that recorded them),
then the task being decided now. Events before a run point's ``DecisionTaskStarted`` are the
new events of that point; the events that carry ``decisionTaskCompletedEventId`` are the
*echoes* of the decisions a completed task made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aioswf.exceptions import WorkerError

Event = Mapping[str, Any]

ECHO_EVENTS: dict[str, tuple[str, str | None, str | None]] = {
    # event type: (decision type, id attribute, type attribute compared on replay)
    "ActivityTaskScheduled": ("ScheduleActivityTask", "activityId", "activityType"),
    "ScheduleActivityTaskFailed": ("ScheduleActivityTask", "activityId", "activityType"),
    "ActivityTaskCancelRequested": ("RequestCancelActivityTask", "activityId", None),
    "RequestCancelActivityTaskFailed": ("RequestCancelActivityTask", "activityId", None),
    "TimerStarted": ("StartTimer", "timerId", None),
    "StartTimerFailed": ("StartTimer", "timerId", None),
    "TimerCanceled": ("CancelTimer", "timerId", None),
    "TimerCancelled": ("CancelTimer", None, None),  # moto's spelling, without attributes
    "CancelTimerFailed": ("CancelTimer", "timerId", None),
    "MarkerRecorded": ("RecordMarker", "markerName", None),
    "RecordMarkerFailed": ("RecordMarker", "markerName", None),
    "WorkflowExecutionCompleted": ("CompleteWorkflowExecution", None, None),
    "CompleteWorkflowExecutionFailed": ("CompleteWorkflowExecution", None, None),
    "WorkflowExecutionFailed": ("FailWorkflowExecution", None, None),
    "FailWorkflowExecutionFailed": ("FailWorkflowExecution", None, None),
    "WorkflowExecutionCanceled": ("CancelWorkflowExecution", None, None),
    "CancelWorkflowExecutionFailed": ("CancelWorkflowExecution", None, None),
    "WorkflowExecutionContinuedAsNew": ("ContinueAsNewWorkflowExecution", None, None),
    "ContinueAsNewWorkflowExecutionFailed": ("ContinueAsNewWorkflowExecution", None, None),
    # The later machines: the *Initiated event is the echo; *Failed events that carry an
    # initiatedEventId are outcomes, delivered as new events.
    "StartChildWorkflowExecutionInitiated": (
        "StartChildWorkflowExecution",
        "workflowId",
        "workflowType",
    ),
    "SignalExternalWorkflowExecutionInitiated": (
        "SignalExternalWorkflowExecution",
        "control",
        None,
    ),
    "RequestCancelExternalWorkflowExecutionInitiated": (
        "RequestCancelExternalWorkflowExecution",
        "workflowId",
        None,
    ),
    "LambdaFunctionScheduled": ("ScheduleLambdaFunction", "id", "name"),
    "ScheduleLambdaFunctionFailed": ("ScheduleLambdaFunction", "id", "name"),
    # Refused outright, without an *Initiated event first (initiatedEventId 0): then the
    # failure is what recorded the decision. See `is_echo`.
    "StartChildWorkflowExecutionFailed": (
        "StartChildWorkflowExecution",
        "workflowId",
        "workflowType",
    ),
    "SignalExternalWorkflowExecutionFailed": ("SignalExternalWorkflowExecution", "control", None),
    "RequestCancelExternalWorkflowExecutionFailed": (
        "RequestCancelExternalWorkflowExecution",
        "workflowId",
        None,
    ),
}
"""Events that record a decision, with what identifies the decision they record."""

_ECHO_UNLESS_INITIATED = frozenset(
    {
        "StartChildWorkflowExecutionFailed",
        "SignalExternalWorkflowExecutionFailed",
        "RequestCancelExternalWorkflowExecutionFailed",
    }
)

_ATTRIBUTE_KEYS: dict[str, str] = {}

RETRY_TIMER_PREFIX = "aioswf-retry-"
CONTINUE_TIMER_PREFIX = "aioswf-continue-"
"""Timer ids of continuation timers (see :mod:`~aioswf._decider.batching`); the code's own
timers are numbered, so they never clash."""
"""Timer ids of the back-off timers of retried decision tasks (see ``retrying``); the code's
own timers are numbered, so they never clash."""
_TIMER_EVENTS = frozenset(
    {"TimerStarted", "StartTimerFailed", "TimerFired", "TimerCanceled", "CancelTimerFailed"}
)


def attributes_key(kind: str, suffix: str) -> str:
    """``ActivityTaskScheduled`` → ``activityTaskScheduledEventAttributes``."""
    return kind[:1].lower() + kind[1:] + suffix


ECHO_ATTRIBUTE_KEYS = {kind: attributes_key(kind, "EventAttributes") for kind in ECHO_EVENTS}
"""Where the attributes of each echo kind are: replay reads those of every echo, and the
lookup inline saves a call of :func:`attrs` each time."""


def attrs(event: Event) -> Mapping[str, Any]:
    """The ``…EventAttributes`` of an event (empty when the service sent none)."""
    kind: str = event["eventType"]
    key = _ATTRIBUTE_KEYS.get(kind)
    if key is None:
        key = _ATTRIBUTE_KEYS[kind] = attributes_key(kind, "EventAttributes")
    value: Mapping[str, Any] = event.get(key) or {}
    return value


def timestamp(event: Event) -> float:
    """An event's timestamp in epoch seconds, whether botocore parsed it or not."""
    value = event.get("eventTimestamp")
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return 0.0


def is_echo(event: Event) -> bool:
    """Whether ``event`` records a decision (rather than something that happened later).

    A ``*Failed`` event of a decision aimed at another execution is an outcome when an
    ``*Initiated`` event came first, and the decision's only record when none did.
    """
    kind = event["eventType"]
    if kind not in ECHO_EVENTS:
        return False
    return kind not in _ECHO_UNLESS_INITIATED or not attrs(event).get("initiatedEventId")


def describe_event(event: Event) -> str:
    """``event 7 ActivityTaskScheduled (activityId='1', activityType=charge/1)``."""
    kind = event["eventType"]
    spec = ECHO_EVENTS.get(kind)
    details: list[str] = []
    if spec is not None:
        _, id_attr, type_attr = spec
        data = attrs(event)
        if id_attr and id_attr in data:
            details.append(f"{id_attr}={data[id_attr]!r}")
        if type_attr and type_attr in data:
            details.append(f"{type_attr}={type_text(data[type_attr])}")
    inside = f" ({', '.join(details)})" if details else ""
    return f"event {event.get('eventId')} {kind}{inside}"


def type_text(value: Any) -> str:
    """``name/version`` of a type structure, or the value itself."""
    if isinstance(value, Mapping):
        return f"{value.get('name')}/{value.get('version')}"
    return str(value)


CLOSE_REFUSED_EVENTS = frozenset(
    {
        "CompleteWorkflowExecutionFailed",
        "FailWorkflowExecutionFailed",
        "CancelWorkflowExecutionFailed",
        "ContinueAsNewWorkflowExecutionFailed",
    }
)


@dataclass(slots=True)
class RunPoint:
    """One decision task whose code runs: replayed when ``completed_id`` is set.

    Attributes:
        refused_batch: the events recording the other decisions of earlier tasks whose close
            SWF refused for news (``UNHANDLED_DECISION``). Those tasks do not run as such:
            their news is applied with this task's, so the code decides its close again
            knowing it; these recorded decisions must be among what it decides again.
        refused_until: the ``DecisionTaskCompleted`` id of the last such task (0: none).
    """

    started_id: int
    completed_id: int | None
    time: float
    refused_batch: list[Event] = field(default_factory=list)
    refused_until: int = 0
    end: int | None = None
    """The index of its ``DecisionTaskStarted`` among the plan's events: its news ends
    there (``None`` when that event is not among them)."""


@dataclass(slots=True)
class Plan:
    """What one activation does with its events."""

    events: Sequence[Event]
    points: list[RunPoint]
    echoes: dict[int, list[Event]] = field(default_factory=dict)
    completed_by_started: dict[int, int] = field(default_factory=dict)
    context: str | None = None
    """The newest execution context the events record, if any."""


def make_plan(events: Sequence[Event], last_started_id: int, started_id: int | None) -> Plan:
    """Find the run points and the echoes in ``events`` (ascending, all after the last task).

    Args:
        events: the new events, in history order.
        last_started_id: the ``DecisionTaskStarted`` id of the instance's last task, or 0.
        started_id: the task being decided now; ``None`` to replay only.
    """
    started_time: dict[int, float] = {}  # when each task started
    started_index: dict[int, int] = {}  # and where, among `events`
    completed: dict[int, int] = {}
    echoes: dict[int, list[Event]] = {}
    last_completed = 0
    last_id = last_started_id
    context: str | None = None
    refusals: set[int] = set()  # tasks with a close refused among their echoes
    # Once per event of a replay: the lookups are kept local, and the attributes of the
    # kinds read here are found without `attrs` and `is_echo`.
    echo_keys = ECHO_ATTRIBUTE_KEYS
    for index, event in enumerate(events):
        event_id = event["eventId"]
        if event_id <= last_id:
            # Applied twice or out of order, an event would shift the run's decisions (an
            # activity id, a side effect's number) and pass for a non-deterministic change.
            raise WorkerError(
                f"history events are not in order: event {event_id} comes after event {last_id}"
            )
        last_id = event_id
        kind = event["eventType"]
        if kind == "DecisionTaskStarted":
            stamp = event.get("eventTimestamp")  # as the transport parses it, most often
            started_time[event_id] = stamp if type(stamp) is float else timestamp(event)
            started_index[event_id] = index
        elif kind == "DecisionTaskCompleted":
            last_completed = event_id
            data = event.get("decisionTaskCompletedEventAttributes") or {}
            completed[int(data["startedEventId"])] = last_completed
            if (newest := data.get("executionContext")) is not None:
                context = newest
        elif (key := echo_keys.get(kind)) is not None:
            data = event.get(key) or {}  # `attrs`, in place
            if kind in _ECHO_UNLESS_INITIATED and data.get("initiatedEventId"):
                continue  # an outcome, not an echo (see `is_echo`)
            owner = int(data.get("decisionTaskCompletedEventId", last_completed))
            recorded = echoes.get(owner)
            if recorded is None:
                echoes[owner] = [event]  # a list made only when needed, unlike `setdefault`'s
            else:
                recorded.append(event)
            if kind in CLOSE_REFUSED_EVENTS:
                refusals.add(owner)
    fallback = timestamp(events[-1]) if events else 0.0
    points: list[RunPoint] = []
    refused: list[Event] = _NONE_REFUSED  # shared while empty: most points have none
    refused_until = 0
    for started, completed_id in sorted(completed.items()):
        if started <= last_started_id or (started_id is not None and started >= started_id):
            continue
        recorded = echoes.get(completed_id)
        # A failed attempt's echoes are all timer events: the first tells most tasks apart.
        if recorded and recorded[0]["eventType"] in _TIMER_EVENTS and _retried(recorded):
            continue
        if recorded and completed_id in refusals and _close_refused_for_news(recorded):
            refused = refused + [
                e
                for e in recorded
                if e["eventType"] not in CLOSE_REFUSED_EVENTS and not is_continuation_event(e)
            ]
            refused_until = completed_id
            continue
        time = started_time.get(started, fallback)
        end = started_index.get(started)
        points.append(RunPoint(started, completed_id, time, refused, refused_until, end))
        if refused_until:
            refused, refused_until = _NONE_REFUSED, 0
    if started_id is not None:
        time = started_time.get(started_id, fallback)
        end = started_index.get(started_id)
        points.append(RunPoint(started_id, None, time, refused, refused_until, end))
    return Plan(events, points, echoes, completed, context)


_NONE_REFUSED: list[Event] = []
"""The ``refused_batch`` of the points without one (never changed: a batch is a new list)."""


def _close_refused_for_news(echoes: Sequence[Event]) -> bool:
    return any(
        e["eventType"] in CLOSE_REFUSED_EVENTS and attrs(e).get("cause") == "UNHANDLED_DECISION"
        for e in echoes
    )


def _retried(echoes: Sequence[Event]) -> bool:
    """Whether a completed task was a failed attempt: it decided only a back-off timer.

    Its code's decisions were never sent, so replay runs the code as if the task had not
    happened: its events are applied with the next task's.
    """
    return bool(echoes) and all(is_retry_event(event) for event in echoes)


def is_retry_event(event: Event) -> bool:
    """Whether ``event`` belongs to a back-off timer, not to the workflow's code."""
    if event["eventType"] not in _TIMER_EVENTS:
        return False
    return str(attrs(event).get("timerId", "")).startswith(RETRY_TIMER_PREFIX)


def is_continuation_event(event: Event) -> bool:
    """Whether ``event`` belongs to the continuation timer of a split batch."""
    if event["eventType"] not in _TIMER_EVENTS:
        return False
    return str(attrs(event).get("timerId", "")).startswith(CONTINUE_TIMER_PREFIX)
