"""Stopping `aioswf worker`: promptly against the local service, at once on a second signal."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time

import aiohttp

from aioswf import Client
from aioswf.local import LocalSWF
from tests.cli.app import Sleeper
from tests.cli.helpers import ROOT

DOMAIN = "cli-stopping"


async def start_worker(endpoint: str, *extra: str) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aioswf.cli",
        "worker",
        "tests.cli.app",
        "--domain",
        DOMAIN,
        "--task-list",
        "stopping",
        "--endpoint-url",
        endpoint,
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    assert "polling 'stopping'" in banner, banner
    return process


async def activity_started(client: Client, workflow_id: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    for _ in range(300):
        if "ActivityTaskStarted" in [e["eventType"] async for e in handle.history()]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the activity never started")


async def stopped_within(process: asyncio.subprocess.Process, sig: int) -> tuple[float, str, str]:
    begun = time.monotonic()
    process.send_signal(sig)
    out, err = await asyncio.wait_for(process.communicate(), 90)
    return time.monotonic() - begun, out.decode(), err.decode()


async def test_ctrl_c_on_an_idle_worker_against_the_local_service_is_prompt() -> None:
    # SWF's 60 s long poll, as `aioswf dev` holds it by default.
    async with LocalSWF(long_poll_seconds=60) as swf:
        process = await start_worker(swf.endpoint_url)
        took, _, err = await stopped_within(process, signal.SIGINT)
    assert process.returncode == 0, err
    assert took < 2, f"took {took:.1f}s"
    assert "shut down cleanly" in err


async def test_ctrl_c_with_an_activity_running_reports_it_and_stops_in_time() -> None:
    async with (
        LocalSWF(long_poll_seconds=60) as swf,
        Client(DOMAIN, endpoint_url=swf.endpoint_url) as client,
    ):
        process = await start_worker(swf.endpoint_url, "--shutdown-seconds", "0.5")
        handle = await client.start_workflow(
            Sleeper.run, 60.0, workflow_id="sleeper", task_list="stopping"
        )
        await activity_started(client, "sleeper")
        took, _, err = await stopped_within(process, signal.SIGINT)
        assert took < 2, f"took {took:.1f}s"
        assert process.returncode == 1, err  # not clean: an activity was cut
        assert "cancelled (1)" in err
        # SWF heard of it at once: the workflow can retry it without waiting for a timeout.
        events = [e["eventType"] async for e in handle.history()]
        assert "ActivityTaskFailed" in events, events


async def test_a_second_signal_forces_the_exit_saying_what_it_cut() -> None:
    async with (
        LocalSWF(long_poll_seconds=60) as swf,
        Client(DOMAIN, endpoint_url=swf.endpoint_url) as client,
    ):
        process = await start_worker(swf.endpoint_url)  # 30 s for running tasks by default
        await client.start_workflow(Sleeper.run, 60.0, workflow_id="stubborn", task_list="stopping")
        await activity_started(client, "stubborn")
        process.send_signal(signal.SIGINT)
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        assert "Ctrl-C again stops at once" in line
        took, _, err = await stopped_within(process, signal.SIGTERM)
        assert took < 2, f"took {took:.1f}s"
        assert process.returncode == 130
        assert "stopping now; cut activity 1 (slow/1) of workflow stubborn" in err
        # The run waits for SWF's timeout, as the message says; nothing claims it finished.
        description = await client.get_workflow_handle("stubborn").describe()
        assert description.info.status == "OPEN"


async def test_aioswf_dev_stops_promptly_while_clients_keep_sending() -> None:
    # Clients that keep sending on open connections must not hold the service up.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aioswf.cli",
        "dev",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
    endpoint = banner.split("listening on ")[1].split()[0]
    headers = {"Content-Type": "application/x-amz-json-1.0"}
    target = "SimpleWorkflowService."

    async def flood(session: aiohttp.ClientSession) -> None:
        body = {"name": "flood", "workflowExecutionRetentionPeriodInDays": "1"}
        with contextlib.suppress(aiohttp.ClientError, OSError):
            while True:
                request = {**headers, "X-Amz-Target": target + "DescribeDomain"}
                async with session.post(endpoint, json=body, headers=request) as answer:
                    await answer.read()

    async with aiohttp.ClientSession() as session:
        senders = [asyncio.ensure_future(flood(session)) for _ in range(40)]
        await asyncio.sleep(0.5)
        try:
            took, out, _ = await stopped_within(process, signal.SIGTERM)
        finally:
            for sender in senders:
                sender.cancel()
            await asyncio.gather(*senders, return_exceptions=True)
    assert took < 10, f"took {took:.1f}s"
    assert process.returncode == 0
    assert "a second Ctrl-C stops at once" in out
