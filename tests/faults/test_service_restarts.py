"""``aioswf dev --db`` killed (SIGKILL) and restarted with activities, timers and signals in
flight: every execution completes with the right result, no signal is lost, and no activity
whose result was computed runs again."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from aioswf import Client, ServiceUnavailableError
from aioswf.worker import ActivityWorkerOptions, Worker

from . import app
from .conftest import cases

OPTIONS = ActivityWorkerOptions(
    pollers=2, poll_backoff=timedelta(seconds=0.05), max_poll_backoff=timedelta(seconds=0.5)
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class DevServer:
    """``aioswf dev --db`` in a process of its own, killed and restarted at will."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aioswf.cli",
            "dev",
            "--port",
            str(self.port),
            "--db",
            str(self.db),
            "--long-poll-seconds",
            "1",
            "--log-level",
            "WARNING",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with asyncio.timeout(30):
            while True:
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                return

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def restart_after(self, seconds: float) -> None:
        await self.kill()
        await asyncio.sleep(seconds)
        await self.start()


@pytest.fixture
async def dev(tmp_path: Path) -> AsyncIterator[DevServer]:
    server = DevServer(tmp_path / "swf.db")
    await server.start()
    yield server
    if server.process is not None and server.process.returncode is None:
        await server.kill()


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.log"
    monkeypatch.setenv("AIOSWF_FAULTS_RUNS", str(path))
    return path


async def eventually(action: Callable[[], Awaitable[object]]) -> None:
    """Do ``action`` once SWF answers; an answer lost with the server is done again."""
    async with asyncio.timeout(60):
        while True:
            try:
                await action()
                return
            except ServiceUnavailableError:
                await asyncio.sleep(0.2)


async def until_history_has(client: Client, workflow_id: str, event_type: str) -> None:
    handle = client.get_workflow_handle(workflow_id)
    async with asyncio.timeout(60):
        while True:
            if event_type in [e["eventType"] async for e in handle.history()]:
                return
            await asyncio.sleep(0.1)


async def test_runs_survive_sigkills_of_the_service(
    dev: DevServer, runs: Path, domain_name: str
) -> None:
    executions = cases(3, 20)
    pokes = 2
    async with Client(domain_name, endpoint_url=dev.url) as client:
        await client.register_domain()
        async with Worker(
            client,
            task_list="restarts",
            workflows=[app.Chores],
            activities=[app.double],
            activity_options=OPTIONS,
        ):
            ids = [f"restart-{i}" for i in range(executions)]
            for index, workflow_id in enumerate(ids):
                await client.start_workflow(
                    app.Chores.run,
                    f"r{index}",
                    pokes,
                    workflow_id=workflow_id,
                    task_list="restarts",
                )
            # Activities running: the kill loses their answers' first attempts.
            await until_history_has(client, ids[0], "ActivityTaskStarted")
            await dev.restart_after(2.0)
            # Timers pending.
            await until_history_has(client, ids[-1], "TimerStarted")
            await dev.restart_after(1.0)
            # Signals: sent, then the service dies at once; they must still count.
            for number in range(pokes):
                for workflow_id in ids:
                    handle = client.get_workflow_handle(workflow_id)
                    await eventually(lambda h=handle, n=number: h.signal(app.Chores.poke, n))
                await dev.restart_after(0.5)
            results = await asyncio.gather(
                *(
                    client.get_workflow_handle(i, workflow=app.Chores.run).result(
                        timeout=timedelta(minutes=5)
                    )
                    for i in ids
                )
            )
    assert results == [app.expected(pokes)] * executions
    computed = app.computations(runs)
    assert len(computed) == executions * app.ACTIVITIES_PER_RUN
    again = {key: n for key, n in computed.items() if n > 1}
    assert not again, f"computed more than once: {again}"
