"""Benchmarks of the local SWF service (``python benchmarks/bench_local.py``).

1. Poll + respond of a decision task in an empty domain and in a domain holding 10,000 closed
   executions: the engine's cost must not grow with the number of executions.
2. Wake-up delay: how long after a task is scheduled a parked long poll receives it, next to
   the round trip of a bare request (DescribeDomain) measured in the same run.

Everything goes over loopback HTTP through aiobotocore, as a worker would.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from aioswf.local import LocalSWF

DOMAIN = "bench"
TASK_LIST = {"name": "bench"}
WF = {"name": "Bench", "version": "1"}
COMPLETE = [
    {
        "decisionType": "CompleteWorkflowExecution",
        "completeWorkflowExecutionDecisionAttributes": {"result": "ok"},
    }
]


@asynccontextmanager
async def service_and_client() -> AsyncIterator[tuple[LocalSWF, Any]]:
    async with LocalSWF(long_poll_seconds=20) as swf:
        swf.call("RegisterDomain", {"name": DOMAIN, "workflowExecutionRetentionPeriodInDays": "30"})
        swf.call(
            "RegisterWorkflowType",
            {
                "domain": DOMAIN,
                **WF,
                "defaultTaskList": TASK_LIST,
                "defaultExecutionStartToCloseTimeout": "3600",
                "defaultTaskStartToCloseTimeout": "60",
                "defaultChildPolicy": "TERMINATE",
            },
        )
        config = AioConfig(
            retries={"total_max_attempts": 1}, read_timeout=70, max_pool_connections=20
        )
        async with get_session().create_client(
            "swf",
            endpoint_url=swf.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=config,
        ) as client:
            yield swf, client


def fill_closed(swf: LocalSWF, count: int) -> None:
    """Run ``count`` executions to completion directly on the engine (fast, no HTTP)."""
    for index in range(count):
        swf.call(
            "StartWorkflowExecution",
            {"domain": DOMAIN, "workflowId": f"old-{index}", "workflowType": WF},
        )
        task = swf.call("PollForDecisionTask", {"domain": DOMAIN, "taskList": TASK_LIST})
        swf.call(
            "RespondDecisionTaskCompleted", {"taskToken": task["taskToken"], "decisions": COMPLETE}
        )


async def poll_respond_ms(swf: LocalSWF, client: Any, rounds: int) -> list[float]:
    timings = []
    for index in range(rounds):
        swf.call(
            "StartWorkflowExecution",
            {"domain": DOMAIN, "workflowId": f"new-{index}", "workflowType": WF},
        )
        began = time.perf_counter()
        task = await client.poll_for_decision_task(domain=DOMAIN, taskList=TASK_LIST)
        await client.respond_decision_task_completed(
            taskToken=task["taskToken"], decisions=COMPLETE
        )
        timings.append((time.perf_counter() - began) * 1000)
    return timings


async def wake_up_ms(swf: LocalSWF, client: Any, rounds: int) -> list[float]:
    timings = []
    for index in range(rounds):
        poll = asyncio.ensure_future(
            client.poll_for_decision_task(domain=DOMAIN, taskList=TASK_LIST)
        )
        # Wait (outside the measurement) until the poll is parked in the server.
        while swf.frontend.waiters.count() == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        began = time.perf_counter()
        swf.call(
            "StartWorkflowExecution",
            {"domain": DOMAIN, "workflowId": f"wake-{index}", "workflowType": WF},
        )
        task = await poll
        timings.append((time.perf_counter() - began) * 1000)
        await client.respond_decision_task_completed(
            taskToken=task["taskToken"], decisions=COMPLETE
        )
    return timings


async def bare_request_ms(client: Any, rounds: int) -> list[float]:
    timings = []
    for _ in range(rounds):
        began = time.perf_counter()
        await client.describe_domain(name=DOMAIN)
        timings.append((time.perf_counter() - began) * 1000)
    return timings


def row(name: str, timings: list[float]) -> str:
    ordered = sorted(timings)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    return f"| {name:<44} | {statistics.median(ordered):>9.2f} | {p90:>9.2f} | {len(ordered):>5} |"


async def main(closed: int, rounds: int) -> None:
    results: dict[str, list[float]] = {}
    async with service_and_client() as (swf, client):
        await poll_respond_ms(swf, client, 20)  # warm-up
        results["poll+respond, empty domain"] = await poll_respond_ms(swf, client, rounds)
        results["bare request (DescribeDomain)"] = await bare_request_ms(client, rounds)
        results["scheduled -> parked long poll receives it"] = await wake_up_ms(swf, client, rounds)
    async with service_and_client() as (swf, client):
        began = time.perf_counter()
        fill_closed(swf, closed)
        filled = time.perf_counter() - began
        await poll_respond_ms(swf, client, 20)
        results[f"poll+respond, {closed:,} closed executions"] = await poll_respond_ms(
            swf, client, rounds
        )
    print(f"(filled {closed:,} closed executions in {filled:.1f} s)\n")
    print(f"| {'measurement':<44} | {'median ms':>9} | {'p90 ms':>9} | {'n':>5} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 11}|{'-' * 7}|")
    for name, timings in results.items():
        print(row(name, timings))
    empty = statistics.median(results["poll+respond, empty domain"])
    full = statistics.median(results[f"poll+respond, {closed:,} closed executions"])
    print(
        f"\npoll+respond with {closed:,} closed executions / empty domain: {full / empty:.2f}x"
        " (target: at most 1.5x)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--closed", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=300)
    options = parser.parse_args()
    asyncio.run(main(options.closed, options.rounds))
