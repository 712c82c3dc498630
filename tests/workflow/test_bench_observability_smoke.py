"""The observability benchmark still runs: smallest settings, in a subprocess, no timing checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_observability.py"


def test_bench_observability_runs_and_prints_its_table() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--steps", "3", "--many", "3", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["shape", "plain", "observed", "cost"]
    assert len(lines) == 9
    for line in lines[1:7]:
        assert re.fullmatch(r".+\s+[\d.]+\s+[\d.]+\s+[+-][\d.]+%", line), line
    step, workflow = lines[7:]
    assert re.match(r"per step: [\d.]+ spans, [\d.]+ measurements", step), step
    # A one-activity workflow: its start, its run, its activity's start and run.
    assert workflow.startswith("per workflow: 4.0 spans"), workflow
