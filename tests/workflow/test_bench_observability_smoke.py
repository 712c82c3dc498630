"""The observability benchmark still runs: smallest settings, in a subprocess, no timing checked."""

from __future__ import annotations

import re

from tests.workflow.benchmark_runs import benchmark_lines


def test_bench_observability_runs_and_prints_its_table() -> None:
    lines = benchmark_lines(
        "bench_observability.py", "--steps", "3", "--many", "3", "--repeat", "1"
    )
    assert lines[0].split() == ["shape", "plain", "observed", "cost"]
    assert len(lines) == 9
    for line in lines[1:7]:
        assert re.fullmatch(r".+\s+[\d.]+\s+[\d.]+\s+[+-][\d.]+%", line), line
    step, workflow = lines[7:]
    assert re.match(r"per step: [\d.]+ spans, [\d.]+ measurements", step), step
    # A one-activity workflow: its start, its run, its activity's start and run.
    assert workflow.startswith("per workflow: 4.0 spans"), workflow
