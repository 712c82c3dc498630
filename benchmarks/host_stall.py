"""The host loop's worst stall: how long a ticker task waited past its wake-up while work ran.

Shared by the benchmarks that measure how a worker embedded in an asyncio service holds up
that service's loop (``bench_host_loop.py``, ``bench_given_up_threads.py``).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable
from typing import Any

clock = time.perf_counter  # bound before the workflow sandbox guards the module
TICK = 0.001  # seconds the ticker sleeps between wake-ups


async def worst_stall(work: Callable[[], Awaitable[Any]], *, collect_first: bool = False) -> float:
    """The longest the host loop went without running the ticker while ``work`` ran (s).

    With ``collect_first``, the process's garbage is collected and the ticker started before
    ``work`` begins, so that no measurement pays for a collection the one before made due.
    """
    worst = 0.0
    running = True

    async def tick() -> None:
        nonlocal worst
        last = clock()
        while running:
            await asyncio.sleep(TICK)
            now = clock()
            worst = max(worst, now - last - TICK)
            last = now

    if collect_first:
        gc.collect()
    ticker = asyncio.create_task(tick())
    if collect_first:
        await asyncio.sleep(0.01)
    try:
        await work()
    finally:
        running = False
        await ticker
    return worst
