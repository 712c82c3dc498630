"""Decision-task CPU time of the workflow runtime, by history length, cache on and off.

Builds histories of about 100, 1,000 and 10,000 events of a workflow that runs activities one
after another, each ending with a decision task still to decide. Each measurement is the
process CPU time of the decision poller deciding that task (``DecisionPoller._decide``) from
an in-memory service that hands history out as SWF does: the JSON bodies of
PollForDecisionTask answers, newest event first, with ``nextPageToken``. That covers parsing
the answers (as the transport does), the cache lookup, reading the pages, sorting the events,
applying them, running the workflow code and matching its decisions; it leaves out the
network and the answer (RespondDecisionTaskCompleted).

* cache on: the run's live instance is in the cache and decided the previous task, so the
  poller asks for a small page (as it does on its sticky task list) and stops at the events
  it knows;
* cache off: no instance is cached, so every page (1,000 events each) is read and the whole
  history replayed;
* botocore: cache off again, the answers parsed by botocore's standard parser instead of the
  transport's, the baseline of the parsing;
* no sandbox: cache off again, the workflow declared ``sandboxed=False``: the cost of the
  sandbox's guards is the difference.

Replay throughput is the history's length over the cache-off time, with and without the
sandbox. Below the table, the sandbox's module-state check (see ``aioswf._sandbox.
module_state``) is timed on its own, per workflow step: for the workflow above, and for one
whose code names 40 module-level constants, 10 of them small lists and dicts.

Run it with::

    python benchmarks/bench_decider.py [--repeat N] [--sizes 100 1000 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import botocore.session
from aiobotocore.parsers import AioResponseParserFactory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aioswf import activity, workflow
from aioswf._decider import WorkflowInstance
from aioswf._pollers.decision import DecisionPoller, DecisionWorkerOptions
from aioswf._sandbox.module_state import state_watch
from aioswf._transport.parsing import SWFParserFactory
from aioswf.converter import DataConverter
from tests.workflow.histories import Simulation

EVENTS_PER_STEP = 6  # decision scheduled/started/completed, activity scheduled/started/completed
PAGE_SIZE = 1_000  # SWF's default maximumPageSize
SMALL_PAGE = 16  # what the poller asks for on its sticky task list at first
_OUTPUT = (
    botocore.session.get_session()
    .get_service_model("swf")
    .operation_model("PollForDecisionTask")
    .output_shape
)
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


NAMES = {f"LIMIT_{n}": n for n in range(30)}
TABLES = {
    f"TABLE_{n}": list(range(n * 5)) if n % 2 else {str(i): i for i in range(n * 5)}
    for n in range(10)
}
globals().update(NAMES)
globals().update(TABLES)
WIDE_SOURCE = "\n".join(
    [
        "@workflow.defn(name='Wide')",
        "class Wide:",
        "    @workflow.run",
        "    async def run(self) -> int:",
        f"        return sum(({' + '.join(NAMES)}, {', '.join(f'len({t})' for t in TABLES)}))",
    ]
)
exec(WIDE_SOURCE)


def check_cost(cls: type, steps: int = 20_000) -> tuple[int, float]:
    """How many names the module-state check watches for ``cls``, and its CPU seconds per
    step (a snapshot before the step and a comparison after)."""
    watch = state_watch(cls)
    watching = watch.watching("bench")  # one per run, entered by each of its steps
    begin = time.process_time()
    for _ in range(steps):
        with watching:
            pass
    return len(watch.spots), (time.process_time() - begin) / steps


def build(events: int) -> tuple[Simulation, int]:
    """A history of about ``events`` events, ending with a decision task still to decide."""
    steps = max(1, events // EVENTS_PER_STEP)
    sim = Simulation(Bench, steps + 10)
    for n in range(steps):
        sim.decide()
        sim.history.activity_completed(f"{n + 1}", n + 1)
    started = sim.history.start_decision_task()
    return sim, started


def _wire(event: dict[str, Any]) -> dict[str, Any]:
    """An event as SWF sends it: the timestamp in epoch seconds."""
    stamp = event.get("eventTimestamp")
    return {**event, "eventTimestamp": stamp.timestamp() if hasattr(stamp, "timestamp") else stamp}


class PagedHistory:
    """Stands in for the client: the JSON bodies of PollForDecisionTask pages, newest event
    first, parsed on each call by ``parser`` as the transport would."""

    def __init__(self, sim: Simulation, started: int, previous: int, parser: Any) -> None:
        self.domain = "bench"
        self.identity = "bench"
        self.converter = DataConverter()
        self.transport = self
        self.parser = parser
        self._newest_first = [_wire(e) for e in reversed(sim.history.events)]
        self._task = {
            "taskToken": "token",
            "startedEventId": started,
            "previousStartedEventId": previous,
            "workflowExecution": {"workflowId": "b", "runId": sim.run_id},
            "workflowType": {"name": "Bench", "version": sim.definition.version},
        }
        self._bodies: dict[tuple[int, int], bytes] = {}

    def body(self, size: int, number: int) -> bytes:
        """Page ``number`` (from 0) of pages of ``size`` events, serialised once."""
        if (size, number) not in self._bodies:
            events = self._newest_first[number * size : (number + 1) * size]
            page: dict[str, Any] = {**self._task, "events": events}
            if (number + 1) * size < len(self._newest_first):
                page["nextPageToken"] = str(number + 1)
            self._bodies[size, number] = json.dumps(page).encode()
        return self._bodies[size, number]

    async def parse(self, size: int, number: int) -> dict[str, Any]:
        response = {"status_code": 200, "headers": {}, "body": self.body(size, number)}
        parsed: dict[str, Any] = await self.parser.parse(response, _OUTPUT)
        parsed.pop("ResponseMetadata", None)
        return parsed

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        assert operation == "PollForDecisionTask"
        return await self.parse(params["maximumPageSize"], int(params["nextPageToken"]))


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


async def measure(events: int, repeat: int) -> tuple[int, float, float, float, float]:
    sim, started = build(events)
    previous = sim.instance
    assert previous is not None
    last = previous.last_started_id
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

    def deciding(parser: Any, sandboxed: bool = True) -> Callable[[], Awaitable[None]]:
        service = PagedHistory(sim, started, last, parser)
        definition = dataclasses.replace(sim.definition, sandboxed=sandboxed)

        async def decide() -> None:
            size = SMALL_PAGE if cached_instance else PAGE_SIZE
            poller.client = poller.pages.client = service  # type: ignore[assignment]
            first = await service.parse(size, 0)
            history = poller.pages.history(first, "bench", size)
            instance, activation = await poller._decide(definition, history)
            assert activation.failure is None
            assert activation.decisions
            # The cached path must not have fallen back to a full replay.
            assert (instance in cached_instance) == bool(cached_instance)
            instance.close()

        return decide

    poller = DecisionPoller(
        None,  # type: ignore[arg-type]
        "bench",
        [sim.definition],
        DecisionWorkerOptions(max_cached_workflows=1),
    )
    ours = SWFParserFactory().create_parser("json")
    standard = AioResponseParserFactory().create_parser("json")
    cached = await cpu(cache_live_instance, deciding(ours), repeat)
    replay = await cpu(nothing, deciding(ours), repeat)
    replay_botocore = await cpu(nothing, deciding(standard), repeat)
    unguarded = await cpu(nothing, deciding(ours, sandboxed=False), repeat)
    sim.close()
    return len(sim.history.events), cached, replay, replay_botocore, unguarded


async def run(sizes: list[int], repeat: int) -> None:
    print(
        f"{'events':>8} {'cache on (ms)':>14} {'cache off (ms)':>15} {'replay events/s':>16}"
        f" {'botocore (ms)':>14} {'no-sandbox events/s':>20}"
    )
    for target in sizes:
        count, cached, replay, standard, unguarded = await measure(target, repeat)
        rate = count / replay if replay else float("inf")
        bare = count / unguarded if unguarded else float("inf")
        print(
            f"{count:>8} {cached * 1000:>14.3f} {replay * 1000:>15.2f} {rate:>16,.0f}"
            f" {standard * 1000:>14.2f} {bare:>20,.0f}"
        )
    for cls in (Bench, globals()["Wide"]):
        names, seconds = check_cost(cls)
        print(
            f"module-state check, {cls.__name__}: {names} names watched,"
            f" {seconds * 1e6:.2f} µs per step"
        )


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
