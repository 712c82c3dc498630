"""The decider benchmark still runs: smallest settings, in a subprocess, no timing checked."""

from __future__ import annotations

import re

from tests.workflow.benchmark_runs import benchmark_lines


def test_bench_decider_runs_and_prints_its_table() -> None:
    lines = benchmark_lines("bench_decider.py", "--repeat", "1", "--sizes", "100")
    assert lines[0].split() == [
        "events",
        "cache",
        "on",
        "(ms)",
        "cache",
        "off",
        "(ms)",
        "replay",
        "events/s",
        "botocore",
        "(ms)",
        "no-sandbox",
        "events/s",
    ]
    assert len(lines) == 4
    # events, cache on, cache off, replay rate, cache off with botocore's parser, replay rate
    # without the sandbox
    assert re.fullmatch(
        r"\s*\d+\s+[\d.]+\s+[\d.]+\s+([\d,]+|inf)\s+[\d.]+\s+([\d,]+|inf)", lines[1]
    )
    for line, workflow in zip(lines[2:], ("Bench", "Wide"), strict=True):
        assert re.fullmatch(
            rf"module-state check, {workflow}: \d+ names watched, [\d.]+ µs per step", line
        )
