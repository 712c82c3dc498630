"""Worker metrics, recorded through the OpenTelemetry metrics API.

A worker records them on the meter it is given (``Worker(..., meter=...)``), by default the
global one of ``opentelemetry-api`` when that is installed (a no-op until the application
configures an SDK), else nowhere. Every measurement carries ``aioswf.task_list``; poll,
task and slot metrics also ``aioswf.task_kind`` (``decision`` or ``activity``), activity task
metrics ``aioswf.activity_type`` (``name/version``).

- ``aioswf.poll.requests`` (counter, ``{poll}``): polls answered
- ``aioswf.poll.empty`` (counter, ``{poll}``): polls that brought no task
- ``aioswf.poll.errors`` (counter, ``{poll}``): polls that failed
- ``aioswf.poll.latency`` (histogram, ``s``): how long a poll took
- ``aioswf.decision_task.latency`` (histogram, ``s``): poll answer to decisions sent
- ``aioswf.decision_task.schedule_to_start`` (histogram, ``s``): scheduled to started, on SWF
- ``aioswf.activity_task.latency`` (histogram, ``s``): poll answer to result sent
- ``aioswf.activity_task.schedule_to_start`` (histogram, ``s``): scheduled to started, on SWF
- ``aioswf.activity.running`` (gauge, ``{task}``): activity tasks running
- ``aioswf.activity.slots.free`` (gauge, ``{slot}``): room for more activity tasks
- ``aioswf.heartbeat.sent`` (counter, ``{beat}``): heartbeats SWF recorded
- ``aioswf.heartbeat.refused`` (counter, ``{beat}``): heartbeats of tasks SWF dropped
- ``aioswf.cache.size`` (gauge, ``{run}``): workflow runs cached
- ``aioswf.cache.hits`` (counter, ``{task}``): tasks decided from the cache
- ``aioswf.cache.misses`` (counter, ``{task}``): tasks replayed in full
- ``aioswf.cache.evictions`` (counter, ``{run}``): runs dropped to make room
- ``aioswf.sticky.hits`` (counter, ``{task}``): sticky tasks found cached
- ``aioswf.workflow.nondeterminism`` (counter, ``{task}``): tasks whose code left history
- ``aioswf.workflow.failures`` (counter, ``{run}``): runs the worker failed

Activity schedule-to-start is measured by the worker that decides the workflow, from the
``ActivityTaskScheduled`` and ``ActivityTaskStarted`` events (SWF does not tell the
activity worker when its task was scheduled).

The counters are counted here, in plain integers per attribute set, and reported when the
meter collects (observable counters): a poll then costs an addition, not a measurement
through the SDK. Only the histograms are recorded measurement by measurement.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Protocol

__all__ = ("METRIC_NAMES", "MetricSource", "WorkerMetrics", "default_meter")

METRIC_NAMES = (
    "aioswf.poll.requests",
    "aioswf.poll.empty",
    "aioswf.poll.errors",
    "aioswf.poll.latency",
    "aioswf.decision_task.latency",
    "aioswf.decision_task.schedule_to_start",
    "aioswf.activity_task.latency",
    "aioswf.activity_task.schedule_to_start",
    "aioswf.activity.running",
    "aioswf.activity.slots.free",
    "aioswf.heartbeat.sent",
    "aioswf.heartbeat.refused",
    "aioswf.cache.size",
    "aioswf.cache.hits",
    "aioswf.cache.misses",
    "aioswf.cache.evictions",
    "aioswf.sticky.hits",
    "aioswf.workflow.nondeterminism",
    "aioswf.workflow.failures",
)
"""Every metric a worker records."""


class MetricSource(Protocol):
    """What a worker reports when the observable metrics are collected."""

    def observe(self) -> dict[str, tuple[int, dict[str, str]]]:
        """Current values by metric name, each with its attributes."""
        ...


def default_meter() -> Any:
    """The global OpenTelemetry meter for aioswf, or ``None`` without ``opentelemetry-api``."""
    try:
        from opentelemetry import metrics
    except ImportError:
        return None
    return metrics.get_meter("aioswf")


_Key = tuple[tuple[str, str], ...]
"""An attribute set, as sorted pairs: what the counts are keyed by."""


class _Instruments:
    """The instruments of one meter, shared by every worker recording on it."""

    def __init__(self, meter: Any) -> None:
        self.sources: weakref.WeakSet[Any] = weakref.WeakSet()
        self.retired: dict[str, dict[_Key, int]] = {}
        """Counts of the sources no longer observed, by metric name and attributes."""
        self.counts: dict[str, dict[_Key, int]] = {name: {} for name, _u, _d in _COUNTED}
        """What the workers on this meter counted, by counter name and attribute set: totals
        that never go back, whichever workers stop."""
        self._counting = threading.Lock()  # workers on other threads' loops may share a meter
        histogram = meter.create_histogram
        self.poll_latency = histogram("aioswf.poll.latency", unit="s", description="poll time")
        self.decision_latency = histogram(
            "aioswf.decision_task.latency", unit="s", description="poll answer to decisions sent"
        )
        self.decision_start = histogram(
            "aioswf.decision_task.schedule_to_start", unit="s", description="queued on SWF"
        )
        self.activity_latency = histogram(
            "aioswf.activity_task.latency", unit="s", description="poll answer to result sent"
        )
        self.activity_start = histogram(
            "aioswf.activity_task.schedule_to_start", unit="s", description="queued on SWF"
        )
        for name, unit, description in _COUNTED:
            meter.create_observable_counter(
                name, callbacks=[self._counted(name)], unit=unit, description=description
            )
        gauge, counter = meter.create_observable_gauge, meter.create_observable_counter
        for name, unit, kind in _OBSERVED:
            create = gauge if kind == "gauge" else counter
            create(name, callbacks=[self._callback(name, kind == "counter")], unit=unit)

    def count(self, name: str, key: _Key) -> None:
        """One more of counter ``name``, for the attribute set ``key``."""
        counts = self.counts[name]
        with self._counting:
            counts[key] = counts.get(key, 0) + 1

    def _counted(self, name: str) -> Callable[[Any], Iterable[Any]]:
        def observe(_options: Any) -> Iterable[Any]:
            from opentelemetry.metrics import Observation

            with self._counting:  # workers count on while the reader's thread collects
                totals = list(self.counts[name].items())
            for key, total in totals:
                yield Observation(total, dict(key))

        return observe

    def _callback(self, name: str, counter: bool) -> Callable[[Any], Iterable[Any]]:
        def observe(_options: Any) -> Iterable[Any]:
            from opentelemetry.metrics import Observation

            # Workers on one meter and task list report one series: their sum. A counter
            # keeps what stopped workers counted, so it never goes back.
            totals = dict(self.retired.get(name, {})) if counter else {}
            for source in list(self.sources):
                value = source.observe().get(name)
                if value is not None:
                    key = tuple(sorted(value[1].items()))
                    totals[key] = totals.get(key, 0) + value[0]
            for key, total in totals.items():
                yield Observation(total, dict(key))

        return observe

    def retire(self, source: MetricSource) -> None:
        """Stop observing ``source``, its counters' last values kept in the totals."""
        if source not in self.sources:
            return
        self.sources.discard(source)
        observed = source.observe()
        for name, _unit, kind in _OBSERVED:
            value = observed.get(name)
            if kind == "counter" and value is not None:
                kept = self.retired.setdefault(name, {})
                key = tuple(sorted(value[1].items()))
                kept[key] = kept.get(key, 0) + value[0]


