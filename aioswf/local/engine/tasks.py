"""Polling for decision and activity tasks, and the activity worker's answers."""

from __future__ import annotations

import bisect
import logging

from aioswf.local.engine.core import ACTIVITY, DECISION, EngineState, TokenRef, seconds
from aioswf.local.engine.paging import decode, encode, page_size
from aioswf.local.engine.state import ActivityState, Execution, Json
from aioswf.local.faults import unknown_resource

logger = logging.getLogger(__name__)


# -- decision tasks --------------------------------------------------------------------------


def empty_decision_task() -> Json:
    """What a decision poll answers when no task arrived in time."""
    return {"taskToken": "", "startedEventId": 0, "previousStartedEventId": 0}


def empty_activity_task() -> Json:
    """What an activity poll answers when no task arrived in time."""
    return {"taskToken": "", "startedEventId": 0}


def poll_for_decision_task(eng: EngineState, req: Json) -> Json:
    """PollForDecisionTask: start the next decision task, or page through the current one."""
    domain = eng.domain(req["domain"])
    if req.get("nextPageToken"):
        return _decision_page(eng, decode(req["nextPageToken"], "decision"), req)
    key = eng.dequeue(DECISION, domain.name, req["taskList"]["name"])
    if key is None:
        return empty_decision_task()
    ex = eng.executions[key[0]]
    started = eng.add_event(
        ex,
        "DecisionTaskStarted",
        {"identity": req.get("identity"), "scheduledEventId": ex.dt_scheduled},
    )
    ex.dt_started, ex.dt_token = started, eng.new_id()
    ex.dt_schedule_deadline = None
    eng.tokens[ex.dt_token] = TokenRef(DECISION, ex.run_id, started)
    limit = seconds(ex.task_timeout)
    if limit is not None:
        ex.dt_deadline = eng.now() + limit
        eng.add_deadline(ex.dt_deadline, "decision", ex.run_id, started)
    view = {
        "t": ex.dt_token,
        "r": ex.run_id,
        "s": started,
        "p": ex.previous_started,
        "o": _first_index(ex, req),
    }
    return _decision_page(eng, view, req)


def _first_index(ex: Execution, req: Json) -> int:
    """Where the task's history starts: 0, or at the previous task with
    ``startAtPreviousStartedEvent`` (by timestamp, as the API documents it)."""
    if not req.get("startAtPreviousStartedEvent") or not ex.previous_started:
        return 0
    stamp = ex.history[ex.previous_started - 1]["eventTimestamp"]
    return bisect.bisect_left(ex.history, stamp, key=lambda e: float(e["eventTimestamp"]))


def _decision_page(eng: EngineState, view: Json, req: Json) -> Json:
    ex = eng.executions.get(view["r"])
    if ex is None:
        raise unknown_resource("Unknown execution for the page token")
    # The task sees the history as it was when it started; later events go to the next task.
    events, token = _slice(ex.history, int(view.get("o", 0)), int(view["s"]), view, req)
    result: Json = {
        "taskToken": view["t"],
        "startedEventId": view["s"],
        "previousStartedEventId": view["p"],
        "workflowExecution": ex.ref,
        "workflowType": ex.workflow_type,
        "events": events,
    }
    if token is not None:
        result["nextPageToken"] = encode("decision", **token)
    return result


def history_slice(history: list[Json], view: Json, req: Json) -> tuple[list[Json], Json | None]:
    """One page of ``history`` (see :func:`_slice`), as GetWorkflowExecutionHistory pages."""
    return _slice(history, 0, int(view["n"]), view, req)


def _slice(
    history: list[Json], first: int, count: int, view: Json, req: Json
) -> tuple[list[Json], Json | None]:
    """Cut ``history[first:count]`` into pages; ``view["i"]`` counts events already served."""
    size, done = page_size(req), int(view.get("i", 0))
    reverse = bool(req.get("reverseOrder"))
    total = count - first
    take = min(size, total - done)
    if reverse:
        end = count - done
        events = history[end - take : end][::-1]
    else:
        events = history[first + done : first + done + take]
    if done + take >= total:
        return events, None
    return events, {**{k: v for k, v in view.items() if k != "k"}, "i": done + take}


