"""RespondDecisionTaskCompleted: validating a batch of decisions and carrying it out.

A batch is rejected as a whole (ValidationException, nothing applied, token still valid) when
it is malformed.  Otherwise every decision is applied in order; one that cannot be carried out
records its ``*Failed`` event and the rest still apply.  Effects on other executions (signals,
cancel requests, child starts, Lambda starts) run after the batch, as they do asynchronously
on AWS, so their outcome events never race the batch's own close decision.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aioswf.local._service_model import service_model
from aioswf.local.engine import children, functions
from aioswf.local.engine.core import ACTIVITY, DECISION, EngineState, seconds
from aioswf.local.engine.executions import close, open_run, resolve_config
from aioswf.local.engine.state import ActivityState, Execution, Json, TimerState
from aioswf.local.engine.tasks import close_activity
from aioswf.local.faults import ValidationError, unknown_resource

logger = logging.getLogger(__name__)

CLOSE_DECISIONS = frozenset(
    {
        "CompleteWorkflowExecution",
        "FailWorkflowExecution",
        "CancelWorkflowExecution",
        "ContinueAsNewWorkflowExecution",
    }
)
_ACTIVITY_TIMEOUTS = (
    (
        "scheduleToCloseTimeout",
        "defaultTaskScheduleToCloseTimeout",
        "scheduleToClose",
        "DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED",
    ),
    (
        "scheduleToStartTimeout",
        "defaultTaskScheduleToStartTimeout",
        "scheduleToStart",
        "DEFAULT_SCHEDULE_TO_START_TIMEOUT_UNDEFINED",
    ),
    (
        "startToCloseTimeout",
        "defaultTaskStartToCloseTimeout",
        "startToClose",
        "DEFAULT_START_TO_CLOSE_TIMEOUT_UNDEFINED",
    ),
    ("heartbeatTimeout", "defaultTaskHeartbeatTimeout", "heartbeat", None),
)


@dataclass
class Batch:
    """What one RespondDecisionTaskCompleted is working on."""

    ex: Execution
    completed_id: int
    unhandled: bool  # events arrived while the decider held the task
    after: list[Callable[[], None]] = field(default_factory=list)


def attributes_key(decision_type: str) -> str:
    """The member of a Decision that carries a type's attributes."""
    return decision_type[0].lower() + decision_type[1:] + "DecisionAttributes"


def validate_decisions(decisions: list[Json]) -> None:
    """The checks AWS makes before applying anything (ValidationException on failure)."""
    shapes = service_model().shapes
    for index, decision in enumerate(decisions):
        kind = decision["decisionType"]
        key = attributes_key(kind)
        shape = shapes[shapes["Decision"]["members"][key]["shape"]]
        if shape.get("required") and not isinstance(decision.get(key), dict):
            raise ValidationError(
                f"1 validation error detected: "
                f"Value null at 'decisions.{index + 1}.member.{key}' failed "
                "to satisfy constraint: Member must not be null"
            )
        if kind in CLOSE_DECISIONS and index != len(decisions) - 1:
            raise ValidationError(
                "Close must be last decision in list: "
                f"decision {index + 1} of {len(decisions)} is {kind}"
            )


def respond_decision_task_completed(eng: EngineState, req: Json) -> Json:
    """RespondDecisionTaskCompleted."""
    ref = eng.tokens.get(req["taskToken"])
    if ref is None or ref.kind != DECISION:
        raise unknown_resource("Unknown decision task (the token is unknown, used or expired)")
    decisions: list[Json] = req.get("decisions") or []
    validate_decisions(decisions)
    ex = eng.executions[ref.run_id]
    completed = eng.add_event(
        ex,
        "DecisionTaskCompleted",
        {
            "executionContext": req.get("executionContext"),
            "scheduledEventId": ex.dt_scheduled,
            "startedEventId": ex.dt_started,
            "taskList": req.get("taskList"),
            "taskListScheduleToStartTimeout": req.get("taskListScheduleToStartTimeout"),
        },
    )
    ex.previous_started = ex.dt_started
    if req.get("taskList"):
        ex.dt_override = req["taskList"]["name"]
        # Without a limit ("NONE", or none given) the override is permanent.
        limit = req.get("taskListScheduleToStartTimeout")
        ex.dt_override_timeout = None if limit == "NONE" else limit
    if req.get("executionContext") is not None:
        ex.latest_context = req["executionContext"]
    eng.end_decision_task(ex)
    batch = Batch(ex=ex, completed_id=completed, unhandled=ex.dt_pending)
    ex.dt_in_batch = True
    for decision in decisions:
        if not ex.is_open:
            break
        kind = decision["decisionType"]
        _HANDLERS[kind](eng, batch, decision.get(attributes_key(kind)) or {})
    for action in batch.after:
        action()
    ex.dt_in_batch = False
    if ex.is_open and ex.dt_pending:
        eng.schedule_decision(ex)
    return {}


