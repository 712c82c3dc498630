"""Orchestration end to end over loopback: children, continue-as-new, external signals and
cancels, child policies (parent terminated or timed out), patches, side effects and Lambda
tasks on the local SWF service.

With ``AIOSWF_RECORD_HISTORIES=1`` the scenarios also write the histories they produce to
``tests/histories/orchestration_*.json``, which ``test_orchestration_recorded`` replays.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aioswf import (
    ChildPolicy,
    Client,
    DecisionWorkerOptions,
    WorkflowCanceledError,
    WorkflowOptions,
    WorkflowTerminatedError,
    WorkflowTimedOutError,
)
from aioswf.local import LocalSWF, VirtualClock
from aioswf.worker import Worker
from tests.workflow import orchestration as wf
from tests.workflow.workflows import greet

RESULT_TIMEOUT = timedelta(seconds=15)
HISTORIES = Path(__file__).parent.parent / "histories"
NO_CACHE = DecisionWorkerOptions(max_cached_workflows=0)


async def history(client: Client, workflow_id: str, run_id: str | None = None) -> list[Any]:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    return [e async for e in handle.history()]


async def event_types(client: Client, workflow_id: str, run_id: str | None = None) -> list[str]:
    return [e["eventType"] for e in await history(client, workflow_id, run_id)]


async def record(client: Client, workflow_id: str, name: str, run_id: str | None = None) -> None:
    """Save the history as ``orchestration_<name>.json`` when asked to record."""
    if os.environ.get("AIOSWF_RECORD_HISTORIES") != "1":
        return
    events = await history(client, workflow_id, run_id)
    for event in events:
        if isinstance(event["eventTimestamp"], datetime):
            event["eventTimestamp"] = event["eventTimestamp"].timestamp()
    path = HISTORIES / f"orchestration_{name}.json"
    path.write_text(json.dumps({"events": events}, indent=1) + "\n")


async def wait_for_event(client: Client, workflow_id: str, kind: str) -> None:
    for _ in range(300):
        try:
            if kind in await event_types(client, workflow_id):
                return
        except Exception:  # not started yet
            pass
        await asyncio.sleep(0.02)
    raise AssertionError(f"{workflow_id} never got {kind}")


async def advance_until(clock: VirtualClock, done: asyncio.Future[Any], step: float) -> None:
    while not done.done():
        await asyncio.sleep(0.05)
        clock.advance(step)


@pytest.fixture
async def worker(client: Client) -> AsyncIterator[Worker]:
    workflows = [wf.Kid, wf.Parent, wf.InfoChild, wf.InfoParent, wf.Target, wf.Sender]
    workflows += [wf.SelfCancel, wf.Guardian, wf.Lambdas]
    async with Worker(client, task_list="e2e", workflows=workflows, activities=[greet]) as w:
        yield w


async def test_children_in_parallel_with_every_outcome(
    client: Client, clock: VirtualClock, worker: Worker
) -> None:
    handle = await client.start_workflow(wf.Parent.run, workflow_id="parent", task_list="e2e")
    await wait_for_event(client, "kid-terminate", "DecisionTaskCompleted")
    await client.get_workflow_handle("kid-terminate").terminate("enough")
    result = asyncio.ensure_future(handle.result(timeout=RESULT_TIMEOUT))
    await advance_until(clock, result, 5)
    assert await result == {
        "ok": "ok done",
        "fail": "ChildWorkflowFailedError",
        "timeout": "ChildWorkflowTimedOutError",
        "terminate": "ChildWorkflowTerminatedError",
        "cancel": "ChildWorkflowCanceledError",
        "ghost": "StartChildWorkflowFailedError WORKFLOW_TYPE_DOES_NOT_EXIST",
        "signal": "wait done",
    }
    types = await event_types(client, "parent")
    assert types.count("StartChildWorkflowExecutionInitiated") == 6
    assert "ExternalWorkflowExecutionSignaled" in types
    assert "ExternalWorkflowExecutionCancelRequested" in types
    await record(client, "parent", "children")


async def test_child_info_and_defaults(client: Client, worker: Worker) -> None:
    handle = await client.start_workflow(wf.InfoParent.run, workflow_id="info", task_list="e2e")
    child = await handle.result(timeout=RESULT_TIMEOUT)
    assert child == {
        "workflow_id": "info-child-1",
        "task_list": "e2e",
        "parent": ["info", child["my_run_id"]],
        "type": ["InfoChild", "1"],
        "tags": ["child"],
        "timeout": 7200.0,
        "tasks": 1,
        "my_run_id": child["my_run_id"],
    }


async def test_five_run_chain_returns_the_last_result_from_the_first_handle(
    client: Client, clock: VirtualClock
) -> None:
    async with (
        Worker(client, task_list="e2e", workflows=[wf.Counter]),
        Worker(client, task_list="e2e-other", workflows=[wf.Counter]),
    ):
        handle = await client.start_workflow(
            wf.Counter.run, 1, [], workflow_id="counter", task_list="e2e"
        )
        result = asyncio.ensure_future(handle.result(timeout=RESULT_TIMEOUT))
        await advance_until(clock, result, 1)
        outcome = await result
    assert outcome["run"] == 5
    assert outcome["task_list"] == "e2e-other"
    assert len(set(outcome["runs"])) == 5
    assert outcome["runs"][0] == handle.first_run_id
    types = await event_types(client, "counter", outcome["runs"][0])
    assert types[-1] == "WorkflowExecutionContinuedAsNew"
    await record(client, "counter", "continue_as_new", outcome["runs"][0])


async def test_signal_and_cancel_another_execution_whose_cleanup_runs_activities(
    client: Client, worker: Worker
) -> None:
    target = await client.start_workflow(wf.Target.run, workflow_id="target", task_list="e2e")
    await wait_for_event(client, "target", "DecisionTaskCompleted")
    sender = await client.start_workflow(
        wf.Sender.run, "target", workflow_id="sender", task_list="e2e"
    )
    assert await sender.result(timeout=RESULT_TIMEOUT) == {
        "causes": [
            "SignalExternalWorkflowFailedError UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION",
            "RequestCancelExternalWorkflowFailedError UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION",
        ]
    }
    with pytest.raises(WorkflowCanceledError):
        await target.result(timeout=RESULT_TIMEOUT)
    events = await history(client, "target")
    inputs = [
        e["activityTaskScheduledEventAttributes"]["input"]
        for e in events
        if e["eventType"] == "ActivityTaskScheduled"
    ]
    assert inputs == ["[\"cleanup after ['hello']\"]", '["finally"]']
    await record(client, "sender", "external")
    await record(client, "target", "cancel_cleanup")


async def test_a_workflow_cancels_itself(client: Client, worker: Worker) -> None:
    handle = await client.start_workflow(wf.SelfCancel.run, workflow_id="self", task_list="e2e")
    with pytest.raises(WorkflowCanceledError):
        await handle.result(timeout=RESULT_TIMEOUT)


@pytest.mark.parametrize("policy", list(ChildPolicy))
async def test_child_policy_applies_when_the_parent_is_terminated(
    client: Client, worker: Worker, policy: ChildPolicy
) -> None:
    parent = await client.start_workflow(
        wf.Guardian.run,
        workflow_id="guardian",
        task_list="e2e",
        options=WorkflowOptions(child_policy=policy),
    )
    await wait_for_event(client, "ward", "DecisionTaskCompleted")
    await parent.terminate("done with it")
    await child_policy_applied(client, policy)


async def child_policy_applied(client: Client, policy: ChildPolicy) -> None:
    """What ``policy`` does to the open child ``ward`` once its parent is gone."""
    ward = client.get_workflow_handle("ward")
    if policy is ChildPolicy.TERMINATE:
        with pytest.raises(WorkflowTerminatedError) as caught:
            await ward.result(timeout=RESULT_TIMEOUT)
        assert caught.value.cause == "CHILD_POLICY_APPLIED"
    elif policy is ChildPolicy.REQUEST_CANCEL:
        with pytest.raises(WorkflowCanceledError):
            await ward.result(timeout=RESULT_TIMEOUT)
        assert "WorkflowExecutionCancelRequested" in await event_types(client, "ward")
    else:
        await asyncio.sleep(0.2)
        assert (await ward.describe()).info.status == "OPEN"
        await ward.signal(wf.Kid.release)
        assert await ward.result(timeout=RESULT_TIMEOUT) == "wait done"


@pytest.mark.parametrize("policy", list(ChildPolicy))
async def test_child_policy_applies_when_the_parent_times_out(
    client: Client, clock: VirtualClock, worker: Worker, policy: ChildPolicy
) -> None:
    parent = await client.start_workflow(
        wf.Guardian.run,
        workflow_id="guardian",
        task_list="e2e",
        options=WorkflowOptions(
            child_policy=policy, execution_start_to_close_timeout=timedelta(seconds=60)
        ),
    )
    await wait_for_event(client, "ward", "DecisionTaskCompleted")
    clock.advance(61)
    with pytest.raises(WorkflowTimedOutError):
        await parent.result(timeout=RESULT_TIMEOUT)
    assert (await event_types(client, "guardian"))[-1] == "WorkflowExecutionTimedOut"
    await child_policy_applied(client, policy)


async def test_patch_keeps_old_executions_on_the_old_branch(
    client: Client, clock: VirtualClock
) -> None:
    async with Worker(client, task_list="e2e", workflows=[wf.ShippingV1], activities=[greet]):
        old = await client.start_workflow(wf.ShippingV1.run, workflow_id="old", task_list="e2e")
        await wait_for_event(client, "old", "TimerStarted")
    async with Worker(
        client,
        task_list="e2e",
        workflows=[wf.ShippingV2],
        activities=[greet],
        decision_options=NO_CACHE,
    ):
        new = await client.start_workflow(wf.ShippingV2.run, workflow_id="new", task_list="e2e")
        await wait_for_event(client, "new", "TimerStarted")
        both = asyncio.ensure_future(
            asyncio.gather(old.result(timeout=RESULT_TIMEOUT), new.result(timeout=RESULT_TIMEOUT))
        )
        await advance_until(clock, both, 5)
        assert await both == ["shipped", "shipped insured"]
    assert "MarkerRecorded" not in await event_types(client, "old")
    assert (await event_types(client, "new")).count("MarkerRecorded") == 1
    await record(client, "old", "before_patch")
    await record(client, "new", "patched")


async def test_side_effect_runs_once_across_replays(client: Client, clock: VirtualClock) -> None:
    start = next(wf.effects)
    async with Worker(client, task_list="e2e", workflows=[wf.Effects], decision_options=NO_CACHE):
        handle = await client.start_workflow(wf.Effects.run, workflow_id="fx", task_list="e2e")
        result = asyncio.ensure_future(handle.result(timeout=RESULT_TIMEOUT))
        await advance_until(clock, result, 1)
        values = await result
    assert values == [start + 1] * 5 + [start + 2]
    assert next(wf.effects) == start + 3  # two real calls over six decision tasks
    await record(client, "fx", "side_effect")


async def test_lambda_tasks(client: Client, clock: VirtualClock, local_swf: LocalSWF) -> None:
    stuck = asyncio.Event()

    async def stuck_fn(payload: str | None) -> str:
        await stuck.wait()
        return "never"

    def broken(payload: str | None) -> str:
        raise RuntimeError(f"cannot handle {payload}")

    local_swf.register_lambda("double", lambda payload: 2 * json.loads(payload or "0"))
    local_swf.register_lambda("broken", broken)
    local_swf.register_lambda("stuck", stuck_fn)
    async with Worker(client, task_list="e2e", workflows=[wf.Lambdas]):
        handle = await client.start_workflow(wf.Lambdas.run, workflow_id="fn", task_list="e2e")
        result = asyncio.ensure_future(handle.result(timeout=RESULT_TIMEOUT))
        await advance_until(clock, result, 2)
        outcome = await result
    stuck.set()
    assert outcome == {
        "double": 42,
        "broken": "LambdaFunctionFailedError",
        "missing": "LambdaFunctionFailedError",
        "stuck": "LambdaFunctionTimedOutError",
    }
    await record(client, "fn", "lambda")
