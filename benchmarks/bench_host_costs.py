"""What the workflow sandbox's process-wide guards cost the host's own code.

The sandbox guards functions of the standard library (the clocks, ``random``,
``os.environ``) and adds an audit hook; the host program shares both. Each figure is the time
of one call made by host code (outside any workflow step), in a process without the sandbox
and in one with it installed (it is installed once per process and never removed, hence two
processes, run alternately so that the machine's load hits both alike). The ratio is with
over without: 1.00 means the host does not pay for the sandbox.

Run it with::

    python benchmarks/bench_host_costs.py [--repeat N] [--number N]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox_ratio import compare

_clock = time.perf_counter  # bound before the workflow sandbox guards the module


def _logger() -> logging.Logger:
    # A record formatted with its time and caller: the clock, ``localtime`` and the frames
    # that ``findCaller`` reads (each read of a frame's code is an audited event).
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(logging.Formatter("%(asctime)s %(funcName)s %(message)s"))
    logger = logging.getLogger("bench_host_costs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger


def _loop_iterations(number: int) -> None:
    async def spin() -> None:
        for _ in range(number):
            await asyncio.sleep(0)  # one iteration of the loop each, which reads the clock

    asyncio.run(spin())


def cases() -> dict[str, Callable[[int], None]]:
    """Each host operation, repeated ``number`` times."""
    logger = _logger()
    home = next(iter(os.environ))

    def repeat(call: Callable[[], object]) -> Callable[[int], None]:
        def run(number: int) -> None:
            for _ in range(number):
                call()

        return run

    def log(number: int) -> None:
        for index in range(number):
            logger.info("record %d", index)

    return {
        "time.perf_counter()": repeat(lambda: time.perf_counter()),
        "time.time()": repeat(lambda: time.time()),
        "time.monotonic()": repeat(lambda: time.monotonic()),
        "random.random()": repeat(lambda: random.random()),
        "os.environ[key]": repeat(lambda: os.environ[home]),
        "logger.info() (formatted)": log,
        "asyncio.Lock()": repeat(asyncio.Lock),
        "event loop iteration": _loop_iterations,
    }


def measure(number: int, repeat: int) -> dict[str, float]:
    """Nanoseconds per operation of each case (the best of ``repeat``), in this process."""
    figures: dict[str, float] = {}
    for name, operation in cases().items():
        count = number // 20 if "logger" in name or "loop" in name else number
        samples = []
        for _ in range(repeat):
            began = _clock()
            operation(count)
            samples.append((_clock() - began) / count * 1e9)
        figures[name] = min(samples)  # the least disturbed by the rest of the machine
    return figures


def main() -> None:
    assert __doc__ is not None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="processes of each kind")
    parser.add_argument("--number", type=int, default=200_000, help="calls per sample")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sandboxed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1 or args.number < 20:
        parser.error("--repeat must be positive and --number at least 20")
    if args.child:
        if args.sandboxed:
            from aioswf._sandbox import install

            install()
        print(json.dumps(measure(args.number, 5)))
        return
    compare(
        __file__,
        "ns per host call (median)",
        repeat=args.repeat,
        child_args=["--number", str(args.number)],
    )


if __name__ == "__main__":
    main()
