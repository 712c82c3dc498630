"""``aioswf dev`` in a subprocess: starts, serves, stops cleanly on Ctrl-C, keeps state."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.local.helpers import Driver, boto3_client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def run_dev(port: int, *extra: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from aioswf.cli import main; sys.exit(main())",
         "dev", "--port", str(port), "--long-poll-seconds", "1", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    banner = ""
    while "Ctrl-C" not in banner:
        line = await asyncio.to_thread(process.stdout.readline)
        assert line, "aioswf dev exited early"
        banner += line
    assert f"http://127.0.0.1:{port}" in banner
    return process, banner


async def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = await asyncio.to_thread(process.communicate, timeout=20)
    assert process.returncode == 0
    return out


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
    process, _ = await run_dev(port, "--db", db)
    client = boto3_client(f"http://127.0.0.1:{port}")
    try:
        task = await Driver(client).poll()
        assert task["workflowExecution"]["workflowId"] == "wf-1"
    finally:
        client.close()
        await stop(process)
