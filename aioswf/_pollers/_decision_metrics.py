"""What the decision poller measures from the tasks it gets: see :mod:`aioswf.metrics`.

SWF tells the decider what it tells no activity worker: when each task was scheduled and
started. Decision tasks are measured from the poll answer; activity tasks from the
``ActivityTaskScheduled``/``ActivityTaskStarted`` events that reach the workflow's decider.
"""

from __future__ import annotations

import bisect
import collections
import itertools
import operator
from collections.abc import Sequence
from typing import Any

from aioswf._decider import Activation
from aioswf._decider.history import Event, attrs, timestamp
from aioswf.exceptions import NondeterminismError
from aioswf.metrics import WorkerMetrics

_EVENT_ID = operator.itemgetter("eventId")
_REMEMBERED = 10_000
"""Scheduled activities remembered until their start arrives in a later decision task."""


class DecisionMeasures:
    """Turns decision tasks into measurements on ``metrics``."""

    def __init__(self, metrics: WorkerMetrics) -> None:
        self.metrics = metrics
        self._scheduled: collections.OrderedDict[tuple[str, int], tuple[float, str]] = (
            collections.OrderedDict()
        )

    def task(self, page: dict[str, Any]) -> None:
        """The decision task's wait on SWF, from its scheduled and started events."""
        if not self.metrics.enabled:
            return
        # Both are among the newest events, at the head of the newest-first first page.
        events = page.get("events", ())
        started = _find(events, int(page["startedEventId"]))
        if started is None:
            return
        scheduled = _find(events, int(attrs(started).get("scheduledEventId") or 0))
        if scheduled is not None:
            self.metrics.decision_schedule_to_start(timestamp(started) - timestamp(scheduled))

    def events(self, run_id: str, events: Sequence[Event], previous_started: int) -> None:
        """Activity waits on SWF, from the events new since the run's previous task.

        ``events`` are in history order. A replay from the start hands the whole history
        over: only what follows ``previous_started`` is looked at (the starts before it were
        measured when they were new), and the scheduling of a start among them is found in
        ``events`` itself when it is older.
        """
        if not self.metrics.enabled:
            return
        remembered = self._scheduled
        first_new = bisect.bisect_right(events, previous_started, key=_EVENT_ID)
        for event in itertools.islice(events, first_new, None):
            kind = event["eventType"]
            if kind == "ActivityTaskScheduled":
                remembered[(run_id, int(event["eventId"]))] = _scheduling(event)
                while len(remembered) > _REMEMBERED:
                    remembered.popitem(last=False)
            elif kind == "ActivityTaskStarted":
                scheduled_id = int(attrs(event).get("scheduledEventId") or 0)
                found = remembered.pop((run_id, scheduled_id), None)
                if found is None:
                    older = _find_in_order(events, scheduled_id, first_new)
                    found = _scheduling(older) if older is not None else None
                if found is not None:
                    self.metrics.activity_schedule_to_start(found[1], timestamp(event) - found[0])

    def answered(self, workflow_type: str, activation: Activation) -> None:
        """Non-determinism and failed runs in what the task decided."""
        if not self.metrics.enabled:
            return
        if isinstance(activation.failure, NondeterminismError):
            self.metrics.nondeterminism(workflow_type)
        for decision in activation.decisions:
            if decision.get("decisionType") == "FailWorkflowExecution":
                reason = decision.get("failWorkflowExecutionDecisionAttributes", {}).get("reason")
                if reason == "NondeterminismError":
                    self.metrics.nondeterminism(workflow_type)
                self.metrics.workflow_failed(workflow_type, str(reason or ""))


def _find(events: Sequence[Event], event_id: int) -> Event | None:
    return next((e for e in events if int(e["eventId"]) == event_id), None)


def _find_in_order(events: Sequence[Event], event_id: int, end: int) -> Event | None:
    """Event ``event_id`` among ``events[:end]``, which are in history order."""
    at = bisect.bisect_left(events, event_id, hi=end, key=_EVENT_ID)
    return events[at] if at < end and events[at]["eventId"] == event_id else None


def _scheduling(event: Event) -> tuple[float, str]:
    """When an ``ActivityTaskScheduled`` event was recorded, and its activity type."""
    activity_type = attrs(event).get("activityType") or {}
    name = f"{activity_type.get('name', '?')}/{activity_type.get('version', '?')}"
    return timestamp(event), name
