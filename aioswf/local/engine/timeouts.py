"""Deadlines coming due: timers, every timeout kind, and retention of closed executions.

Heap entries are hints; the execution's state holds the truth.  An entry whose deadline was
cleared is dropped, one whose deadline moved later (a heartbeat) is pushed again, and only an
entry that matches the state fires.  So cancelling anything costs nothing here.
"""

from __future__ import annotations

import heapq
import logging

from aioswf.local.engine import functions
from aioswf.local.engine.core import DECISION, EngineState
from aioswf.local.engine.executions import close, delete_run
from aioswf.local.engine.state import ActivityState, Execution
from aioswf.local.engine.tasks import close_activity

logger = logging.getLogger(__name__)

_ACTIVITY_DEADLINES = (
    ("schedule_to_start_at", "SCHEDULE_TO_START"),
    ("schedule_to_close_at", "SCHEDULE_TO_CLOSE"),
    ("start_to_close_at", "START_TO_CLOSE"),
    ("heartbeat_at", "HEARTBEAT"),
)


def current_deadline(eng: EngineState, kind: str, run_id: str, key: str) -> float | None:
    """When the item behind a heap entry is due now, per the state (``None`` if gone)."""
    ex = eng.executions.get(run_id)
    if ex is None:
        return None
    if kind == "retention":
        return ex.expire_at
    if not ex.is_open:
        return None
    if kind == "workflow":
        return ex.timeout_at
    if kind == "decision-start":
        return ex.dt_schedule_deadline if ex.dt_scheduled == int(key) else None
    if kind == "decision":
        return ex.dt_deadline if ex.dt_started == int(key) else None
    if kind == "timer":
        timer = ex.timers.get(key)
        return timer.fire_at if timer is not None else None
    if kind == "lambda":
        lambda_id = ex.lambda_ids.get(int(key))
        return ex.lambdas[lambda_id].deadline if lambda_id is not None else None
    act = _activity(ex, key)
    return _earliest(act) if act is not None else None


def _activity(ex: Execution, key: str) -> ActivityState | None:
    activity_id = ex.activity_ids.get(int(key))
    return ex.activities[activity_id] if activity_id is not None else None


def _earliest(act: ActivityState) -> float | None:
    due = [getattr(act, attr) for attr, _ in _ACTIVITY_DEADLINES]
    present = [d for d in due if d is not None]
    return min(present) if present else None


def next_deadline(eng: EngineState) -> float | None:
    """The earliest live deadline, dropping or re-filing stale heap entries on the way."""
    heap = eng.deadlines
    while heap:
        due, _, kind, run_id, key = heap[0]
        actual = current_deadline(eng, kind, run_id, key)
        if actual == due:
            return due
        heapq.heappop(heap)
        if actual is not None and actual > due:
            heapq.heappush(heap, (actual, eng.next_seq(), kind, run_id, key))
    return None


def fire_due(eng: EngineState) -> int:
    """Fire everything due at the clock's current time; returns how many fired."""
    fired = 0
    # The clock itself, not the millisecond time of events: a deadline is counted from the
    # latter and so never later than the clock, but cutting "now" again could leave one the
    # clock has reached unfired (and an auto-skipping clock would spin on it).
    now = eng.firing_at if eng.firing_at is not None else eng.clock.now()
    while (due := next_deadline(eng)) is not None and due <= now:
        _, _, kind, run_id, key = heapq.heappop(eng.deadlines)
        eng.firing_at = due
        try:
            _fire(eng, kind, run_id, key)
        finally:
            eng.firing_at = None
        fired += 1
    return fired


def _fire(eng: EngineState, kind: str, run_id: str, key: str) -> None:
    ex = eng.executions[run_id]
    if kind == "retention":
        delete_run(eng, run_id)
    elif kind == "workflow":
        eng.add_event(
            ex,
            "WorkflowExecutionTimedOut",
            {"timeoutType": "START_TO_CLOSE", "childPolicy": ex.child_policy},
        )
        close(eng, ex, "TIMED_OUT", {"timeoutType": "START_TO_CLOSE"})
    elif kind == "decision-start":
        _revert_override(eng, ex)
    elif kind == "decision":
        eng.add_event(
            ex,
            "DecisionTaskTimedOut",
            {
                "timeoutType": "START_TO_CLOSE",
                "scheduledEventId": ex.dt_scheduled,
                "startedEventId": ex.dt_started,
            },
        )
        eng.end_decision_task(ex)
        if ex.dt_override_timeout is not None:
            # A temporary override is reverted when its task is not completed in time too.
            ex.dt_override, ex.dt_override_timeout = "", None
        eng.schedule_decision(ex)
    elif kind == "timer":
        timer = ex.timers.pop(key)
        eng.add_event(ex, "TimerFired", {"timerId": key, "startedEventId": timer.started_id})
        eng.need_decision(ex)
    elif kind == "lambda":
        functions.time_out(eng, ex, ex.lambdas[ex.lambda_ids[int(key)]])
    else:
        act = _activity(ex, key)
        assert act is not None  # the deadline matched the state
        _time_out_activity(eng, ex, act)


def _time_out_activity(eng: EngineState, ex: Execution, act: ActivityState) -> None:
    due = _earliest(act)
    timeout_type = next(name for attr, name in _ACTIVITY_DEADLINES if getattr(act, attr) == due)
    close_activity(eng, ex, act)
    eng.add_event(
        ex,
        "ActivityTaskTimedOut",
        {
            "timeoutType": timeout_type,
            "scheduledEventId": act.scheduled_id,
            "startedEventId": act.started_id,
            "details": act.details,
        },
    )
    eng.need_decision(ex)


def _revert_override(eng: EngineState, ex: Execution) -> None:
    """A decision task on an override task list was not picked up in time: back to normal."""
    eng.discard_task(DECISION, ex.domain, ex.dt_queue, (ex.run_id, ex.dt_scheduled))
    eng.add_event(
        ex,
        "DecisionTaskTimedOut",
        {
            "timeoutType": "SCHEDULE_TO_START",
            "scheduledEventId": ex.dt_scheduled,
            "startedEventId": 0,
        },
    )
    eng.end_decision_task(ex)
    ex.dt_override, ex.dt_override_timeout = "", None
    eng.schedule_decision(ex)
