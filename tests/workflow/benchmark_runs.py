"""Running a script of benchmarks/ in a subprocess, as the smoke tests of the benchmarks do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def benchmark_lines(script: str, *args: str, timeout: float = 120) -> list[str]:
    """The lines ``benchmarks/<script>`` printed, after checking that it exited with 0."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def benchmark_report(script: str, *args: str, timeout: float = 300) -> object:
    """The JSON report ``benchmarks/<script> --json`` printed on its last line."""
    return json.loads(benchmark_lines(script, *args, "--json", timeout=timeout)[-1])
