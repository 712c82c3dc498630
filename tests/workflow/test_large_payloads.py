"""Payloads over SWF's limits go to S3 (moto's S3 server on loopback) and come back."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiobotocore.session import AioSession, get_session

from aioswf import (
    ActivityTimedOutError,
    DataConverter,
    PayloadTooLargeError,
    Worker,
    activity,
    workflow,
)
from aioswf.contrib.s3 import S3PayloadStore
from aioswf.exceptions import PayloadConversionError, PayloadStoreError
from aioswf.testing import Replayer, WorkflowEnvironment
from aioswf.worker import DecisionWorkerOptions

MEGABYTE = 1_000_000
TIMEOUT = timedelta(seconds=60)
_buckets = itertools.count(1)

release = asyncio.Event()
grown = asyncio.Event()


@activity.defn(start_to_close_timeout=timedelta(seconds=60))
async def grow(text: str) -> str:
    grown.set()
    return text + "!"


@activity.defn(start_to_close_timeout=timedelta(hours=1), heartbeat_timeout=timedelta(seconds=3))
async def stall(text: str) -> None:
    activity.heartbeat({"seen": text})  # far over the 2,048 characters of heartbeat details
    await release.wait()


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Big:
    def __init__(self) -> None:
        self.signalled: str | None = None

    @workflow.run
    async def run(self, text: str) -> dict[str, Any]:
        longer = await workflow.execute_activity(grow, text)
        try:
            await workflow.execute_activity(stall, text)
        except ActivityTimedOutError as error:
            heartbeat = json.loads(error.details or "null")["seen"]
        await workflow.wait_condition(lambda: self.signalled is not None)
        assert self.signalled is not None
        return {
            "activity result": longer,
            "heartbeat": heartbeat == text,
            "signal": self.signalled == text,
        }

    @workflow.signal
    def tell(self, text: str) -> None:
        self.signalled = text


@pytest.fixture
def session() -> AioSession:
    session = get_session()
    session.set_credentials("testing", "testing")
    return session


@pytest.fixture
async def bucket(moto_server: str, session: AioSession) -> AsyncIterator[str]:
    name = f"payloads-{next(_buckets)}"
    async with session.create_client("s3", endpoint_url=moto_server, region_name="us-east-1") as s3:
        await s3.create_bucket(Bucket=name)
        yield name


@pytest.fixture
def new_store(moto_server: str, session: AioSession, bucket: str) -> Callable[[], S3PayloadStore]:
    """Makes a store on ``bucket`` of moto's S3 server: each opens its own S3 client."""
    return lambda: S3PayloadStore(
        bucket, endpoint_url=moto_server, region_name="us-east-1", session=session
    )


async def test_megabyte_payloads_round_trip_through_s3_and_history_holds_references(
    moto_server: str, session: AioSession, bucket: str, new_store: Callable[[], S3PayloadStore]
) -> None:
    release.clear()
    grown.clear()
    big = "y" * MEGABYTE
    store = new_store()
    async with (
        store,
        WorkflowEnvironment(converter=DataConverter(payload_store=store)) as env,
        Worker(
            env.client,
            task_list="big",
            workflows=[Big],
            activities=[grow, stall],
            # Every decision task replays the run, reading every payload back from S3.
            decision_options=DecisionWorkerOptions(max_cached_workflows=0),
        ),
    ):
        handle = await env.client.start_workflow(Big.run, big, workflow_id="big", task_list="big")
        await asyncio.wait_for(grown.wait(), 30)
        await handle.signal(Big.tell, big)
        result = await handle.result(timeout=TIMEOUT)
        release.set()
        events = [e async for e in handle.history()]
        # A replayer given a converter with the store reads the stored payloads itself, on
        # a loop of its own (this test's loop keeps the store's client of its own).
        Replayer([Big], converter=DataConverter(payload_store=store)).replay(
            {"events": events}, workflow_id="big", run_id=handle.first_run_id
        )
        started = events[0]["workflowExecutionStartedEventAttributes"]
        stored = await store.get(json.loads(started["input"])["aioswf:ref"])
        assert len(stored) > MEGABYTE  # this loop's client still works

    assert result == {"activity result": big + "!", "heartbeat": True, "signal": True}
    payloads = {
        event["eventType"]: value
        for event in events
        for key, attrs in event.items()
        if key.endswith("EventAttributes")
        for name, value in attrs.items()
        if name in ("input", "result", "details")
    }
    for kind in (
        "WorkflowExecutionStarted",  # the argument
        "ActivityTaskScheduled",
        "ActivityTaskCompleted",  # an activity's result
        "ActivityTaskTimedOut",  # heartbeat details
        "WorkflowExecutionSignaled",
        "WorkflowExecutionCompleted",  # the workflow's result
    ):
        assert len(payloads[kind]) < 300, kind
        assert f'"aioswf:ref":"s3://{bucket}/aioswf/payloads/' in payloads[kind], kind
    async with session.create_client("s3", endpoint_url=moto_server, region_name="us-east-1") as s3:
        listing = await s3.list_objects_v2(Bucket=bucket)
    # Named by their content: the argument (also the activities' and the signal's), the
    # activity's result, the heartbeat details and the workflow's result.
    assert listing["KeyCount"] == 4


