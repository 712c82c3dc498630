"""TRY_CANCEL, WAIT_CANCELLATION_COMPLETED and ABANDON, for activities (async and sync) and
child workflows, end to end; and child workflows retried by their RetryPolicy."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest

from aioswf import (
    ActivityCanceledError,
    ApplicationError,
    CancellationType,
    ChildWorkflowCanceledError,
    Client,
    RetryPolicy,
    activity,
    workflow,
)
from aioswf.worker import Worker
from tests.workflow.histories import Simulation, kinds

RESULT = timedelta(seconds=20)
BEAT = {"start_to_close_timeout": timedelta(seconds=60), "heartbeat_timeout": timedelta(seconds=1)}
running: dict[str, bool] = {}
told: dict[str, bool] = {}
released: set[str] = set()


@activity.defn(**BEAT)
async def busy_async(key: str) -> str:
    running[key] = True
    step = 0
    try:
        while key not in released:
            step += 1
            activity.heartbeat(f"step {min(step, 3)}")
            await asyncio.sleep(0.05)
    except asyncio.CancelledError:
        told[key] = True
        raise
    return "released"


@activity.defn(**BEAT)
def busy_sync(key: str) -> str:
    running[key] = True
    step = 0
    while key not in released:
        step += 1
        activity.heartbeat(f"step {min(step, 3)}")
        if activity.is_cancelled():
            told[key] = True
            raise asyncio.CancelledError
        time.sleep(0.05)
    return "released"


@workflow.defn
class CancelsActivity:
    def __init__(self) -> None:
        self.go = False
        self.finish = False

    @workflow.run
    async def run(self, key: str, kind: str, sync: bool) -> str:
        handle = workflow.start_activity(
            busy_sync if sync else busy_async, key, cancellation_type=CancellationType(kind)
        )
        await workflow.wait_condition(lambda: self.go)
        handle.cancel()
        try:
            return f"result {await handle}"
        except asyncio.CancelledError:
            if kind == CancellationType.ABANDON:
                # Stay open: an abandoned activity of a closed execution would be refused
                # its next heartbeat, and stopped for that reason.
                await workflow.wait_condition(lambda: self.finish)
            return "cancelled"
        except ActivityCanceledError as error:
            return f"acknowledged with {error.details}"

    @workflow.signal
    def proceed(self) -> None:
        self.go = True

    @workflow.signal
    def done(self) -> None:
        self.finish = True


async def event_types(client: Client, workflow_id: str) -> list[str]:
    handle = client.get_workflow_handle(workflow_id)
    return [e["eventType"] async for e in handle.history()]


async def history_until(
    client: Client, workflow_id: str, predicate: Any, timeout: float = 15.0
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate(history := await event_types(client, workflow_id)):
        assert time.monotonic() < deadline, f"timed out waiting; history: {history}"
        await asyncio.sleep(0.05)


async def until(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("sync", [False, True], ids=["async", "sync"])
@pytest.mark.parametrize("kind", list(CancellationType))
async def test_activity_cancellation_types(client: Client, kind: str, sync: bool) -> None:
    key = f"{kind}-{sync}"
    async with Worker(
        client,
        task_list="cancel-types",
        workflows=[CancelsActivity],
        activities=[busy_async, busy_sync],
    ):
        handle = await client.start_workflow(
            CancelsActivity.run, key, kind, sync, workflow_id=key, task_list="cancel-types"
        )
        await until(lambda: running.get(key))
        await handle.signal(CancelsActivity.proceed)
        if kind == CancellationType.ABANDON:
            # The cancel is decided (the task after the signal), and the activity runs on.
            await history_until(client, key, lambda h: h[-1] == "DecisionTaskCompleted")
            assert key not in told
            released.add(key)
            await history_until(client, key, lambda h: "ActivityTaskCompleted" in h)
            await handle.signal(CancelsActivity.done)
        outcome = await handle.result(timeout=RESULT)
        history = await event_types(client, key)
        if kind == CancellationType.ABANDON:
            assert outcome == "cancelled"
            assert "RequestCancelActivityTask" not in str(history)
            assert key not in told  # never asked: it ran to its end
        elif kind == CancellationType.TRY_CANCEL:
            assert outcome == "cancelled"
            assert "ActivityTaskCancelRequested" in history
            await until(lambda: told.get(key))  # asked, though nobody waited
        else:
            assert outcome == 'acknowledged with "step 3"'
            # The workflow went on only after the activity acknowledged.
            assert history.index("ActivityTaskCanceled") < history.index(
                "WorkflowExecutionCompleted"
            )
            assert told[key]


async def sleep_until_cancelled() -> str:
    try:
        await workflow.wait_condition(lambda: False)
    except asyncio.CancelledError:
        await asyncio.sleep(0)
        raise
    return "never"


@workflow.defn
class Sleeper:
    @workflow.run
    async def run(self) -> str:
        return await sleep_until_cancelled()


@workflow.defn(cancellation_type=CancellationType.WAIT_CANCELLATION_COMPLETED)
class SleeperWaitedFor:
    """Its parents wait for its cleanup unless their call says otherwise."""

    @workflow.run
    async def run(self) -> str:
        return await sleep_until_cancelled()


@workflow.defn(cancellation_type=CancellationType.ABANDON)
class SleeperLeftAlone:
    """Its parents leave it running unless their call says otherwise."""

    @workflow.run
    async def run(self) -> str:
        return await sleep_until_cancelled()


CHILDREN: dict[str, Any] = {
    CancellationType.TRY_CANCEL: Sleeper,  # no default of its own: TRY_CANCEL
    CancellationType.WAIT_CANCELLATION_COMPLETED: SleeperWaitedFor,
    CancellationType.ABANDON: SleeperLeftAlone,
}


@workflow.defn
class CancelsChild:
    @workflow.run
    async def run(self, kind: str | None, child_default: str = "TRY_CANCEL") -> str:
        """Cancel the wait on a child whose definition defaults to ``child_default``, with
        ``kind`` given in the call (``None``: nothing given)."""
        child = await workflow.start_child_workflow(
            CHILDREN[child_default].run,
            workflow_id=f"child-{kind}-{child_default}",
            cancellation_type=CancellationType(kind) if kind is not None else None,
        )
        waiter = asyncio.ensure_future(child)
        await asyncio.sleep(0)
        waiter.cancel()
        try:
            return f"result {await waiter}"
        except asyncio.CancelledError:
            return "cancelled"
        except ChildWorkflowCanceledError:
            return "child closed as canceled"


ALL_CHILDREN = [CancelsChild, Sleeper, SleeperWaitedFor, SleeperLeftAlone]


@pytest.mark.parametrize("kind", list(CancellationType))
async def test_child_cancellation_types(client: Client, kind: str) -> None:
    async with Worker(client, task_list="child-cancel", workflows=ALL_CHILDREN):
        handle = await client.start_workflow(
            CancelsChild.run, kind, workflow_id=f"parent-{kind}", task_list="child-cancel"
        )
        outcome = await handle.result(timeout=RESULT)
        await check_child_cancelled(
            client, kind, f"parent-{kind}", f"child-{kind}-TRY_CANCEL", outcome
        )


@pytest.mark.parametrize("default", list(CancellationType))
async def test_a_child_type_s_default_cancellation_type(client: Client, default: str) -> None:
    async with Worker(client, task_list="child-default", workflows=ALL_CHILDREN):
        handle = await client.start_workflow(
            CancelsChild.run,
            None,
            default,
            workflow_id=f"parent-default-{default}",
            task_list="child-default",
        )
        outcome = await handle.result(timeout=RESULT)
        await check_child_cancelled(
            client, default, f"parent-default-{default}", f"child-None-{default}", outcome
        )


async def check_child_cancelled(
    client: Client, kind: str, parent_id: str, child_id: str, outcome: str
) -> None:
    """What cancelling the wait on a child by ``kind`` shows in the parent's history."""
    history = await event_types(client, parent_id)
    child = client.get_workflow_handle(child_id)
    if kind == CancellationType.WAIT_CANCELLATION_COMPLETED:
        assert outcome == "child closed as canceled"
        assert "ChildWorkflowExecutionCanceled" in history
    else:
        assert outcome == "cancelled"
        assert "ChildWorkflowExecutionCanceled" not in history
    if kind == CancellationType.ABANDON:
        assert "RequestCancelExternalWorkflowExecutionInitiated" not in history
        assert (await child.describe()).info.status == "OPEN"
        await child.terminate(reason="test over")
    else:
        assert "RequestCancelExternalWorkflowExecutionInitiated" in history
        await until_closed(child)


