"""Completion elsewhere: raise_complete_async frees the slot; another client or process ends it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

from aioswf import Client, activity
from aioswf.worker import ActivityWorkerOptions, Worker

from .helpers import Call, Flow, until

NewFlow = Callable[[], Awaitable[Flow]]
tokens: dict[str, str] = {}


@activity.defn
async def hand_over(key: str) -> str:
    tokens[key] = activity.info().task_token
    activity.raise_complete_async()


@activity.defn
def hand_over_sync(key: str) -> str:
    tokens[key] = activity.info().task_token
    activity.raise_complete_async()


@activity.defn
async def quick() -> str:
    return "quick"


_COMPLETE_IN_ANOTHER_PROCESS = """
import asyncio, sys
from aioswf import Client

async def main(endpoint, domain, token):
    async with Client(domain, endpoint_url=endpoint) as client:
        await client.get_async_activity_handle(token).complete({"by": "another process"})

asyncio.run(main(*sys.argv[1:]))
"""


async def test_completed_by_another_client(
    client: Client, endpoint: str, new_flow: NewFlow, task_list: str
) -> None:
    tokens.clear()
    flow = await new_flow()
    options = ActivityWorkerOptions(pollers=2, max_concurrent=1)
    async with Worker(
        client, task_list=task_list, activities=[hand_over, quick], activity_options=options
    ):
        # With one slot, the second runs only if handing the first over freed it.
        a, b = await flow.schedule_all(Call(hand_over, "a"), Call(quick))
        first = await flow.outcomes(1)
        assert "a" in tokens
        assert list(first) == [b]
    async with Client(client.domain, endpoint_url=endpoint) as other:
        handle = other.get_async_activity_handle(tokens["a"])
        assert await handle.heartbeat({"progress": 1}) is False
        await handle.complete("done elsewhere")
    outcomes = await flow.outcomes(2)
    assert outcomes[a].result == "done elsewhere"


async def test_completed_and_failed_by_another_process(
    local_client: Client, local_endpoint: str, local_flow: NewFlow, task_list: str
) -> None:
    tokens.clear()
    flow = await local_flow()
    async with Worker(local_client, task_list=task_list, activities=[hand_over, hand_over_sync]):
        a, b = await flow.schedule_all(Call(hand_over, "a"), Call(hand_over_sync, "b"))
        await until(lambda: len(tokens) == 2)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _COMPLETE_IN_ANOTHER_PROCESS,
        local_endpoint,
        local_client.domain,
        tokens["a"],
    )
    assert await process.wait() == 0
    await local_client.get_async_activity_handle(tokens["b"]).fail(ValueError("no stock"))
    outcomes = await flow.outcomes(2)
    assert outcomes[a].result == {"by": "another process"}
    assert outcomes[b].attributes["reason"] == "ValueError"
    assert outcomes[b].details["message"] == "no stock"


async def test_cancellation_of_a_task_completed_elsewhere(
    local_client: Client, local_flow: NewFlow, task_list: str
) -> None:
    tokens.clear()
    flow = await local_flow()
    async with Worker(local_client, task_list=task_list, activities=[hand_over]):
        [a] = await flow.schedule(hand_over, "a")
        await until(lambda: "a" in tokens)
    await flow.cancel(a)
    handle = local_client.get_async_activity_handle(tokens["a"])
    assert await handle.heartbeat() is True
    await handle.report_cancellation("as asked")
    outcomes = await flow.outcomes(1)
    assert outcomes[a].kind == "Canceled"
