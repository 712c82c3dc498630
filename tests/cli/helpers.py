"""Running the `aioswf` command in a subprocess, as a user would."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[2]


@dataclass
class Ran:
    status: int
    out: str
    err: str


async def aioswf(
    *args: str,
    endpoint: str | None = None,
    cwd: Path = ROOT,
    timeout: float = 60,
    traceback: bool = False,
) -> Ran:
    """Run ``aioswf ARGS`` (endpoint in the environment, as users set it) and wait for it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    env.pop("AIOSWF_DOMAIN", None)
    if endpoint is not None:
        env["AWS_ENDPOINT_URL_SWF"] = endpoint
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aioswf.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    ran = Ran(process.returncode or 0, out.decode(), err.decode())
    assert ("Traceback" in ran.err) == traceback, ran.err
    return ran


def one_line_error(ran: Ran, command: str) -> str:
    """The single error line a failed command printed, checked to be just that."""
    assert ran.status != 0, ran
    lines = ran.err.strip().splitlines()
    assert len(lines) == 1, ran.err
    assert lines[0].startswith(f"aioswf {command}: error: "), lines[0]
    return lines[0]
