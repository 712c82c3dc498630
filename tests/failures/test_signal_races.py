"""Signals racing a close: SWF refuses the close (UNHANDLED_DECISION) and the code, run again
with the news, decides a close that counts them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from aioswf import Client, workflow
from aioswf._pollers.decision import DecisionWorkerOptions
from aioswf.worker import Worker

RESULT_TIMEOUT = timedelta(seconds=30)
CACHES = pytest.mark.parametrize("cache", [0, 1000], ids=["no-cache", "cache"])


@workflow.defn
class Tally:
    def __init__(self) -> None:
        self.n = 0
        self.finished = False

    @workflow.run
    async def run(self, total: int, hops: int) -> int:
        await workflow.wait_condition(lambda: self.n >= 3 or self.finished)
        if not self.finished:
            workflow.continue_as_new(total + self.n, hops + 1)
        return total + self.n

    @workflow.signal
    def add(self) -> None:
        self.n += 1

    @workflow.signal
    def finish(self) -> None:
        self.finished = True


@workflow.defn
class Counter:
    def __init__(self) -> None:
        self.n = 0

    @workflow.run
    async def run(self) -> int:
        await asyncio.sleep(0)
        return self.n

    @workflow.signal
    def add(self) -> None:
        self.n += 1


@CACHES
async def test_signals_across_continue_as_new_hops_all_count(client: Client, cache: int) -> None:
    options = DecisionWorkerOptions(max_cached_workflows=cache)
    async with Worker(client, task_list="r", workflows=[Tally], decision_options=options):
        handle = await client.start_workflow(Tally.run, 0, 0, workflow_id="tally", task_list="r")
        for _ in range(20):
            await handle.signal(Tally.add)
        await handle.signal(Tally.finish)
        assert await handle.result(timeout=RESULT_TIMEOUT) == 20


@CACHES
async def test_a_return_racing_signals_counts_those_recorded_before_the_close(
    client: Client, cache: int
) -> None:
    options = DecisionWorkerOptions(max_cached_workflows=cache)
    async with Worker(client, task_list="r", workflows=[Counter], decision_options=options):
        handle = await client.start_workflow(Counter.run, workflow_id="count", task_list="r")
        sent = 0
        for _ in range(10):
            try:
                await handle.signal(Counter.add)
            except Exception:  # the run closed first: later signals are refused, not lost
                break
            sent += 1
        result = await handle.result(timeout=RESULT_TIMEOUT)
    events = [e async for e in handle.history()]
    close = next(i for i, e in enumerate(events) if e["eventType"] == "WorkflowExecutionCompleted")
    recorded = sum(e["eventType"] == "WorkflowExecutionSignaled" for e in events[:close])
    assert result == recorded == sent
