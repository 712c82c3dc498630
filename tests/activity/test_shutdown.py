"""Shutdown: received tasks run to the end, late poll answers are run, leftovers are reported."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest

from aioswf import Client, activity
from aioswf.local import LocalSWF
from aioswf.worker import ActivityWorkerOptions, Worker

from .helpers import Call, Flow, Gauge, until

NewFlow = Callable[[], Awaitable[Flow]]
gauge = Gauge()
seen: dict[str, object] = {}


@activity.defn
async def work(seconds: float) -> str:
    with gauge:
        await asyncio.sleep(seconds)
    return "done"


@activity.defn
async def forever() -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        seen["async"] = activity.cancel_reason()
        raise


@activity.defn
def forever_sync() -> None:
    while not activity.is_cancelled():
        time.sleep(0.01)
    seen["sync"] = activity.cancel_reason()


@pytest.fixture
async def slow_polls(domain_name: str) -> AsyncIterator[Client]:
    """A client of a local service whose empty polls are held for 3 s."""
    async with (
        LocalSWF(port=0, long_poll_seconds=3.0) as swf,
        Client(domain_name, endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        yield client


async def test_shutdown_lets_running_activities_finish(
    client: Client, new_flow: NewFlow, task_list: str
) -> None:
    global gauge
    gauge = Gauge()
    flow = await new_flow()
    worker = Worker(client, task_list=task_list, activities=[work])
    async with worker:
        await flow.schedule(work, 0.5, count=5)
        await until(lambda: gauge.now == 5)
        report = await worker.shutdown(timedelta(seconds=10))
        assert worker.running_activities == 0
    assert report.clean
    assert report.cancelled_activities == ()
    outcomes = await flow.outcomes(5)
    assert [o.result for o in outcomes.values()] == ["done"] * 5


async def test_a_task_polled_after_shutdown_began_is_still_run(
    slow_polls: Client, task_list: str
) -> None:
    flow = await Flow(slow_polls, task_list).start()
    options = ActivityWorkerOptions(pollers=1)
    worker = Worker(slow_polls, task_list=task_list, activities=[work], activity_options=options)
    await worker.start()
    await worker.wait_until_polling()
    await asyncio.sleep(0.2)  # the poll is now parked on the service
    shutdown = asyncio.create_task(worker.shutdown())
    await asyncio.sleep(0)
    [a] = await flow.schedule(work, 0.1)
    report = await shutdown
    assert report.clean
    outcomes = await flow.outcomes(1)
    assert outcomes[a].result == "done"


async def test_leftovers_are_cancelled_and_reported_at_the_timeout(
    local_client: Client, local_flow: NewFlow, task_list: str
) -> None:
    seen.clear()
    flow = await local_flow()
    worker = Worker(local_client, task_list=task_list, activities=[forever, forever_sync])
    await worker.start()
    a, b = await flow.schedule_all(Call(forever), Call(forever_sync))
    await until(lambda: worker.running_activities == 2)
    report = await worker.shutdown(timedelta(0))
    assert not report.clean
    assert sorted(report.cancelled_activities) == sorted([a, b])
    outcomes = await flow.outcomes(2)
    for activity_id in (a, b):
        assert outcomes[activity_id].attributes["reason"] == "WorkerShutdownError"
        assert "worker shut down" in outcomes[activity_id].details["message"]
    await until(lambda: len(seen) == 2)
    assert seen == {"async": activity.CancelReason.SHUTDOWN, "sync": activity.CancelReason.SHUTDOWN}
