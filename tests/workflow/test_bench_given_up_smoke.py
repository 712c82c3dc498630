"""The given-up-threads benchmark still runs: tiny settings, in a subprocess, no timing checked."""

from __future__ import annotations

import re

from tests.workflow.benchmark_runs import benchmark_lines


def test_bench_given_up_threads_runs_and_prints_its_table() -> None:
    lines = benchmark_lines("bench_given_up_threads.py", "--attempts", "2", "--window", "0.2")
    assert lines[0].split()[-3:] == ["threads", "stall", "ratio"]
    assert len(lines) == 4
    for line in lines[2:]:
        assert re.fullmatch(r"after attempt \d+(\s+[\d.]+){3}", line)
