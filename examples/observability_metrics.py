"""Worker metrics, exported to Prometheus through OpenTelemetry.

A worker records its metrics (polls, task latencies, slots, heartbeats, the workflow cache…)
on OpenTelemetry's global meter; the application picks where they go. Here: a Prometheus
endpoint, scraped once at the end. Run it with `python examples/observability_metrics.py`.
"""

from __future__ import annotations

import asyncio
import urllib.request
from datetime import timedelta

from opentelemetry import metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from prometheus_client import start_http_server

from aioswf import Client, Worker, activity, workflow
from aioswf.local import LocalSWF


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def pick(order: str) -> str:
    return f"picked {order}"


@workflow.defn
class Fulfil:
    @workflow.run
    async def run(self, order: str) -> str:
        return await workflow.execute_activity(pick, order)


def scrape(port: int) -> list[str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text: str = response.read().decode()
    return [line for line in text.splitlines() if line.startswith("aioswf_")]


async def main() -> None:
    # Once per process: the Prometheus endpoint, and OpenTelemetry's global meter provider.
    server, _ = start_http_server(port=0, addr="127.0.0.1")
    metrics.set_meter_provider(MeterProvider(metric_readers=[PrometheusMetricReader()]))

    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("examples", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="warehouse", workflows=[Fulfil], activities=[pick]):
            for number in range(3):
                handle = await client.start_workflow(
                    Fulfil.run, f"o-{number}", workflow_id=f"fulfil-{number}", task_list="warehouse"
                )
                print(await handle.result())
            lines = await asyncio.to_thread(scrape, server.server_port)
    server.shutdown()
    for line in lines:
        if "_bucket" not in line:  # histograms' buckets make a long list
            print(line)
    assert any(line.startswith("aioswf_activity_task_latency_seconds_count") for line in lines)


if __name__ == "__main__":
    asyncio.run(main())
