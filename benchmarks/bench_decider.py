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

Each task is decided inside the poller's hold on the garbage collector's full collections,
as its poll loop decides them (``DecisionWorkerOptions.hold_full_collections``; ``--no-hold``
measures without it).

Replay throughput is the history's length over the cache-off time, with and without the
sandbox. A second table splits the cache-off time (medians of each part over the same
samples): parsing the pages; the activation (applying the events and running the code on the
workflow thread, and handing it there and back); the poller around them (reading and
ordering the pages, the cache, preparing the events) as what is left; the garbage
collector's share of the task; and the Python calls that one cache-off task makes, on any
thread (a count that the machine's load does not move). Below, the sandbox's module-state check (see ``aioswf._sandbox.module_state``) is
timed on its own, per workflow step and per replayed step: for the workflow above, and for
one whose code names 40 module-level constants, 10 of them small lists and dicts.

Run it with::

    python benchmarks/bench_decider.py [--repeat N] [--sizes 100 1000 10000] [--no-hold]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import botocore.session
from aiobotocore.parsers import AioResponseParserFactory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aioswf import activity, workflow
from aioswf._decider import Activation, WorkflowInstance
from aioswf._pollers._activation import ActivationExecutor
from aioswf._pollers.decision import DecisionPoller, DecisionWorkerOptions
from aioswf._sandbox.module_state import state_watch, steps_in_a_row
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


def check_cost(cls: type, steps: int = 20_000) -> tuple[int, float, float]:
    """How many names the module-state check watches for ``cls``, and its CPU seconds per
    step (a snapshot before the step and a comparison after) and per replayed step of an
    executor's batch (see ``steps_in_a_row``)."""
    watch = state_watch(cls)
    watching = watch.watching("bench")  # one per run, entered by each of its steps
    begin = time.process_time()
    for _ in range(steps):
        with watching:
            pass
    each = (time.process_time() - begin) / steps
    with steps_in_a_row():
        begin = time.process_time()
        for _ in range(steps):
            watching.__enter__()
            watching.step_ended(None, replayed=True)
        replayed = (time.process_time() - begin) / steps
    return len(watch.spots), each, replayed


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
        begin = _clock()
        parsed: dict[str, Any] = await self.parser.parse(response, _OUTPUT)
        METERS.parsing += _clock() - begin
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


_clock = getattr(time.process_time, "__wrapped__", time.process_time)
"""The clock itself, not the sandbox's guard: a collection may start inside a workflow step."""


class Meters:
    """CPU seconds spent so far in parts of a decision task, and the collector's."""

    def __init__(self) -> None:
        self.parsing = 0.0
        self.activating = 0.0
        self.collecting = 0.0
        self._collection_began = 0.0

    def read(self) -> tuple[float, float, float]:
        return self.parsing, self.activating, self.collecting

    def collection(self, phase: str, info: dict[str, Any]) -> None:
        """A ``gc.callbacks`` entry."""
        if phase == "start":
            self._collection_began = _clock()
        else:
            self.collecting += _clock() - self._collection_began


METERS = Meters()


class TimedActivations:
    """The poller's activation executor, its activations timed: the activation itself on
    the workflow thread, and the hand-over there and back."""

    def __init__(self, executor: ActivationExecutor) -> None:
        self.executor = executor

    async def activate(
        self, instance: WorkflowInstance, events: Sequence[Any], started: int
    ) -> Activation:
        begin = _clock()
        try:
            return await self.executor.activate(instance, events, started)
        finally:
            METERS.activating += _clock() - begin

    async def close(self, instance: WorkflowInstance) -> None:
        await self.executor.close(instance)

    def shutdown(self) -> None:
        self.executor.shutdown()


@dataclasses.dataclass
class Cost:
    """Medians over the samples of the CPU seconds of a task, and of its parts."""

    seconds: float
    parsing: float = 0.0
    activating: float = 0.0
    collecting: float = 0.0

    @property
    def poller(self) -> float:
        """What is neither parsing nor the activation."""
        return self.seconds - self.parsing - self.activating


async def cpu(
    prepare: Callable[[], Awaitable[Any]], run: Callable[[], Awaitable[Any]], repeat: int
) -> Cost:
    """The median CPU seconds of ``run()``, each sample after an untimed ``prepare()``."""
    samples: list[tuple[float, ...]] = []
    for _ in range(repeat):
        await prepare()
        before = METERS.read()
        begin = time.process_time()
        await run()
        seconds = time.process_time() - begin
        parts = (now - then for now, then in zip(METERS.read(), before, strict=True))
        samples.append((seconds, *parts))
    return Cost(*(statistics.median(column) for column in zip(*samples, strict=True)))


def python_calls(run: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[int]]:
    """``run``, counting the Python calls it makes on this thread and on threads started
    meanwhile (the poller's workflow thread, if new)."""
    calls = 0

    def count(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    async def counted() -> int:
        threading.setprofile(count)
        sys.setprofile(count)
        try:
            await run()
        finally:
            sys.setprofile(None)
            threading.setprofile(None)
        return calls

    return counted


@dataclasses.dataclass
class Measured:
    events: int
    cached: Cost
    replay: Cost
    botocore: Cost
    unguarded: Cost
    calls: int


async def measure(events: int, repeat: int, hold: bool) -> Measured:
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
        shared._cache.put(instance)
        cached_instance[:] = [instance]

    async def nothing() -> None:
        cached_instance.clear()

    def new_poller() -> DecisionPoller:
        options = DecisionWorkerOptions(max_cached_workflows=1, hold_full_collections=hold)
        poller = DecisionPoller(None, "bench", [sim.definition], options)  # type: ignore[arg-type]
        poller.executor = TimedActivations(poller.executor)
        return poller

    def deciding(
        parser: Any, sandboxed: bool = True, poller: DecisionPoller | None = None
    ) -> Callable[[], Awaitable[None]]:
        service = PagedHistory(sim, started, last, parser)
        definition = dataclasses.replace(sim.definition, sandboxed=sandboxed)
        deciding_poller = poller or shared

        async def decide() -> None:
            size = SMALL_PAGE if cached_instance else PAGE_SIZE
            deciding_poller.client = deciding_poller.pages.client = service  # type: ignore[assignment]
            with deciding_poller._collections_held():  # as the poll loop decides a task
                first = await service.parse(size, 0)
                history = deciding_poller.pages.history(first, "bench", size)
                instance, activation = await deciding_poller._decide(definition, history)
            assert activation.failure is None
            assert activation.decisions
            # The cached path must not have fallen back to a full replay.
            assert (instance in cached_instance) == bool(cached_instance)
            instance.close()

        return decide

    shared = new_poller()
    ours = SWFParserFactory().create_parser("json")
    standard = AioResponseParserFactory().create_parser("json")
    cached = await cpu(cache_live_instance, deciding(ours), repeat)
    replay = await cpu(nothing, deciding(ours), repeat)
    replay_botocore = await cpu(nothing, deciding(standard), repeat)
    unguarded = await cpu(nothing, deciding(ours, sandboxed=False), repeat)
    counting = new_poller()  # its workflow thread starts while the calls are counted
    calls = await python_calls(deciding(ours, poller=counting))()
    counting.executor.shutdown()
    shared.executor.shutdown()
    sim.close()
    return Measured(len(sim.history.events), cached, replay, replay_botocore, unguarded, calls)


async def run(sizes: list[int], repeat: int, hold: bool) -> None:
    gc.callbacks.append(METERS.collection)
    print(
        f"{'events':>8} {'cache on (ms)':>14} {'cache off (ms)':>15} {'replay events/s':>16}"
        f" {'botocore (ms)':>14} {'no-sandbox events/s':>20}"
    )
    results = []
    for target in sizes:
        m = await measure(target, repeat, hold)
        results.append(m)
        rate = m.events / m.replay.seconds if m.replay.seconds else float("inf")
        unguarded = m.unguarded.seconds
        bare = m.events / unguarded if unguarded else float("inf")
        print(
            f"{m.events:>8} {m.cached.seconds * 1000:>14.3f} {m.replay.seconds * 1000:>15.2f}"
            f" {rate:>16,.0f} {m.botocore.seconds * 1000:>14.2f} {bare:>20,.0f}"
        )
    held = "full collections held, as the poller holds them" if hold else "nothing held"
    print(f"cache off, where the time goes (ms; {held}):")
    print(
        f"{'events':>8} {'parsing':>9} {'poller':>9} {'activation':>11} {'collector':>10}"
        f" {'Python calls':>13}"
    )
    for m in results:
        r = m.replay
        print(
            f"{m.events:>8} {r.parsing * 1000:>9.2f} {r.poller * 1000:>9.2f}"
            f" {r.activating * 1000:>11.2f} {r.collecting * 1000:>10.2f} {m.calls:>13,}"
        )
    for cls in (Bench, globals()["Wide"]):
        names, each, replayed = check_cost(cls)
        print(
            f"module-state check, {cls.__name__}: {names} names watched,"
            f" {each * 1e6:.2f} µs per step, {replayed * 1e6:.2f} µs per replayed step"
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
    parser.add_argument(
        "--no-hold",
        action="store_true",
        help="decide without the poller's hold on full garbage collections",
    )
    args = parser.parse_args()
    if args.repeat < 1 or any(size < 1 for size in args.sizes):
        parser.error("--repeat and --sizes must be positive")
    asyncio.run(run(args.sizes, args.repeat, hold=not args.no_hold))


if __name__ == "__main__":
    main()
