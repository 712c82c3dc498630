"""A service that keeps its client and activities on its own loop and decides its workflows in
a child process, so that no workflow step, however long it holds the interpreter, stalls it.

The workflow's step sorts a big list: one C call that holds the interpreter for its whole
length. On the worker's workflow thread (the default) the service's loop would wait for it;
in the child it waits for nothing. A ticker on the service's loop reports its worst stall.
Run it with `python examples/workers_processes.py`; it needs no AWS account.
"""

from __future__ import annotations

import asyncio
import functools
import time
from datetime import timedelta

from aioswf import Client, Worker, activity, workflow
from aioswf.local import LocalSWF
from aioswf.processes import WorkerProcesses


@activity.defn(start_to_close_timeout=timedelta(minutes=1))
async def publish(ranking: list[int]) -> str:
    # Activities run in the service: they can use its connections, caches and loop.
    return f"published the top {len(ranking)}"


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Ranking:
    @workflow.run
    async def run(self, size: int) -> str:
        scores = [((n * 7919) % size, n) for n in range(size)]
        top = [n for _, n in sorted(scores, reverse=True)[:10]]  # one long C call
        return await workflow.execute_activity(publish, top)


async def serve_workflows(endpoint_url: str, stop: asyncio.Event) -> None:
    """The child's main: decide ``Ranking`` runs until told to stop.

    A module-level function: the child is a fresh interpreter that imports it by name.
    """
    async with (
        Client("reports", endpoint_url=endpoint_url) as client,
        Worker(client, task_list="reports", workflows=[Ranking]),
    ):
        await stop.wait()


async def worst_stall(work: asyncio.Future[str]) -> float:
    """The longest the loop went past a 1 ms tick while ``work`` ran, in seconds."""
    worst, last = 0.0, time.perf_counter()
    while not work.done():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        worst, last = max(worst, now - last - 0.001), now
    return worst


async def main() -> None:
    async with (
        LocalSWF() as swf,
        Client("reports", endpoint_url=swf.endpoint_url) as client,
        # The service's worker runs activities only; a child process decides the workflows.
        Worker(client, task_list="reports", activities=[publish]),
        WorkerProcesses(functools.partial(serve_workflows, swf.endpoint_url)) as children,
    ):
        print(f"workflows are decided in processes {children.pids}")
        handle = await client.start_workflow(
            Ranking.run, 1_000_000, workflow_id="ranking", task_list="reports"
        )
        result = asyncio.ensure_future(handle.result(timeout=timedelta(minutes=1)))
        stall = await worst_stall(result)
        print(f"{result.result()}; the service's loop stalled at most {stall * 1000:.0f} ms")
    # Leaving the block stopped the child cleanly: it finished what it had received.


if __name__ == "__main__":  # required: the child process imports this module
    asyncio.run(main())
