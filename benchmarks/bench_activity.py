"""Activity worker: memory of many long polls and running activities, and throughput.

Every measurement runs in its own child process, so that its memory is that process's alone;
the SWF endpoint (the local service, in this process, unless ``--endpoint`` names another)
and the hand-written decider that schedules the activities live in the parent.

* idle polls: resident memory of one process holding N idle ``PollForActivityTask`` polls;
* running: resident memory of one process running N activities at once (each waits);
* throughput: no-op activities completed per second by one Worker, next to two loops of
  PollForActivityTask + RespondActivityTaskCompleted with the same concurrency against the
  same endpoint: the ceiling, through aioswf's transport (the Worker's own calls, without the
  Worker), and a plain aiobotocore client (a default session, no aioswf code), what a
  hand-written worker would cost. Each reports its client CPU per task.

Run it with::

    python benchmarks/bench_activity.py [--polls 500] [--running 1000] [--tasks 3000]
                                        [--repeat 3] [--timeout 900]

The rates are medians over ``--repeat`` runs, worker and ceiling interleaved, so that a
passing disturbance of the machine moves both alike; run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from plain_swf import plain_client

from aioswf import Client, ConnectionOptions, activity
from aioswf._definitions import activity_definition
from aioswf.local import LocalSWF
from aioswf.worker import ActivityWorkerOptions, Worker

DOMAIN = "bench"
LONG_POLL = 1.0  # seconds the local service holds an empty poll; a shutdown waits for it
BATCH = 200  # activities scheduled by one decision (one execution each)
FLOW = {"name": "BenchFlow", "version": "1"}
_PAGE = 4096


def rss_mib() -> float:
    """Resident memory of this process now, in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 2**20


@activity.defn(name="bench.noop")
async def noop() -> None:
    return None


released = asyncio.Event()
_children: list[asyncio.subprocess.Process] = []


@activity.defn(name="bench.hold")
async def hold(seconds: float) -> None:
    # Held until every activity runs (not for a fixed time, which could end before the last
    # ones are picked up on a slow machine); ``seconds`` only bounds it.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(released.wait(), seconds)


# --- children: one measurement each, printing one JSON line ---------------------------------


def _client(endpoint: str, connections: int) -> Client:
    return Client(
        DOMAIN,
        endpoint_url=endpoint,
        connection=ConnectionOptions(max_pool_connections=connections),
    )


async def child_idle_polls(endpoint: str, task_list: str, polls: int) -> dict[str, Any]:
    async with _client(endpoint, polls + 8) as client:
        await client.call("DescribeDomain", name=DOMAIN)  # the connection and imports are warm
        before = rss_mib()
        options = ActivityWorkerOptions(pollers=polls, max_concurrent=polls)
        async with Worker(
            client, task_list=task_list, activities=[noop], activity_options=options
        ) as worker:
            await worker.wait_until_polling()  # every poll request is out
            during = rss_mib()
            await worker.shutdown()
    return {"before": before, "during": during}


async def child_running(endpoint: str, task_list: str, count: int) -> dict[str, Any]:
    async with _client(endpoint, 64) as client:
        await client.call("DescribeDomain", name=DOMAIN)
        before = rss_mib()
        options = ActivityWorkerOptions(pollers=32, max_concurrent=count)
        async with Worker(
            client, task_list=task_list, activities=[hold], activity_options=options
        ) as worker:
            print("ready", flush=True)
            peak, during = 0, before
            while peak < count:
                await asyncio.sleep(0.05)
                if worker.running_activities > peak:
                    peak, during = worker.running_activities, rss_mib()
            released.set()
            await worker.shutdown()
    return {"before": before, "during": during, "peak": peak}


async def child_worker_rate(
    endpoint: str, task_list: str, count: int, pollers: int
) -> dict[str, float]:
    async with _client(endpoint, pollers + 16) as client:
        options = ActivityWorkerOptions(pollers=pollers, max_concurrent=pollers * 4)
        done = 0
        all_done = asyncio.Event()

        @activity.defn(name="bench.noop")
        async def counted() -> None:
            nonlocal done
            done += 1
            if done == count:
                all_done.set()

        worker = Worker(client, task_list=task_list, activities=[counted], activity_options=options)
        await worker.start()
        print("ready", flush=True)
        await _until(lambda: worker.running_activities > 0)
        started, cpu = time.perf_counter(), time.process_time()
        await all_done.wait()
        await _until(lambda: worker.running_activities == 0)  # the last responses are sent
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        await worker.shutdown()
    return {"rate": count / elapsed, "cpu_ms": cpu * 1000 / count}


async def _until(predicate: Callable[[], bool]) -> None:
    while True:
        if predicate():
            return
        await asyncio.sleep(0.0005)


