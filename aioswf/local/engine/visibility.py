"""Visibility: describing, listing and counting executions, histories, pending tasks."""

from __future__ import annotations

import logging
import math

from aioswf.local.engine.core import ACTIVITY, DECISION, EngineState
from aioswf.local.engine.paging import decode, encode, page_size
from aioswf.local.engine.runindex import ALL, Facet
from aioswf.local.engine.sortedkeys import SortedKeys
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


def _facet(req: Json) -> Facet:
    by_id, by_type = req.get("executionFilter"), req.get("typeFilter")
    by_tag, by_status = req.get("tagFilter"), req.get("closeStatusFilter")
    if by_id is not None:
        return ("id", by_id["workflowId"])
    if by_type is not None:
        version = by_type.get("version")
        return ("type", by_type["name"]) if version is None else ("type", by_type["name"], version)
    if by_tag is not None:
        return ("tag", by_tag["tag"])
    if by_status is not None:
        return ("status", by_status["status"])
    return ALL


def _select(eng: EngineState, req: Json, closed: bool) -> tuple[SortedKeys, int, int]:
    """The index answering the request and the positions of its time window in it."""
    domain = eng.domain(req["domain"])
    _check_filters(req)
    window = req.get("startTimeFilter")
    by_close = closed and req.get("closeTimeFilter") is not None
    if by_close:
        window = req["closeTimeFilter"]
    elif closed and window is None:
        raise ValidationError("One of startTimeFilter or closeTimeFilter is required")
    keys = eng.runs.lookup(domain.name, _facet(req), closed=closed, by_close=by_close)
    if window is None:
        return keys, 0, len(keys)
    # Inclusive at both ends: a probe (t,) sorts before every key of time t, (t, inf) after.
    low = keys.rank((window["oldestDate"],))
    latest = window.get("latestDate")
    high = len(keys) if latest is None else keys.rank((latest, math.inf))
    return keys, low, max(low, high)


def list_executions(eng: EngineState, req: Json, closed: bool) -> Json:
    """ListOpenWorkflowExecutions / ListClosedWorkflowExecutions: newest first by default.

    The page token is the key of the last run returned, so a page is found by bisecting,
    and runs starting or closing between two pages neither repeat nor shift the next page.
    """
    kind = "closed" if closed else "open"
    keys, low, high = _select(eng, req, closed)
    oldest_first = bool(req.get("reverseOrder"))
    if req.get("nextPageToken"):
        after = tuple(decode(req["nextPageToken"], kind)["after"])
        if oldest_first:
            low = max(low, keys.rank(after, right=True))
        else:
            high = min(high, keys.rank(after))
    size = page_size(req)
    if oldest_first:
        page = keys.slice(low, min(high, low + size))
        more = low + size < high
    else:
        page = keys.slice(max(low, high - size), high)[::-1]
        more = high - size > low
    result: Json = {"executionInfos": [execution_info(eng.executions[k[2]]) for k in page]}
    if more and page:
        result["nextPageToken"] = encode(kind, after=list(page[-1]))
    return result


def count_executions(eng: EngineState, req: Json, closed: bool) -> Json:
    """CountOpenWorkflowExecutions / CountClosedWorkflowExecutions, from the indexes."""
    _, low, high = _select(eng, req, closed)
    return {"count": high - low, "truncated": False}


def count_pending(eng: EngineState, req: Json, kind: str) -> Json:
    """CountPendingDecisionTasks / CountPendingActivityTasks."""
    domain = eng.domain(req["domain"])
    assert kind in (DECISION, ACTIVITY)
    return {
        "count": eng.pending_count(kind, domain.name, req["taskList"]["name"]),
        "truncated": False,
    }
