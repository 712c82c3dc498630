"""`WorkerProcesses`: a host service on its own loop runs its workflow code in child
processes, keeps its client and activities in process, and never loses its signal handlers."""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import multiprocessing.resource_tracker
import os
import re
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from aioswf import Client, Worker
from aioswf.local import LocalSWF
from aioswf.processes import WorkerProcesses
from tests.cli.host_app import (
    TASK_LIST,
    Split,
    fail_at_start,
    hang,
    host_pid,
    idle,
    not_async,
    serve_workflows,
)
from tests.cli.test_worker_processes import RESULT_TIMEOUT, decider_pid, events_of, gone, until

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)


@pytest.fixture(autouse=True, scope="module")
def resource_tracker() -> None:
    """``spawn`` starts multiprocessing's resource tracker once per process, to live as long
    as the process does: start it before the fixture that kills what a test leaves behind."""
    multiprocessing.resource_tracker.ensure_running()  # type: ignore[attr-defined]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_a_workflow_decided_in_a_child_reaches_the_hosts_client_and_no_child_is_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "aioswf.processes")
    before = {signum: signal.getsignal(signum) for signum in SIGNALS}
    loop = asyncio.get_running_loop()
    heard = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, heard.set)  # the host's own handler
    try:
        async with LocalSWF(long_poll_seconds=1) as swf:
            serve = functools.partial(serve_workflows, swf.endpoint_url, "split")
            # The host runs activities only; its workflows are decided in two children.
            async with (
                Client("split", endpoint_url=swf.endpoint_url) as client,
                Worker(client, task_list=TASK_LIST, activities=[host_pid]),
            ):
                async with WorkerProcesses(serve, processes=2) as children:
                    pids = children.pids
                    assert len(pids) == 2
                    assert os.getpid() not in pids
                    handle = await client.start_workflow(
                        Split.run, False, workflow_id="once", task_list=TASK_LIST
                    )
                    assert await handle.result(timeout=RESULT_TIMEOUT) == os.getpid()
                    assert decider_pid(await events_of(client, "once")) in pids
                assert children.pids == []
                assert not any(alive(pid) for pid in pids)
        assert "exited unasked" not in caplog.text
        # The host's handlers are as they were: its loop still hears its own signal.
        os.kill(os.getpid(), signal.SIGUSR1)
        await asyncio.wait_for(heard.wait(), 30)
    finally:
        loop.remove_signal_handler(signal.SIGUSR1)
    assert {signum: signal.getsignal(signum) for signum in SIGNALS} == before


async def test_a_child_that_dies_unasked_is_started_again_and_the_run_completes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with LocalSWF(long_poll_seconds=1) as swf:
        serve = functools.partial(serve_workflows, swf.endpoint_url, "restart")
        async with (
            Client("restart", endpoint_url=swf.endpoint_url) as client,
            Worker(client, task_list=TASK_LIST, activities=[host_pid]),
        ):
            children = WorkerProcesses(serve, restart_delay=timedelta(seconds=0.2))
            await children.start()
            try:
                handle = await client.start_workflow(
                    Split.run, True, workflow_id="held", task_list=TASK_LIST
                )

                async def first_decision_done() -> bool:
                    types = [e["eventType"] for e in await events_of(client, "held")]
                    return "DecisionTaskCompleted" in types

                await until(first_decision_done, 60)
                [victim] = children.pids
                os.kill(victim, signal.SIGKILL)
                await until(lambda: gone(victim))

                async def replaced() -> bool:
                    return len(children.pids) == 1 and children.pids != [victim]

                await until(replaced, 60)
                await asyncio.sleep(1)  # the service lets go of the dead child's polls
                await handle.signal(Split.release)
                assert await handle.result(timeout=RESULT_TIMEOUT) == os.getpid()
                events = await events_of(client, "held")
                assert decider_pid(events) == children.pids[0]
            finally:
                await children.stop()
            assert children.pids == []
    assert f"(pid {victim}) exited unasked with status -9" in caplog.text


async def test_a_child_that_hears_no_signal_is_killed_on_stop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ready = tmp_path / "ready"
    children = WorkerProcesses(
        functools.partial(hang, ready),
        shutdown_timeout=timedelta(seconds=0.5),
        stop_now_timeout=timedelta(seconds=0.5),
    )
    async with children:
        [pid] = children.pids

        async def hanging() -> bool:
            return ready.exists()

        await until(hanging, 60)
    assert children.pids == []
    assert not alive(pid)
    assert "still running after 0.5 s; telling them to stop at once" in caplog.text
    assert f"killing worker processes [{pid}]" in caplog.text


