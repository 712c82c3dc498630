"""A payload store that fails for a moment: reads and writes are retried, never turned into a
failure for good (a store outage or throttling is transient; a payload that does not fit is
not)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from aioswf import (
    Client,
    DataConverter,
    RetryPolicy,
    Worker,
    WorkflowFailedError,
    activity,
    workflow,
)
from aioswf.exceptions import PayloadStoreError, PayloadTooLargeError
from aioswf.payloads import ZlibCodec
from aioswf.testing import WorkflowEnvironment
from aioswf.worker import DecisionWorkerOptions


class FlakyReads:
    """Keeps payloads in memory; if ``flaky``, the first read of each reference fails."""

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
        if self.flaky and reference not in self.read and reference not in self.failed:
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
    reader = DataConverter(payload_store=store)  # the activity worker's: it reads the input
    async with (
        WorkflowEnvironment(converter=DataConverter(payload_store=store)) as env,
        Client(env.client.domain, endpoint_url=env.endpoint_url, converter=reader) as other,
        Worker(env.client, task_list="t", workflows=[Measures]),
        Worker(other, task_list="t", activities=[measure]),
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
    reader = DataConverter(payload_store=store)
    for text in (first, second):
        with pytest.raises(PayloadStoreError, match="connection reset"):
            await reader.download(text)
        await reader.download(text)  # the outage is over
    assert reader.decode_payload(second) == "c" * 2_000


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


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class WaitsToFinish:
    def __init__(self) -> None:
        self.go = False

    @workflow.signal
    def proceed(self) -> None:
        self.go = True

    @workflow.run
    async def run(self) -> int:
        n = await workflow.execute_activity(size, "z" * 3_000)
        await workflow.wait_condition(lambda: self.go)
        return n


async def test_a_run_with_stored_payloads_replays_after_the_codecs_change() -> None:
    store = FlakyReads(flaky=False)
    async with WorkflowEnvironment(converter=DataConverter(payload_store=store)) as env:
        unsticky = DecisionWorkerOptions(sticky_schedule_to_start=None)  # no wait for it
        async with Worker(
            env.client,
            task_list="r",
            workflows=[WaitsToFinish],
            activities=[size],
            decision_options=unsticky,
        ):
            await env.client.start_workflow(
                WaitsToFinish.run, workflow_id="codec-change", task_list="r"
            )
            for _ in range(200):  # until the activity ran: its input was stored and read
                if store.read:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
        zipped = DataConverter(codecs=[ZlibCodec()], payload_store=store)
        async with (
            Client(env.client.domain, endpoint_url=env.endpoint_url, converter=zipped) as client,
            Worker(client, task_list="r", workflows=[WaitsToFinish], activities=[size]),
        ):
            await client.get_workflow_handle("codec-change").signal(WaitsToFinish.proceed)
            result = client.get_workflow_handle("codec-change").result
            assert await result(timeout=timedelta(seconds=30)) == 3_000


def test_a_stored_payload_is_not_named_by_its_plain_text() -> None:
    import hashlib

    converter = DataConverter(codecs=[ZlibCodec()], payload_store=FlakyReads(flaky=False))
    text = "".join(hashlib.sha256(bytes([i])).hexdigest() for i in range(60))  # compresses badly
    wire = converter.encode_payload(text)
    plain = converter.encode(text)
    for digest_of in (plain.encode(), b'["zlib"]\n' + plain.encode()):
        assert hashlib.sha256(digest_of).hexdigest() not in wire


def test_headers_that_push_an_input_over_the_limit_send_it_to_the_store() -> None:
    store = FlakyReads(flaky=False)
    store.threshold = 32_768  # only what SWF would refuse is stored
    converter = DataConverter(payload_store=store)
    data = converter.encode_args(["a" * 32_700])
    assert data is not None
    assert "aioswf:ref" not in data  # it fits alone
    headers = {"myorg.trace": "x" * 100}
    text = converter.fit_input("input", data, headers)
    assert text is not None
    assert len(text) < 1_000  # a reference, with the headers beside it
    assert "myorg.trace" in text
    asyncio.run(converter.upload(text))
    assert converter.decode_args(size, text) == ["a" * 32_700]


def test_headers_that_push_an_input_over_the_limit_are_named() -> None:
    converter = DataConverter()
    data = converter.encode_args(["a" * 32_700])
    with pytest.raises(PayloadTooLargeError, match="'myorg.trace'") as caught:
        converter.fit_input("input", data, {"myorg.trace": "x" * 100})
    assert "payload_store" not in str(caught.value)


@workflow.defn(execution_start_to_close_timeout=timedelta(minutes=1))
class Listens:
    def __init__(self) -> None:
        self.heard: list[str] = []

    @workflow.signal
    def tell(self, text: str) -> None:
        self.heard.append(text)

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: bool(self.heard))
        return self.heard


async def test_a_signal_that_cannot_be_decoded_is_not_dropped_unseen() -> None:
    async with WorkflowEnvironment() as env:
        zipped = DataConverter(codecs=[ZlibCodec(min_size=0)])  # a codec the worker lacks
        async with (
            Client(env.client.domain, endpoint_url=env.endpoint_url, converter=zipped) as other,
            Worker(env.client, task_list="l", workflows=[Listens]),
        ):
            handle = await env.client.start_workflow(
                Listens.run, workflow_id="listens", task_list="l"
            )
            await other.get_workflow_handle("listens").signal(Listens.tell, "unreadable")
            with pytest.raises(WorkflowFailedError, match="signal 'tell' cannot be delivered"):
                await handle.result(timeout=timedelta(seconds=20))
