"""A payload store that fails for a moment: reads and writes are retried, never turned into a
failure for good (a store outage or throttling is transient; a payload that does not fit is
not)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from aioswf import DataConverter, RetryPolicy, Worker, activity, workflow
from aioswf.exceptions import PayloadStoreError
from aioswf.testing import WorkflowEnvironment


class FlakyReads:
    """Keeps payloads in memory; if ``flaky``, the first read of each reference after the
    first one fails."""

    threshold = 1_000

    def __init__(self, *, flaky: bool = True) -> None:
        self.flaky = flaky
        self.data: dict[str, bytes] = {}
        self.read: list[str] = []
        self.failed: list[str] = []

    def reference(self, digest: str) -> str:
        return f"mem://{digest}"

    async def put(self, reference: str, data: bytes) -> None:
        self.data[reference] = data

    async def get(self, reference: str) -> bytes:
        if self.flaky and self.read and reference not in self.read and reference not in self.failed:
            self.failed.append(reference)
            raise ConnectionError("connection reset by the store")
        self.read.append(reference)
        return self.data[reference]


runs = 0


@activity.defn(start_to_close_timeout=timedelta(seconds=10))
async def measure(text: str) -> int:
    global runs
    runs += 1
    return len(text)


@workflow.defn(execution_start_to_close_timeout=timedelta(minutes=5))
class Measures:
    @workflow.run
    async def run(self, text: str) -> int:
        return await workflow.execute_activity(
            measure,
            text + "!",
            retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1)),
        )


async def test_a_failed_read_of_an_activity_input_is_retried() -> None:
    store = FlakyReads()
    async with (
        WorkflowEnvironment(converter=DataConverter(payload_store=store)) as env,
        Worker(env.client, task_list="t", workflows=[Measures], activities=[measure]),
    ):
        handle = await env.client.start_workflow(
            Measures.run, "b" * 5_000, workflow_id="flaky-read", task_list="t"
        )
        assert await handle.result(timeout=timedelta(seconds=30)) == 5_001
    assert store.failed, "the store never failed: the test tested nothing"
    assert runs == 1


async def test_a_store_failure_is_its_own_error_and_retryable() -> None:
    store = FlakyReads()
    converter = DataConverter(payload_store=store)
    first = converter.encode_payload("a" * 2_000)
    second = converter.encode_payload("c" * 2_000)
    await converter.upload(first, second)
    await converter.download(first)
    with pytest.raises(PayloadStoreError, match="connection reset"):
        await converter.download(second)


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def size(text: str) -> int:
    return len(text)


@workflow.defn(execution_start_to_close_timeout=timedelta(minutes=5))
class FansOut:
    @workflow.run
    async def run(self, count: int) -> int:
        calls = (workflow.execute_activity(size, f"{i}:" + "x" * 1_200) for i in range(count))
        return sum(await asyncio.gather(*calls))


async def test_a_decision_with_hundreds_of_stored_payloads_is_sent() -> None:
    store = FlakyReads(flaky=False)
    async with (
        WorkflowEnvironment(converter=DataConverter(payload_store=store)) as env,
        Worker(env.client, task_list="f", workflows=[FansOut], activities=[size]),
    ):
        handle = await env.client.start_workflow(
            FansOut.run, 300, workflow_id="fan-out", task_list="f"
        )
        expected = sum(len(f"{i}:") + 1_200 for i in range(300))
        assert await handle.result(timeout=timedelta(seconds=60)) == expected
    assert len(store.data) == 300


def test_payloads_held_for_one_run_are_not_pushed_out_by_other_work() -> None:
    converter = DataConverter(payload_store=FlakyReads(flaky=False))
    run = converter.scoped()
    mine = run.encode_payload("m" * 2_000)
    for i in range(1_000):  # other runs, other activities: never uploaded
        converter.scoped().encode_payload(f"{i}" + "o" * 2_000)
        converter.encode_payload(f"{i}" + "p" * 2_000)
    asyncio.run(run.upload(mine))