@pytest.mark.parametrize(
    ("kind", "default", "decided"),
    [
        # The call's type wins over the child type's default...
        ("TRY_CANCEL", "WAIT_CANCELLATION_COMPLETED", "cancel, go on"),
        ("ABANDON", "WAIT_CANCELLATION_COMPLETED", "go on"),
        ("WAIT_CANCELLATION_COMPLETED", "ABANDON", "cancel, wait"),
        # ...which wins over TRY_CANCEL.
        (None, "WAIT_CANCELLATION_COMPLETED", "cancel, wait"),
        (None, "ABANDON", "go on"),
        (None, "TRY_CANCEL", "cancel, go on"),
    ],
)
def test_the_call_s_cancellation_type_then_the_child_type_s_then_try_cancel(
    kind: str | None, default: str, decided: str
) -> None:
    sim = Simulation(CancelsChild, kind, default)
    assert kinds(sim.decide()) == ["StartChildWorkflowExecution"]
    sim.history.child_started(f"child-{kind}-{default}")
    decisions = kinds(sim.decide())
    expected = {
        "cancel, go on": ["RequestCancelExternalWorkflowExecution", "CompleteWorkflowExecution"],
        "cancel, wait": ["RequestCancelExternalWorkflowExecution"],
        "go on": ["CompleteWorkflowExecution"],
    }[decided]
    assert decisions == expected
    sim.close()