async def _loops_rate(
    poll: Callable[[], Awaitable[dict[str, Any]]],
    respond: Callable[[str], Awaitable[Any]],
    count: int,
    pollers: int,
) -> dict[str, float]:
    """The rate and CPU per task of ``pollers`` loops that each poll and answer at once,
    from the first task taken until ``count`` were answered."""
    done = 0
    first: list[float] = []
    finished = asyncio.Event()
    print("ready", flush=True)

    async def loop() -> None:
        nonlocal done
        while True:
            token = (await poll()).get("taskToken")
            if not token:
                continue
            if not first:
                first.extend((time.perf_counter(), time.process_time()))
            await respond(token)
            done += 1
            if done == count:
                finished.set()

    loops = [asyncio.create_task(loop()) for _ in range(pollers)]
    await finished.wait()
    rate = count / (time.perf_counter() - first[0])
    cpu_ms = (time.process_time() - first[1]) * 1000 / count
    for task in loops:  # the others are parked in empty polls
        task.cancel()
    await asyncio.gather(*loops, return_exceptions=True)
    return {"rate": rate, "cpu_ms": cpu_ms}


async def child_raw_rate(
    endpoint: str, task_list: str, count: int, pollers: int
) -> dict[str, float]:
    async with _client(endpoint, pollers + 16) as client:
        call = client.transport.call
        polling = {"domain": DOMAIN, "taskList": {"name": task_list}, "identity": "raw"}
        return await _loops_rate(
            lambda: call("PollForActivityTask", polling),
            lambda token: call("RespondActivityTaskCompleted", {"taskToken": token}),
            count,
            pollers,
        )


async def child_plain_rate(
    endpoint: str, task_list: str, count: int, pollers: int
) -> dict[str, float]:
    async with plain_client(endpoint, connections=pollers + 16) as swf:
        return await _loops_rate(
            lambda: swf.poll_for_activity_task(
                domain=DOMAIN, taskList={"name": task_list}, identity="plain"
            ),
            lambda token: swf.respond_activity_task_completed(taskToken=token),
            count,
            pollers,
        )


# --- the parent: the endpoint, the decider, the table ------------------------------------------


async def schedule(
    client: Client, task_list: str, activity_name: str, count: int, data: str
) -> None:
    """Schedule ``count`` activities, BATCH per execution, with a hand-written decider."""
    decisions_list = f"{task_list}-decisions"
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        await client.call(
            "StartWorkflowExecution",
            workflowId=f"{task_list}-{start}",
            workflowType=FLOW,
            taskList={"name": decisions_list},
            executionStartToCloseTimeout="3600",
            taskStartToCloseTimeout="60",
            childPolicy="TERMINATE",
        )
        task = await client.call("PollForDecisionTask", taskList={"name": decisions_list})
        decisions = [
            {
                "decisionType": "ScheduleActivityTask",
                "scheduleActivityTaskDecisionAttributes": {
                    "activityType": {"name": activity_name, "version": "1"},
                    "activityId": f"a{n}",
                    "taskList": {"name": task_list},
                    "input": data,
                    "scheduleToStartTimeout": "3600",
                    "scheduleToCloseTimeout": "3600",
                    "startToCloseTimeout": "3600",
                    "heartbeatTimeout": "3600",
                },
            }
            for n in range(size)
        ]
        await client.call(
            "RespondDecisionTaskCompleted", taskToken=task["taskToken"], decisions=decisions
        )


async def run_child(*args: str) -> tuple[asyncio.subprocess.Process, asyncio.StreamReader]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--child", *args, stdout=asyncio.subprocess.PIPE
    )
    _children.append(process)
    assert process.stdout is not None
    return process, process.stdout


async def child_result(process: asyncio.subprocess.Process, out: asyncio.StreamReader) -> Any:
    line = b""
    while True:
        line = await out.readline()
        if not line or line.strip() != b"ready":
            break
    await process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"child failed with {process.returncode}")
    return json.loads(line)


async def wait_ready(out: asyncio.StreamReader) -> None:
    line = await out.readline()
    if line.strip() != b"ready":
        raise RuntimeError(f"unexpected child output {line!r}")


