"""Shutdown: received tasks run to the end, late poll answers are run, leftovers are reported."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest

from aioswf import Client, activity, workflow
from aioswf.exceptions import WorkerError
from aioswf.local import LocalSWF
from aioswf.worker import ActivityWorkerOptions, DecisionWorkerOptions, ShutdownReport, Worker

from .helpers import CLOSE_EVENTS, Call, Flow, Gauge, until
from .proxy import FaultProxy

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
    """A client of a service whose empty polls are held for 3 s and that, like AWS SWF, does
    not promise to keep the task of a poll whose client has gone (the proxy drops the local
    service's header that says so), so a stopping worker waits for its polls."""
    async with (
        LocalSWF(port=0, long_poll_seconds=3.0) as swf,
        FaultProxy(swf.endpoint_url) as proxy,
        Client(domain_name, endpoint_url=proxy.url) as client,
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
    slow_polls: Client, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aioswf.worker")
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
    # A service that cannot release polls: the worker says what it waits for, and how long.
    assert "waiting up to 70 seconds for 1 long poll in flight" in caplog.text


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


@activity.defn
async def stubborn() -> str:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        return "finished anyway"  # swallows the shutdown's cancellation
    return "slept"


@activity.defn
async def short(i: int) -> int:
    await asyncio.sleep(0.01 * (i % 5))
    return i


@pytest.fixture
async def polls_1s(domain_name: str) -> AsyncIterator[Client]:
    """A client of a local service whose empty polls are held for 1 s."""
    async with (
        LocalSWF(port=0, long_poll_seconds=1.0) as swf,
        Client(domain_name, endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        yield client


async def test_an_idle_worker_stops_cleanly_after_its_polls_return(
    polls_1s: Client, task_list: str
) -> None:
    worker = Worker(polls_1s, task_list=task_list, activities=[work])
    await worker.start()
    await worker.wait_until_polling()
    report = await worker.shutdown(timedelta(0))
    # Idle polls are waited for, not cut, and waiting for them is not unclean.
    assert report == ShutdownReport(clean=True)


async def test_a_task_arriving_after_the_timeout_is_failed_at_once(
    slow_polls: Client, task_list: str
) -> None:
    flow = await Flow(slow_polls, task_list).start()
    options = ActivityWorkerOptions(pollers=1)
    worker = Worker(slow_polls, task_list=task_list, activities=[work], activity_options=options)
    await worker.start()
    await worker.wait_until_polling()
    shutdown = asyncio.create_task(worker.shutdown(timedelta(0)))
    poller = worker._activity_poller
    assert poller is not None
    await until(lambda: poller._refusing)  # the timeout has passed; the poll is still out
    [a] = await flow.schedule(work, 0.1)
    report = await shutdown
    assert not report.clean
    assert report.refused_activities == (a,)
    assert report.cancelled_activities == ()
    outcomes = await flow.outcomes(1)
    assert outcomes[a].attributes["reason"] == "WorkerShutdownError"
    assert "shutting down when SWF handed it" in outcomes[a].details["message"]


async def test_a_burst_then_an_immediate_shutdown_leaves_no_task_unreported(
    polls_1s: Client, task_list: str
) -> None:
    flow = await Flow(polls_1s, task_list).start()
    options = ActivityWorkerOptions(pollers=12, max_concurrent=10)
    worker = Worker(polls_1s, task_list=task_list, activities=[short], activity_options=options)
    await worker.start()
    await worker.wait_until_polling()
    await flow.schedule_all(*(Call(short, i) for i in range(100)))
    await until(lambda: worker.running_activities > 0)
    report = await worker.shutdown(timedelta(0))
    events = await flow.history()
    started = {
        e["activityTaskStartedEventAttributes"]["scheduledEventId"]
        for e in events
        if e["eventType"] == "ActivityTaskStarted"
    }
    closed = {
        e[key]["scheduledEventId"]
        for e in events
        for kind, key in CLOSE_EVENTS.items()
        if e["eventType"] == kind
    }
    assert started  # the burst was under way
    assert started <= closed  # every task SWF handed out was reported, none left to time out
    assert report.abandoned_polls == 0


async def test_only_activities_that_ended_cancelled_are_listed(
    local_client: Client, local_flow: NewFlow, task_list: str
) -> None:
    flow = await local_flow()
    worker = Worker(local_client, task_list=task_list, activities=[stubborn, forever])
    await worker.start()
    a, b = await flow.schedule_all(Call(stubborn), Call(forever))
    await until(lambda: worker.running_activities == 2)
    report = await worker.shutdown(timedelta(0))
    assert report.cancelled_activities == (b,)
    outcomes = await flow.outcomes(2)
    assert outcomes[a].result == "finished anyway"
    assert outcomes[b].attributes["reason"] == "WorkerShutdownError"


class Boom(BaseException):
    """Not an Exception: poll loops do not survive it."""


async def test_a_dead_poll_loop_waits_for_running_work_and_is_not_clean(
    local_client: Client, local_flow: NewFlow, task_list: str
) -> None:
    global gauge
    gauge = Gauge()
    flow = await local_flow()
    options = ActivityWorkerOptions(pollers=1)
    worker = Worker(local_client, task_list=task_list, activities=[work], activity_options=options)
    running = asyncio.create_task(worker.run())
    await worker.wait_until_polling()
    poller = worker._activity_poller
    assert poller is not None
    [a] = await flow.schedule(work, 0.3)
    await until(lambda: gauge.now == 1)

    async def boom() -> None:
        raise Boom

    poller._poll = boom  # type: ignore[method-assign,assignment]
    with pytest.raises(WorkerError, match="a poller failed"):
        await running  # the loop died: the worker stops
    report = await worker.shutdown()
    assert not report.clean
    # The running activity was waited for and reported, not orphaned.
    assert worker.running_activities == 0
    outcomes = await flow.outcomes(1)
    assert outcomes[a].result == "done"


@workflow.defn(name="ShutdownQuick", execution_start_to_close_timeout=timedelta(minutes=5))
class Quick:
    @workflow.run
    async def run(self) -> str:
        return "decided"


async def test_a_decision_task_received_during_shutdown_is_decided(
    slow_polls: Client, task_list: str
) -> None:
    worker = Worker(
        slow_polls,
        task_list=task_list,
        workflows=[Quick],
        decision_options=DecisionWorkerOptions(pollers=1),
    )
    await worker.start()
    await worker.wait_until_polling()
    shutdown = asyncio.create_task(worker.shutdown(timedelta(0)))
    await asyncio.sleep(0)  # the shutdown has begun; the decision poll is still out
    handle = await slow_polls.start_workflow(Quick.run, workflow_id="quick", task_list=task_list)
    report = await shutdown
    assert report.abandoned_decision_polls == 0
    assert await handle.result(timeout=timedelta(seconds=10)) == "decided"
