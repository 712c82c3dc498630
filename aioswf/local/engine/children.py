"""Decisions that reach other executions: child workflows, external signals and cancels.

Each records its ``*Initiated`` event inside the decision batch and does the rest afterwards
(``after``), the way AWS carries them out asynchronously.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aioswf.local.engine.core import EngineState
from aioswf.local.engine.executions import open_run, request_cancel, resolve_config, signal
from aioswf.local.engine.state import ChildState, Execution, Json

logger = logging.getLogger(__name__)

UNKNOWN_EXTERNAL = "UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION"
After = list[Callable[[], None]]


def _target(eng: EngineState, domain: str, attrs: Json) -> Execution | None:
    run_id = eng.open_by_id.get((domain, attrs["workflowId"]))
    if run_id is None or (attrs.get("runId") and attrs["runId"] != run_id):
        return None
    return eng.executions[run_id]


def signal_external(
    eng: EngineState, ex: Execution, completed_id: int, attrs: Json, after: After
) -> None:
    """SignalExternalWorkflowExecution."""
    initiated = eng.add_event(
        ex,
        "SignalExternalWorkflowExecutionInitiated",
        {
            "workflowId": attrs["workflowId"],
            "runId": attrs.get("runId"),
            "signalName": attrs["signalName"],
            "input": attrs.get("input"),
            "control": attrs.get("control"),
            "decisionTaskCompletedEventId": completed_id,
        },
    )

    def deliver() -> None:
        target = _target(eng, ex.domain, attrs)
        if target is not None:
            signal(eng, target, attrs["signalName"], attrs.get("input"), ex.ref, initiated)
        if not ex.is_open:
            return
        if target is None:
            eng.add_event(
                ex,
                "SignalExternalWorkflowExecutionFailed",
                {
                    "workflowId": attrs["workflowId"],
                    "runId": attrs.get("runId"),
                    "cause": UNKNOWN_EXTERNAL,
                    "initiatedEventId": initiated,
                    "decisionTaskCompletedEventId": completed_id,
                    "control": attrs.get("control"),
                },
            )
        else:
            eng.add_event(
                ex,
                "ExternalWorkflowExecutionSignaled",
                {"workflowExecution": target.ref, "initiatedEventId": initiated},
            )
        eng.need_decision(ex)

    after.append(deliver)


def cancel_external(
    eng: EngineState, ex: Execution, completed_id: int, attrs: Json, after: After
) -> None:
    """RequestCancelExternalWorkflowExecution."""
    initiated = eng.add_event(
        ex,
        "RequestCancelExternalWorkflowExecutionInitiated",
        {
            "workflowId": attrs["workflowId"],
            "runId": attrs.get("runId"),
            "control": attrs.get("control"),
            "decisionTaskCompletedEventId": completed_id,
        },
    )

    def deliver() -> None:
        target = _target(eng, ex.domain, attrs)
        if target is not None:
            request_cancel(eng, target, ex.ref, initiated)
        if not ex.is_open:
            return
        if target is None:
            eng.add_event(
                ex,
                "RequestCancelExternalWorkflowExecutionFailed",
                {
                    "workflowId": attrs["workflowId"],
                    "runId": attrs.get("runId"),
                    "cause": UNKNOWN_EXTERNAL,
                    "initiatedEventId": initiated,
                    "decisionTaskCompletedEventId": completed_id,
                    "control": attrs.get("control"),
                },
            )
        else:
            eng.add_event(
                ex,
                "ExternalWorkflowExecutionCancelRequested",
                {"workflowExecution": target.ref, "initiatedEventId": initiated},
            )
        eng.need_decision(ex)

    after.append(deliver)


def _child_cause(eng: EngineState, ex: Execution, attrs: Json) -> tuple[str | None, Json]:
    wtype = eng.find_type("workflow", ex.domain, attrs["workflowType"])
    if wtype is None:
        return "WORKFLOW_TYPE_DOES_NOT_EXIST", {}
    if wtype.status != "REGISTERED":
        return "WORKFLOW_TYPE_DEPRECATED", {}
    if len(ex.children) >= eng.limits.open_children:
        return "OPEN_CHILDREN_LIMIT_EXCEEDED", {}
    config, cause = resolve_config(wtype, attrs)
    return cause, config


def start_child(
    eng: EngineState, ex: Execution, completed_id: int, attrs: Json, after: After
) -> None:
    """StartChildWorkflowExecution."""
    cause, config = _child_cause(eng, ex, attrs)
    failed = {
        "workflowType": attrs["workflowType"],
        "workflowId": attrs["workflowId"],
        "control": attrs.get("control"),
        "decisionTaskCompletedEventId": completed_id,
    }
    if cause is not None:
        eng.add_event(
            ex,
            "StartChildWorkflowExecutionFailed",
            {**failed, "cause": cause, "initiatedEventId": 0},
        )
        eng.need_decision(ex)
        return
    initiated = eng.add_event(
        ex,
        "StartChildWorkflowExecutionInitiated",
        {
            "workflowId": attrs["workflowId"],
            "workflowType": attrs["workflowType"],
            "control": attrs.get("control"),
            "input": attrs.get("input"),
            "executionStartToCloseTimeout": config["executionStartToCloseTimeout"],
            "taskList": {"name": config["taskList"]},
            "taskPriority": config["taskPriority"],
            "decisionTaskCompletedEventId": completed_id,
            "childPolicy": config["childPolicy"],
            "taskStartToCloseTimeout": config["taskStartToCloseTimeout"],
            "tagList": attrs.get("tagList"),
            "lambdaRole": config["lambdaRole"],
        },
    )
    ex.children[initiated] = ChildState(
        initiated_id=initiated, workflow_id=attrs["workflowId"], workflow_type=attrs["workflowType"]
    )

    def launch() -> None:
        child = ex.children.get(initiated)
        if child is None:
            return
        # Checked when the child is opened, as each launch of the batch adds an open run.
        cause = None
        if (ex.domain, attrs["workflowId"]) in eng.open_by_id:
            cause = "WORKFLOW_ALREADY_RUNNING"
        elif len(eng.open_runs.get(ex.domain, ())) >= eng.limits.open_executions:
            cause = "OPEN_WORKFLOWS_LIMIT_EXCEEDED"
        if cause is not None:
            del ex.children[initiated]
            if ex.is_open:
                eng.add_event(
                    ex,
                    "StartChildWorkflowExecutionFailed",
                    {**failed, "cause": cause, "initiatedEventId": initiated},
                )
                eng.need_decision(ex)
            return
        wtype = eng.find_type("workflow", ex.domain, attrs["workflowType"])
        assert wtype is not None  # checked when the decision was applied
        run = open_run(
            eng,
            ex.domain,
            attrs["workflowId"],
            wtype,
            config,
            input=attrs.get("input"),
            tags=attrs.get("tagList", []),
            parent=ex.ref,
            parent_initiated_id=initiated,
        )
        child.run_id = run.run_id
        if ex.is_open:
            child.started_id = eng.add_event(
                ex,
                "ChildWorkflowExecutionStarted",
                {
                    "workflowExecution": run.ref,
                    "workflowType": run.workflow_type,
                    "initiatedEventId": initiated,
                },
            )
            eng.need_decision(ex)

    after.append(launch)


def follow_continuation(eng: EngineState, old: Execution, new: Execution) -> None:
    """A child that continued as new stays the same child for its parent."""
    if old.parent is None:
        return
    parent = eng.executions.get(old.parent["runId"])
    child = parent.children.get(old.parent_initiated_id) if parent is not None else None
    if child is not None and parent is not None:
        child.run_id = new.run_id
        eng.dirty_runs.add(parent.run_id)
