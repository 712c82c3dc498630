"""`aioswf worker`: runs the workflows and activities of a module until a stop signal."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from aioswf import Client
from aioswf.local import LocalSWF
from tests.cli.app import Greet

ROOT = Path(__file__).parents[2]


async def start_worker(endpoint: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from aioswf.cli import main; sys.exit(main())",
        "worker",
        *args,
        "--endpoint-url",
        endpoint,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def test_worker_runs_a_module_and_stops_cleanly_on_sigterm() -> None:
    async with LocalSWF(long_poll_seconds=1) as swf:
        process = await start_worker(
            swf.endpoint_url, "tests.cli.app", "--domain", "cli", "--task-list", "greetings"
        )
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert "polling 'greetings' in domain 'cli'" in banner
        async with Client("cli", endpoint_url=swf.endpoint_url) as client:
            handle = await client.start_workflow(
                Greet.run, "ada", workflow_id="greet-ada", task_list="greetings"
            )
            assert await handle.result(timeout=timedelta(seconds=30)) == "HELLO ADA"
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert "letting received tasks finish" in out.decode()
    assert "shut down cleanly" in err.decode()


async def test_an_unknown_module_is_reported() -> None:
    process = await start_worker(
        "http://127.0.0.1:9", "no.such.module", "--domain", "d", "--task-list", "t"
    )
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    assert "No module named 'no'" in err.decode()


async def test_an_idle_worker_exits_0_after_its_polls_return() -> None:
    # Polls held longer than the shutdown timeout: they are waited for, and that is clean.
    async with LocalSWF(long_poll_seconds=3) as swf:
        process = await start_worker(
            swf.endpoint_url,
            "tests.cli.app",
            "--domain",
            "cli-idle",
            "--task-list",
            "idle",
            "--shutdown-seconds",
            "0",
        )
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert "polling 'idle'" in banner
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert "shut down cleanly" in err.decode()
    assert "abandon" not in err.decode()
