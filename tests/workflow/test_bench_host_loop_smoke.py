"""The host-loop benchmark still runs: tiny settings, in a subprocess, no timing checked."""

from __future__ import annotations

import re

from tests.workflow.benchmark_runs import benchmark_lines


def test_bench_host_loop_runs_and_prints_its_table() -> None:
    lines = benchmark_lines(
        "bench_host_loop.py", "--repeat", "1", "--signals", "50", "--cpu", "0.05", "--sort", "1000"
    )
    assert lines[0].split()[-2:] == ["child", "process"]
    assert len(lines) == 6
    for line in lines[1:]:
        # The child process measures the sorting step (c) only.
        child = r"[\d.]+" if line.startswith("(c)") else "-"
        assert re.fullmatch(rf".*(\s+[\d.]+){{3}}\s+{child}", line), line
