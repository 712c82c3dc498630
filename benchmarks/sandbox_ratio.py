"""A host figure without and with the workflow sandbox, each from its own process.

The sandbox is installed once per process and never removed, so the benchmarks of what it
costs the host (``bench_host_costs.py``, ``bench_host_primitives.py``) run their script again
as a child, without and with it, alternately so that the machine's load hits both alike, and
print the median of each figure and the ratio with over without (1.00: the host pays nothing).
A child is asked with ``--child`` (and ``--sandboxed``) and prints its figures as JSON.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Sequence


def in_subprocess(script: str, sandboxed: bool, child_args: Sequence[str]) -> dict[str, float]:
    """The figures ``script`` prints as a child, with the sandbox installed or not."""
    argv = [sys.executable, script, "--child", *child_args]
    if sandboxed:
        argv.append("--sandboxed")
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def compare(script: str, heading: str, *, repeat: int, child_args: Sequence[str]) -> None:
    """Run ``repeat`` children of each kind, interleaved, and print the table of ratios."""
    runs: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    for _ in range(repeat):
        for sandboxed in (False, True):
            runs[sandboxed].append(in_subprocess(script, sandboxed, child_args))
    names = list(runs[False][0])
    width = max(len(heading), *map(len, names))
    print(f"{heading:<{width}} {'without':>9} {'with':>9} {'ratio':>7}")
    for name in names:
        without = statistics.median(run[name] for run in runs[False])
        with_ = statistics.median(run[name] for run in runs[True])
        print(f"{name:<{width}} {without:>9.0f} {with_:>9.0f} {with_ / without:>7.2f}")
