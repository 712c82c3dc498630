"""``aioswf dev`` in a subprocess: starts, serves, stops cleanly on Ctrl-C, keeps state."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tests.local.helpers import Driver, boto3_client

Process = asyncio.subprocess.Process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def run_dev(port: int, *extra: str, long_poll: str | None = "1") -> tuple[Process, str]:
    limit = ["--long-poll-seconds", long_poll] if long_poll is not None else []
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import sys; from aioswf.cli import main; sys.exit(main())",
        "dev",
        "--port",
        str(port),
        *limit,
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    banner = ""
    while "Ctrl-C" not in banner:
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert line, "aioswf dev exited early"
        banner += line
    return process, banner


async def stop(process: Process) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0
    return out.decode()


async def test_dev_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port, db = free_port(), str(tmp_path / "dev.db")
    process, banner = await run_dev(port, "--db", db)
    assert f"AWS_ENDPOINT_URL_SWF=http://127.0.0.1:{port}" in banner
    client = boto3_client(f"http://127.0.0.1:{port}")
    try:
        sw = Driver(client)
        await sw.setup()
        await sw.start()
    finally:
        client.close()
    assert "shutting down" in await stop(process)
    # The workflow started before the restart is still there, its first task still queued.
    process, _ = await run_dev(port, "--db", db)
    client = boto3_client(f"http://127.0.0.1:{port}")
    try:
        task = await Driver(client).poll()
        assert task["workflowExecution"]["workflowId"] == "wf-1"
    finally:
        client.close()
        await stop(process)


async def test_ctrl_c_answers_a_parked_poll_and_exits_at_once() -> None:
    port = free_port()
    # The default long-poll limit (60 s): stopping must not wait it out.
    process, _ = await run_dev(port, "--log-level", "DEBUG", long_poll=None)
    client = boto3_client(f"http://127.0.0.1:{port}")
    try:
        sw = Driver(client)
        await sw.setup()
        poll = asyncio.ensure_future(sw.poll())
        assert process.stderr is not None
        while True:  # the service logs each poll it parks
            line = (await asyncio.wait_for(process.stderr.readline(), 20)).decode()
            assert line, "aioswf dev exited early"
            if "poll parked" in line:
                break
        process.send_signal(signal.SIGINT)
        # A sixth of the long-poll limit: only an immediate answer meets it.
        assert (await asyncio.wait_for(poll, 10))["taskToken"] == ""
        await asyncio.wait_for(process.communicate(), 10)
        assert process.returncode == 0
    finally:
        client.close()
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_dev_serves_the_web_view_on_its_own_port() -> None:
    import aiohttp

    port = free_port()
    process, _ = await run_dev(port)
    client = boto3_client(f"http://127.0.0.1:{port}")
    try:
        await Driver(client).setup()  # a domain to list
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as page:
            assert page.status == 200
            assert page.content_type == "text/html"
            html = await page.text()
    finally:
        client.close()
        await stop(process)
    assert "<title>Domains · aioswf</title>" in html
    assert 'href="/executions?domain=' in html