# -- activity tasks --------------------------------------------------------------------------


def poll_for_activity_task(eng: EngineState, req: Json) -> Json:
    """PollForActivityTask: start the next activity task of the task list, if any."""
    domain = eng.domain(req["domain"])
    key = eng.dequeue(ACTIVITY, domain.name, req["taskList"]["name"])
    if key is None:
        return empty_activity_task()
    ex = eng.executions[key[0]]
    act = ex.activities[ex.activity_ids[key[1]]]
    now = eng.now()
    act.started_id = eng.add_event(
        ex,
        "ActivityTaskStarted",
        {"identity": req.get("identity"), "scheduledEventId": act.scheduled_id},
    )
    act.token = eng.new_id()
    eng.tokens[act.token] = TokenRef(ACTIVITY, ex.run_id, act.scheduled_id)
    act.schedule_to_start_at = None
    ex.latest_activity_ts = now
    for attr, name in (("start_to_close_at", "startToClose"), ("heartbeat_at", "heartbeat")):
        limit = seconds(act.timeouts.get(name))
        if limit is not None:
            setattr(act, attr, now + limit)
            eng.add_deadline(now + limit, "activity", ex.run_id, act.scheduled_id)
    result: Json = {
        "taskToken": act.token,
        "activityId": act.activity_id,
        "startedEventId": act.started_id,
        "workflowExecution": ex.ref,
        "activityType": act.activity_type,
    }
    if act.input is not None:
        result["input"] = act.input
    return result


def _activity(eng: EngineState, token: str) -> tuple[Execution, ActivityState]:
    ref = eng.tokens.get(token)
    if ref is None or ref.kind != ACTIVITY:
        raise unknown_resource("Unknown activity task (the token is unknown, used or expired)")
    ex = eng.executions[ref.run_id]
    return ex, ex.activities[ex.activity_ids[ref.event_id]]


def close_activity(eng: EngineState, ex: Execution, act: ActivityState) -> None:
    """Forget an activity that completed, failed, was canceled or timed out."""
    if act.started_id:
        eng.tokens.pop(act.token, None)
    else:
        eng.discard_task(ACTIVITY, ex.domain, act.task_list, (ex.run_id, act.scheduled_id))
    del ex.activities[act.activity_id]
    del ex.activity_ids[act.scheduled_id]


def record_heartbeat(eng: EngineState, req: Json) -> Json:
    """RecordActivityTaskHeartbeat: push the heartbeat deadline back; report cancellation."""
    ex, act = _activity(eng, req["taskToken"])
    act.details = req.get("details", act.details)
    limit = seconds(act.timeouts.get("heartbeat"))
    if limit is not None:
        # The heap entry for the old deadline notices the move when it surfaces.
        act.heartbeat_at = eng.now() + limit
    eng.dirty_runs.add(ex.run_id)
    return {"cancelRequested": bool(act.cancel_requested_id)}


def respond_activity(eng: EngineState, req: Json, outcome: str) -> Json:
    """RespondActivityTaskCompleted / Failed / Canceled."""
    ex, act = _activity(eng, req["taskToken"])
    attrs: Json = {"scheduledEventId": act.scheduled_id, "startedEventId": act.started_id}
    if outcome == "Completed":
        attrs["result"] = req.get("result")
    elif outcome == "Failed":
        attrs.update(reason=req.get("reason"), details=req.get("details"))
    else:
        attrs["details"] = req.get("details")
        attrs["latestCancelRequestedEventId"] = act.cancel_requested_id or None
    close_activity(eng, ex, act)
    eng.add_event(ex, f"ActivityTask{outcome}", attrs)
    eng.need_decision(ex)
    return {}
