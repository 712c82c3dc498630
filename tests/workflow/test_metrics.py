"""Worker metrics: a small run records every metric, by name, on an OpenTelemetry meter."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from aioswf import (
    ActivityTimedOutError,
    ApplicationError,
    Worker,
    WorkflowFailedError,
    activity,
    workflow,
)
from aioswf.metrics import METRIC_NAMES, WorkerMetrics
from aioswf.testing import WorkflowEnvironment
from aioswf.worker import DecisionWorkerOptions

TIMEOUT = timedelta(seconds=30)
flipped = {"on": False}


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def quick(n: int) -> int:
    return n + 1


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def flip() -> None:
    flipped["on"] = True


@activity.defn(
    start_to_close_timeout=timedelta(seconds=2), heartbeat_timeout=timedelta(seconds=1.5)
)
async def beats() -> None:
    while True:  # past its start-to-close timeout: the next heartbeat is refused
        activity.heartbeat()
        await asyncio.sleep(0.1)


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Work:
    @workflow.run
    async def run(self, n: int) -> int:
        for _ in range(3):
            n = await workflow.execute_activity(quick, n)
        with contextlib.suppress(ActivityTimedOutError):
            await workflow.execute_activity(beats)
        return n


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Boom:
    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("boom", type="Boom")


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Fickle:
    @workflow.run
    async def run(self) -> None:
        if flipped["on"]:  # what a careless deployment does: other decisions on replay
            await asyncio.sleep(60)
        await workflow.execute_activity(flip)


async def test_a_small_run_records_every_metric_by_name() -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    flipped["on"] = False
    async with WorkflowEnvironment() as env:
        async with Worker(
            env.client,
            task_list="measured",
            workflows=[Work, Boom],
            activities=[quick, beats],
            decision_options=DecisionWorkerOptions(max_cached_workflows=1),
            meter=meter,
        ):
            first = await env.client.start_workflow(
                Work.run, 1, workflow_id="w1", task_list="measured"
            )
            second = await env.client.start_workflow(
                Work.run, 10, workflow_id="w2", task_list="measured"
            )
            assert await first.result(timeout=TIMEOUT) == 4
            assert await second.result(timeout=TIMEOUT) == 13
            boom = await env.client.start_workflow(Boom.run, workflow_id="b", task_list="measured")
            with contextlib.suppress(WorkflowFailedError):
                await boom.result(timeout=TIMEOUT)
            # Gauges and the cache's counts are read from live workers, when collected.
            observed = {name: _points(reader, name) for name in METRIC_NAMES}
        # Every task replays from the start here, and the replay decides otherwise.
        async with Worker(
            env.client,
            task_list="fickle",
            workflows=[Fickle],
            activities=[flip],
            decision_options=DecisionWorkerOptions(max_cached_workflows=0),
            meter=meter,
        ):
            await env.client.start_workflow(Fickle.run, workflow_id="f", task_list="fickle")
            for _ in range(400):  # the task after the activity fails, within a few seconds
                if _points(reader, "aioswf.workflow.nondeterminism"):
                    break
                await asyncio.sleep(0.05)

    recorded = {name: _points(reader, name) or observed[name] for name in METRIC_NAMES}
    missing = [name for name in METRIC_NAMES if not recorded[name]]
    assert missing == ["aioswf.poll.errors"]  # no poll failed
    assert _total(recorded["aioswf.heartbeat.refused"]) >= 1
    assert _total(recorded["aioswf.heartbeat.sent"]) >= 1
    assert _total(recorded["aioswf.cache.hits"]) >= 1
    assert _total(recorded["aioswf.cache.evictions"]) >= 1
    assert _total(recorded["aioswf.sticky.hits"]) >= 1
    failures = recorded["aioswf.workflow.failures"]
    assert {p.attributes["reason"] for p in failures} == {"Boom"}
    starts = recorded["aioswf.activity_task.schedule_to_start"]
    assert {p.attributes["aioswf.activity_type"] for p in starts} >= {"quick/1", "beats/1"}
    assert sum(p.count for p in starts if p.attributes["aioswf.activity_type"] == "quick/1") == 6
    kinds = {p.attributes["aioswf.task_kind"] for p in recorded["aioswf.poll.requests"]}
    assert kinds == {"decision", "activity"}
    assert all(p.attributes["aioswf.task_list"] for p in recorded["aioswf.poll.latency"])


def test_poll_errors_are_counted_apart() -> None:
    reader = InMemoryMetricReader()
    metrics = WorkerMetrics(MeterProvider(metric_readers=[reader]).get_meter("test"), "t")
    metrics.poll("activity", 0.2, error=True)
    metrics.poll("activity", 0.5, empty=True)
    assert _total(_points(reader, "aioswf.poll.errors")) == 1
    assert _total(_points(reader, "aioswf.poll.requests")) == 1
    assert _total(_points(reader, "aioswf.poll.empty")) == 1


def _points(reader: InMemoryMetricReader, name: str) -> list[Any]:
    return [
        point
        for metric in _metrics(reader)
        if metric.name == name
        for point in metric.data.data_points
    ]


def _metrics(reader: InMemoryMetricReader) -> Iterator[Any]:
    data = reader.get_metrics_data()
    if data is None:
        return
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            yield from scope.metrics


def _total(points: list[Any]) -> float:
    return sum(getattr(point, "value", getattr(point, "count", 0)) for point in points)


class Cache:
    """A worker's observable values, as its decision poller reports them."""

    def __init__(self, size: int, misses: int) -> None:
        self.size, self.misses = size, misses

    def observe(self) -> dict[str, tuple[int, dict[str, str]]]:
        attributes = {"aioswf.task_list": "shared"}
        return {
            "aioswf.cache.size": (self.size, attributes),
            "aioswf.cache.misses": (self.misses, attributes),
        }


