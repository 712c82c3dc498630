"""`aioswf ui` serves the web view for another SWF endpoint, read through its public API."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import aiohttp

from aioswf import Client
from aioswf.local import LocalSWF
from tests.cli.helpers import ROOT, aioswf, one_line_error


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_aioswf_ui_serves_the_pages_of_any_endpoint() -> None:
    port = free_port()
    async with LocalSWF() as swf, Client("elsewhere", endpoint_url=swf.endpoint_url) as client:
        await client.register_domain(description="another service's domain")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aioswf.cli",
            "ui",
            "--endpoint-url",
            swf.endpoint_url,
            "--port",
            str(port),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert f"http://127.0.0.1:{port}/" in banner
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as page:
                assert page.status == 200
                html = await page.text()
            async with http.post(f"http://127.0.0.1:{port}/") as refused:
                assert refused.status == 405  # read-only: the SWF API is not served here
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert "elsewhere" in html
    assert "another service&#39;s domain" in html
    assert process.returncode == 0, err.decode()


async def test_a_busy_port_is_one_line() -> None:
    async with LocalSWF() as swf:
        ran = await aioswf("ui", "--endpoint-url", swf.endpoint_url, "--port", str(swf.port))
    assert "cannot listen on" in one_line_error(ran, "ui")