_COUNTED = (
    ("aioswf.poll.requests", "{poll}", "polls answered"),
    ("aioswf.poll.empty", "{poll}", "empty polls"),
    ("aioswf.poll.errors", "{poll}", "failed polls"),
    ("aioswf.heartbeat.sent", "{beat}", "recorded"),
    ("aioswf.heartbeat.refused", "{beat}", "refused"),
    ("aioswf.workflow.nondeterminism", "{task}", "code left history"),
    ("aioswf.workflow.failures", "{run}", "failed"),
)

_OBSERVED = (
    ("aioswf.activity.running", "{task}", "gauge"),
    ("aioswf.activity.slots.free", "{slot}", "gauge"),
    ("aioswf.cache.size", "{run}", "gauge"),
    ("aioswf.cache.hits", "{task}", "counter"),
    ("aioswf.cache.misses", "{task}", "counter"),
    ("aioswf.cache.evictions", "{run}", "counter"),
    ("aioswf.sticky.hits", "{task}", "counter"),
)

_by_meter: weakref.WeakKeyDictionary[Any, _Instruments] = weakref.WeakKeyDictionary()


class WorkerMetrics:
    """What one worker records; every method is a no-op without a meter.

    Attribute sets are built once per worker (per activity and workflow type, on first use),
    not per measurement.

    Args:
        meter: an OpenTelemetry ``Meter``, or ``None`` to record nothing.
        task_list: the worker's task list, an attribute of every measurement.
    """

    def __init__(self, meter: Any, task_list: str) -> None:
        self.enabled = meter is not None
        self.task_list = task_list
        self._kinds = {
            kind: {"aioswf.task_list": task_list, "aioswf.task_kind": kind}
            for kind in ("decision", "activity")
        }
        self._kind_keys = {kind: _key(attributes) for kind, attributes in self._kinds.items()}
        self._plain = {"aioswf.task_list": task_list}
        self._plain_key = _key(self._plain)
        self._by_activity_type: dict[str, dict[str, str]] = {}
        self._on: _Instruments | None = None
        if meter is not None:
            instruments = _by_meter.get(meter)
            if instruments is None:
                instruments = _by_meter[meter] = _Instruments(meter)
            self._on = instruments

    def attributes(self, kind: str | None = None) -> dict[str, str]:
        """The attributes of this worker's measurements (of one task kind)."""
        return dict(self._kinds[kind] if kind else self._plain)

    def watch(self, source: MetricSource) -> None:
        """Report ``source``'s observable values until it is garbage or :meth:`unwatch`."""
        if self._on is not None:
            self._on.sources.add(source)

    def unwatch(self, source: MetricSource) -> None:
        """Stop reporting ``source``."""
        if self._on is not None:
            self._on.retire(source)

    def poll(self, kind: str, seconds: float, *, empty: bool = False, error: bool = False) -> None:
        """A poll answered (or failed) after ``seconds``."""
        on = self._on
        if on is None:
            return
        key = self._kind_keys[kind]
        if error:
            on.count("aioswf.poll.errors", key)
            return
        on.count("aioswf.poll.requests", key)
        if empty:
            on.count("aioswf.poll.empty", key)
        on.poll_latency.record(seconds, self._kinds[kind])

    def decision_task(self, seconds: float) -> None:
        """A decision task answered ``seconds`` after its poll returned."""
        if self._on is not None:
            self._on.decision_latency.record(seconds, self._kinds["decision"])

    def decision_schedule_to_start(self, seconds: float) -> None:
        """A decision task waited ``seconds`` on SWF before a worker took it."""
        if self._on is not None:
            self._on.decision_start.record(max(seconds, 0.0), self._kinds["decision"])

    def activity_task(self, activity_type: str, seconds: float) -> None:
        """An activity task answered ``seconds`` after its poll returned."""
        if self._on is not None:
            self._on.activity_latency.record(seconds, self._of_activity_type(activity_type))

    def activity_schedule_to_start(self, activity_type: str, seconds: float) -> None:
        """An activity task waited ``seconds`` on SWF before a worker took it."""
        if self._on is not None:
            attributes = self._of_activity_type(activity_type)
            self._on.activity_start.record(max(seconds, 0.0), attributes)

    def heartbeat(self, *, refused: bool = False) -> None:
        """A heartbeat recorded by SWF, or refused (the task is gone)."""
        if self._on is not None:
            name = "aioswf.heartbeat.refused" if refused else "aioswf.heartbeat.sent"
            self._on.count(name, self._plain_key)

    def nondeterminism(self, workflow_type: str) -> None:
        """A decision task whose code no longer matched its history."""
        if self._on is not None:
            key = _key({**self._plain, "aioswf.workflow_type": workflow_type})
            self._on.count("aioswf.workflow.nondeterminism", key)

    def workflow_failed(self, workflow_type: str, reason: str) -> None:
        """A run failed by this worker (``FailWorkflowExecution``), with its reason."""
        if self._on is not None:
            attributes = {**self._plain, "aioswf.workflow_type": workflow_type, "reason": reason}
            self._on.count("aioswf.workflow.failures", _key(attributes))

    def _of_activity_type(self, activity_type: str) -> dict[str, str]:
        attributes = self._by_activity_type.get(activity_type)
        if attributes is None:
            attributes = {**self._kinds["activity"], "aioswf.activity_type": activity_type}
            self._by_activity_type[activity_type] = attributes
        return attributes


def _key(attributes: dict[str, str]) -> _Key:
    return tuple(sorted(attributes.items()))


OFF = WorkerMetrics(None, "")
"""Records nothing: the default of the parts that a worker did not give metrics."""
