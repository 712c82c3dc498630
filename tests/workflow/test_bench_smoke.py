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
    assert len(lines) == 7
    # events, cache on, cache off, replay rate, cache off with botocore's parser, replay rate
    # without the sandbox
    assert re.fullmatch(
        r"\s*\d+\s+[\d.]+\s+[\d.]+\s+([\d,]+|inf)\s+[\d.]+\s+([\d,]+|inf)", lines[1]
    )
    assert lines[2].startswith("cache off, where the time goes (ms; full collections held")
    assert lines[3].split() == [
        "events",
        "parsing",
        "poller",
        "activation",
        "collector",
        "Python",
        "calls",
    ]
    # events, parsing, poller, activation, collector, Python calls of one cache-off task
    assert re.fullmatch(r"\s*\d+(\s+-?[\d.]+){4}\s+[\d,]+", lines[4])
    assert int(lines[4].split()[-1].replace(",", "")) > 100
    for line, workflow in zip(lines[5:], ("Bench", "Wide"), strict=True):
        assert re.fullmatch(
            rf"module-state check, {workflow}: \d+ names watched, [\d.]+ µs per step,"
            r" [\d.]+ µs per replayed step",
            line,
        )
