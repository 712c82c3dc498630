"""The end-to-end benchmarks still run: smallest settings, in a subprocess, no timing checked."""

from __future__ import annotations

from tests.workflow.benchmark_runs import benchmark_report


def test_bench_workflows_runs_and_reports_every_figure() -> None:
    report = benchmark_report("bench_workflows.py", "--steps", "3", "--many", "4", "--repeat", "1")
    assert isinstance(report, dict)
    (chain,) = report["chain"]
    assert chain["steps"] == 3
    assert chain["aioswf_s"] > 0
    assert chain["bare_s"] > 0
    assert chain["cpu_ms_per_step"] > 0
    assert chain["bare_cpu_ms_per_step"] > 0
    many = report["many"]
    assert many["workflows"] == 4
    assert many["aioswf_wf_per_s"] > 0
    assert many["bare_wf_per_s"] > 0
    assert len(many["round_ratios"]) == 1
    # The closes were decided in the same process: a listing confirms them, none is read.
    assert many["list_calls"] >= 1


def test_bench_sticky_runs_with_and_without_sticky_task_lists() -> None:
    rows = benchmark_report("bench_sticky.py", "--processes", "2", "--steps", "3")
    assert isinstance(rows, list)
    assert [(r["processes"], r["sticky"]) for r in rows] == [(2, True), (2, False)]
    assert all(r["tasks"] >= 2 * 4 for r in rows)  # 3 activities: 4 decision tasks per run
    assert rows[1]["sticky_share"] == 0
