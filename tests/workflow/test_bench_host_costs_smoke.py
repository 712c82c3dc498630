"""The host-costs benchmark still runs: tiny settings, in a subprocess, no timing checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_host_costs.py"


def test_bench_host_costs_runs_and_prints_its_table() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--repeat", "1", "--number", "40"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[-3:] == ["without", "with", "ratio"]
    assert len(lines) == 9
    for line in lines[1:]:
        assert re.fullmatch(r".*(\s+[\d.]+){3}", line)