def _failed(eng: EngineState, batch: Batch, event_type: str, cause: str, attrs: Json) -> None:
    eng.add_event(
        batch.ex,
        event_type,
        {**attrs, "cause": cause, "decisionTaskCompletedEventId": batch.completed_id},
    )
    eng.need_decision(batch.ex)


# -- activities ------------------------------------------------------------------------------


def _schedule_activity(eng: EngineState, batch: Batch, attrs: Json) -> None:
    ex, ref, activity_id = batch.ex, attrs["activityType"], attrs["activityId"]
    failed = {"activityType": ref, "activityId": activity_id}
    atype = eng.find_type(ACTIVITY, ex.domain, ref)
    cause = _activity_cause(
        eng, ex, atype is None, atype is not None and atype.status != "REGISTERED", activity_id
    )
    defaults = atype.config if atype is not None else {}
    task_list = attrs.get("taskList") or defaults.get("defaultTaskList")
    if cause is None and task_list is None:
        cause = "DEFAULT_TASK_LIST_UNDEFINED"
    timeouts: dict[str, str] = {}
    for given, default, name, missing in _ACTIVITY_TIMEOUTS:
        value = attrs.get(given) or defaults.get(default)
        if value is None and missing is not None and cause is None:
            cause = missing
        timeouts[name] = value or "NONE"
    if cause is not None or task_list is None:
        _failed(eng, batch, "ScheduleActivityTaskFailed", cause or "", failed)
        return
    priority = attrs.get("taskPriority") or defaults.get("defaultTaskPriority")
    scheduled = eng.add_event(
        ex,
        "ActivityTaskScheduled",
        {
            **failed,
            "input": attrs.get("input"),
            "control": attrs.get("control"),
            "scheduleToStartTimeout": timeouts["scheduleToStart"],
            "scheduleToCloseTimeout": timeouts["scheduleToClose"],
            "startToCloseTimeout": timeouts["startToClose"],
            "heartbeatTimeout": timeouts["heartbeat"],
            "taskList": {"name": task_list["name"]},
            "taskPriority": priority,
            "decisionTaskCompletedEventId": batch.completed_id,
        },
    )
    act = ActivityState(
        activity_id=activity_id,
        activity_type=ref,
        scheduled_id=scheduled,
        task_list=task_list["name"],
        priority=int(priority or 0),
        timeouts=timeouts,
        input=attrs.get("input"),
    )
    ex.activities[activity_id] = act
    ex.activity_ids[scheduled] = activity_id
    now = eng.now()
    for attr, name in (
        ("schedule_to_start_at", "scheduleToStart"),
        ("schedule_to_close_at", "scheduleToClose"),
    ):
        limit = seconds(timeouts[name])
        if limit is not None:
            setattr(act, attr, now + limit)
            eng.add_deadline(now + limit, "activity", ex.run_id, scheduled)
    eng.enqueue(ACTIVITY, ex.domain, act.task_list, (ex.run_id, scheduled), act.priority)


