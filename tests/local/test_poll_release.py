"""Parked polls end without losing a task: when their client goes, or when it asks."""

from __future__ import annotations

import asyncio

from aioswf import Client
from aioswf._transport.connection import LOCAL_SERVICE_HEADER, RELEASE_POLLS_TARGET
from aioswf.local import LocalSWF, server
from tests.cli.app import Greet


async def test_a_cut_poll_leaves_its_task_for_the_next_poll() -> None:
    async with (
        LocalSWF(long_poll_seconds=60) as swf,
        Client("cut-polls", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        assert client.transport.can_release_polls  # the service said so on its first answer
        poll = {"domain": "cut-polls", "taskList": {"name": "cut"}, "identity": "gone"}
        parked = asyncio.create_task(client.transport.call("PollForDecisionTask", poll))
        await asyncio.sleep(0.3)  # parked on the service
        parked.cancel()  # its connection closes, as a stopping worker's does
        await asyncio.gather(parked, return_exceptions=True)
        await asyncio.sleep(0.1)
        handle = await client.start_workflow(Greet.run, "ada", workflow_id="g", task_list="cut")
        task = await client.transport.call("PollForDecisionTask", poll | {"identity": "next"})
        assert task["taskToken"]
        assert task["workflowExecution"]["runId"] == handle.run_id


async def test_a_stopping_worker_has_its_parked_polls_answered_at_once() -> None:
    async with (
        LocalSWF(long_poll_seconds=60) as swf,
        Client("release", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        mine = {"domain": "release", "taskList": {"name": "r"}, "identity": "stopping"}
        other = mine | {"identity": "staying"}
        parked = asyncio.create_task(client.transport.call("PollForActivityTask", mine))
        staying = asyncio.create_task(client.transport.call("PollForDecisionTask", other))
        await asyncio.sleep(0.3)
        assert await client.transport.release_polls("release", "stopping")
        answer = await asyncio.wait_for(parked, 2)
        assert not answer.get("taskToken")
        await asyncio.sleep(0.2)
        assert not staying.done()  # another poller's poll goes on waiting
        handle = await client.start_workflow(Greet.run, "ada", workflow_id="g", task_list="r")
        task = await asyncio.wait_for(staying, 5)
        assert task["workflowExecution"]["runId"] == handle.run_id


def test_the_client_reads_the_header_the_service_sends() -> None:
    assert server.LOCAL_SERVICE_HEADER == LOCAL_SERVICE_HEADER
    assert server.RELEASE_POLLS_TARGET == RELEASE_POLLS_TARGET


async def test_moto_sends_no_such_promise(moto_endpoint: str) -> None:
    async with Client("cut-polls", endpoint_url=moto_endpoint) as client:
        await client.register_domain()
        assert not client.transport.can_release_polls
        assert not await client.transport.release_polls("cut-polls", "me")
