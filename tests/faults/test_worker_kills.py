"""Workers killed (SIGKILL) mid-task and started again: the activity worker and the decider
die with tasks in hand; every execution still completes with the right result and every
signal counts. (An activity killed while running runs again: nothing of it was computed.)"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from aioswf import Client
from aioswf.local import LocalSWF

from . import app
from .conftest import cases
from .test_service_restarts import until_history_has

ROOT = Path(__file__).parents[2]


@pytest.fixture
async def swf() -> AsyncIterator[LocalSWF]:
    async with LocalSWF(long_poll_seconds=1) as service:
        yield service


async def start_worker(endpoint: str, domain: str, runs: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aioswf.cli",
        "worker",
        "tests.faults.app",
        "--domain",
        domain,
        "--task-list",
        "kills",
        "--endpoint-url",
        endpoint,
        "--log-level",
        "ERROR",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "AIOSWF_FAULTS_RUNS": str(runs)},
    )


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def test_runs_survive_killed_workers(swf: LocalSWF, tmp_path: Path, domain_name: str) -> None:
    runs = tmp_path / "runs.log"
    executions = cases(3, 20)
    pokes = 2
    async with Client(domain_name, endpoint_url=swf.endpoint_url) as client:
        await client.register_domain()
        worker = await start_worker(swf.endpoint_url, domain_name, runs)
        try:
            ids = [f"kill-{i}" for i in range(executions)]
            for index, workflow_id in enumerate(ids):
                await client.start_workflow(
                    app.Chores.run,
                    f"k{index}",
                    pokes,
                    3,
                    workflow_id=workflow_id,
                    task_list="kills",
                )
            # Mid-task: activities started, decisions being made for the others.
            await until_history_has(client, ids[0], "ActivityTaskStarted")
            await kill(worker)
            worker = await start_worker(swf.endpoint_url, domain_name, runs)
            # With timers pending and signals arriving.
            await until_history_has(client, ids[-1], "TimerStarted")
            for workflow_id in ids:
                await client.get_workflow_handle(workflow_id).signal(app.Chores.poke, 0)
            await kill(worker)
            for workflow_id in ids:
                await client.get_workflow_handle(workflow_id).signal(app.Chores.poke, 1)
            worker = await start_worker(swf.endpoint_url, domain_name, runs)
            results = await asyncio.gather(
                *(
                    client.get_workflow_handle(i, workflow=app.Chores.run).result(
                        timeout=timedelta(minutes=5)
                    )
                    for i in ids
                )
            )
        finally:
            await kill(worker)
    assert results == [app.expected(pokes)] * executions
    assert len(app.computations(runs)) == executions * app.ACTIVITIES_PER_RUN