def observed(reader: InMemoryMetricReader) -> dict[str, list[int | float]]:
    found: dict[str, list[int | float]] = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                points = metric.data.data_points
                found[metric.name] = [p.value for p in points]  # type: ignore[union-attr]
    return found


def test_workers_sharing_a_task_list_and_a_meter_add_up() -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("two-workers")
    one, two = WorkerMetrics(meter, "shared"), WorkerMetrics(meter, "shared")
    first, second = Cache(size=2, misses=3), Cache(size=4, misses=5)
    one.watch(first)
    two.watch(second)
    values = observed(reader)
    assert values["aioswf.cache.size"] == [6]
    assert values["aioswf.cache.misses"] == [8]
    one.unwatch(first)  # a worker stops; another starts on the same meter
    three = WorkerMetrics(meter, "shared")
    third = Cache(size=1, misses=1)  # watched weakly: kept here, as a worker keeps its own
    three.watch(third)
    values = observed(reader)
    assert values["aioswf.cache.size"] == [5]
    assert values["aioswf.cache.misses"] == [9]  # counted on, never back


def test_counts_of_workers_sharing_a_meter_add_up_and_outlive_them() -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("counted")
    one, two = WorkerMetrics(meter, "shared"), WorkerMetrics(meter, "shared")
    for _ in range(3):
        one.poll("decision", 0.1)
    two.poll("decision", 0.1, empty=True)
    two.heartbeat()
    two.nondeterminism("Order/1")
    del one, two  # the workers are gone; what they counted is not
    assert _total(_points(reader, "aioswf.poll.requests")) == 4
    assert _total(_points(reader, "aioswf.poll.empty")) == 1
    assert _total(_points(reader, "aioswf.heartbeat.sent")) == 1
    [point] = _points(reader, "aioswf.workflow.nondeterminism")
    assert point.attributes == {"aioswf.task_list": "shared", "aioswf.workflow_type": "Order/1"}
    assert _total(_points(reader, "aioswf.poll.latency")) == 4  # a histogram: its count
