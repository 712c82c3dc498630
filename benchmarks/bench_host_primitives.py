"""What the workflow sandbox costs the host's own asyncio primitives.

The sandbox refuses, inside workflow code, asyncio primitives made outside the run that uses
them. The host program shares those classes: its own locks, events and queues must not pay
for the check. Each figure is the time of one operation on the host's event loop, in a
process without the sandbox and in one with it installed (it is installed once per process
and never removed, hence two processes), for a primitive the host makes in a function (the
usual case: nothing to check) and for one made at module level (which the sandbox checks at
each use, since workflow code could share it). The ratio is with over without.

Run it with::

    python benchmarks/bench_host_primitives.py [--repeat N] [--number N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sandbox_ratio import compare

_clock = time.perf_counter  # bound before the workflow sandbox guards the module

if "--sandboxed" in sys.argv:  # installed before the module-level primitives below are made
    from aioswf._sandbox import install

    install()

MODULE_LOCK = asyncio.Lock()
MODULE_EVENT = asyncio.Event()
MODULE_QUEUE: asyncio.Queue[int] = asyncio.Queue()


async def lock_pair(lock: asyncio.Lock, number: int) -> None:
    for _ in range(number):
        await lock.acquire()
        lock.release()


async def lock_with(lock: asyncio.Lock, number: int) -> None:
    for _ in range(number):
        async with lock:
            pass


async def event_pair(event: asyncio.Event, number: int) -> None:
    for _ in range(number):
        event.set()
        event.clear()


async def queue_pair(queue: asyncio.Queue[int], number: int) -> None:
    for _ in range(number):
        queue.put_nowait(1)
        queue.get_nowait()


async def make_locks(_: object, number: int) -> None:
    for _ in range(number):
        asyncio.Lock()


def cases() -> dict[str, tuple[Callable[[Any, int], Any], Callable[[], Any]]]:
    """Each operation, and where its primitive comes from."""
    return {
        "Lock acquire + release": (lock_pair, asyncio.Lock),
        "async with Lock": (lock_with, asyncio.Lock),
        "Event set + clear": (event_pair, asyncio.Event),
        "Queue put_nowait + get_nowait": (queue_pair, asyncio.Queue),
        "asyncio.Lock()": (make_locks, lambda: None),
        "module-level Lock acquire + release": (lock_pair, lambda: MODULE_LOCK),
        "module-level Event set + clear": (event_pair, lambda: MODULE_EVENT),
        "module-level Queue put + get": (queue_pair, lambda: MODULE_QUEUE),
    }


def measure(number: int, repeat: int) -> dict[str, float]:
    """Nanoseconds per operation of each case (the best of ``repeat``), in this process."""

    async def main() -> dict[str, float]:
        figures: dict[str, float] = {}
        for name, (operation, make) in cases().items():
            samples = []
            for _ in range(repeat):
                primitive = make()
                began = _clock()
                await operation(primitive, number)
                samples.append((_clock() - began) / number * 1e9)
            figures[name] = min(samples)  # the least disturbed by the rest of the machine
        return figures

    return asyncio.run(main())


def main() -> None:
    assert __doc__ is not None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="processes of each kind")
    parser.add_argument("--number", type=int, default=200_000, help="operations per sample")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sandboxed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeat < 1 or args.number < 1:
        parser.error("--repeat and --number must be positive")
    if args.child:
        print(json.dumps(measure(args.number, 5)))
        return
    compare(
        __file__,
        "ns per operation on the host (median)",
        repeat=args.repeat,
        child_args=["--number", str(args.number), "--repeat", str(args.repeat)],
    )


if __name__ == "__main__":
    main()
