"""Sticky decision task lists: the cache hit rate of several worker processes on one task list.

2 and 4 worker processes (by default) poll the same task list of ``aioswf dev`` (a process of
its own); as many long-running workflows as processes each run 200 activities one after
another, so 200 decision tasks each. With sticky task lists each run's tasks go back to the
process that has it cached; without, to whichever process polls first, which has it cached
only by chance. Printed per configuration: decision tasks, the share decided from the cache
(no replay), the share that arrived on a sticky list, and the wall time from the first start
to the last result, with and without sticky task lists in the same run.

Run it with::

    python benchmarks/bench_sticky.py [--processes 2 4] [--steps 200] [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workflows import Chain, local_service, step

from aioswf import Client, DecisionWorkerOptions, Worker

DOMAIN = "bench"


async def child(endpoint: str, task_list: str, sticky: bool) -> None:
    """One worker process: polls until SIGTERM, then prints its decision counters as JSON."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    options = DecisionWorkerOptions(
        sticky_schedule_to_start=timedelta(seconds=5) if sticky else None
    )
    async with Client(DOMAIN, endpoint_url=endpoint) as client:
        worker = Worker(
            client,
            task_list=task_list,
            workflows=[Chain],
            activities=[step],
            decision_options=options,
        )
        async with worker:
            await worker.wait_until_polling()
            print("ready", flush=True)
            await stop.wait()
            poller = worker._decision_poller
            assert poller is not None
            counters = poller.counters
            await worker.shutdown()
    print(json.dumps({name: getattr(counters, name) for name in counters.__slots__}), flush=True)


async def measure(endpoint: str, processes: int, steps: int, sticky: bool) -> dict[str, Any]:
    task_list = f"sticky-{processes}-{int(sticky)}-{time.monotonic_ns()}"
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--child",
            endpoint,
            task_list,
            str(int(sticky)),
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(processes)
    ]
    for process in children:
        assert process.stdout is not None
        assert (await process.stdout.readline()).strip() == b"ready"
    async with Client(DOMAIN, endpoint_url=endpoint) as client:
        began = time.perf_counter()
        handles = [
            await client.start_workflow(
                Chain.run, steps, workflow_id=f"{task_list}-{n}", task_list=task_list
            )
            for n in range(processes)
        ]
        results = await asyncio.gather(*(h.result() for h in handles))
        elapsed = time.perf_counter() - began
    assert results == [steps] * processes
    totals: dict[str, int] = {}
    for process in children:
        process.send_signal(signal.SIGTERM)
        out, _ = await process.communicate()
        for name, value in json.loads(out.decode().splitlines()[-1]).items():
            totals[name] = totals.get(name, 0) + value
    tasks = totals["tasks"]
    return {
        "processes": processes,
        "sticky": sticky,
        "tasks": tasks,
        "hit_rate": totals["cache_hits"] / tasks,
        "sticky_share": totals["sticky_tasks"] / tasks,
        "seconds": elapsed,
    }


async def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    async with local_service() as endpoint:
        async with Client(DOMAIN, endpoint_url=endpoint) as client:
            await client.register_domain()
        for processes in args.processes:
            for sticky in (True, False):
                runs = [
                    await measure(endpoint, processes, args.steps, sticky)
                    for _ in range(args.repeat)
                ]
                rows.append(
                    {
                        **runs[0],
                        **{
                            key: statistics.median(r[key] for r in runs)
                            for key in ("hit_rate", "sticky_share", "seconds")
                        },
                    }
                )
    return rows


def show(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'processes':>9} {'sticky':>6} {'tasks':>6} {'cache hits':>10} {'on sticky':>9} {'s':>6}"
    )
    for row in rows:
        print(
            f"{row['processes']:>9} {'yes' if row['sticky'] else 'no':>6} {row['tasks']:>6}"
            f" {row['hit_rate']:>10.1%} {row['sticky_share']:>9.1%} {row['seconds']:>6.2f}"
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        endpoint, task_list, sticky = sys.argv[2:5]
        asyncio.run(child(endpoint, task_list, sticky == "1"))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; medians are printed")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args()
    figures = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(figures))
    else:
        show(figures)
