"""Parallelism: hundreds of activities at once, a limit never exceeded, no task without a slot."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable

from aioswf import Client, activity
from aioswf.worker import ActivityWorkerOptions, Worker

from .helpers import Flow, Gauge, until

NewFlow = Callable[[], Awaitable[Flow]]

gauge = Gauge()
all_in = asyncio.Event()
release = asyncio.Event()


@activity.defn
async def nap(seconds: float) -> int:
    with gauge:
        await asyncio.sleep(seconds)
    return gauge.peak


@activity.defn
async def together(count: int) -> int:
    # Held until `count` run at once: they cannot finish before the last ones start.
    with gauge:
        if gauge.now == count:
            all_in.set()
        await all_in.wait()
    return gauge.peak


@activity.defn
async def hold() -> None:
    with gauge:
        await release.wait()


_lock = threading.Lock()
sync_gauge = {"now": 0, "peak": 0}


@activity.defn
def sync_nap(seconds: float) -> None:
    with _lock:
        sync_gauge["now"] += 1
        sync_gauge["peak"] = max(sync_gauge["peak"], sync_gauge["now"])
    time.sleep(seconds)
    with _lock:
        sync_gauge["now"] -= 1


def _reset() -> None:
    global gauge, all_in, release
    gauge, all_in, release = Gauge(), asyncio.Event(), asyncio.Event()
    sync_gauge.update(now=0, peak=0)


async def test_200_activities_run_at_once(
    local_client: Client, local_flow: NewFlow, task_list: str
) -> None:
    # How long 200 take together is the benchmark's business; this proves they overlap.
    _reset()
    flow = await local_flow()
    options = ActivityWorkerOptions(pollers=16)
    async with Worker(
        local_client,
        task_list=task_list,
        activities=[together],
        max_concurrent_activities=200,
        activity_options=options,
    ) as worker:
        await worker.wait_until_polling()
        await flow.schedule(together, 200, count=200)
        outcomes = await flow.outcomes(200, timeout=60)
    assert {o.kind for o in outcomes.values()} == {"Completed"}
    assert gauge.peak == 200
    assert {o.result for o in outcomes.values()} == {200}


async def test_limit_is_never_exceeded(client: Client, new_flow: NewFlow, task_list: str) -> None:
    _reset()
    flow = await new_flow()
    options = ActivityWorkerOptions(pollers=6, max_concurrent=3)
    async with Worker(client, task_list=task_list, activities=[nap], activity_options=options):
        await flow.schedule(nap, 0.2, count=12)
        outcomes = await flow.outcomes(12)
    assert {o.kind for o in outcomes.values()} == {"Completed"}
    assert gauge.total == 12
    assert gauge.peak == 3


async def test_sync_activities_share_the_limit(
    local_client: Client, local_flow: NewFlow, task_list: str
) -> None:
    _reset()
    flow = await local_flow()
    options = ActivityWorkerOptions(pollers=4, max_concurrent=2)
    async with Worker(
        local_client, task_list=task_list, activities=[sync_nap], activity_options=options
    ):
        await flow.schedule(sync_nap, 0.1, count=8)
        outcomes = await flow.outcomes(8)
    assert {o.kind for o in outcomes.values()} == {"Completed"}
    assert sync_gauge["peak"] == 2


async def test_no_task_is_fetched_without_a_free_slot(
    local_client: Client, local_flow: NewFlow, task_list: str
) -> None:
    _reset()
    flow = await local_flow()
    options = ActivityWorkerOptions(pollers=4, max_concurrent=2)
    async with Worker(
        local_client, task_list=task_list, activities=[hold], activity_options=options
    ) as worker:
        await flow.schedule(hold, count=6)
        await until(lambda: gauge.now == 2)
        # Longer than a long poll: a poller that polled without a slot would have a task now.
        await asyncio.sleep(0.8)
        assert await flow.started_count() == 2
        assert worker.running_activities == 2
        release.set()
        outcomes = await flow.outcomes(6)
    assert {o.kind for o in outcomes.values()} == {"Completed"}
    assert gauge.peak == 2
