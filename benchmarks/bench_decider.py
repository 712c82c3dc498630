"""Decision-task CPU time of the workflow runtime, by history length, cache on and off.

Builds histories of about 100, 1,000 and 10,000 events of a workflow that runs activities one
after another, each ending with a decision task still to decide. Each measurement is the
process CPU time of the decision poller deciding that task (``DecisionPoller._decide``) from
an in-memory service that hands history out as SWF does: newest event first, in pages of
1,000 events with ``nextPageToken``. That covers the cache lookup, reading the pages, sorting
the events, applying them, running the workflow code and matching its decisions; it leaves
out the network, JSON decoding and the answer (RespondDecisionTaskCompleted).

* cache on: the run's live instance is in the cache and decided the previous task, so the
  poller reads only the newest page and stops at the events it knows;
* cache off: no instance is cached, so every page is read and the whole history replayed.

Replay throughput is the history's length over the cache-off time.

Run it with::

    python benchmarks/bench_decider.py [--repeat N] [--sizes 100 1000 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aioswf import activity, workflow
from aioswf._decider import WorkflowInstance
from aioswf._pollers.decision import DecisionPoller, DecisionWorkerOptions
from aioswf.converter import DataConverter
from tests.workflow.histories import Simulation

EVENTS_PER_STEP = 6  # decision scheduled/started/completed, activity scheduled/started/completed
PAGE_SIZE = 1_000  # SWF's default maximumPageSize
SIZES = (100, 1_000, 10_000)


@activity.defn(start_to_close_timeout=timedelta(seconds=60))
async def step(n: int) -> int:
    return n + 1


@workflow.defn(name="Bench")
class Bench:
    @workflow.run
    async def run(self, steps: int) -> int:
        total = 0
        for _n in range(steps):
            total = await workflow.execute_activity(step, total)
        return total


def build(events: int) -> tuple[Simulation, int]:
    """A history of about ``events`` events, ending with a decision task still to decide."""
    steps = max(1, events // EVENTS_PER_STEP)
    sim = Simulation(Bench, steps + 10)
    for n in range(steps):
        sim.decide()
        sim.history.activity_completed(f"{n + 1}", n + 1)
    started = sim.history.start_decision_task()
    return sim, started


class PagedHistory:
    """Stands in for the client: PollForDecisionTask pages, newest event first."""

    def __init__(self, sim: Simulation, started: int, previous: int) -> None:
        self.domain = "bench"
        self.identity = "bench"
        self.converter = DataConverter()
        self.transport = self
        newest_first = list(reversed(sim.history.events))
        chunks = [newest_first[i : i + PAGE_SIZE] for i in range(0, len(newest_first), PAGE_SIZE)]
        self.pages: list[dict[str, Any]] = [
            {"events": chunk, "nextPageToken": str(n + 1) if n + 1 < len(chunks) else None}
            for n, chunk in enumerate(chunks)
        ]
        self.first_page: dict[str, Any] = {
            **self.pages[0],
            "taskToken": "token",
            "startedEventId": started,
            "previousStartedEventId": previous,
            "workflowExecution": {"workflowId": "b", "runId": sim.run_id},
            "workflowType": {"name": "Bench", "version": sim.definition.version},
        }

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        assert operation == "PollForDecisionTask"
        return self.pages[int(params["nextPageToken"])]


def fresh(sim: Simulation) -> WorkflowInstance:
    return WorkflowInstance(
        sim.definition,
        domain="bench",
        workflow_id="b",
        run_id=sim.run_id,
        converter=DataConverter(),
    )


async def cpu(
    prepare: Callable[[], Awaitable[Any]], run: Callable[[], Awaitable[Any]], repeat: int
) -> float:
    """The median CPU seconds of ``run()``, each sample after an untimed ``prepare()``."""
    samples = []
    for _ in range(repeat):
        await prepare()
        begin = time.process_time()
        await run()
        samples.append(time.process_time() - begin)
    return statistics.median(samples)


async def measure(events: int, repeat: int) -> tuple[int, float, float]:
    sim, started = build(events)
    previous = sim.instance
    assert previous is not None
    last = previous.last_started_id
    service = PagedHistory(sim, started, last)
    poller = DecisionPoller(
        service,  # type: ignore[arg-type]
        "bench",
        [sim.definition],
        DecisionWorkerOptions(max_cached_workflows=1),
    )

    cached_instance: list[WorkflowInstance] = []

    async def cache_live_instance() -> None:
        # What the previous task left in the cache: an instance that decided it.
        instance = fresh(sim)
        known = [e for e in sim.history.events if e["eventId"] <= last]
        activation = instance.run_to_completion(known, last)
        assert activation.failure is None
        poller._cache.put(instance)
        cached_instance[:] = [instance]

    async def nothing() -> None:
        cached_instance.clear()

    async def decide() -> None:
        instance, activation = await poller._decide(sim.definition, service.first_page)
        assert activation.failure is None
        assert activation.decisions
        # The cached path must not have fallen back to a full replay.
        assert (instance in cached_instance) == bool(cached_instance)
        instance.close()

    cached = await cpu(cache_live_instance, decide, repeat)
    replay = await cpu(nothing, decide, repeat)
    sim.close()
    return len(sim.history.events), cached, replay


async def run(sizes: list[int], repeat: int) -> None:
    print(f"{'events':>8} {'cache on (ms)':>14} {'cache off (ms)':>15} {'replay events/s':>16}")
    for target in sizes:
        count, cached, replay = await measure(target, repeat)
        rate = count / replay if replay else float("inf")
        print(f"{count:>8} {cached * 1000:>14.3f} {replay * 1000:>15.2f} {rate:>16,.0f}")


def main() -> None:
    assert __doc__ is not None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="samples per measurement")
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=list(SIZES),
        help="approximate history lengths, in events",
    )
    args = parser.parse_args()
    if args.repeat < 1 or any(size < 1 for size in args.sizes):
        parser.error("--repeat and --sizes must be positive")
    asyncio.run(run(args.sizes, args.repeat))


if __name__ == "__main__":
    main()