def _activity_cause(
    eng: EngineState, ex: Execution, missing: bool, deprecated: bool, activity_id: str
) -> str | None:
    if missing:
        return "ACTIVITY_TYPE_DOES_NOT_EXIST"
    if deprecated:
        return "ACTIVITY_TYPE_DEPRECATED"
    if activity_id in ex.activities:
        return "ACTIVITY_ID_ALREADY_IN_USE"
    if len(ex.activities) >= eng.limits.open_activities:
        return "OPEN_ACTIVITIES_LIMIT_EXCEEDED"
    return None


def _request_cancel_activity(eng: EngineState, batch: Batch, attrs: Json) -> None:
    ex, activity_id = batch.ex, attrs["activityId"]
    act = ex.activities.get(activity_id)
    if act is None:
        _failed(
            eng,
            batch,
            "RequestCancelActivityTaskFailed",
            "ACTIVITY_ID_UNKNOWN",
            {"activityId": activity_id},
        )
        return
    requested = eng.add_event(
        ex,
        "ActivityTaskCancelRequested",
        {"decisionTaskCompletedEventId": batch.completed_id, "activityId": activity_id},
    )
    act.cancel_requested_id = requested
    if not act.started_id:
        # Not handed to a worker yet: AWS cancels it on the spot.
        close_activity(eng, ex, act)
        eng.add_event(
            ex,
            "ActivityTaskCanceled",
            {
                "scheduledEventId": act.scheduled_id,
                "startedEventId": 0,
                "latestCancelRequestedEventId": requested,
            },
        )
        eng.need_decision(ex)


# -- closing ---------------------------------------------------------------------------------


def _close_decision(
    decision: str, event: str, status: str, fields: tuple[str, ...]
) -> Callable[[EngineState, Batch, Json], None]:
    def handle(eng: EngineState, batch: Batch, attrs: Json) -> None:
        if batch.unhandled:
            _failed(eng, batch, f"{decision}Failed", "UNHANDLED_DECISION", {})
            return
        outcome = {f: attrs.get(f) for f in fields}
        eng.add_event(
            batch.ex, event, {**outcome, "decisionTaskCompletedEventId": batch.completed_id}
        )
        close(eng, batch.ex, status, outcome)

    return handle


def _continue_as_new(eng: EngineState, batch: Batch, attrs: Json) -> None:
    ex = batch.ex
    if batch.unhandled:
        _failed(eng, batch, "ContinueAsNewWorkflowExecutionFailed", "UNHANDLED_DECISION", {})
        return
    ref = {
        "name": ex.workflow_type["name"],
        "version": attrs.get("workflowTypeVersion") or ex.workflow_type["version"],
    }
    wtype = eng.find_type("workflow", ex.domain, ref)
    cause = None
    if wtype is None:
        cause = "WORKFLOW_TYPE_DOES_NOT_EXIST"
    elif wtype.status != "REGISTERED":
        cause = "WORKFLOW_TYPE_DEPRECATED"
    else:
        config, cause = resolve_config(wtype, attrs)
    if cause is not None or wtype is None:
        _failed(eng, batch, "ContinueAsNewWorkflowExecutionFailed", cause or "", {})
        return
    new_run_id = eng.new_id()
    eng.add_event(
        ex,
        "WorkflowExecutionContinuedAsNew",
        {
            "input": attrs.get("input"),
            "decisionTaskCompletedEventId": batch.completed_id,
            "newExecutionRunId": new_run_id,
            "executionStartToCloseTimeout": config["executionStartToCloseTimeout"],
            "taskList": {"name": config["taskList"]},
            "taskPriority": config["taskPriority"],
            "taskStartToCloseTimeout": config["taskStartToCloseTimeout"],
            "childPolicy": config["childPolicy"],
            "tagList": attrs.get("tagList"),
            "workflowType": wtype.ref,
            "lambdaRole": config["lambdaRole"],
        },
    )
    close(eng, ex, "CONTINUED_AS_NEW", {})
    new = open_run(
        eng,
        ex.domain,
        ex.workflow_id,
        wtype,
        config,
        input=attrs.get("input"),
        tags=attrs.get("tagList", []),
        parent=ex.parent,
        parent_initiated_id=ex.parent_initiated_id,
        continued_from=ex.run_id,
        run_id=new_run_id,
    )
    children.follow_continuation(eng, ex, new)


