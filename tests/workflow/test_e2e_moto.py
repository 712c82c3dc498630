"""The same workflows against moto's server, a second SWF implementation (the subset it has)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from aioswf import Client, WorkflowFailedError
from aioswf._pollers.decision import DecisionWorkerOptions
from aioswf.worker import Worker
from tests.failures.workflows import Flaky, RaisesValueError
from tests.workflow.workflows import Approval, Hello, greet, shout

pytestmark = pytest.mark.moto


@pytest.mark.parametrize("cache", [1000, 0], ids=["cache", "no-cache"])
async def test_activities_on_moto(moto_client: Client, cache: int) -> None:
    options = DecisionWorkerOptions(max_cached_workflows=cache)
    async with Worker(
        moto_client,
        task_list="moto",
        workflows=[Hello],
        activities=[greet, shout],
        decision_options=options,
    ):
        handle = await moto_client.start_workflow(
            Hello.run, "mo", workflow_id="hello-moto", task_list="moto"
        )
        assert await handle.result(timeout=timedelta(seconds=20)) == "HELLO MO"


async def test_signals_and_cancelled_timer_on_moto(moto_client: Client) -> None:
    async with Worker(
        moto_client,
        task_list="moto",
        workflows=[Approval],
        decision_options=DecisionWorkerOptions(max_cached_workflows=0),
    ):
        handle = await moto_client.start_workflow(
            Approval.run, workflow_id="approval-moto", task_list="moto"
        )
        await asyncio.sleep(1.5)
        await handle.signal("note", "n1")
        await handle.signal(Approval.approve, "zoe")
        result = await handle.result(timeout=timedelta(seconds=20))
    assert result == "approved by zoe after ['n1']"


async def test_a_failing_workflow_fails_fast_on_moto(moto_client: Client) -> None:
    async with Worker(moto_client, task_list="moto", workflows=[RaisesValueError]):
        handle = await moto_client.start_workflow(
            RaisesValueError.run, "o-9", workflow_id="fails-moto", task_list="moto"
        )
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=timedelta(seconds=20))
    assert (caught.value.reason, caught.value.message) == ("ValueError", "order 'o-9' is not valid")
    assert "check_order" in caught.value.traceback


async def test_a_retried_task_is_visible_on_moto(moto_client: Client) -> None:
    options = DecisionWorkerOptions(retry_decision_task_on=(KeyError,))
    async with Worker(moto_client, task_list="moto", workflows=[Flaky], decision_options=options):
        handle = await moto_client.start_workflow(
            Flaky.run, workflow_id="flaky-moto", task_list="moto"
        )
        for _ in range(200):
            failure = (await handle.describe()).decision_failure
            if failure is not None:
                break
            await asyncio.sleep(0.05)
        assert failure is not None
        assert (failure.attempts, failure.error_type) == (1, "KeyError")
        await handle.terminate("seen")
