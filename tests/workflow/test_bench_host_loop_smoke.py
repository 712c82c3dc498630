"""The host-loop benchmark still runs: tiny settings, in a subprocess, no timing checked."""

from __future__ import annotations

import re

from tests.workflow.benchmark_runs import benchmark_lines


def test_bench_host_loop_runs_and_prints_its_table() -> None:
    lines = benchmark_lines(
        "bench_host_loop.py", "--repeat", "1", "--signals", "50", "--cpu", "0.05"
    )
    assert lines[0].split()[-1] == "thread"
    assert len(lines) == 5
    for line in lines[1:]:
        assert re.fullmatch(r".*(\s+[\d.]+){3}", line)