async def test_a_child_that_fails_at_every_start_is_started_again_ever_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not once per ``restart_delay`` for ever: each quick failure in a row doubles the wait."""
    caplog.set_level(logging.INFO, logger="aioswf.processes")
    children = WorkerProcesses(fail_at_start, restart_delay=timedelta(seconds=0.1))

    async def failed_three_times() -> bool:
        return caplog.text.count("exited unasked") >= 3

    async with children:
        await until(failed_three_times, 60)
    waits = re.findall(
        r"exited unasked with status 3\b.*; another starts in (.*)$", caplog.text, re.M
    )
    assert waits[:3] == ["0.1 s", "1 second", "2 seconds"], caplog.text
    assert "3 times in a row" in caplog.text
    assert children.pids == []
    # Each child is started that long after the previous one exited, not sooner.
    exits = [r.created for r in caplog.records if "exited unasked" in r.getMessage()]
    starts = [r.created for r in caplog.records if "started worker process" in r.getMessage()]
    assert starts[2] - exits[1] >= 1 - 0.05, (exits, starts)


async def test_a_group_stopped_is_not_started_again_and_says_so() -> None:
    children = WorkerProcesses(idle)
    async with children:
        with pytest.raises(RuntimeError, match="WorkerProcesses already started"):
            await children.start()
    with pytest.raises(RuntimeError, match="WorkerProcesses was stopped; create a new one"):
        await children.start()
    assert children.pids == []
    assert multiprocessing.active_children() == []


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="processes must be >= 1, got 0"):
        WorkerProcesses(hang, processes=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shutdown_timeout must not be negative"):
        WorkerProcesses(hang, shutdown_timeout=timedelta(seconds=-1))  # type: ignore[arg-type]


async def test_a_start_cancelled_midway_leaves_no_child() -> None:
    children = WorkerProcesses(idle, processes=2)
    starting = asyncio.create_task(children.start())
    await asyncio.sleep(0)  # the first child is being started in a thread
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    assert children.pids == []
    assert multiprocessing.active_children() == []


async def test_a_stop_cancelled_midway_kills_the_children_rather_than_leave_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ready = tmp_path / "ready"
    children = WorkerProcesses(
        functools.partial(hang, ready), shutdown_timeout=timedelta(minutes=5)
    )
    await children.start()
    [pid] = children.pids

    async def hanging() -> bool:
        return ready.exists()

    await until(hanging, 60)
    stopping = asyncio.create_task(children.stop())
    await asyncio.sleep(0.2)  # told to stop cleanly; the clean stop would take minutes
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert not alive(pid)
    assert children.pids == []
    assert multiprocessing.active_children() == []
    await children.stop()  # a later stop has nothing left to do
    assert f"stopping worker processes cancelled; killing [{pid}]" in caplog.text


def test_a_target_a_child_cannot_import_is_refused_before_any_child_starts() -> None:
    async def nested(stop: asyncio.Event) -> None:
        await stop.wait()

    for target in (nested, lambda stop: idle(stop), functools.partial(nested)):
        with pytest.raises(TypeError, match="cannot be sent to a child process .* module-level"):
            WorkerProcesses(target)
    assert multiprocessing.active_children() == []


def test_a_target_that_is_no_async_function_is_refused_before_any_child_starts() -> None:
    for target in (not_async, functools.partial(not_async)):
        with pytest.raises(TypeError, match="must be an async function .* not_async"):
            WorkerProcesses(target)  # type: ignore[arg-type]
    assert multiprocessing.active_children() == []


def test_a_target_of_a_main_module_read_from_stdin_is_refused(tmp_path: Path) -> None:
    program = (
        "import asyncio\n"
        "from aioswf.processes import WorkerProcesses\n"
        "async def idle(stop):\n"
        "    await stop.wait()\n"
        "try:\n"
        "    WorkerProcesses(idle)\n"
        "except TypeError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-"], input=program, capture_output=True, text=True, timeout=60
    )
    assert "a main module that a child process cannot import" in done.stdout, done


async def test_a_group_stopped_while_its_child_waits_to_start_again_exits_with_its_failure(
    tmp_path: Path,
) -> None:
    """``run_in_processes`` returns the children's last exit status: a child that failed and
    was not started again before the stop failed last."""
    program = tmp_path / "failing_main.py"
    program.write_text(
        "import logging, sys\n"
        "from aioswf.processes import run_in_processes\n"
        "from tests.cli.host_app import fail_at_start\n"
        "if __name__ == '__main__':\n"
        "    logging.basicConfig(level=logging.INFO)\n"
        "    sys.exit(run_in_processes(fail_at_start, processes=1))\n"
    )
    root = Path(__file__).parents[2]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(program),
        stderr=asyncio.subprocess.PIPE,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    try:
        async with asyncio.timeout(60):
            while b"exited unasked" not in await process.stderr.readline():
                pass
        process.send_signal(signal.SIGTERM)  # the child waits its restart delay
        _, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 3, err.decode()
