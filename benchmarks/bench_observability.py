"""The cost of tracing and metrics on workflow throughput, against the same run without them.

The SWF endpoint is ``aioswf dev`` in a second process, as in ``bench_workflows.py``. Two
shapes, each run plain (no interceptors, ``meter=None``) and observed (the
``TracingInterceptor`` on an OpenTelemetry SDK tracer provider whose spans go through a
``SimpleSpanProcessor`` to an exporter that drops them, and the worker's metrics on an SDK
meter provider), interleaved round by round so that load on the machine hits both alike:

* chain: one workflow running ``N`` activities one after another; the figures are the time
  from the start to ``result()`` per step, and the CPU time this process (client and worker)
  spent per step;
* many: ``M`` one-activity workflows started at once, every ``result()`` awaited; the figures
  are workflows per second, and this process's CPU time per workflow.

The CPU time is what tracing and metrics add to a worker's own work: it is less disturbed by
other load on the machine than the elapsed time, which also counts the service and the
network. Each round runs plain and observed back to back (which goes first alternates), and
the cost is the median over the rounds of each pair's ratio, observed over plain, minus one:
a load that comes and goes shifts a pair together rather than one side. The plain and
observed columns are the medians of each side.

Before each run the garbage collector is run and what survives is frozen (``gc.freeze()``,
as servers commonly do after start-up): a full collection walks the whole heap (botocore's
service models, every imported module), some 0.1 s here, and whether one happens to fall in
a round would otherwise decide that round's figure. What a run allocates is still collected.
Also printed: the spans made and measurements recorded per step or per workflow, and the
Python function calls this process made per step or per workflow, plain and observed, counted
in one more run of each (with a profile hook, so not timed): a figure that load on the
machine does not move, for when the timed ones do.

Run it with::

    python benchmarks/bench_observability.py [--steps 200] [--many 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import statistics
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_workflows import DOMAIN, Chain, One, interleaved, local_service, register
from bench_workflows import step as step_activity
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from plain_swf import plain_client

from aioswf import Client, Worker
from aioswf.contrib.opentelemetry import TracingInterceptor
from aioswf.interceptors import Interceptor

_ids = itertools.count()


def _settled() -> None:
    """Collect, then freeze what survived: a run pays for its own garbage only."""
    gc.collect()
    gc.freeze()


class _Dropped(SpanExporter):
    """Takes every span and keeps none: the SDK's work is measured, not an exporter's."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


class Observed:
    """Tracing and metrics on the OpenTelemetry SDK."""

    def __init__(self) -> None:
        self.exporter = _Dropped()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.interceptors: list[Interceptor] = [TracingInterceptor(provider)]
        self.reader = InMemoryMetricReader()
        self.meter: Any = MeterProvider(metric_readers=[self.reader]).get_meter("bench")

    def measurements(self) -> int:
        """How many measurements the histograms hold so far."""
        data = self.reader.get_metrics_data()
        if data is None:
            return 0
        return sum(
            getattr(point, "count", 0)
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
            for point in metric.data.data_points
        )


async def chain(endpoint: str, steps: int, observed: Observed | None) -> tuple[float, float]:
    interceptors = observed.interceptors if observed else []
    async with Client(DOMAIN, endpoint_url=endpoint, interceptors=interceptors) as client:
        task_list = f"chain-{next(_ids)}"
        async with Worker(
            client,
            task_list=task_list,
            workflows=[Chain],
            activities=[step_activity],
            meter=observed.meter if observed else None,
        ):
            _settled()
            began, cpu = time.perf_counter(), time.process_time()
            handle = await client.start_workflow(
                Chain.run, steps, workflow_id=f"chain-{next(_ids)}", task_list=task_list
            )
            assert await handle.result() == steps
            elapsed, used = time.perf_counter() - began, time.process_time() - cpu
            return elapsed / steps, used / steps


async def many(endpoint: str, count: int, observed: Observed | None) -> tuple[float, float]:
    interceptors = observed.interceptors if observed else []
    async with Client(DOMAIN, endpoint_url=endpoint, interceptors=interceptors) as client:
        task_list = f"many-{next(_ids)}"
        async with Worker(
            client,
            task_list=task_list,
            workflows=[One],
            activities=[step_activity],
            meter=observed.meter if observed else None,
        ):
            _settled()
            began, cpu = time.perf_counter(), time.process_time()
            handles = await asyncio.gather(
                *(
                    client.start_workflow(
                        One.run, workflow_id=f"many-{next(_ids)}", task_list=task_list
                    )
                    for _ in range(count)
                )
            )
            results = await asyncio.gather(*(h.result() for h in handles))
            elapsed, used = time.perf_counter() - began, time.process_time() - cpu
    assert results == [1] * count
    return count / elapsed, used / count


