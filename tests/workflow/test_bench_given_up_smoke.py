"""The given-up-threads benchmark still runs: tiny settings, in a subprocess, no timing checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_given_up_threads.py"


def test_bench_given_up_threads_runs_and_prints_its_table() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--attempts", "2", "--window", "0.2"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[-3:] == ["threads", "stall", "ratio"]
    assert len(lines) == 4
    for line in lines[2:]:
        assert re.fullmatch(r"after attempt \d+(\s+[\d.]+){3}", line)
