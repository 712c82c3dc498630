"""The host-costs benchmark still runs: tiny settings, in a subprocess, no timing checked."""

from __future__ import annotations

import re

from tests.workflow.benchmark_runs import benchmark_lines


def test_bench_host_costs_runs_and_prints_its_table() -> None:
    lines = benchmark_lines("bench_host_costs.py", "--repeat", "1", "--number", "40")
    assert lines[0].split()[-3:] == ["without", "with", "ratio"]
    assert len(lines) == 9
    for line in lines[1:]:
        assert re.fullmatch(r".*(\s+[\d.]+){3}", line)
