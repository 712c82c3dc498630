"""Starting, signalling, cancelling, terminating and closing workflow executions.

Closing is the one place that tears down an execution's open work, reports to its parent and
queues the child policy; the policy itself runs at the end of the operation (see
:func:`apply_child_policies`) so that children initiated in the same decision batch are
covered too.
"""

from __future__ import annotations

import logging

from aioswf.local.engine.core import DECISION, EngineState, seconds
from aioswf.local.engine.state import Execution, Json, RegisteredType
from aioswf.local.faults import (
    already_started,
    default_undefined,
    limit_exceeded,
    type_deprecated,
    unknown_resource,
)

logger = logging.getLogger(__name__)

ONE_YEAR = 365 * 24 * 3600
_CHILD_EVENTS = {
    "COMPLETED": ("ChildWorkflowExecutionCompleted", ("result",)),
    "FAILED": ("ChildWorkflowExecutionFailed", ("reason", "details")),
    "CANCELED": ("ChildWorkflowExecutionCanceled", ("details",)),
    "TERMINATED": ("ChildWorkflowExecutionTerminated", ()),
    "TIMED_OUT": ("ChildWorkflowExecutionTimedOut", ("timeoutType",)),
}
# The order AWS documents for the defaults a start needs, with the cause each one maps to.
_REQUIRED_DEFAULTS = (
    ("taskList", "DEFAULT_TASK_LIST_UNDEFINED"),
    ("executionStartToCloseTimeout", "DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED"),
    ("taskStartToCloseTimeout", "DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED"),
    ("childPolicy", "DEFAULT_CHILD_POLICY_UNDEFINED"),
)


def resolve_config(wtype: RegisteredType, req: Json) -> tuple[Json, str | None]:
    """Merge a start request with the type's defaults.

    Returns:
        The configuration, and the ``DEFAULT_*_UNDEFINED`` cause of the first missing value
        (or ``None`` when complete).
    """
    defaults = wtype.config
    task_list = req.get("taskList") or defaults.get("defaultTaskList")
    config: Json = {
        "taskList": task_list["name"] if task_list else None,
        "executionStartToCloseTimeout": req.get("executionStartToCloseTimeout")
        or defaults.get("defaultExecutionStartToCloseTimeout"),
        "taskStartToCloseTimeout": req.get("taskStartToCloseTimeout")
        or defaults.get("defaultTaskStartToCloseTimeout"),
        "childPolicy": req.get("childPolicy") or defaults.get("defaultChildPolicy"),
        "taskPriority": req.get("taskPriority") or defaults.get("defaultTaskPriority"),
        "lambdaRole": req.get("lambdaRole") or defaults.get("defaultLambdaRole"),
    }
    for key, cause in _REQUIRED_DEFAULTS:
        if config[key] is None:
            return config, cause
    return config, None


def start_execution(eng: EngineState, req: Json) -> Json:
    """StartWorkflowExecution."""
    domain = eng.domain(req["domain"], registered=True)
    wtype = eng.find_type("workflow", domain.name, req["workflowType"])
    if wtype is None:
        ref = req["workflowType"]
        raise unknown_resource(
            f"Unknown type: WorkflowType=[name={ref['name']}, version={ref['version']}]"
        )
    if wtype.status != "REGISTERED":
        raise type_deprecated(f"WorkflowType=[name={wtype.name}, version={wtype.version}]")
    if (domain.name, req["workflowId"]) in eng.open_by_id:
        raise already_started(f"WorkflowExecution=[workflowId={req['workflowId']}]")
    if len(eng.open_runs.get(domain.name, ())) >= eng.limits.open_executions:
        raise limit_exceeded("Too many open workflow executions in the domain")
    config, missing = resolve_config(wtype, req)
    if missing is not None:
        raise default_undefined(f"No value and no default for {missing}")
    ex = open_run(
        eng,
        domain.name,
        req["workflowId"],
        wtype,
        config,
        input=req.get("input"),
        tags=req.get("tagList", []),
    )
    return {"runId": ex.run_id}


