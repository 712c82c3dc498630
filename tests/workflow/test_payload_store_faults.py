"""A payload store that fails for a moment: reads and writes are retried, never turned into a
failure for good (a store outage or throttling is transient; a payload that does not fit is
not)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aioswf import DataConverter, RetryPolicy, Worker, activity, workflow
from aioswf.exceptions import PayloadStoreError
from aioswf.testing import WorkflowEnvironment


class FlakyReads:
    """Keeps payloads in memory; the first read of each reference after the first fails."""

    threshold = 1_000

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.read: list[str] = []
        self.failed: list[str] = []

    def reference(self, digest: str) -> str:
        return f"mem://{digest}"

    async def put(self, reference: str, data: bytes) -> None:
        self.data[reference] = data

    async def get(self, reference: str) -> bytes:
        if self.read and reference not in self.read and reference not in self.failed:
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
