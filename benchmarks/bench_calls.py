"""Client CPU per SWF call: aioswf's transport next to a plain aiobotocore client.

Every call a worker makes (a poll, an answer, a heartbeat) pays the client's own CPU before
and after the network: serialising, resolving the endpoint, signing (SigV4), building the HTTP
request, parsing the answer. This measures that CPU, in the client's process only, for

* ``DescribeDomain``: a small request and a small answer;
* ``PollForActivityTask`` + ``RespondActivityTaskCompleted``: the activity worker's loop, one
  task at a time, on tasks scheduled beforehand;

once through aioswf's :class:`~aioswf._transport.Transport` and once through a plain
aiobotocore client (a default session, no aioswf code), each in its own child process and
against the same local service in this process, so that the service's CPU is not counted.
The two kinds are interleaved over ``--repeat`` rounds; the figures are medians, and the ratio
is aioswf's CPU over aiobotocore's, taken per round. A last row puts the signing of one such
request alone (no network) by botocore's ``SigV4Auth`` next to aioswf's signer.

Run it with::

    python benchmarks/bench_calls.py [--calls 2000] [--tasks 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from plain_swf import plain_client

from aioswf._transport import ConnectionOptions, Transport
from aioswf._transport.signing import ClientSigning, SWFSigV4Auth
from aioswf.local import LocalSWF

DOMAIN = "bench"
FLOW = {"name": "BenchCalls", "version": "1"}
ACTIVITY = {"name": "bench.calls", "version": "1"}
BATCH = 200  # activities scheduled by one decision
WARM_UP = 50  # calls before measuring: connections open, caches filled
KINDS = ("aiobotocore", "aioswf")

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


# --- children: one kind each, printing one JSON line ------------------------------------------


async def measure_calls(call: Call, task_list: str, calls: int, tasks: int) -> dict[str, float]:
    """CPU milliseconds per call of each workload, through ``call``."""

    async def describe() -> None:
        await call("DescribeDomain", {"name": DOMAIN})

    async def poll_and_respond() -> None:
        task = await call(
            "PollForActivityTask",
            {"domain": DOMAIN, "taskList": {"name": task_list}, "identity": "bench"},
        )
        if not task.get("taskToken"):
            raise RuntimeError("an activity poll came back empty: too few tasks scheduled")
        await call("RespondActivityTaskCompleted", {"taskToken": task["taskToken"]})

    for _ in range(WARM_UP):
        await describe()
    started = time.process_time()
    for _ in range(calls):
        await describe()
    describe_ms = (time.process_time() - started) * 1000 / calls
    for _ in range(WARM_UP // 2):
        await poll_and_respond()
    started = time.process_time()
    for _ in range(tasks):
        await poll_and_respond()
    task_ms = (time.process_time() - started) * 1000 / (2 * tasks)
    return {"describe": describe_ms, "task": task_ms}


async def child(kind: str, endpoint: str, task_list: str, calls: int, tasks: int) -> None:
    if kind == "aioswf":
        async with Transport(ConnectionOptions(endpoint_url=endpoint)) as transport:
            result = await measure_calls(transport.call, task_list, calls, tasks)
    else:
        async with plain_client(endpoint) as client:

            async def call(operation: str, params: dict[str, Any]) -> dict[str, Any]:
                method = getattr(client, _snake(operation))
                response: dict[str, Any] = await method(**params)
                return response

            result = await measure_calls(call, task_list, calls, tasks)
    print(json.dumps(result), flush=True)


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


# --- the parent: the service, the tasks, the table --------------------------------------------


def prepare(swf: LocalSWF) -> None:
    swf.call("RegisterDomain", {"name": DOMAIN, "workflowExecutionRetentionPeriodInDays": "1"})
    swf.call(
        "RegisterWorkflowType",
        {
            "domain": DOMAIN,
            **FLOW,
            "defaultTaskList": {"name": "decisions"},
            "defaultExecutionStartToCloseTimeout": "3600",
            "defaultTaskStartToCloseTimeout": "60",
            "defaultChildPolicy": "TERMINATE",
        },
    )
    swf.call("RegisterActivityType", {"domain": DOMAIN, **ACTIVITY})


def schedule(swf: LocalSWF, task_list: str, count: int) -> None:
    """``count`` activity tasks on ``task_list``, through the engine (no HTTP, no client)."""
    for start in range(0, count, BATCH):
        swf.call(
            "StartWorkflowExecution",
            {"domain": DOMAIN, "workflowId": f"{task_list}-{start}", "workflowType": FLOW},
        )
        task = swf.call(
            "PollForDecisionTask", {"domain": DOMAIN, "taskList": {"name": "decisions"}}
        )
        decisions = [
            {
                "decisionType": "ScheduleActivityTask",
                "scheduleActivityTaskDecisionAttributes": {
                    "activityType": ACTIVITY,
                    "activityId": f"a{n}",
                    "taskList": {"name": task_list},
                    "scheduleToStartTimeout": "3600",
                    "scheduleToCloseTimeout": "3600",
                    "startToCloseTimeout": "3600",
                    "heartbeatTimeout": "3600",
                },
            }
            for n in range(min(BATCH, count - start))
        ]
        swf.call(
            "RespondDecisionTaskCompleted", {"taskToken": task["taskToken"], "decisions": decisions}
        )


def signing_us(auth_class: Any, context: dict[str, Any], number: int = 5000) -> float:
    """CPU microseconds to sign one RespondActivityTaskCompleted request with ``auth_class``."""
    credentials = ReadOnlyCredentials("ASIABENCH", "bench/secret", "session-token")
    body = json.dumps({"taskToken": "t" * 500, "result": '{"ok": true}'}).encode()
    headers = {
        "X-Amz-Target": "SimpleWorkflowService.RespondActivityTaskCompleted",
        "Content-Type": "application/x-amz-json-1.0",
        "User-Agent": "bench",
    }
    requests = [
        AWSRequest("POST", "http://127.0.0.1:8765/", data=body, headers=headers)
        for _ in range(number)
    ]
    started = time.process_time()
    for request in requests:
        request.context.update(context)
        auth_class(credentials, "swf", "us-east-1").add_auth(request)
    return (time.process_time() - started) * 1e6 / number


async def run_child(kind: str, endpoint: str, task_list: str, args: argparse.Namespace) -> Any:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--child",
        kind,
        endpoint,
        task_list,
        str(args.calls),
        str(args.tasks),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the {kind} child failed with {process.returncode}")
    return json.loads(out)


async def parent(args: argparse.Namespace) -> None:
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    async with LocalSWF(port=0, long_poll_seconds=1) as swf:
        prepare(swf)
        for repeat in range(args.repeat):
            # Alternate which kind goes first, so a passing load hits both alike.
            for kind in KINDS if repeat % 2 == 0 else reversed(KINDS):
                task_list = f"{kind}-{repeat}"
                schedule(swf, task_list, args.tasks + WARM_UP // 2)
                runs[kind].append(await run_child(kind, swf.endpoint_url, task_list, args))
    rows = []
    for key, label in (
        ("describe", "DescribeDomain"),
        ("task", "PollForActivityTask + RespondActivityTaskCompleted, per call"),
    ):
        base = statistics.median(run[key] for run in runs["aiobotocore"])
        ours = statistics.median(run[key] for run in runs["aioswf"])
        ratios = [a[key] / b[key] for a, b in zip(runs["aioswf"], runs["aiobotocore"], strict=True)]
        rows.append((f"{label}: aiobotocore", f"{base:.3f} ms CPU per call"))
        rows.append((f"{label}: aioswf", f"{ours:.3f} ms CPU per call"))
        rows.append(
            (
                f"  aioswf / aiobotocore (median of {args.repeat})",
                f"{statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f})",
            )
        )
    # The context a request of aioswf's client carries, with its key slot.
    context: dict[str, Any] = {"auth_type": None}
    ClientSigning().choose_signer(signature_version="v4", context=context)
    theirs = statistics.median(signing_us(SigV4Auth, {}) for _ in range(args.repeat))
    ours = statistics.median(signing_us(SWFSigV4Auth, context) for _ in range(args.repeat))
    rows.append(("SigV4 signing of one request: botocore's SigV4Auth", f"{theirs:.1f} us CPU"))
    rows.append(("SigV4 signing of one request: aioswf's signer", f"{ours:.1f} us CPU"))
    width = max(len(name) for name, _ in rows)
    print(f"{'measurement':<{width}}  value")
    print(f"{'-' * width}  {'-' * 28}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, endpoint, task_list, calls, tasks = sys.argv[2:7]
        asyncio.run(child(kind, endpoint, task_list, int(calls), int(tasks)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="DescribeDomain calls per run")
    parser.add_argument("--tasks", type=int, default=1000, help="activity tasks per run")
    parser.add_argument("--repeat", type=int, default=3, help="rounds to take the median of")
    asyncio.run(parent(parser.parse_args()))


if __name__ == "__main__":
    main()
