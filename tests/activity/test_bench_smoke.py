"""The activity benchmark still runs, at its smallest size (its figures are not checked)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


async def test_the_benchmark_runs_and_prints_its_table() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "benchmarks" / "bench_activity.py"),
        *("--polls", "4", "--running", "4", "--tasks", "20", "--pollers", "2"),
        *("--repeat", "1", "--timeout", "120"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    table = out.decode()
    assert "idle long polls" in table
    assert "4 activities running at once" in table
    assert "transport loop (ceiling)" in table
    assert "plain aiobotocore loop" in table
    assert "worker / ceiling" in table
    assert "worker / plain aiobotocore" in table
