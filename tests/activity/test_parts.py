"""The worker's parts on their own: the slot limiter, attempt numbers, back-off."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from datetime import timedelta
from typing import Any

import pytest

from aioswf import activity
from aioswf._definitions import activity_definition
from aioswf._pollers._activity_options import ActivityWorkerOptions
from aioswf._pollers._activity_slots import SlotLimiter
from aioswf._pollers._activity_task import RunnerEnv, TaskRunner, attempt_of
from aioswf._pollers._activity_threads import DaemonThreadPool
from aioswf._pollers._activity_types import RegisteredDefaults
from aioswf._pollers.activity import _Backoff
from aioswf.converter import DataConverter


async def test_slots_are_handed_over_in_order_and_never_exceed_the_limit() -> None:
    slots = SlotLimiter(2)
    assert await slots.acquire()
    assert await slots.acquire()
    order: list[int] = []

    async def wait(n: int) -> None:
        assert await slots.acquire()
        order.append(n)

    waiters = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert order == []
    slots.release()
    slots.release()
    await asyncio.sleep(0)
    assert order == [0, 1]
    assert slots.in_use == 2
    assert slots.peak == 2
    slots.release()
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2]


async def test_closing_refuses_waiters_and_a_cancelled_waiter_leaks_nothing() -> None:
    slots = SlotLimiter(1)
    assert await slots.acquire()
    refused = asyncio.create_task(slots.acquire())
    cancelled = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    cancelled.cancel()
    slots.close()
    assert await refused is False
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await slots.acquire() is False
    slots.release()
    assert slots.in_use == 0


async def test_a_slot_handed_to_a_waiter_cancelled_at_that_moment_goes_back() -> None:
    slots = SlotLimiter(1)
    assert await slots.acquire()
    waiter = asyncio.create_task(slots.acquire())
    await asyncio.sleep(0)
    slots.release()  # handed over to the waiter…
    waiter.cancel()  # …which is cancelled before it could run
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert slots.in_use == 0


def test_attempts_from_activity_ids() -> None:
    assert attempt_of("3") == 1
    assert attempt_of("3.2") == 2
    assert attempt_of("charge-order-1") is None


def test_backoff_grows_to_its_cap_and_never_to_zero() -> None:
    backoff = _Backoff(0.1, 1.0)
    delays = [backoff.next_delay() for _ in range(12)]
    assert all(0.01 <= d <= 1.0 for d in delays)
    assert all(d >= 0.1 for d in delays[6:])
    backoff.reset()
    assert backoff.next_delay() <= 0.1


heartbeat_tried = asyncio.Event()


def _runner(fn: Any, transport: Any, options: ActivityWorkerOptions | None = None) -> TaskRunner:
    """A runner of one task of the activity ``fn``, answering through ``transport``."""
    definition = activity_definition(fn)
    env = RunnerEnv(
        transport=transport,
        converter=DataConverter(),
        domain="d",
        task_list="t",
        definitions={(definition.name, definition.version): definition},
        options=options or ActivityWorkerOptions(),
        executor=DaemonThreadPool(1),
        registered=RegisteredDefaults(transport, "d"),
    )
    task = {
        "taskToken": "token",
        "activityId": "1",
        "activityType": definition.swf_type(),
        "workflowExecution": {"workflowId": "w", "runId": "r"},
        "input": "[]",
    }
    return TaskRunner(env, task)


class _BadHeartbeats:
    """A transport whose heartbeats fail with an error no SWF fault maps to."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call(self, operation: str, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.calls.append((operation, params))
        if operation == "RecordActivityTaskHeartbeat":
            heartbeat_tried.set()
            raise ValueError("not a valid heartbeat")
        return {}


@activity.defn(heartbeat_timeout=timedelta(seconds=0.03))
async def beats() -> str:
    activity.heartbeat("x")
    await heartbeat_tried.wait()
    await asyncio.sleep(0)  # the heartbeater takes the error in before the activity ends
    return "ok"


async def test_an_unexpected_heartbeat_error_fails_the_task() -> None:
    global heartbeat_tried
    heartbeat_tried = asyncio.Event()
    transport = _BadHeartbeats()
    await _runner(beats, transport).run()  # does not raise
    operations = [operation for operation, _ in transport.calls]
    assert operations == ["RecordActivityTaskHeartbeat", "RespondActivityTaskFailed"]
    assert transport.calls[-1][1]["reason"] == "ValueError"


class _Answers:
    """A transport that accepts every call, and records them."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def call(self, operation: str, params: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.calls.append(operation)
        return {}


@activity.defn(heartbeat_timeout=timedelta(seconds=30))
async def beats_once() -> str:
    activity.heartbeat("halfway")
    await asyncio.sleep(0.01)
    return "done"


@activity.defn(heartbeat_timeout=timedelta(seconds=30))
def beats_once_sync() -> str:
    activity.heartbeat("halfway")
    return "done"


@pytest.mark.parametrize("fn", [beats_once, beats_once_sync], ids=["async", "sync"])
async def test_a_finished_task_leaves_no_reference_cycle_behind(fn: Any) -> None:
    # Freed as soon as it is done with, not by the garbage collector: a cycle per task
    # makes a busy worker's collections (full ones included) several times as frequent.
    transport = _Answers()
    gc.collect()
    gc.disable()
    try:
        runner = _runner(fn, transport, ActivityWorkerOptions(heartbeat_ratio=0.0001))
        await runner.run()
        assert transport.calls[-1] == "RespondActivityTaskCompleted"
        assert "RecordActivityTaskHeartbeat" in transport.calls or fn is beats_once_sync
        freed = weakref.ref(runner)
        del runner
        assert freed() is None
    finally:
        gc.enable()


def test_daemon_threads_run_calls_within_their_limit() -> None:
    pool = DaemonThreadPool(2)
    futures = [pool.submit(pow, n, 2) for n in range(10)]
    assert [f.result(timeout=10) for f in futures] == [n * n for n in range(10)]
    assert pool.threads <= 2
    pool.shutdown(wait=True)
    with pytest.raises(RuntimeError):
        pool.submit(pow, 1, 1)


async def test_daemon_threads_hand_results_and_errors_to_the_loop() -> None:
    loop = asyncio.get_running_loop()
    pool = DaemonThreadPool(2)
    done = [pool.run_soon(loop, pow, n, 2) for n in range(10)]
    assert await asyncio.gather(*done) == [n * n for n in range(10)]
    with pytest.raises(ZeroDivisionError):
        await pool.run_soon(loop, divmod, 1, 0)
    assert pool.threads <= 2
    # A call cancelled while queued does not run.
    ran: list[int] = []
    gate = threading.Event()
    first = pool.run_soon(loop, gate.wait, 10)
    second = pool.run_soon(loop, gate.wait, 10)
    queued = pool.run_soon(loop, ran.append, 1)
    queued.cancel()
    gate.set()
    assert await asyncio.gather(first, second) == [True, True]
    assert await pool.run_soon(loop, len, ran) == 0
    pool.shutdown(wait=True)
    with pytest.raises(RuntimeError):
        pool.run_soon(loop, pow, 1, 1)
