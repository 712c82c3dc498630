"""The application the fault-injection runs drive: activities, a timer and signals per run.

Each computation of an activity is written to the file named by ``AIOSWF_FAULTS_RUNS`` (one
line, appended atomically), so a test can count them across worker processes.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

from aioswf import RetryPolicy, activity, workflow

ACTIVITIES_PER_RUN = 2


@activity.defn(
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_start_timeout=timedelta(minutes=10),
    schedule_to_close_timeout=timedelta(minutes=10),
)
async def double(key: str, value: int) -> int:
    await asyncio.sleep(0.3)
    _record(key)
    return value * 2


def _record(key: str) -> None:
    path = os.environ.get("AIOSWF_FAULTS_RUNS")
    if path:
        with open(path, "a", encoding="utf-8") as runs:
            runs.write(f"{key}\n")


def computations(path: str | os.PathLike[str]) -> dict[str, int]:
    """How many times each activity (``<run key>/<index>``) was computed."""
    counts: dict[str, int] = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as runs:
            for key in runs.read().split():
                counts[key] = counts.get(key, 0) + 1
    return counts


RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=20)


@workflow.defn(
    execution_start_to_close_timeout=timedelta(minutes=20),
    task_start_to_close_timeout=timedelta(seconds=5),
)
class Chores:
    def __init__(self) -> None:
        self.pokes: set[int] = set()

    @workflow.run
    async def run(self, key: str, pokes: int, attempt_seconds: int = 30) -> dict[str, Any]:
        # attempt_seconds: how soon an attempt lost with a killed worker is retried.
        timeout = timedelta(seconds=attempt_seconds)
        doubled = await asyncio.gather(
            *(
                workflow.execute_activity(
                    double, f"{key}/{i}", i + 1, retry_policy=RETRY, start_to_close_timeout=timeout
                )
                for i in range(ACTIVITIES_PER_RUN)
            )
        )
        await asyncio.sleep(1)
        await workflow.wait_condition(lambda: len(self.pokes) >= pokes)
        return {"sum": sum(doubled), "pokes": sorted(self.pokes)}

    @workflow.signal
    async def poke(self, number: int) -> None:
        self.pokes.add(number)


def expected(pokes: int) -> dict[str, Any]:
    """The result every run of ``Chores`` must end with."""
    return {
        "sum": sum(2 * (i + 1) for i in range(ACTIVITIES_PER_RUN)),
        "pokes": list(range(pokes)),
    }