def open_run(
    eng: EngineState,
    domain: str,
    workflow_id: str,
    wtype: RegisteredType,
    config: Json,
    *,
    input: str | None,
    tags: list[str],
    parent: Json | None = None,
    parent_initiated_id: int = 0,
    continued_from: str | None = None,
    run_id: str | None = None,
) -> Execution:
    """Create a run, record ``WorkflowExecutionStarted`` and schedule its first decision task."""
    now = eng.now()
    ex = Execution(
        domain=domain,
        workflow_id=workflow_id,
        run_id=run_id or eng.new_id(),
        workflow_type=wtype.ref,
        task_list=config["taskList"],
        child_policy=config["childPolicy"],
        execution_timeout=config["executionStartToCloseTimeout"],
        task_timeout=config["taskStartToCloseTimeout"],
        start_ts=now,
        number=eng.started_total,
        priority=config.get("taskPriority"),
        lambda_role=config.get("lambdaRole"),
        tags=list(tags),
        parent=parent,
        parent_initiated_id=parent_initiated_id,
    )
    eng.started_total += 1
    eng.executions[ex.run_id] = ex
    eng.open_by_id[(domain, workflow_id)] = ex.run_id
    eng.open_runs.setdefault(domain, {})[ex.run_id] = None
    eng.runs.opened(ex)
    eng.add_event(
        ex,
        "WorkflowExecutionStarted",
        {
            "input": input,
            "executionStartToCloseTimeout": ex.execution_timeout,
            "taskStartToCloseTimeout": ex.task_timeout,
            "childPolicy": ex.child_policy,
            "taskList": {"name": ex.task_list},
            "taskPriority": ex.priority,
            "workflowType": ex.workflow_type,
            "tagList": ex.tags or None,
            "continuedExecutionRunId": continued_from,
            "parentWorkflowExecution": parent,
            "parentInitiatedEventId": parent_initiated_id if parent else None,
            "lambdaRole": ex.lambda_role,
        },
    )
    limit = seconds(ex.execution_timeout)
    ex.timeout_at = now + (ONE_YEAR if limit is None else limit)
    eng.add_deadline(ex.timeout_at, "workflow", ex.run_id)
    eng.schedule_decision(ex)
    return ex


def signal_execution(eng: EngineState, req: Json) -> Json:
    """SignalWorkflowExecution."""
    eng.domain(req["domain"])
    ex = eng.open_execution(req["domain"], req["workflowId"], req.get("runId"))
    signal(eng, ex, req["signalName"], req.get("input"))
    return {}


def signal(
    eng: EngineState,
    ex: Execution,
    name: str,
    input: str | None,
    external: Json | None = None,
    initiated_id: int = 0,
) -> None:
    """Record ``WorkflowExecutionSignaled`` and wake the decider."""
    eng.add_event(
        ex,
        "WorkflowExecutionSignaled",
        {
            "signalName": name,
            "input": input,
            "externalWorkflowExecution": external,
            "externalInitiatedEventId": initiated_id if external else None,
        },
    )
    eng.need_decision(ex)


def request_cancel_execution(eng: EngineState, req: Json) -> Json:
    """RequestCancelWorkflowExecution."""
    eng.domain(req["domain"])
    ex = eng.open_execution(req["domain"], req["workflowId"], req.get("runId"))
    request_cancel(eng, ex)
    return {}


def request_cancel(
    eng: EngineState,
    ex: Execution,
    external: Json | None = None,
    initiated_id: int = 0,
    cause: str | None = None,
) -> None:
    """Record ``WorkflowExecutionCancelRequested`` and wake the decider."""
    ex.cancel_requested = True
    eng.add_event(
        ex,
        "WorkflowExecutionCancelRequested",
        {
            "externalWorkflowExecution": external,
            "externalInitiatedEventId": initiated_id if external else None,
            "cause": cause,
        },
    )
    eng.need_decision(ex)


def terminate_execution(eng: EngineState, req: Json) -> Json:
    """TerminateWorkflowExecution."""
    eng.domain(req["domain"])
    ex = eng.open_execution(req["domain"], req["workflowId"], req.get("runId"))
    terminate(
        eng,
        ex,
        "OPERATOR_INITIATED",
        req.get("childPolicy"),
        reason=req.get("reason"),
        details=req.get("details"),
    )
    return {}


def terminate(
    eng: EngineState,
    ex: Execution,
    cause: str,
    child_policy: str | None = None,
    *,
    reason: str | None = None,
    details: str | None = None,
) -> None:
    """Record ``WorkflowExecutionTerminated`` and close the run."""
    policy = child_policy or ex.child_policy
    eng.add_event(
        ex,
        "WorkflowExecutionTerminated",
        {
            "reason": reason,
            "details": details,
            "childPolicy": policy,
            "cause": cause,
        },
    )
    close(eng, ex, "TERMINATED", {}, child_policy=policy)


