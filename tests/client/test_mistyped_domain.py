"""A start into a domain nobody serves is refused, instead of waiting forever for a worker."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from aioswf import Client, UnknownResourceError, Worker
from aioswf.local import LocalSWF
from tests.cli.app import Greet, shout


async def test_a_start_into_a_missing_domain_is_refused_and_nothing_is_registered() -> None:
    async with LocalSWF() as swf, Client("shpo", endpoint_url=swf.endpoint_url) as client:
        with pytest.raises(UnknownResourceError, match="domain 'shpo' does not exist"):
            await client.start_workflow(Greet.run, "ada", workflow_id="g", task_list="t")
        domains = await client.call("ListDomains", registrationStatus="REGISTERED")
        assert domains["domainInfos"] == []


async def test_a_worker_registers_its_domain_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="aioswf")
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("shop", endpoint_url=swf.endpoint_url) as client,
        Worker(client, task_list="t", workflows=[Greet], activities=[shout]),
    ):
        handle = await client.start_workflow(Greet.run, "ada", workflow_id="g", task_list="t")
        assert await handle.result(timeout=timedelta(seconds=30)) == "HELLO ADA"
    assert "domain 'shop' did not exist; registered it" in caplog.text
