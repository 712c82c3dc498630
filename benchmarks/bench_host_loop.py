"""The host loop's worst stall while a worker decides heavy workflow tasks.

A worker embedded in an asyncio service shares the service's event loop. A ticker task on
that loop wakes every millisecond and records the longest gap between two wake-ups (beyond
the millisecond asked for) while the worker decides:

* (a) a workflow step that burns 1 s of CPU before it completes;
* (b) one decision task that replays a history of about 25,000 events (a workflow that
  received 24,980 signals before any worker looked at it), with the cache off;
* (c) a workflow step that sorts a list of a million tuples: one C call that holds the
  interpreter for a few hundred milliseconds, which no thread can share. Besides the three
  modes below, it is also measured with the workflow decided in a child process
  (:class:`aioswf.processes.WorkerProcesses`), the host keeping only its client.

Each is measured in three modes, in the same run: workflow code run on the host loop
(``workflow_threads=False``, how aioswf ran it before activations got their own thread); on
the activation executor's thread with the garbage collector left alone
(``hold_full_collections=False``: each full collection, triggered by whichever thread,
holds the GIL while it walks every object of the process); and the default, with full
collections held while decision tasks are decided. Before each measurement the process's
garbage is collected, so that no mode pays for a collection another one made due. The last
row is what that full collection costs in this process: once per burst of decided tasks, a
held collection runs when they are over. End to end: the local SWF service runs in a subprocess (so its own
work does not stall the measured loop), the worker talks to it over loopback HTTP, pages of
history are fetched and parsed as in production. Goal: a worst stall of 50 ms or less.

Run it with::

    python benchmarks/bench_host_loop.py [--repeat N] [--signals N] [--cpu SECONDS] [--sort N]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import gc
import json
import statistics
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from host_stall import clock, worst_stall

from aioswf import Client, Worker, WorkflowHandle, workflow
from aioswf._pollers.decision import DecisionWorkerOptions
from aioswf.processes import WorkerProcesses

DOMAIN = "bench-host-loop"
SIGNALS = 24_980  # with the other events of the run, just under SWF's 25,000
SORTED = 1_000_000  # tuples the step (c) sorts
CHILD = "child process"
MODES = {
    "host loop": DecisionWorkerOptions(workflow_threads=False, hold_full_collections=False),
    "thread, gc unheld": DecisionWorkerOptions(hold_full_collections=False),
    "thread": DecisionWorkerOptions(),
}


@workflow.defn(name="Tally", execution_start_to_close_timeout=timedelta(hours=1))
class Tally:
    def __init__(self) -> None:
        self.total = 0

    @workflow.run
    async def run(self, goal: int) -> int:
        await workflow.wait_condition(lambda: self.total >= goal)
        return self.total

    @workflow.signal
    def add(self, n: int) -> None:
        self.total += n


@workflow.defn(name="Burn", sandboxed=False)  # it reads the clock to burn a set time
class Burn:
    @workflow.run
    async def run(self, seconds: float) -> int:
        deadline = clock() + seconds
        spins = 0
        while clock() < deadline:
            spins += 1
        return spins


@workflow.defn(name="Sort")
class Sort:
    @workflow.run
    async def run(self, size: int) -> int:
        items = [((n * 7919) % size, n) for n in range(size)]
        items.sort()  # one C call: it holds the interpreter until the list is sorted
        return items[0][1]


async def decide_sorts(endpoint: str, task_list: str, stop: asyncio.Event) -> None:
    """A child process's main: decide ``Sort`` runs on ``task_list`` until told to stop."""
    async with (
        Client(DOMAIN, endpoint_url=endpoint) as client,
        Worker(client, task_list=task_list, workflows=[Sort]),
    ):
        await stop.wait()


# --- the service, in its own process ----------------------------------------------------------


def serve(task_lists: list[str], signals: int) -> None:
    """Serve the local SWF service with a ``Tally`` run waiting on each of ``task_lists``."""
    from aioswf.local import LocalSWF

    async def main() -> None:
        async with LocalSWF(long_poll_seconds=1.0) as service:
            service.call(
                "RegisterDomain", {"name": DOMAIN, "workflowExecutionRetentionPeriodInDays": "1"}
            )
            service.call(
                "RegisterWorkflowType",
                {
                    "domain": DOMAIN,
                    "name": "Tally",
                    "version": "1",
                    "defaultChildPolicy": "TERMINATE",
                },
            )
            for task_list in task_lists:
                run = service.call(
                    "StartWorkflowExecution",
                    {
                        "domain": DOMAIN,
                        "workflowId": f"tally-{task_list}",
                        "workflowType": {"name": "Tally", "version": "1"},
                        "taskList": {"name": task_list},
                        "input": json.dumps([signals]),
                        "executionStartToCloseTimeout": "3600",
                        "taskStartToCloseTimeout": "60",
                        "childPolicy": "TERMINATE",
                    },
                )
                for _ in range(signals):
                    service.call(
                        "SignalWorkflowExecution",
                        {
                            "domain": DOMAIN,
                            "workflowId": f"tally-{task_list}",
                            "runId": run["runId"],
                            "signalName": "add",
                            "input": "[1]",
                        },
                    )
            print(service.endpoint_url, flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())


