"""Tracing with OpenTelemetry: one trace from the client through the workflow to activities.

The `TracingInterceptor` goes on the client; workers on that client trace too. This example
prints each span with its parent, as an OTLP exporter would send them to Jaeger or Tempo.
Run it with `python examples/observability_tracing.py`; it needs no AWS account.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aioswf import Client, Worker, activity, workflow
from aioswf.contrib.opentelemetry import TracingInterceptor
from aioswf.local import LocalSWF


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def reserve(item: str) -> str:
    return f"reserved {item}"


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def charge(amount: int) -> str:
    return f"charged {amount}"


@workflow.defn
class Checkout:
    @workflow.run
    async def run(self, item: str, amount: int) -> str:
        reserved = await workflow.execute_activity(reserve, item)
        charged = await workflow.execute_activity(charge, amount)
        return f"{reserved}, {charged}"


async def main() -> None:
    # In production: a BatchSpanProcessor and an OTLP exporter, set up once per process.
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = TracingInterceptor(provider)

    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("examples", endpoint_url=swf.endpoint_url, interceptors=[tracing]) as client,
    ):
        await client.register_domain()
        async with Worker(
            client, task_list="shop", workflows=[Checkout], activities=[reserve, charge]
        ):
            with provider.get_tracer("shop").start_as_current_span("POST /checkout"):
                handle = await client.start_workflow(
                    Checkout.run, "book", 12, workflow_id="checkout-1", task_list="shop"
                )
            print(await handle.result())

    spans = exporter.get_finished_spans()
    names = {span.context.span_id: span.name for span in spans if span.context}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        parent = names.get(span.parent.span_id, "?") if span.parent else "-"
        print(f"{span.name:<24} parent: {parent}")
    assert len({span.context.trace_id for span in spans if span.context}) == 1  # one trace


if __name__ == "__main__":
    asyncio.run(main())
