"""Tracing: one connected trace from the client through the workflow to activities and child,
with no duplicate spans when every decision task replays the run from the start."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aioswf import Worker, activity, workflow
from aioswf.contrib.opentelemetry import TracingInterceptor
from aioswf.testing import WorkflowEnvironment
from aioswf.worker import DecisionWorkerOptions

TIMEOUT = timedelta(seconds=20)


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def fetch(item: str) -> str:
    return f"fetched {item}"


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
def pack(item: str) -> str:
    return f"packed {item}"


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Ship:
    @workflow.run
    async def run(self, item: str) -> str:
        return f"shipped {item}"


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Order:
    def __init__(self) -> None:
        self.approved = False

    @workflow.run
    async def run(self, item: str) -> str:
        fetched = await workflow.execute_activity(fetch, item)
        packed = await workflow.execute_activity(pack, item)
        shipped = await workflow.execute_child_workflow(Ship.run, item)
        await workflow.wait_condition(lambda: self.approved)
        return f"{fetched}, {packed}, {shipped}"

    @workflow.signal
    def approve(self) -> None:
        self.approved = True


async def test_one_connected_trace_without_duplicates_after_cache_off_replays() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = TracingInterceptor(provider)
    tracer = provider.get_tracer("test")
    async with (
        WorkflowEnvironment(interceptors=[tracing]) as env,
        Worker(
            env.client,
            task_list="traced",
            workflows=[Order, Ship],
            activities=[fetch, pack],
            # Every decision task replays the run from its first event.
            decision_options=DecisionWorkerOptions(max_cached_workflows=0),
        ),
    ):
        with tracer.start_as_current_span("checkout") as root:
            handle = await env.client.start_workflow(
                Order.run, "book", workflow_id="order-1", task_list="traced"
            )
            await handle.signal(Order.approve)
        assert await handle.result(timeout=TIMEOUT) == ("fetched book, packed book, shipped book")

    spans = exporter.get_finished_spans()
    names = Counter(span.name for span in spans)
    assert names == {
        "checkout": 1,
        "StartWorkflow:Order": 1,
        "SignalWorkflow:approve": 1,
        "RunWorkflow:Order": 1,
        "HandleSignal:approve": 1,
        "StartActivity:fetch": 1,
        "RunActivity:fetch": 1,
        "StartActivity:pack": 1,
        "RunActivity:pack": 1,
        "StartChildWorkflow:Ship": 1,
        "RunWorkflow:Ship": 1,
    }
    assert len({_id(span) for span in spans}) == len(spans)
    trace_id = root.get_span_context().trace_id
    assert {span.context.trace_id for span in spans if span.context} == {trace_id}

    by_name = {span.name: span for span in spans}

    def parent(name: str) -> str:
        span = by_name[name]
        assert span.parent is not None, f"{name} has no parent"
        (found,) = [s.name for s in spans if _id(s) == span.parent.span_id]
        return found

    assert parent("StartWorkflow:Order") == "checkout"
    assert parent("RunWorkflow:Order") == "StartWorkflow:Order"
    assert parent("StartActivity:fetch") == "RunWorkflow:Order"
    assert parent("RunActivity:fetch") == "StartActivity:fetch"
    assert parent("StartActivity:pack") == "RunWorkflow:Order"
    assert parent("RunActivity:pack") == "StartActivity:pack"
    assert parent("StartChildWorkflow:Ship") == "RunWorkflow:Order"
    assert parent("RunWorkflow:Ship") == "StartChildWorkflow:Ship"
    assert parent("SignalWorkflow:approve") == "checkout"
    assert parent("HandleSignal:approve") == "SignalWorkflow:approve"


def _id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id