async def test_without_a_store_an_oversized_payload_is_refused_naming_its_size() -> None:
    async with WorkflowEnvironment() as env:
        with pytest.raises(
            PayloadTooLargeError,
            match=r"input is 1,000,004 characters long.*"
            r"payload store",
        ):
            await env.client.start_workflow(Big.run, "z" * MEGABYTE, workflow_id="w", task_list="t")


def test_a_client_option_s3_does_not_take_is_refused_at_once() -> None:
    # Not at the first payload, as a store outage a worker would retry without end.
    with pytest.raises(TypeError, match=r"client_options.*'retries'"):
        S3PayloadStore("bucket", client_options={"retries": {"max_attempts": 1}})
    S3PayloadStore("bucket", client_options={"use_ssl": False, "config": None})


async def test_a_reference_without_a_store_says_so() -> None:
    reference = '{"aioswf:encoding":[],"aioswf:ref":"s3://b/k","aioswf:size":5}'
    readable = await DataConverter().readable(reference)
    assert readable == (
        "<encoded payload, not readable here: a payload is stored at s3://b/k, but this "
        "converter has no payload store: create it with DataConverter(payload_store=...)>"
    )


@workflow.defn(execution_start_to_close_timeout=timedelta(minutes=5))
class Echo:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(grow, text)


async def _stored_history(store: S3PayloadStore, tmp_path: Path) -> Path:
    """A recorded history whose input, activity input and results are in ``store``."""
    async with (
        WorkflowEnvironment(converter=DataConverter(payload_store=store)) as env,
        Worker(env.client, task_list="echo", workflows=[Echo], activities=[grow]),
    ):
        handle = await env.client.start_workflow(
            Echo.run, "e" * MEGABYTE, workflow_id="echo", task_list="echo"
        )
        assert await handle.result(timeout=TIMEOUT) == "e" * MEGABYTE + "!"
        path = tmp_path / "echo.json"
        await handle.fetch_history(path)
        return path


async def test_replay_reads_stored_payloads_with_no_loop_running(
    new_store: Callable[[], S3PayloadStore], tmp_path: Path
) -> None:
    store = new_store()
    async with store:
        path = await _stored_history(store, tmp_path)
    assert "aioswf:ref" in path.read_text()
    fresh = new_store()
    replayer = Replayer([Echo], converter=DataConverter(payload_store=fresh))
    # A synchronous caller (a CI script): the replayer runs the reads on a loop of its own.
    results = await asyncio.to_thread(replayer.replay_all, [path, path])
    assert [r.error for r in results] == [None, None]


async def test_a_stored_payload_that_cannot_be_read_is_named_with_its_history(
    moto_server: str,
    session: AioSession,
    bucket: str,
    new_store: Callable[[], S3PayloadStore],
    tmp_path: Path,
) -> None:
    store = new_store()
    async with store:
        path = await _stored_history(store, tmp_path)
    history = json.loads(path.read_text())
    started = history["events"][0]["workflowExecutionStartedEventAttributes"]
    reference = json.loads(started["input"])["aioswf:ref"]
    async with session.create_client("s3", endpoint_url=moto_server, region_name="us-east-1") as s3:
        await s3.delete_object(Bucket=bucket, Key=reference.split("/", 3)[3])
    fresh = new_store()
    result = Replayer([Echo], converter=DataConverter(payload_store=fresh)).replay_result(path)
    assert isinstance(result.error, PayloadStoreError)
    assert str(result.error).startswith(f"{path}: reading the payload stored at {reference}")
    # Without a store, the reference is named too, and how to give one.
    plain = Replayer([Echo]).replay_result(path)
    assert isinstance(plain.error, PayloadConversionError)
    assert "has no payload store" in str(plain.error)
