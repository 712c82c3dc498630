"""The worker as an object: run, idempotent shutdown, polling event, configuration errors."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from aioswf import Client, ConnectionOptions, activity
from aioswf.exceptions import DefinitionError, OperationNotPermittedError, WorkerError
from aioswf.worker import ActivityWorkerOptions, ShutdownReport, Worker

from .proxy import FaultProxy


@activity.defn
async def noop() -> None:
    return None


@activity.defn(name="noop")
async def other_noop() -> None:
    return None


async def test_run_until_shutdown_which_is_idempotent(local_client: Client) -> None:
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    worker = Worker(local_client, task_list="lifecycle", activities=[noop])
    runner = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.wait_until_polling(), 5)
    assert worker.polling.is_set()
    first, second = await asyncio.gather(worker.shutdown(), worker.shutdown())
    assert first is second
    assert first == ShutdownReport(clean=True)
    await asyncio.wait_for(runner, 5)
    assert await worker.shutdown() is first
    with pytest.raises(WorkerError, match="shut down"):
        await worker.start()
    # The library leaves signal handling to the application.
    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers


async def test_cancelling_run_shuts_the_worker_down(local_client: Client) -> None:
    worker = Worker(local_client, task_list="lifecycle", activities=[noop])
    runner = asyncio.create_task(worker.run())
    await asyncio.wait_for(worker.wait_until_polling(), 5)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    report = await asyncio.wait_for(worker.shutdown(), 1)
    assert report.clean


async def test_shutdown_before_start(local_client: Client) -> None:
    worker = Worker(local_client, task_list="lifecycle", activities=[noop])
    assert (await worker.shutdown(timedelta(seconds=1))).clean


def test_the_pool_must_fit_the_pollers() -> None:
    client = Client("any", connection=ConnectionOptions(max_pool_connections=10))
    options = ActivityWorkerOptions(pollers=8)
    with pytest.raises(WorkerError, match=r"max_pool_connections=12"):
        Worker(client, task_list="t", activities=[noop], activity_options=options)
    Worker(client, task_list="t", activities=[noop], activity_options=ActivityWorkerOptions(6))


async def test_workers_sharing_a_client_share_its_pool(local_endpoint: str) -> None:
    pool = ConnectionOptions(max_pool_connections=12)
    async with Client("shared-pool", endpoint_url=local_endpoint, connection=pool) as client:
        options = ActivityWorkerOptions(pollers=6)
        first = Worker(client, task_list="a", activities=[noop], activity_options=options)
        second = Worker(client, task_list="b", activities=[noop], activity_options=options)
        async with first:
            with pytest.raises(WorkerError, match=r"12 long polls \(6 of them by other workers\)"):
                await second.start()
        async with second:  # the first one gave its connections back
            await second.wait_until_polling()


def test_configuration_errors() -> None:
    client = Client("any")
    with pytest.raises(WorkerError, match="nothing to run"):
        Worker(client, task_list="t")
    with pytest.raises(DefinitionError, match="two activities are registered as noop/1"):
        Worker(client, task_list="t", activities=[noop, other_noop])
    with pytest.raises(DefinitionError, match="not an activity"):
        Worker(client, task_list="t", activities=[print])
    with pytest.raises(WorkerError, match="max_concurrent"):
        Worker(client, task_list="t", activities=[noop], max_concurrent_activities=0)
    with pytest.raises(WorkerError, match="heartbeat_ratio"):
        ActivityWorkerOptions(heartbeat_ratio=1.5)
    worker = Worker(client, task_list="t", activities=[noop, noop], max_concurrent_activities=7)
    assert worker.activity_options.max_concurrent == 7
    assert len(worker.activities) == 1


async def test_start_can_be_retried_after_registration_failed(
    local_endpoint: str, domain_name: str
) -> None:
    async with (
        FaultProxy(local_endpoint) as proxy,
        Client(domain_name, endpoint_url=proxy.url) as client,
    ):
        proxy.fail("DescribeDomain", (400, {"__type": "AccessDeniedException"}))
        worker = Worker(client, task_list="lifecycle", activities=[noop])
        with pytest.raises(OperationNotPermittedError):
            await worker.start()
        assert not worker.polling.is_set()
        async with worker:
            await asyncio.wait_for(worker.wait_until_polling(), 5)


async def test_a_stubborn_sync_activity_does_not_keep_the_process_alive() -> None:
    # The activity blocks for ever: before its threads were daemons, the process never exited.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.activity.stubborn_sync",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert out.decode().startswith("cancelled: a")
