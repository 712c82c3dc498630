"""Decisions that cannot be sent as decided — a payload store refuses their payloads, SWF
refuses a value in them — retry the decision task visibly (describe() reports it, with a
back-off), never left to time out unseen; the run goes on once they can be sent."""

from __future__ import annotations

from datetime import timedelta

from aioswf import Client, DataConverter, workflow
from aioswf.local import LocalSWF, VirtualClock
from aioswf.worker import Worker
from tests.failures.waiting import wait_for_failure
from tests.failures.workflows import note


class FlakyStore:
    """Keeps payloads in memory; refuses them while ``down``."""

    threshold = 1_000

    def __init__(self) -> None:
        self.down = True
        self.data: dict[str, bytes] = {}

    def reference(self, digest: str) -> str:
        return f"mem://{digest}"

    async def put(self, reference: str, data: bytes) -> None:
        if self.down:
            raise ConnectionError("the store is down")
        self.data[reference] = data

    async def get(self, reference: str) -> bytes:
        return self.data[reference]


@workflow.defn
class ReturnsALot:
    @workflow.run
    async def run(self) -> str:
        return "x" * 5_000


async def test_a_store_refusing_the_result_retries_visibly(
    local_swf: LocalSWF, domain_name: str, clock: VirtualClock
) -> None:
    store = FlakyStore()
    converter = DataConverter(payload_store=store)
    async with Client(domain_name, endpoint_url=local_swf.endpoint_url, converter=converter) as c:
        await c.register_domain()
        async with Worker(c, task_list="s", workflows=[ReturnsALot]):
            handle = await c.start_workflow(ReturnsALot.run, workflow_id="s", task_list="s")
            failure = (await wait_for_failure(c, "s")).decision_failure
            assert failure is not None
            assert failure.error_type == "PayloadStoreError"
            assert "store is down" in failure.message
            store.down = False
            clock.advance(failure.retry_in.total_seconds() + 1)
            assert await handle.result(timeout=timedelta(seconds=10)) == "x" * 5_000


@workflow.defn
class BadTaskList:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(note, "x", task_list="bad\u0001list")


async def test_decisions_swf_refuses_retry_visibly(client: Client) -> None:
    async with Worker(client, task_list="b", workflows=[BadTaskList]):
        await client.start_workflow(BadTaskList.run, workflow_id="b", task_list="b")
        failure = (await wait_for_failure(client, "b")).decision_failure
    assert failure is not None
    assert failure.error_type == "ValidationError"
    assert "taskList" in failure.message