Row = tuple[str, float, float, float, str]
"""A figure: its name, plain and observed medians, the median paired cost, and its unit kind."""


async def main(args: argparse.Namespace) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    notes: list[str] = []
    observed = Observed()
    async with local_service() as endpoint:
        async with plain_client(endpoint, 64) as swf:
            await register(swf)
        await chain(endpoint, 3, observed)  # imports, registrations and connections are warm
        await chain(endpoint, 3, None)
        if args.steps:
            plain, traced, work = await _paired(
                args.repeat,
                lambda: chain(endpoint, args.steps, None),
                lambda: chain(endpoint, args.steps, observed),
                observed,
            )
            name = f"chain of {args.steps}"
            rows.append((f"{name}, ms/step", *_figures(plain, traced, 0, 1000), "time"))
            rows.append((f"{name}, CPU ms/step", *_figures(plain, traced, 1, 1000), "time"))
            plain_calls = await _calls(lambda: chain(endpoint, args.steps, None))
            traced_calls = await _calls(lambda: chain(endpoint, args.steps, observed))
            rows.append(_calls_row(f"{name}, calls/step", plain_calls, traced_calls, args.steps))
            notes.append(_per(work, args.steps * args.repeat, "step"))
        if args.many:
            plain, traced, work = await _paired(
                args.repeat,
                lambda: many(endpoint, args.many, None),
                lambda: many(endpoint, args.many, observed),
                observed,
            )
            name = f"{args.many} workflows"
            rows.append((f"{name}, wf/s", *_figures(plain, traced, 0, 1), "rate"))
            rows.append((f"{name}, CPU ms/wf", *_figures(plain, traced, 1, 1000), "time"))
            plain_calls = await _calls(lambda: many(endpoint, args.many, None))
            traced_calls = await _calls(lambda: many(endpoint, args.many, observed))
            rows.append(_calls_row(f"{name}, calls/wf", plain_calls, traced_calls, args.many))
            notes.append(_per(work, args.many * args.repeat, "workflow"))
    assert observed.exporter.spans > 0, "the observed runs made no spans"
    return rows, notes


Pair = tuple[float, float]


async def _paired(
    rounds: int,
    plain: Callable[[], Awaitable[Pair]],
    traced: Callable[[], Awaitable[Pair]],
    observed: Observed,
) -> tuple[list[Pair], list[Pair], tuple[int, int]]:
    """Both measures ``rounds`` times, in pairs; and the spans and measurements the observed
    runs made."""
    spans, measurements = observed.exporter.spans, observed.measurements()
    plain_runs, traced_runs = await interleaved(rounds, plain, traced)
    work = (observed.exporter.spans - spans, observed.measurements() - measurements)
    return plain_runs, traced_runs, work


class _CallCounter:
    """A profile hook counting function calls (Python and C), on every thread it is set on."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call" or event == "c_call":
            self.calls += 1


async def _calls(measure: Callable[[], Awaitable[Pair]]) -> int:
    """The function calls this process makes during ``measure`` (its threads' included)."""
    counter = _CallCounter()
    threading.setprofile(counter)  # the worker's threads, started inside the measure
    sys.setprofile(counter)
    try:
        await measure()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return counter.calls


def _calls_row(name: str, plain: int, traced: int, units: int) -> Row:
    return (name, plain / units, traced / units, traced / plain, "time")


def _figures(
    plain: list[Pair], traced: list[Pair], index: int, scale: float
) -> tuple[float, float, float]:
    """The medians of each side, and the median over the pairs of observed over plain."""
    ratios = [t[index] / p[index] for p, t in zip(plain, traced, strict=True)]
    return (
        statistics.median(p[index] for p in plain) * scale,
        statistics.median(t[index] for t in traced) * scale,
        statistics.median(ratios),
    )


def _per(work: tuple[int, int], units: int, unit: str) -> str:
    spans, measurements = work
    return (
        f"per {unit}: {spans / units:.1f} spans, {measurements / units:.1f} measurements "
        "recorded (histograms; the counters are counted and read at collection)"
    )


def show(rows: list[Row], notes: list[str]) -> None:
    print(f"{'shape':<32} {'plain':>10} {'observed':>10} {'cost':>8}")
    for name, plain, traced, ratio, kind in rows:
        # A time grows with the cost; a rate shrinks.
        cost = ratio - 1 if kind == "time" else 1 / ratio - 1
        digits = 0 if "calls" in name else 2
        print(f"{name:<32} {plain:>10.{digits}f} {traced:>10.{digits}f} {cost:>+8.1%}")
    for note in notes:
        print(note)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="0 skips the chain")
    parser.add_argument("--many", type=int, default=200, help="0 skips the many")
    parser.add_argument("--repeat", type=int, default=5)
    show(*asyncio.run(main(parser.parse_args())))