async def until_closed(child: Any) -> None:
    for _ in range(300):
        if (await child.describe()).info.status == "CLOSED":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the child did not close")


first_runs: dict[str, str] = {}


@workflow.defn
class FailsOnce:
    @workflow.run
    async def run(self) -> str:
        info = workflow.info()
        # Module state read through a side effect: recorded once, so replay sees the same.
        first = workflow.side_effect(lambda: first_runs.setdefault(info.workflow_id, info.run_id))
        if first == info.run_id:
            raise ApplicationError("the first run fails", type="Flaky")
        return "second run succeeded"


@workflow.defn
class RetriesChild:
    @workflow.run
    async def run(self) -> str:
        policy = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=2)
        return await workflow.execute_child_workflow(
            FailsOnce.run, workflow_id="flaky-child", retry_policy=policy
        )


async def test_a_child_is_retried_by_its_retry_policy(client: Client, clock: Any) -> None:
    async with Worker(client, task_list="child-retry", workflows=[RetriesChild, FailsOnce]):
        handle = await client.start_workflow(
            RetriesChild.run, workflow_id="retries-child", task_list="child-retry"
        )
        result = asyncio.ensure_future(handle.result(timeout=RESULT))
        while not result.done():
            await asyncio.sleep(0.05)
            clock.advance(0.5)
        assert await result == "second run succeeded"
    history = await event_types(client, "retries-child")
    assert history.count("StartChildWorkflowExecutionInitiated") == 2
    assert "ChildWorkflowExecutionFailed" in history


@workflow.defn
class GivesUpOnChild:
    @workflow.run
    async def run(self) -> str:
        policy = RetryPolicy(maximum_attempts=3, non_retryable_error_types=("Flaky",))
        return await workflow.execute_child_workflow(FailsOnce.run, retry_policy=policy)


def test_a_non_retryable_child_failure_is_not_retried() -> None:
    sim = Simulation(GivesUpOnChild)
    assert kinds(sim.decide()) == ["StartChildWorkflowExecution"]
    sim.history.child_started("wf-1-child-1")
    sim.decide()
    sim.history.child_closed("wf-1-child-1", "Failed", reason="Flaky", details="boom")
    assert kinds(sim.decide()) == ["FailWorkflowExecution"]
    sim.close()
