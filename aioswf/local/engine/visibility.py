"""Visibility: describing, listing and counting executions, histories, pending tasks."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aioswf.local.engine.core import ACTIVITY, DECISION, EngineState
from aioswf.local.engine.paging import decode, encode, page_of
from aioswf.local.engine.state import Execution, Json
from aioswf.local.engine.tasks import history_slice
from aioswf.local.faults import ValidationError

logger = logging.getLogger(__name__)

_EXCLUSIVE_FILTERS = ("executionFilter", "typeFilter", "tagFilter", "closeStatusFilter")


def execution_info(ex: Execution) -> Json:
    """The WorkflowExecutionInfo of a run."""
    info: Json = {
        "execution": ex.ref,
        "workflowType": ex.workflow_type,
        "startTimestamp": ex.start_ts,
        "executionStatus": "OPEN" if ex.is_open else "CLOSED",
        "cancelRequested": ex.cancel_requested,
    }
    if ex.close_status is not None:
        info.update(closeTimestamp=ex.close_ts, closeStatus=ex.close_status)
    if ex.parent is not None:
        info["parent"] = ex.parent
    if ex.tags:
        info["tagList"] = ex.tags
    return info


def describe_execution(eng: EngineState, req: Json) -> Json:
    """DescribeWorkflowExecution."""
    eng.domain(req["domain"])
    ex = eng.any_execution(req["domain"], req["execution"])
    config: Json = {
        "taskStartToCloseTimeout": ex.task_timeout,
        "executionStartToCloseTimeout": ex.execution_timeout,
        "taskList": {"name": ex.task_list},
        "childPolicy": ex.child_policy,
    }
    if ex.priority is not None:
        config["taskPriority"] = ex.priority
    if ex.lambda_role is not None:
        config["lambdaRole"] = ex.lambda_role
    open_decisions = 1 if (ex.dt_scheduled or ex.dt_started or ex.dt_pending) else 0
    result: Json = {
        "executionInfo": execution_info(ex),
        "executionConfiguration": config,
        "openCounts": {
            "openActivityTasks": len(ex.activities),
            "openDecisionTasks": open_decisions,
            "openTimers": len(ex.timers),
            "openChildWorkflowExecutions": len(ex.children),
            "openLambdaFunctions": len(ex.lambdas),
        },
    }
    if ex.latest_activity_ts is not None:
        result["latestActivityTaskTimestamp"] = ex.latest_activity_ts
    if ex.latest_context is not None:
        result["latestExecutionContext"] = ex.latest_context
    return result


def get_history(eng: EngineState, req: Json) -> Json:
    """GetWorkflowExecutionHistory, paged, optionally newest first."""
    eng.domain(req["domain"])
    ex = eng.any_execution(req["domain"], req["execution"])
    if req.get("nextPageToken"):
        view = decode(req["nextPageToken"], "history")
        if view.get("r") != ex.run_id:
            raise ValidationError("The nextPageToken belongs to another execution")
    else:
        view = {"r": ex.run_id, "n": len(ex.history)}
    events, token = history_slice(ex.history, view, req)
    result: Json = {"events": events}
    if token is not None:
        result["nextPageToken"] = encode("history", **token)
    return result


def _check_filters(req: Json) -> None:
    given = [name for name in _EXCLUSIVE_FILTERS if req.get(name) is not None]
    if len(given) > 1:
        raise ValidationError(
            f"Only one of {', '.join(given)} may be given: these filters are mutually exclusive"
        )
    if req.get("startTimeFilter") is not None and req.get("closeTimeFilter") is not None:
        raise ValidationError("startTimeFilter and closeTimeFilter are mutually exclusive")


def _in_window(stamp: float | None, window: Json | None) -> bool:
    if window is None:
        return True
    if stamp is None:
        return False
    latest = window.get("latestDate")
    return bool(stamp >= window["oldestDate"] and (latest is None or stamp <= latest))


def _matches(ex: Execution, req: Json) -> bool:
    if not _in_window(ex.start_ts, req.get("startTimeFilter")):
        return False
    if not _in_window(ex.close_ts, req.get("closeTimeFilter")):
        return False
    by_id, by_type = req.get("executionFilter"), req.get("typeFilter")
    if by_id is not None and ex.workflow_id != by_id["workflowId"]:
        return False
    if by_type is not None and (
        ex.workflow_type["name"] != by_type["name"]
        or (
            by_type.get("version") is not None and ex.workflow_type["version"] != by_type["version"]
        )
    ):
        return False
    by_tag, by_status = req.get("tagFilter"), req.get("closeStatusFilter")
    if by_tag is not None and by_tag["tag"] not in ex.tags:
        return False
    return by_status is None or ex.close_status == by_status["status"]


def _select(eng: EngineState, req: Json, closed: bool) -> list[Execution]:
    domain = eng.domain(req["domain"])
    _check_filters(req)
    if closed and req.get("startTimeFilter") is None and req.get("closeTimeFilter") is None:
        raise ValidationError("One of startTimeFilter or closeTimeFilter is required")
    runs: Iterable[str] = (eng.closed_runs if closed else eng.open_runs).get(domain.name, {})
    return [ex for run_id in runs if _matches(ex := eng.executions[run_id], req)]


def list_executions(eng: EngineState, req: Json, closed: bool) -> Json:
    """ListOpenWorkflowExecutions / ListClosedWorkflowExecutions: newest first by default."""
    found = _select(eng, req, closed)
    by_close = closed and req.get("closeTimeFilter") is not None
    found.sort(
        key=lambda e: (e.close_ts or 0.0) if by_close else e.start_ts,
        reverse=not req.get("reverseOrder"),
    )
    page, token = page_of([execution_info(ex) for ex in found], req, "closed" if closed else "open")
    result: Json = {"executionInfos": page}
    if token is not None:
        result["nextPageToken"] = token
    return result


def count_executions(eng: EngineState, req: Json, closed: bool) -> Json:
    """CountOpenWorkflowExecutions / CountClosedWorkflowExecutions."""
    return {"count": len(_select(eng, req, closed)), "truncated": False}


def count_pending(eng: EngineState, req: Json, kind: str) -> Json:
    """CountPendingDecisionTasks / CountPendingActivityTasks."""
    domain = eng.domain(req["domain"])
    assert kind in (DECISION, ACTIVITY)
    return {
        "count": eng.pending_count(kind, domain.name, req["taskList"]["name"]),
        "truncated": False,
    }
