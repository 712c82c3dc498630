"""The host loop's worst stall while a workflow step that cannot be interrupted is retried.

A step that catches the deadlock detector's interrupt (``except BaseException``) and computes
on keeps its thread: Python cannot stop a thread. Each attempt of its decision task is
interrupted, given up and retried; a ticker task on the host loop measures the longest gap
between two of its wake-ups over a few seconds after each attempt, and the workflow threads
alive are counted (given up or idle). The baseline, measured in the same run, is the same worker with
nothing to decide. The local SWF service runs in this process on a virtual clock (so the
retries' back-off timers fire at once) and does little work of its own.

Run it with::

    python benchmarks/bench_given_up_threads.py [--attempts N] [--window SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from host_stall import clock, worst_stall

from aioswf import Client, Worker, WorkflowHandle, WorkflowOptions, workflow
from aioswf.local import LocalSWF, VirtualClock
from aioswf.worker import DecisionWorkerOptions

STOP = threading.Event()


@workflow.defn(name="Swallows", sandboxed=False)  # it reads the clock to burn a set time
class Swallows:
    @workflow.run
    async def run(self) -> str:
        while not STOP.is_set():
            try:
                deadline = clock() + 0.02
                while clock() < deadline:
                    pass
            except BaseException:  # swallows the interrupt: what is measured
                continue
        return "stopped"


def workflow_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("aioswf-workflow"))


async def attempts_made(handle: WorkflowHandle[Any]) -> int:
    failure = (await handle.describe()).decision_failure
    return 0 if failure is None else failure.attempts


async def run(attempts: int, window: float) -> None:
    clock = VirtualClock(start=1_700_000_000.0)
    options = DecisionWorkerOptions(deadlock_timeout=timedelta(milliseconds=200))
    async with (
        LocalSWF(clock=clock, long_poll_seconds=0.5) as service,
        Client("bench-given-up", endpoint_url=service.endpoint_url) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="t", workflows=[Swallows], decision_options=options):
            idle = await worst_stall(lambda: asyncio.sleep(window))
            handle = await client.start_workflow(
                Swallows.run,
                workflow_id="swallows",
                task_list="t",
                options=WorkflowOptions(task_start_to_close_timeout=timedelta(minutes=5)),
            )
            rows = []
            for attempt in range(1, attempts + 1):
                while await attempts_made(handle) < attempt:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)  # SWF tells of an attempt only when asked
                stall = await worst_stall(lambda: asyncio.sleep(window))
                rows.append((attempt, workflow_threads(), stall))
                failure = (await handle.describe()).decision_failure
                assert failure is not None
                clock.advance(failure.retry_in.total_seconds() + 1)  # the next attempt
            STOP.set()
    print(f"worst stall of the host loop over {window:g} s (ms)   threads   stall   ratio")
    print(f"{'an idle worker (the baseline)':<42} {'':>8} {idle * 1000:>7.1f} {1:>7.2f}")
    for attempt, threads, stall in rows:
        title = f"after attempt {attempt}"
        print(f"{title:<42} {threads:>8} {stall * 1000:>7.1f} {stall / idle:>7.2f}")


def main() -> None:
    assert __doc__ is not None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=6, help="attempts measured")
    parser.add_argument("--window", type=float, default=2.0, help="seconds measured each time")
    args = parser.parse_args()
    if args.attempts < 1 or args.window <= 0:
        parser.error("--attempts and --window must be positive")
    asyncio.run(run(args.attempts, args.window))


if __name__ == "__main__":
    main()