async def measure(endpoint: str, args: argparse.Namespace) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    async with Client(DOMAIN, endpoint_url=endpoint) as client:
        definitions = [activity_definition(noop), activity_definition(hold)]
        await client.ensure_registered(activities=definitions, task_list="bench")
        await client.call(
            "RegisterWorkflowType",
            **FLOW,
            defaultTaskList={"name": "bench"},
            defaultExecutionStartToCloseTimeout="3600",
            defaultTaskStartToCloseTimeout="60",
            defaultChildPolicy="TERMINATE",
        )

        process, out = await run_child("idle", endpoint, "idle", str(args.polls))
        idle = await child_result(process, out)
        delta = idle["during"] - idle["before"]
        rows.append(
            (f"RSS, {args.polls} idle long polls", f"{delta:.1f} MiB over {idle['before']:.1f} MiB")
        )
        rows.append(("  per poll", f"{delta * 1024 / args.polls:.1f} KiB"))

        process, out = await run_child("running", endpoint, "running", str(args.running))
        await wait_ready(out)
        await schedule(client, "running", "bench.hold", args.running, "[600]")
        running = await child_result(process, out)
        delta = running["during"] - running["before"]
        rows.append(
            (
                f"RSS, {running['peak']} activities running at once",
                f"{delta:.1f} MiB over {running['before']:.1f} MiB",
            )
        )
        rows.append(("  per activity", f"{delta * 1024 / args.running:.1f} KiB"))

        kinds = (
            ("aioswf Worker", "worker"),
            ("transport loop (ceiling)", "raw"),
            ("plain aiobotocore loop", "plain"),
        )
        runs: dict[str, list[dict[str, float]]] = {kind: [] for _, kind in kinds}
        for repeat in range(args.repeat):
            for _, kind in kinds:
                task_list = f"rate-{kind}-{repeat}"
                await schedule(client, task_list, "bench.noop", args.tasks, "[]")
                process, out = await run_child(
                    kind, endpoint, task_list, str(args.tasks), str(args.pollers)
                )
                runs[kind].append(await child_result(process, out))
        medians = {
            kind: {key: statistics.median(r[key] for r in results) for key in ("rate", "cpu_ms")}
            for kind, results in runs.items()
        }
        for label, kind in kinds:
            rate = medians[kind]
            rows.append(
                (
                    f"no-op activities/s, {label}, {args.pollers} pollers",
                    f"{rate['rate']:,.0f}/s, {rate['cpu_ms']:.2f} ms CPU per task",
                )
            )
        for label, base in (("ceiling", "raw"), ("plain aiobotocore", "plain")):
            ratio = medians["worker"]["rate"] / medians[base]["rate"]
            cpu = medians["worker"]["cpu_ms"] / medians[base]["cpu_ms"]
            rows.append(
                (
                    f"  worker / {label} (median of {args.repeat})",
                    f"{ratio:.0%} of the rate, {cpu:.2f}x the CPU per task",
                )
            )
    return rows


async def parent(args: argparse.Namespace) -> None:
    try:
        async with asyncio.timeout(args.timeout):
            await _parent(args)
    except TimeoutError:
        sys.exit(f"bench_activity: no result within {args.timeout:.0f}s; giving up")
    finally:
        for process in _children:
            if process.returncode is None:
                process.kill()  # a child stuck past the timeout must not outlive us


async def _parent(args: argparse.Namespace) -> None:
    if args.endpoint:
        rows = await measure(args.endpoint, args)
    else:
        # Short long polls, so that each child's shutdown (which awaits its polls) is quick.
        async with LocalSWF(port=0, long_poll_seconds=LONG_POLL) as swf:
            rows = await measure(swf.endpoint_url, args)
    width = max(len(name) for name, _ in rows)
    print(f"{'measurement':<{width}}  value")
    print(f"{'-' * width}  {'-' * 28}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


async def child(kind: str, endpoint: str, task_list: str, count: str, pollers: str = "0") -> None:
    n = int(count)
    result: Any
    if kind == "idle":
        result = await child_idle_polls(endpoint, task_list, n)
    elif kind == "running":
        result = await child_running(endpoint, task_list, n)
    elif kind == "worker":
        result = await child_worker_rate(endpoint, task_list, n, int(pollers))
    elif kind == "plain":
        result = await child_plain_rate(endpoint, task_list, n, int(pollers))
    else:
        result = await child_raw_rate(endpoint, task_list, n, int(pollers))
    print(json.dumps(result), flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        asyncio.run(child(*sys.argv[2:]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=500, help="idle long polls to hold")
    parser.add_argument("--running", type=int, default=1000, help="activities to run at once")
    parser.add_argument("--tasks", type=int, default=3000, help="no-op activities to complete")
    parser.add_argument("--pollers", type=int, default=16, help="pollers for the rate runs")
    parser.add_argument("--repeat", type=int, default=3, help="rate runs to take the median of")
    parser.add_argument("--timeout", type=float, default=900, help="seconds before giving up")
    parser.add_argument("--endpoint", help="an SWF endpoint instead of an in-process local one")
    asyncio.run(parent(parser.parse_args()))


if __name__ == "__main__":
    main()
