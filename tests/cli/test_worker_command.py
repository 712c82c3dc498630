"""`aioswf worker`: runs the workflows and activities of a module until a stop signal."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
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


async def decision_task_lists(client: Client, workflow_id: str) -> list[str]:
    """The task list of each decision task of the run, in order."""
    return [
        event["decisionTaskScheduledEventAttributes"]["taskList"]["name"]
        async for event in client.get_workflow_handle(workflow_id).history()
        if event["eventType"] == "DecisionTaskScheduled"
    ]


async def test_the_cache_size_is_an_option_and_no_cache_means_no_sticky_task_list() -> None:
    async with LocalSWF(long_poll_seconds=1) as swf:
        for cache in ("1000", "0"):
            process = await start_worker(
                swf.endpoint_url,
                *("tests.cli.app", "--domain", "cache", "--task-list", "greetings"),
                *("--max-cached-workflows", cache),
            )
            try:
                assert process.stdout is not None
                await asyncio.wait_for(process.stdout.readline(), 30)
                async with Client("cache", endpoint_url=swf.endpoint_url) as client:
                    handle = await client.start_workflow(
                        Greet.run, "ada", workflow_id=f"greet-{cache}", task_list="greetings"
                    )
                    assert await handle.result(timeout=timedelta(seconds=30)) == "HELLO ADA"
                    task_lists = await decision_task_lists(client, handle.workflow_id)
            finally:
                process.send_signal(signal.SIGTERM)
                _, err = await asyncio.wait_for(process.communicate(), 30)
            assert process.returncode == 0, err.decode()
            assert task_lists[0] == "greetings"
            # A cached run's next task comes to the worker's own task list; with no cache, not.
            assert task_lists[1].startswith("greetings-sticky-") == (cache != "0"), task_lists


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


async def next_line(process: asyncio.subprocess.Process) -> str:
    assert process.stderr is not None
    return (await process.stderr.readline()).decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_worker_started_before_swf_is_reachable_waits_for_it() -> None:
    port = free_port()
    process = await start_worker(
        f"http://127.0.0.1:{port}", "tests.cli.app", "--domain", "late", "--task-list", "late"
    )
    assert process.stdout is not None
    # It logs that it keeps trying, once, and does not exit.
    async with asyncio.timeout(30):
        while "cannot register yet; it keeps trying" not in (line := await next_line(process)):
            assert line, "the worker exited"
    await asyncio.sleep(2)
    assert process.returncode is None
    async with LocalSWF(port=port, long_poll_seconds=1) as swf:
        banner = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert "polling 'late' in domain 'late'" in banner
        async with Client("late", endpoint_url=swf.endpoint_url) as client:
            handle = await client.start_workflow(
                Greet.run, "bo", workflow_id="greet-bo", task_list="late"
            )
            assert await handle.result(timeout=timedelta(seconds=30)) == "HELLO BO"
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    assert "Traceback" not in err.decode()