# -- markers and timers ----------------------------------------------------------------------


def _record_marker(eng: EngineState, batch: Batch, attrs: Json) -> None:
    eng.add_event(
        batch.ex,
        "MarkerRecorded",
        {
            "markerName": attrs["markerName"],
            "details": attrs.get("details"),
            "decisionTaskCompletedEventId": batch.completed_id,
        },
    )


def _start_timer(eng: EngineState, batch: Batch, attrs: Json) -> None:
    ex, timer_id = batch.ex, attrs["timerId"]
    cause = None
    if timer_id in ex.timers:
        cause = "TIMER_ID_ALREADY_IN_USE"
    elif len(ex.timers) >= eng.limits.open_timers:
        cause = "OPEN_TIMERS_LIMIT_EXCEEDED"
    if cause is not None:
        _failed(eng, batch, "StartTimerFailed", cause, {"timerId": timer_id})
        return
    started = eng.add_event(
        ex,
        "TimerStarted",
        {
            "timerId": timer_id,
            "control": attrs.get("control"),
            "startToFireTimeout": attrs["startToFireTimeout"],
            "decisionTaskCompletedEventId": batch.completed_id,
        },
    )
    fire_at = eng.now() + int(attrs["startToFireTimeout"])
    ex.timers[timer_id] = TimerState(timer_id=timer_id, started_id=started, fire_at=fire_at)
    eng.add_deadline(fire_at, "timer", ex.run_id, timer_id)


def _cancel_timer(eng: EngineState, batch: Batch, attrs: Json) -> None:
    ex, timer_id = batch.ex, attrs["timerId"]
    timer = ex.timers.pop(timer_id, None)
    if timer is None:
        _failed(eng, batch, "CancelTimerFailed", "TIMER_ID_UNKNOWN", {"timerId": timer_id})
        return
    eng.add_event(
        ex,
        "TimerCanceled",
        {
            "timerId": timer_id,
            "startedEventId": timer.started_id,
            "decisionTaskCompletedEventId": batch.completed_id,
        },
    )


# -- dispatch --------------------------------------------------------------------------------


def _signal_external(eng: EngineState, batch: Batch, attrs: Json) -> None:
    children.signal_external(eng, batch.ex, batch.completed_id, attrs, batch.after)


def _cancel_external(eng: EngineState, batch: Batch, attrs: Json) -> None:
    children.cancel_external(eng, batch.ex, batch.completed_id, attrs, batch.after)


def _start_child(eng: EngineState, batch: Batch, attrs: Json) -> None:
    children.start_child(eng, batch.ex, batch.completed_id, attrs, batch.after)


def _schedule_lambda(eng: EngineState, batch: Batch, attrs: Json) -> None:
    functions.schedule(eng, batch.ex, batch.completed_id, attrs, batch.after)


_HANDLERS: dict[str, Callable[[EngineState, Batch, Json], None]] = {
    "ScheduleActivityTask": _schedule_activity,
    "RequestCancelActivityTask": _request_cancel_activity,
    "CompleteWorkflowExecution": _close_decision(
        "CompleteWorkflowExecution", "WorkflowExecutionCompleted", "COMPLETED", ("result",)
    ),
    "FailWorkflowExecution": _close_decision(
        "FailWorkflowExecution", "WorkflowExecutionFailed", "FAILED", ("reason", "details")
    ),
    "CancelWorkflowExecution": _close_decision(
        "CancelWorkflowExecution", "WorkflowExecutionCanceled", "CANCELED", ("details",)
    ),
    "ContinueAsNewWorkflowExecution": _continue_as_new,
    "RecordMarker": _record_marker,
    "StartTimer": _start_timer,
    "CancelTimer": _cancel_timer,
    "SignalExternalWorkflowExecution": _signal_external,
    "RequestCancelExternalWorkflowExecution": _cancel_external,
    "StartChildWorkflowExecution": _start_child,
    "ScheduleLambdaFunction": _schedule_lambda,
}
