"""Benchmarks of the local SWF service (``python benchmarks/bench_local.py``).

1. Cost against the number of executions: a *small* service (an empty domain to poll and
   respond in, 100 closed executions to list) and a *large* one (10,000 closed executions in
   each) run side by side, and every round measures both, alternating which goes first, so
   that load on the machine hits both alike.  Measured: poll + respond of a decision task over
   HTTP and through the engine alone (no HTTP), ListClosedWorkflowExecutions by workflowId,
   and the first page of 10.  Each figure is the median over repeats of the per-repeat
   median; the large/small ratio is computed per repeat, and its median and range printed.
2. Wake-up delay: how long after a task is scheduled a parked long poll receives it, next to
   the round trip of a bare request (DescribeDomain) measured in the same run.

HTTP goes over loopback through aiobotocore, as a worker would.  Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from plain_swf import plain_client

from aioswf.local import LocalSWF

BENCH, LISTING = "bench", "listing"
TASK_LIST = {"name": "bench"}
WF = {"name": "Bench", "version": "1"}
COMPLETE = [
    {
        "decisionType": "CompleteWorkflowExecution",
        "completeWorkflowExecutionDecisionAttributes": {"result": "ok"},
    }
]
_ids = itertools.count()


@asynccontextmanager
async def service_and_client() -> AsyncIterator[tuple[LocalSWF, Any]]:
    async with LocalSWF(long_poll_seconds=20) as swf:
        for domain in (BENCH, LISTING):
            swf.call(
                "RegisterDomain", {"name": domain, "workflowExecutionRetentionPeriodInDays": "30"}
            )
            swf.call(
                "RegisterWorkflowType",
                {
                    "domain": domain,
                    **WF,
                    "defaultTaskList": TASK_LIST,
                    "defaultExecutionStartToCloseTimeout": "3600",
                    "defaultTaskStartToCloseTimeout": "60",
                    "defaultChildPolicy": "TERMINATE",
                },
            )
        async with plain_client(swf.endpoint_url, connections=20) as client:
            yield swf, client


def fill_closed(swf: LocalSWF, domain: str, count: int) -> None:
    """Run ``count`` executions to completion directly on the engine (fast, no HTTP)."""
    for index in range(count):
        swf.call(
            "StartWorkflowExecution",
            {"domain": domain, "workflowId": f"old-{index}", "workflowType": WF},
        )
        task = swf.call("PollForDecisionTask", {"domain": domain, "taskList": TASK_LIST})
        swf.call(
            "RespondDecisionTaskCompleted", {"taskToken": task["taskToken"], "decisions": COMPLETE}
        )


def start_new(swf: LocalSWF) -> None:
    swf.call(
        "StartWorkflowExecution",
        {"domain": BENCH, "workflowId": f"new-{next(_ids)}", "workflowType": WF},
    )


async def timed(action: Callable[[], Awaitable[Any]]) -> float:
    began = time.perf_counter()
    await action()
    return (time.perf_counter() - began) * 1000


class Side:
    """One service of the comparison and the measurements taken on it."""

    def __init__(self, swf: LocalSWF, client: Any, listed: int) -> None:
        self.swf, self.client, self.listed = swf, client, listed

    async def http_poll_respond(self) -> float:
        start_new(self.swf)

        async def run() -> None:
            task = await self.client.poll_for_decision_task(domain=BENCH, taskList=TASK_LIST)
            await self.client.respond_decision_task_completed(
                taskToken=task["taskToken"], decisions=COMPLETE
            )

        return await timed(run)

    async def engine_poll_respond(self) -> float:
        start_new(self.swf)
        engine = self.swf.engine
        began = time.perf_counter()
        task = engine.handle("PollForDecisionTask", {"domain": BENCH, "taskList": TASK_LIST})
        engine.handle(
            "RespondDecisionTaskCompleted", {"taskToken": task["taskToken"], "decisions": COMPLETE}
        )
        return (time.perf_counter() - began) * 1000

    async def list_by_id(self) -> float:
        workflow_id = f"old-{random.randrange(self.listed)}"
        return await timed(
            lambda: self.client.list_closed_workflow_executions(
                domain=LISTING,
                closeTimeFilter={"oldestDate": 0},
                executionFilter={"workflowId": workflow_id},
            )
        )

    async def first_page(self) -> float:
        return await timed(
            lambda: self.client.list_closed_workflow_executions(
                domain=LISTING, startTimeFilter={"oldestDate": 0}, maximumPageSize=10
            )
        )


MEASURES: dict[str, Callable[[Side], Awaitable[float]]] = {
    "poll+respond (HTTP)": Side.http_poll_respond,
    "poll+respond (engine only)": Side.engine_poll_respond,
    "ListClosed by workflowId (HTTP)": Side.list_by_id,
    "ListClosed first page of 10 (HTTP)": Side.first_page,
}


Figures = dict[tuple[str, str], list[float]]  # (measure, "small" | "large"): per-repeat medians


async def compare(small: Side, large: Side, repeats: int, rounds: int) -> Figures:
    figures: Figures = defaultdict(list)
    for _ in range(repeats):
        samples: Figures = defaultdict(list)
        for index in range(rounds):
            pair = [("small", small), ("large", large)]
            for name, measure in MEASURES.items():
                for label, side in pair if index % 2 else pair[::-1]:
                    samples[(name, label)].append(await measure(side))
        for key, values in samples.items():
            figures[key].append(statistics.median(values))
    return figures


def report(figures: Figures) -> None:
    print(
        f"| {'measurement':<36} | {'small ms':>9} | {'large ms':>9} | {'ratio':>6} | {'range':<12} |"
    )
    print(f"|{'-' * 38}|{'-' * 11}|{'-' * 11}|{'-' * 8}|{'-' * 14}|")
    for name in MEASURES:
        smalls, larges = figures[(name, "small")], figures[(name, "large")]
        ratios = [big / little for big, little in zip(larges, smalls, strict=True)]
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}x"
        print(
            f"| {name:<36} | {statistics.median(smalls):>9.3f} | {statistics.median(larges):>9.3f}"
            f" | {statistics.median(ratios):>5.2f}x | {spread:<12} |"
        )


async def wake_up_ms(swf: LocalSWF, client: Any, rounds: int) -> list[float]:
    timings = []
    for _ in range(rounds):
        poll = asyncio.ensure_future(
            client.poll_for_decision_task(domain=BENCH, taskList=TASK_LIST)
        )
        # Wait (outside the measurement) until the poll is parked in the server.
        while swf.frontend.waiters.count() == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.001)
        began = time.perf_counter()
        start_new(swf)
        task = await poll
        timings.append((time.perf_counter() - began) * 1000)
        await client.respond_decision_task_completed(
            taskToken=task["taskToken"], decisions=COMPLETE
        )
    return timings


async def main(large: int, small: int, repeats: int, rounds: int) -> None:
    async with AsyncExitStack() as stack:
        small_swf, small_client = await stack.enter_async_context(service_and_client())
        large_swf, large_client = await stack.enter_async_context(service_and_client())
        began = time.perf_counter()
        fill_closed(small_swf, LISTING, small)
        fill_closed(large_swf, BENCH, large)
        fill_closed(large_swf, LISTING, large)
        print(
            f"(filled {small + 2 * large:,} closed executions in {time.perf_counter() - began:.1f} s)"
        )
        print(
            f"small: empty {BENCH!r} domain, {small:,} closed in {LISTING!r}; "
            f"large: {large:,} closed in each; {repeats} repeats of {rounds} interleaved rounds\n"
        )
        small_side = Side(small_swf, small_client, small)
        large_side = Side(large_swf, large_client, large)
        await compare(small_side, large_side, 1, 20)  # warm-up
        report(await compare(small_side, large_side, repeats, rounds))
        bare = [
            await timed(lambda: small_client.describe_domain(name=BENCH)) for _ in range(rounds)
        ]
        wake = await wake_up_ms(small_swf, small_client, rounds)
    print()
    for name, values in (
        ("bare request (DescribeDomain)", bare),
        ("scheduled -> parked poll", wake),
    ):
        print(f"{name}: median {statistics.median(values):.2f} ms over {len(values)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=10_000, help="closed executions, large side")
    parser.add_argument("--small", type=int, default=100, help="closed executions to list, small")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=60)
    options = parser.parse_args()
    asyncio.run(main(options.large, options.small, options.repeats, options.rounds))
