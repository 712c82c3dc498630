"""ActivityEnvironment: info, heartbeats, cancellation, async completion, outside any worker."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

import pytest

from aioswf import activity
from aioswf.activity import ActivityInfo, CancelReason
from aioswf.exceptions import PayloadTooLargeError, WorkerError
from aioswf.testing import ActivityEnvironment


@activity.defn(name="Copy", version="3", heartbeat_timeout=timedelta(seconds=20))
async def copy_files(paths: list[str]) -> int:
    for done, _path in enumerate(paths):
        activity.heartbeat({"done": done})
        await asyncio.sleep(0)
    return len(paths)


@activity.defn
async def wait_forever() -> str:
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        assert activity.is_cancelled()
        assert activity.cancel_reason() is CancelReason.REQUESTED
        raise
    return "unreachable"


@activity.defn
def sync_steps(steps: int) -> str:
    for step in range(steps):
        if activity.is_cancelled():
            return f"stopped at {step} ({activity.cancel_reason()})"
        activity.heartbeat(step)
    return "all done"


@activity.defn
async def who_am_i() -> dict[str, object]:
    info = activity.info()
    return {"type": info.activity_type, "version": info.activity_version, "wf": info.workflow_id}


@activity.defn
async def later() -> None:
    activity.raise_complete_async()


async def test_heartbeats_are_recorded_and_the_result_returned() -> None:
    env = ActivityEnvironment()
    assert await env.run(copy_files, ["a", "b", "c"]) == 3
    assert env.heartbeats == [{"done": 0}, {"done": 1}, {"done": 2}]
    assert not env.is_cancelled


async def test_default_info_comes_from_the_definition() -> None:
    seen: list[ActivityInfo] = []

    @activity.defn(name="Peek", version="7", heartbeat_timeout=timedelta(seconds=9))
    async def peek() -> None:
        seen.append(activity.info())

    await ActivityEnvironment().run(peek)
    assert seen[0].activity_type == "Peek"
    assert seen[0].activity_version == "7"
    assert seen[0].heartbeat_timeout == timedelta(seconds=9)


async def test_info_can_be_set() -> None:
    info = ActivityInfo(
        task_token="tok",
        activity_id="42",
        activity_type="Custom",
        activity_version="1",
        workflow_id="order-7",
        run_id="run",
        started_event_id=5,
        domain="shop",
        task_list="orders",
    )
    env = ActivityEnvironment(info)
    assert await env.run(who_am_i) == {"type": "Custom", "version": "1", "wf": "order-7"}


async def test_cancelling_an_async_activity() -> None:
    env = ActivityEnvironment()
    task = asyncio.create_task(env.run(wait_forever))
    await asyncio.sleep(0.01)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert env.is_cancelled


async def test_cancelling_from_a_heartbeat() -> None:
    env = ActivityEnvironment()
    env.on_heartbeat = lambda details: env.cancel() if details == {"done": 1} else None
    with pytest.raises(asyncio.CancelledError):
        await env.run(copy_files, ["a", "b", "c", "d"])
    # Cancelled at the await after the second heartbeat, as a worker would.
    assert env.heartbeats == [{"done": 0}, {"done": 1}]


async def test_cancelling_a_sync_activity_sets_its_flag() -> None:
    env = ActivityEnvironment()
    thread_ids: list[int] = []

    def on_heartbeat(step: object) -> None:
        thread_ids.append(threading.get_ident())
        if step == 2:
            env.cancel(CancelReason.SHUTDOWN)

    env.on_heartbeat = on_heartbeat
    assert await env.run(sync_steps, 10) == "stopped at 3 (shutdown)"
    assert env.heartbeats == [0, 1, 2]
    assert threading.get_ident() not in thread_ids  # sync activities run in a thread


async def test_complete_async() -> None:
    env = ActivityEnvironment()
    assert await env.run(later) is None
    assert env.completes_async


async def test_plain_functions_run_too() -> None:
    async def plain(x: int) -> int:
        activity.heartbeat(x)
        return x * 2

    env = ActivityEnvironment()
    assert await env.run(plain, 21) == 42
    assert env.heartbeats == [21]


async def test_oversized_heartbeat_details_fail_as_on_a_worker() -> None:
    async def chatty() -> None:
        activity.heartbeat("x" * 5000)

    with pytest.raises(PayloadTooLargeError):
        await ActivityEnvironment().run(chatty)


async def test_the_api_fails_outside_the_environment() -> None:
    await ActivityEnvironment().run(copy_files, [])
    with pytest.raises(WorkerError, match="outside an activity"):
        activity.info()


started = threading.Event()
saw_cancel = threading.Event()


@activity.defn
def waits_for_cancel() -> str:
    started.set()
    # Gives up after a while, so that a regression fails the test instead of hanging it.
    if not _wait_cancelled(10.0):
        return "gave up"
    saw_cancel.set()
    raise asyncio.CancelledError


def _wait_cancelled(limit: float) -> bool:
    stop = threading.Event()
    for _ in range(int(limit / 0.01)):
        if activity.is_cancelled():
            return True
        stop.wait(0.01)
    return False


async def test_cancelling_run_of_a_sync_activity_tells_it_and_frees_the_loop() -> None:
    started.clear()
    saw_cancel.clear()
    env = ActivityEnvironment()
    task = asyncio.create_task(env.run(waits_for_cancel))
    assert await asyncio.to_thread(started.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert env.is_cancelled
    # The loop was not blocked while the thread went on: it can wait for the thread now.
    assert await asyncio.to_thread(saw_cancel.wait, 10)
