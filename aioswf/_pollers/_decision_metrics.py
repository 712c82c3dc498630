"""What the decision poller measures from the tasks it gets: see :mod:`aioswf.metrics`.

SWF tells the decider what it tells no activity worker: when each task was scheduled and
started. Decision tasks are measured from the poll answer; activity tasks from the
``ActivityTaskScheduled``/``ActivityTaskStarted`` events that reach the workflow's decider.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from typing import Any

from aioswf._decider import Activation
from aioswf._decider.history import Event, attrs, timestamp
from aioswf.exceptions import NondeterminismError
from aioswf.metrics import WorkerMetrics

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
        """Activity waits on SWF, from the events new since the run's previous task."""
        if not self.metrics.enabled:
            return
        remembered = self._scheduled
        for event in events:
            kind = event["eventType"]
            if kind == "ActivityTaskScheduled":
                activity_type = attrs(event).get("activityType") or {}
                name = f"{activity_type.get('name', '?')}/{activity_type.get('version', '?')}"
                remembered[(run_id, int(event["eventId"]))] = (timestamp(event), name)
                while len(remembered) > _REMEMBERED:
                    remembered.popitem(last=False)
            elif kind == "ActivityTaskStarted" and int(event["eventId"]) > previous_started:
                key = (run_id, int(attrs(event).get("scheduledEventId") or 0))
                found = remembered.pop(key, None)
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
