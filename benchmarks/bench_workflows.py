"""Whole workflows end to end: aioswf against a bare aiobotocore loop, in the same run.

The SWF endpoint is ``aioswf dev`` in a second process (as a real service would be), so the
figures include the network, the service's serialisation and botocore's parsing on both sides.

* chain: one workflow running ``N`` activities one after another (N = 50, 300, 3,000 by
  default). The time is the service's own, from the execution's start to its close
  (``DescribeWorkflowExecution``), divided by ``N`` for the time per step. The baseline is a
  hand-written decider and activity loop on plain aiobotocore that reads only the five newest
  events of each decision task (newest-first pages of 5), which is all it needs. Also
  printed: the CPU time per step of this process (client and worker) and of the service
  process. On a shared machine the time per step follows the load; the CPU per step shows
  what grows with the history, if anything does.
* many: 300 one-activity workflows started at once, every ``handle.result()`` awaited, in one
  process; the rate is workflows per second from the first start to the last result. The
  baseline starts as many on plain aiobotocore and stops when its decider has closed the last
  one (it waits for no result at all), with as many decision and activity polls in flight
  as aioswf's worker and as many pooled connections as aioswf's client. One unmeasured
  round of each side comes first. Also printed: the GetWorkflowExecutionHistory and
  List*WorkflowExecutions calls the waiting made, and the CPU time per workflow of this
  process and of the service on each side (steadier than the rate on a loaded machine).

Each figure is the median of ``--repeat`` rounds, aioswf and the baseline interleaved so that
load on the machine hits both alike; the ratio is aioswf's time over the baseline's (for
``many``, the ratio of each round is printed too).

Run it with::

    python benchmarks/bench_workflows.py [--steps 50 300 3000] [--many 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from plain_swf import plain_client

from aioswf import Client, ConnectionOptions, Worker, activity, workflow

DOMAIN = "bench"
BARE_TYPE = {"name": "BareChain", "version": "1"}
BARE_ACTIVITY = {"name": "bare.step", "version": "1"}
_ids = itertools.count()


@activity.defn(name="bench.step", start_to_close_timeout=timedelta(minutes=5))
async def step(n: int) -> int:
    return n + 1


@workflow.defn(name="BenchChain", execution_start_to_close_timeout=timedelta(hours=2))
class Chain:
    @workflow.run
    async def run(self, steps: int) -> int:
        total = 0
        for _ in range(steps):
            total = await workflow.execute_activity(step, total)
        return total


# --- the service, in a second process --------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_SERVE = "import sys; from aioswf.cli import main; sys.exit(main())"


_service_pids: dict[str, int] = {}
"""The process of each endpoint that :func:`local_service` started."""


def cpu_seconds(endpoint: str) -> tuple[float, float]:
    """CPU seconds used so far by this process and by the service at ``endpoint`` (0 where
    the system does not tell: ``/proc`` is Linux's)."""
    ours = time.process_time()
    try:
        with open(f"/proc/{_service_pids[endpoint]}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (KeyError, OSError):
        return ours, 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ours, ticks / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def local_service() -> AsyncIterator[str]:
    """``aioswf dev`` in a child process; yields its endpoint."""
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-c", _SERVE, "dev", "--port", str(port)),
        *("--long-poll-seconds", "2", "--log-level", "WARNING"),
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connecting = asyncio.open_connection("127.0.0.1", port)
                _, writer = await asyncio.wait_for(connecting, 1)
                writer.close()
                break
            except (OSError, TimeoutError):
                if time.monotonic() > deadline or process.returncode is not None:
                    raise RuntimeError("aioswf dev did not start") from None
                await asyncio.sleep(0.05)
        endpoint = f"http://127.0.0.1:{port}"
        _service_pids[endpoint] = process.pid
        yield endpoint
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            print("aioswf dev did not stop within 15 s of SIGTERM; killed", file=sys.stderr)
            process.kill()
            await process.wait()


async def register(swf: Any) -> None:
    with contextlib.suppress(swf.exceptions.DomainAlreadyExistsFault):
        await swf.register_domain(name=DOMAIN, workflowExecutionRetentionPeriodInDays="1")
    with contextlib.suppress(swf.exceptions.TypeAlreadyExistsFault):
        await swf.register_workflow_type(
            domain=DOMAIN,
            **BARE_TYPE,
            defaultTaskStartToCloseTimeout="60",
            defaultExecutionStartToCloseTimeout="7200",
            defaultChildPolicy="TERMINATE",
        )
    with contextlib.suppress(swf.exceptions.TypeAlreadyExistsFault):
        await swf.register_activity_type(
            domain=DOMAIN,
            **BARE_ACTIVITY,
            defaultTaskStartToCloseTimeout="300",
            defaultTaskScheduleToStartTimeout="300",
            defaultTaskScheduleToCloseTimeout="600",
            defaultTaskHeartbeatTimeout="NONE",
        )


# --- the baseline: a decider and an activity worker on plain aiobotocore --------------------


def _schedule(n: int, task_list: str) -> dict[str, Any]:
    return {
        "decisionType": "ScheduleActivityTask",
        "scheduleActivityTaskDecisionAttributes": {
            "activityType": BARE_ACTIVITY,
            "activityId": str(n),
            "input": str(n),
            "taskList": {"name": task_list},
        },
    }


def _bare_decisions(events: list[dict[str, Any]], steps: int, task_list: str) -> list[Any]:
    """What the bare decider decides from the newest events: the next step, or the close."""
    for event in events:
        kind = event["eventType"]
        if kind == "ActivityTaskCompleted":
            done = int(event["activityTaskCompletedEventAttributes"]["result"])
            if done >= steps:
                attrs = {"result": str(done)}
                return [
                    {
                        "decisionType": "CompleteWorkflowExecution",
                        "completeWorkflowExecutionDecisionAttributes": attrs,
                    }
                ]
            return [_schedule(done, task_list)]
        if kind == "WorkflowExecutionStarted":
            return [_schedule(0, task_list)]
    return []  # nothing new that this decider acts on


async def bare_decider(swf: Any, task_list: str, steps: int, closes: Callable[[], None]) -> None:
    while True:
        task = await swf.poll_for_decision_task(
            domain=DOMAIN, taskList={"name": task_list}, reverseOrder=True, maximumPageSize=5
        )
        if not task.get("taskToken"):
            continue
        decisions = _bare_decisions(task["events"], steps, task_list)
        await swf.respond_decision_task_completed(taskToken=task["taskToken"], decisions=decisions)
        if decisions and decisions[0]["decisionType"] == "CompleteWorkflowExecution":
            closes()


async def bare_activity_worker(swf: Any, task_list: str) -> None:
    while True:
        task = await swf.poll_for_activity_task(domain=DOMAIN, taskList={"name": task_list})
        if task.get("taskToken"):
            result = str(int(task["input"]) + 1)
            await swf.respond_activity_task_completed(taskToken=task["taskToken"], result=result)


@contextlib.asynccontextmanager
async def bare_workers(
    swf: Any, task_list: str, steps: int, closes: Callable[[], None], pollers: tuple[int, int]
) -> AsyncIterator[None]:
    tasks = [
        asyncio.create_task(bare_decider(swf, task_list, steps, closes)) for _ in range(pollers[0])
    ]
    tasks += [asyncio.create_task(bare_activity_worker(swf, task_list)) for _ in range(pollers[1])]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _service_seconds(swf: Any, workflow_id: str, run_id: str) -> float:
    execution = {"workflowId": workflow_id, "runId": run_id}
    info = (await swf.describe_workflow_execution(domain=DOMAIN, execution=execution))[
        "executionInfo"
    ]
    seconds: float = (info["closeTimestamp"] - info["startTimestamp"]).total_seconds()
    return seconds


class CPU:
    """CPU seconds of this process and of the service over a ``with`` block."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.ours = self.service = 0.0

    def __enter__(self) -> CPU:
        self._began = cpu_seconds(self.endpoint)
        return self

    def __exit__(self, *exc_info: object) -> None:
        ours, service = cpu_seconds(self.endpoint)
        self.ours, self.service = ours - self._began[0], service - self._began[1]


async def bare_chain(endpoint: str, steps: int) -> tuple[float, CPU]:
    with CPU(endpoint) as cpu:
        seconds = await _bare_chain(endpoint, steps)
    return seconds, cpu


async def _bare_chain(endpoint: str, steps: int) -> float:
    async with plain_client(endpoint, 64) as swf:
        await register(swf)
        task_list = f"bare-chain-{next(_ids)}"
        closed = asyncio.Event()
        async with bare_workers(swf, task_list, steps, closed.set, (2, 4)):
            workflow_id = f"bare-chain-{next(_ids)}"
            started = await swf.start_workflow_execution(
                domain=DOMAIN,
                workflowId=workflow_id,
                workflowType=BARE_TYPE,
                taskList={"name": task_list},
            )
            await closed.wait()
        await asyncio.sleep(0.05)  # the close is recorded
        return await _service_seconds(swf, workflow_id, started["runId"])


async def bare_many(endpoint: str, count: int) -> tuple[float, CPU]:
    with CPU(endpoint) as cpu:
        seconds = await _bare_many(endpoint, count)
    return seconds, cpu


async def _bare_many(endpoint: str, count: int) -> float:
    # As many connections as aioswf's client has by default: the starts queue for them on
    # both sides alike, and neither opens hundreds of connections per round.
    async with plain_client(endpoint, ConnectionOptions().max_pool_connections) as swf:
        await register(swf)
        task_list = f"bare-many-{next(_ids)}"
        remaining = count
        all_closed = asyncio.Event()

        def closes() -> None:
            nonlocal remaining
            remaining -= 1
            if remaining == 0:
                all_closed.set()

        # As many polls in flight as aioswf's worker has: its two decision pollers poll the
        # shared and the sticky task list each, and four activity pollers.
        async with bare_workers(swf, task_list, 1, closes, (4, 4)):
            began = time.perf_counter()
            await asyncio.gather(
                *(
                    swf.start_workflow_execution(
                        domain=DOMAIN,
                        workflowId=f"bare-many-{next(_ids)}",
                        workflowType=BARE_TYPE,
                        taskList={"name": task_list},
                    )
                    for _ in range(count)
                )
            )
            await all_closed.wait()
            return time.perf_counter() - began


# --- aioswf --------------------------------------------------------------------------------


@workflow.defn(name="BenchOne", execution_start_to_close_timeout=timedelta(hours=1))
class One:
    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity(step, 0)


WAITING_CALLS = (
    "GetWorkflowExecutionHistory",
    "ListClosedWorkflowExecutions",
    "ListOpenWorkflowExecutions",
)
"""The calls a wait for results can make, counted in the many mode."""


def _count_calls(client: Client, counter: Counter[str]) -> None:
    """Count the calls of :data:`WAITING_CALLS` that ``client`` makes, by operation
    (botocore's own event, no patching). Only those: a handler on every call would cost
    aioswf's side alone a little CPU per call."""

    def seen(model: Any, **_: Any) -> None:
        counter[model.name] += 1

    for operation in WAITING_CALLS:
        client.transport._client.meta.events.register(f"before-call.swf.{operation}", seen)


async def aioswf_chain(endpoint: str, steps: int) -> tuple[float, float, CPU]:
    with CPU(endpoint) as cpu:
        service, to_result = await _aioswf_chain(endpoint, steps)
    return service, to_result, cpu


async def _aioswf_chain(endpoint: str, steps: int) -> tuple[float, float]:
    async with Client(DOMAIN, endpoint_url=endpoint) as client:
        task_list = f"chain-{next(_ids)}"
        async with Worker(client, task_list=task_list, workflows=[Chain], activities=[step]):
            began = time.perf_counter()
            handle = await client.start_workflow(
                Chain.run, steps, workflow_id=f"chain-{next(_ids)}", task_list=task_list
            )
            assert await handle.result() == steps
            to_result = time.perf_counter() - began
        async with plain_client(endpoint, 64) as swf:
            assert handle.first_run_id is not None
            return await _service_seconds(swf, handle.workflow_id, handle.first_run_id), to_result


async def aioswf_many(endpoint: str, count: int) -> tuple[float, Counter[str], CPU]:
    with CPU(endpoint) as cpu:
        elapsed, calls = await _aioswf_many(endpoint, count)
    return elapsed, calls, cpu


async def _aioswf_many(endpoint: str, count: int) -> tuple[float, Counter[str]]:
    calls: Counter[str] = Counter()
    async with Client(DOMAIN, endpoint_url=endpoint) as client:
        task_list = f"many-{next(_ids)}"
        async with Worker(client, task_list=task_list, workflows=[One], activities=[step]):
            _count_calls(client, calls)
            began = time.perf_counter()
            handles = await asyncio.gather(
                *(
                    client.start_workflow(
                        One.run, workflow_id=f"many-{next(_ids)}", task_list=task_list
                    )
                    for _ in range(count)
                )
            )
            results = await asyncio.gather(*(h.result() for h in handles))
            elapsed = time.perf_counter() - began
    assert results == [1] * count
    return elapsed, calls


# --- the rounds ----------------------------------------------------------------------------


async def interleaved(rounds: int, *measures: Callable[[], Awaitable[Any]]) -> list[list[Any]]:
    """Each measure ``rounds`` times, alternating which goes first."""
    results: list[list[Any]] = [[] for _ in measures]
    for index in range(rounds):
        order = list(enumerate(measures))
        if index % 2:
            order.reverse()
        for position, measure in order:
            results[position].append(await measure())
    return results


def _ms_each(seconds: list[float], count: int) -> float:
    """The median of ``seconds``, in milliseconds per one of ``count``."""
    return statistics.median(seconds) * 1000 / count


async def main(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {"chain": [], "many": None}
    async with local_service() as endpoint:
        async with plain_client(endpoint, 64) as swf:
            await register(swf)
        await aioswf_chain(endpoint, 5)  # imports, registrations and connections are warm
        for steps in args.steps:
            ours, bare = await interleaved(
                args.repeat,
                lambda steps=steps: aioswf_chain(endpoint, steps),
                lambda steps=steps: bare_chain(endpoint, steps),
            )
            service = statistics.median(o[0] for o in ours)
            to_result = statistics.median(o[1] for o in ours)
            baseline = statistics.median(b[0] for b in bare)
            report["chain"].append(
                {
                    "steps": steps,
                    "aioswf_s": service,
                    "aioswf_result_s": to_result,
                    "bare_s": baseline,
                    "ms_per_step": service * 1000 / steps,
                    "bare_ms_per_step": baseline * 1000 / steps,
                    "ratio": service / baseline,
                    "cpu_ms_per_step": _ms_each([o[2].ours for o in ours], steps),
                    "service_cpu_ms_per_step": _ms_each([o[2].service for o in ours], steps),
                    "bare_cpu_ms_per_step": _ms_each([b[1].ours for b in bare], steps),
                    "bare_service_cpu_ms_per_step": _ms_each([b[1].service for b in bare], steps),
                }
            )
        if args.many:
            # Both sides once first, unmeasured: the workflow type's registration, the first
            # runs' imports and the service's first executions of the mode are not measured.
            await aioswf_many(endpoint, 30)
            await bare_many(endpoint, 30)
            ours_many, bare = await interleaved(
                args.repeat,
                lambda: aioswf_many(endpoint, args.many),
                lambda: bare_many(endpoint, args.many),
            )
            elapsed = statistics.median(o[0] for o in ours_many)
            baseline = statistics.median(b[0] for b in bare)
            calls = ours_many[0][1]
            report["many"] = {
                "workflows": args.many,
                "aioswf_wf_per_s": args.many / elapsed,
                "bare_wf_per_s": args.many / baseline,
                "ratio": baseline / elapsed,
                "round_ratios": [b[0] / o[0] for o, b in zip(ours_many, bare, strict=True)],
                "history_calls": calls["GetWorkflowExecutionHistory"],
                "list_calls": calls["ListClosedWorkflowExecutions"]
                + calls["ListOpenWorkflowExecutions"],
                "cpu_ms_per_wf": _ms_each([o[2].ours for o in ours_many], args.many),
                "service_cpu_ms_per_wf": _ms_each([o[2].service for o in ours_many], args.many),
                "bare_cpu_ms_per_wf": _ms_each([b[1].ours for b in bare], args.many),
                "bare_service_cpu_ms_per_wf": _ms_each([b[1].service for b in bare], args.many),
            }
    return report


def show(report: dict[str, Any]) -> None:
    print("chain of sequential activities (service time, start to close; CPU ms per step of")
    print("this process + of the service)")
    print(
        f"{'steps':>6} {'aioswf s':>9} {'ms/step':>8} {'CPU/step':>13}"
        f" {'bare s':>8} {'ms/step':>8} {'CPU/step':>13} {'ratio':>6}"
    )
    for row in report["chain"]:
        ours = f"{row['cpu_ms_per_step']:.2f}+{row['service_cpu_ms_per_step']:.2f}"
        bare = f"{row['bare_cpu_ms_per_step']:.2f}+{row['bare_service_cpu_ms_per_step']:.2f}"
        print(
            f"{row['steps']:>6} {row['aioswf_s']:>9.2f} {row['ms_per_step']:>8.2f} {ours:>13}"
            f" {row['bare_s']:>8.2f} {row['bare_ms_per_step']:>8.2f} {bare:>13}"
            f" {row['ratio']:>6.2f}"
        )
    many = report["many"]
    if many:
        print(f"{many['workflows']} one-activity workflows, every result() awaited")
        print(
            f"aioswf {many['aioswf_wf_per_s']:.0f} wf/s, bare loop {many['bare_wf_per_s']:.0f}"
            f" wf/s, ratio {many['ratio']:.2f}; waiting made {many['history_calls']} history"
            f" and {many['list_calls']} list calls"
        )
        rounds = ", ".join(f"{r:.2f}" for r in many["round_ratios"])
        print(f"ratio of each round (aioswf and the bare loop one after the other): {rounds}")
        print(
            f"CPU ms per workflow, this process + the service: aioswf"
            f" {many['cpu_ms_per_wf']:.2f}+{many['service_cpu_ms_per_wf']:.2f}, bare loop"
            f" {many['bare_cpu_ms_per_wf']:.2f}+{many['bare_service_cpu_ms_per_wf']:.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[50, 300, 3000])
    parser.add_argument("--many", type=int, default=300, help="0 skips it")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args()
    figures = asyncio.run(main(arguments))
    if arguments.json:
        print(json.dumps(figures))
    else:
        show(figures)