def close(
    eng: EngineState, ex: Execution, status: str, outcome: Json, *, child_policy: str | None = None
) -> None:
    """Close a run: drop its open work, report to its parent, queue its child policy.

    Args:
        eng: The engine.
        ex: The open execution.
        status: The close status.
        outcome: What the parent's ``ChildWorkflowExecution*`` event carries
            (result, reason, details, timeoutType).
        child_policy: Overrides the run's own child policy (TerminateWorkflowExecution).
    """
    ex.close_status, ex.close_ts = status, eng.now()
    if eng.open_by_id.get((ex.domain, ex.workflow_id)) == ex.run_id:
        del eng.open_by_id[(ex.domain, ex.workflow_id)]
    eng.open_runs.get(ex.domain, {}).pop(ex.run_id, None)
    eng.closed_runs.setdefault(ex.domain, {})[ex.run_id] = None
    eng.runs.closed(ex)
    _drop_open_work(eng, ex)
    if status != "CONTINUED_AS_NEW":
        _report_to_parent(eng, ex, status, outcome)
    if ex.children and status in _POLICY_STATUSES:
        eng.policy_pending.append((ex.run_id, child_policy or ex.child_policy))
    retention = eng.domains[ex.domain].retention
    days = 0 if retention == "NONE" else int(retention)
    ex.expire_at = ex.close_ts + days * 86400
    eng.add_deadline(ex.expire_at, "retention", ex.run_id)


# SWF applies the child policy "if it is terminated, by calling TerminateWorkflowExecution
# explicitly or due to an expired timeout"; children of a run that completes, fails, is
# canceled or continues as new keep running.
_POLICY_STATUSES = frozenset({"TERMINATED", "TIMED_OUT"})


def _drop_open_work(eng: EngineState, ex: Execution) -> None:
    if ex.dt_scheduled and not ex.dt_started:
        eng.discard_task(DECISION, ex.domain, ex.dt_queue, (ex.run_id, ex.dt_scheduled))
    eng.end_decision_task(ex)
    ex.dt_pending = False
    for activity in ex.activities.values():
        if activity.started_id:
            eng.tokens.pop(activity.token, None)
        else:
            eng.discard_task(
                "activity", ex.domain, activity.task_list, (ex.run_id, activity.scheduled_id)
            )
    ex.activities.clear()
    ex.activity_ids.clear()
    ex.timers.clear()
    ex.lambdas.clear()
    ex.lambda_ids.clear()
    ex.timeout_at = None


def _report_to_parent(eng: EngineState, ex: Execution, status: str, outcome: Json) -> None:
    if ex.parent is None:
        return
    parent = eng.executions.get(ex.parent["runId"])
    if parent is None or not parent.is_open:
        return
    child = parent.children.pop(ex.parent_initiated_id, None)
    if child is None:
        return
    event_type, fields = _CHILD_EVENTS[status]
    attrs: Json = {
        "workflowExecution": ex.ref,
        "workflowType": ex.workflow_type,
        "initiatedEventId": child.initiated_id,
        "startedEventId": child.started_id,
    }
    attrs.update({f: outcome.get(f) for f in fields})
    eng.add_event(parent, event_type, attrs)
    eng.need_decision(parent)


def apply_child_policies(eng: EngineState) -> None:
    """Apply the child policy of every execution closed during this operation."""
    while eng.policy_pending:
        run_id, policy = eng.policy_pending.pop(0)
        parent = eng.executions[run_id]
        children, parent.children = list(parent.children.values()), {}
        eng.dirty_runs.add(run_id)
        for child in children:
            target = eng.executions.get(child.run_id)
            if target is None or not target.is_open:
                continue
            if policy == "TERMINATE":
                terminate(eng, target, "CHILD_POLICY_APPLIED")
            elif policy == "REQUEST_CANCEL":
                request_cancel(eng, target, cause="CHILD_POLICY_APPLIED")


def delete_run(eng: EngineState, run_id: str) -> None:
    """Forget a closed run whose retention period is over."""
    ex = eng.executions.pop(run_id, None)
    if ex is None:
        return
    eng.closed_runs.get(ex.domain, {}).pop(run_id, None)
    eng.runs.deleted(ex)
    eng.dirty_runs.discard(run_id)
    eng.deleted_runs.add(run_id)