# --- the host ------------------------------------------------------------------------------


async def replay(client: Client, task_list: str, mode: DecisionWorkerOptions) -> float:
    options = dataclasses.replace(mode, max_cached_workflows=0)
    handle: WorkflowHandle[int] = client.get_workflow_handle(f"tally-{task_list}")

    async def decide() -> None:
        async with Worker(client, task_list=task_list, workflows=[Tally], decision_options=options):
            await handle.result(timeout=timedelta(minutes=5))

    return await worst_stall(decide, collect_first=True)


async def burn(
    client: Client, task_list: str, mode: DecisionWorkerOptions, seconds: float
) -> float:
    async with Worker(client, task_list=task_list, workflows=[Burn], decision_options=mode):
        handle = await client.start_workflow(
            Burn.run, seconds, workflow_id=f"burn-{task_list}", task_list=task_list
        )
        return await worst_stall(
            lambda: handle.result(timeout=timedelta(minutes=5)), collect_first=True
        )


async def sort(
    client: Client, endpoint: str, task_list: str, mode: DecisionWorkerOptions | None, size: int
) -> float:
    """The stall while a step sorts ``size`` tuples: decided by this process's worker in
    ``mode``, or (``None``) in a child process, started before the measurement."""

    async def decide() -> int:
        handle = await client.start_workflow(
            Sort.run, size, workflow_id=f"sort-{task_list}", task_list=task_list
        )
        return await handle.result(timeout=timedelta(minutes=5))

    if mode is not None:
        async with Worker(client, task_list=task_list, workflows=[Sort], decision_options=mode):
            return await worst_stall(decide, collect_first=True)
    target = functools.partial(decide_sorts, endpoint, task_list)
    async with WorkerProcesses(target):
        return await worst_stall(decide, collect_first=True)


async def idle(client: Client, task_list: str, seconds: float) -> float:
    """The stall with a worker that has nothing to decide: the machine's own noise."""
    async with Worker(client, task_list=task_list, workflows=[Burn]):
        return await worst_stall(lambda: asyncio.sleep(seconds), collect_first=True)


def full_collection() -> float:
    """Seconds one full garbage collection of this process takes."""
    began = clock()
    gc.collect()
    return clock() - began


async def run(endpoint: str, repeat: int, signals: int, seconds: float, size: int) -> None:
    results: dict[tuple[str, str], list[float]] = {}
    async with Client(DOMAIN, endpoint_url=endpoint) as client:
        for n in range(repeat):  # interleaved, so that load hits every mode alike
            for m, (name, mode) in enumerate(MODES.items()):
                task_list = f"{m}-{n}"
                stalls = {
                    "idle": await idle(client, f"idle-{task_list}", seconds),
                    "a": await burn(client, f"burn-{task_list}", mode, seconds),
                    "b": await replay(client, task_list, mode),
                    "c": await sort(client, endpoint, f"sort-{task_list}", mode, size),
                    "gc": full_collection(),
                }
                for key, stall in stalls.items():
                    results.setdefault((key, name), []).append(stall)
            stall = await sort(client, endpoint, f"sort-child-{n}", None, size)
            results.setdefault(("c", CHILD), []).append(stall)
    rows = {
        "idle": f"an idle worker, {seconds:g} s (the noise)",
        "a": f"(a) a step burning {seconds:g} s of CPU",
        "b": f"(b) replaying {signals + 6:,} events",
        "c": f"(c) a step sorting {size:,} tuples",
        "gc": "one full collection of this process",
    }
    print(f"{'worst stall of the host loop (ms, median)':<42}", end="")
    columns = [*MODES, CHILD]
    print("".join(f"{name:>19}" for name in columns))
    for key, title in rows.items():
        print(f"{title:<42}", end="")
        print(
            "".join(
                f"{statistics.median(results[key, name]) * 1000:>19.1f}"
                if (key, name) in results
                else f"{'-':>19}"
                for name in columns
            )
        )


def main() -> None:
    assert __doc__ is not None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="samples per measurement")
    parser.add_argument("--signals", type=int, default=SIGNALS, help="signals in the history")
    parser.add_argument("--cpu", type=float, default=1.0, help="seconds the step burns")
    parser.add_argument("--sort", type=int, default=SORTED, help="tuples the step (c) sorts")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("task_lists", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.task_lists, args.signals)
        return
    if args.repeat < 1 or args.signals < 1 or args.cpu <= 0 or args.sort < 1:
        parser.error("--repeat, --signals, --cpu and --sort must be positive")
    lists = [f"{m}-{n}" for n in range(args.repeat) for m in range(len(MODES))]
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--signals", str(args.signals), *lists],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip()
        asyncio.run(run(endpoint, args.repeat, args.signals, args.cpu, args.sort))
    finally:
        server.terminate()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()


if __name__ == "__main__":
    main()
