"""Heartbeats: throttled and coalesced, automatic on request, and what a refusal does."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aioswf import Client, activity
from aioswf.worker import Worker

from .helpers import Flow, until
from .proxy import FaultProxy

NOT_PERMITTED = (400, {"__type": "com.amazonaws.swf.base.model#OperationNotPermittedFault"})
heartbeat_bodies: list[dict[str, Any]] = []

NewFlow = Callable[[], Awaitable[Flow]]
seen: dict[str, object] = {}


@activity.defn(heartbeat_timeout=timedelta(seconds=3))
async def chatty() -> float:
    began = time.monotonic()
    for step in range(50):
        activity.heartbeat({"step": step})
        await asyncio.sleep(0.05)
    return time.monotonic() - began


@activity.defn(heartbeat_timeout=timedelta(seconds=3))
async def beats_once() -> str:
    activity.heartbeat("the only one")
    # Waits (without heartbeating again) until the failed heartbeat was sent a second time.
    await until(lambda: len(heartbeat_bodies) >= 2, timeout=20)
    return "retried"


@activity.defn(heartbeat_timeout=timedelta(seconds=1), auto_heartbeat=True)
async def quiet_but_alive() -> str:
    await asyncio.sleep(2.2)
    return "alive"


@activity.defn(heartbeat_timeout=timedelta(seconds=1))
async def quiet() -> str:
    await asyncio.sleep(1.5)
    return "too late"


@activity.defn(heartbeat_timeout=timedelta(seconds=3))
async def outlived() -> str:
    try:
        while True:
            activity.heartbeat()
            await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        seen["reason"] = activity.cancel_reason()
        raise


async def test_heartbeats_are_throttled_and_coalesced(
    proxied: Client, proxy: FaultProxy, task_list: str
) -> None:
    flow = await Flow(proxied, task_list).start()
    async with Worker(proxied, task_list=task_list, activities=[chatty]):
        [a] = await flow.schedule(chatty)
        outcomes = await flow.outcomes(1)
    elapsed = outcomes[a].result
    # 50 calls, at most one heartbeat a second (a third of the 3 s timeout), however long
    # the 50 calls took on this machine.
    sent = proxy.bodies["RecordActivityTaskHeartbeat"]
    assert 1 <= len(sent) <= elapsed / 1.0 + 1
    assert len(sent) < 50
    steps = [json.loads(body["details"])["step"] for body in sent]
    assert steps == sorted(steps)
    assert steps[0] > 0  # the first one waited its interval and carried the latest details


async def test_a_failed_heartbeat_is_sent_again(
    proxied: Client, proxy: FaultProxy, task_list: str
) -> None:
    flow = await Flow(proxied, task_list).start()
    heartbeat_bodies.clear()
    proxy.bodies["RecordActivityTaskHeartbeat"] = heartbeat_bodies
    proxy.fail("RecordActivityTaskHeartbeat", NOT_PERMITTED)  # refused, but not UnknownResource
    async with Worker(proxied, task_list=task_list, activities=[beats_once]):
        [a] = await flow.schedule(beats_once)
        outcomes = await flow.outcomes(1, timeout=30)
    assert outcomes[a].result == "retried"
    assert [body["details"] for body in heartbeat_bodies[:2]] == ['"the only one"'] * 2


async def test_auto_heartbeat_keeps_a_quiet_activity_alive(
    client: Client, new_flow: NewFlow, task_list: str, backend: str
) -> None:
    flow = await new_flow()
    # moto counts the heartbeat timeout from scheduling, and its polls only look for tasks
    # once a second: give it the time to hand the task over.
    timeout = "2" if backend == "moto" else "1"
    async with Worker(client, task_list=task_list, activities=[quiet_but_alive]):
        [a] = await flow.schedule(quiet_but_alive, heartbeat=timeout)
        outcomes = await flow.outcomes(1)
    assert outcomes[a].kind == "Completed"
    assert outcomes[a].result == "alive"


async def test_heartbeat_timeout(local_client: Client, local_flow: NewFlow, task_list: str) -> None:
    flow = await local_flow()
    async with Worker(local_client, task_list=task_list, activities=[quiet]):
        [a] = await flow.schedule(quiet, heartbeat="1")
        outcomes = await flow.outcomes(1)
    assert outcomes[a].kind == "TimedOut"
    assert outcomes[a].attributes["timeoutType"] == "HEARTBEAT"


async def test_a_refused_heartbeat_cancels_the_work_and_sends_nothing_more(
    proxied: Client, proxy: FaultProxy, task_list: str
) -> None:
    seen.clear()
    flow = await Flow(proxied, task_list).start()
    async with Worker(proxied, task_list=task_list, activities=[outlived]):
        # SWF times the task out after 1 s; the worker heartbeats every second (3 s / 3), so
        # its second heartbeat is refused with UnknownResourceFault.
        [a] = await flow.schedule(outlived, heartbeat="1")
        outcomes = await flow.outcomes(1)
        await until(lambda: "reason" in seen)
        heartbeats = proxy.calls["RecordActivityTaskHeartbeat"]
        await asyncio.sleep(1.2)
        assert proxy.calls["RecordActivityTaskHeartbeat"] == heartbeats
    assert outcomes[a].kind == "TimedOut"
    assert seen["reason"] is activity.CancelReason.LOST
    responses = [op for op in proxy.calls if op.startswith("RespondActivityTask")]
    assert responses == []
