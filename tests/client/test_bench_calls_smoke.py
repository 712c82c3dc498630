"""The per-call CPU benchmark still runs, at its smallest size (its figures are not checked)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


async def test_the_benchmark_runs_and_prints_its_table() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "benchmarks" / "bench_calls.py"),
        *("--calls", "10", "--tasks", "5", "--repeat", "1"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    table = out.decode()
    assert "DescribeDomain: aiobotocore" in table
    assert "DescribeDomain: aioswf" in table
    assert table.count("aioswf / aiobotocore") == 2
    assert "SigV4 signing of one request: aioswf's signer" in table
