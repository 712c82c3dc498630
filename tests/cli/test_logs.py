"""Logs a person can follow: one line per task, with structured fields; outages said once."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta

import pytest

from aioswf import ActivityWorkerOptions, Client, Worker
from aioswf.local import LocalSWF
from tests.activity.proxy import FaultProxy
from tests.cli.app import Greet, shout
from tests.cli.helpers import ROOT


async def test_one_info_line_per_decided_and_completed_task(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="aioswf")
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("logs", endpoint_url=swf.endpoint_url) as client,
        Worker(client, task_list="logs", workflows=[Greet], activities=[shout]),
    ):
        handle = await client.start_workflow(Greet.run, "ada", workflow_id="hi", task_list="logs")
        await handle.result(timeout=timedelta(seconds=30))
    run_id = handle.run_id
    activity = [r for r in caplog.records if getattr(r, "activity_type", None)]
    assert len(activity) == 1
    [done] = activity
    assert done.levelno == logging.INFO
    assert (done.workflow_id, done.run_id, done.activity_id) == ("hi", run_id, "1")  # type: ignore[attr-defined]
    assert f"activity 1 (shout/1) of workflow hi, run {run_id}: completed after" in done.message
    decided = [r for r in caplog.records if "decided" in r.message]
    assert [r.message.rsplit("decided ", 1)[1] for r in decided] == [
        "ScheduleActivityTask",
        "CompleteWorkflowExecution",
    ]
    assert {(r.workflow_id, r.run_id, r.workflow_type) for r in decided} == {  # type: ignore[attr-defined]
        ("hi", run_id, "Greet/1")
    }


async def test_an_outage_is_logged_once_and_its_end_too(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aioswf")
    options = ActivityWorkerOptions(
        pollers=3, poll_backoff=timedelta(seconds=0.05), max_poll_backoff=timedelta(seconds=0.2)
    )
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        FaultProxy(swf.endpoint_url) as proxy,
        Client("outage", endpoint_url=proxy.url) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="t", activities=[shout], activity_options=options):
            proxy.go_down("PollForActivityTask")
            for _ in range(200):
                if proxy.cut["PollForActivityTask"] >= 10:
                    break
                await asyncio.sleep(0.05)
            proxy.come_up()
            for _ in range(200):
                if "works again" in caplog.text:
                    break
                await asyncio.sleep(0.05)
    assert proxy.cut["PollForActivityTask"] >= 10
    failed = [r for r in caplog.records if "polling activity tasks on 't' failed" in r.message]
    assert len(failed) == 1, [r.message for r in failed]
    assert "until it works, which will be logged" in failed[0].message
    assert "not retried" not in failed[0].message
    again = [r for r in caplog.records if "works again" in r.message]
    assert len(again) == 1
    assert "polling activity tasks on 't' works again, after" in again[0].message


async def run_worker_briefly(endpoint: str, *extra: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aioswf.cli",
        "worker",
        "tests.cli.app",
        "--domain",
        "quiet",
        "--task-list",
        "t",
        "--endpoint-url",
        endpoint,
        "--log-level",
        "DEBUG",
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    await asyncio.wait_for(process.stdout.readline(), 30)
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    return err.decode()


async def test_debug_logs_leave_out_botocore_unless_asked() -> None:
    async with LocalSWF(long_poll_seconds=1) as swf:
        quiet = await run_worker_briefly(swf.endpoint_url)
        noisy = await run_worker_briefly(swf.endpoint_url, "--log-libraries")
    assert "DEBUG aioswf" in quiet
    assert "DEBUG botocore" not in quiet
    assert "DEBUG botocore" in noisy
