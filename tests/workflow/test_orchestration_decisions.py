"""Orchestration decisions, exactly, from built histories, with the instance cache on and off."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from aioswf import (
    ChildWorkflowError,
    ExternalWorkflowError,
    LambdaFunctionError,
    WorkflowOptions,
    workflow,
)
from tests.workflow.histories import Simulation, attrs_of, kinds
from tests.workflow.orchestration import Kid
from tests.workflow.workflows import greet

pytestmark = pytest.mark.parametrize("cache", [True, False], ids=["cached", "replayed"])


@workflow.defn
class CallKid:
    @workflow.run
    async def run(self, mode: str) -> str:
        try:
            return await workflow.execute_child_workflow(
                Kid.run, mode, tags=["t"], task_priority=3, child_policy="ABANDON"
            )
        except ChildWorkflowError as error:
            return f"{type(error).__name__}: {error}"


@workflow.defn
class ImpatientParent:
    @workflow.run
    async def run(self) -> str:
        handle = await workflow.start_child_workflow(Kid.run, "wait", workflow_id="kid")
        try:
            return await asyncio.wait_for(handle, timeout=10)
        except TimeoutError:
            return "gave up"


@workflow.defn
class Poker:
    @workflow.run
    async def run(self) -> str:
        target = workflow.get_external_workflow_handle("other", run_id="r-1")
        await target.signal(Kid.release)
        try:
            await target.cancel()
        except ExternalWorkflowError as error:
            return error.cause
        return "cancel delivered"


@workflow.defn(task_list="ignored")
class Looping:
    @workflow.run
    async def run(self, n: int) -> None:
        if n < 3:
            try:
                workflow.continue_as_new(n + 1, execution_start_to_close_timeout=timedelta(hours=2))
            except Exception:  # continue-as-new must pass through this
                return


@workflow.defn
class Patched:
    @workflow.run
    async def run(self) -> str:
        if workflow.patched("v2"):
            await workflow.execute_activity(greet, "new")
            return "new"
        return "old"


calls: list[int] = []


def pick() -> dict[str, int]:
    calls.append(1)
    return {"n": len(calls)}


@workflow.defn
class SideEffect:
    @workflow.run
    async def run(self) -> Any:
        value = workflow.side_effect(pick)
        await asyncio.sleep(5)
        return value


@workflow.defn
class Lambda:
    @workflow.run
    async def run(self) -> Any:
        try:
            return await workflow.execute_lambda(
                "fn", {"x": 1}, start_to_close_timeout=timedelta(seconds=30)
            )
        except LambdaFunctionError as error:
            return type(error).__name__


def test_child_started_and_completed(cache: bool) -> None:
    sim = Simulation(CallKid, "ok", cache=cache)
    assert sim.decide() == [
        {
            "decisionType": "StartChildWorkflowExecution",
            "startChildWorkflowExecutionDecisionAttributes": {
                "workflowType": {"name": "Kid", "version": "1"},
                "workflowId": "wf-1-child-1",
                "taskList": {"name": "tasks"},
                "childPolicy": "ABANDON",
                "executionStartToCloseTimeout": "31536000",
                "taskStartToCloseTimeout": "30",
                "input": '["ok"]',
                "tagList": ["t"],
                "taskPriority": "3",
            },
        }
    ]
    sim.history.child_started("wf-1-child-1")
    assert sim.decide() == []
    sim.history.child_closed("wf-1-child-1", "Completed", result='"ok done"')
    decisions = sim.decide()
    assert attrs_of(decisions[0]) == {"result": '"ok done"'}
    assert sim.replay().decisions == []
    sim.close()


def test_child_failed(cache: bool) -> None:
    sim = Simulation(CallKid, "fail", cache=cache)
    sim.decide()
    sim.history.child_started("wf-1-child-1")
    sim.history.child_closed("wf-1-child-1", "Failed", reason="KidError", details="nope")
    result = json.loads(attrs_of(sim.decide()[0])["result"])
    assert result.startswith("ChildWorkflowFailedError: child workflow 'wf-1-child-1'")
    assert "KidError" in result
    sim.close()


def test_child_refused_before_initiation(cache: bool) -> None:
    sim = Simulation(CallKid, "ok", cache=cache)
    started = sim.history.start_decision_task()
    sim.activate(started)
    completed = sim.history.add(
        "DecisionTaskCompleted", {"scheduledEventId": started - 1, "startedEventId": started}
    )
    sim.history.add(
        "StartChildWorkflowExecutionFailed",
        {
            "workflowType": {"name": "Kid", "version": "1"},
            "workflowId": "wf-1-child-1",
            "cause": "WORKFLOW_TYPE_DOES_NOT_EXIST",
            "initiatedEventId": 0,
            "decisionTaskCompletedEventId": completed,
        },
    )
    result = json.loads(attrs_of(sim.decide()[0])["result"])
    assert result.startswith("StartChildWorkflowFailedError")
    assert result.endswith("WORKFLOW_TYPE_DOES_NOT_EXIST")
    assert sim.replay().decisions == []
    sim.close()


def test_cancelling_the_wait_on_a_child_requests_its_cancellation(cache: bool) -> None:
    sim = Simulation(ImpatientParent, cache=cache)
    assert kinds(sim.decide()) == ["StartChildWorkflowExecution"]
    sim.history.child_started("kid")
    assert kinds(sim.decide()) == ["StartTimer"]
    sim.history.timer_fired("1")
    decisions = sim.decide()
    assert kinds(decisions) == [
        "RequestCancelExternalWorkflowExecution",
        "CompleteWorkflowExecution",
    ]
    assert attrs_of(decisions[0]) == {"workflowId": "kid", "control": "1"}
    assert sim.replay().decisions == []
    sim.close()


def test_external_signal_and_failed_cancel(cache: bool) -> None:
    sim = Simulation(Poker, cache=cache)
    assert sim.decide() == [
        {
            "decisionType": "SignalExternalWorkflowExecution",
            "signalExternalWorkflowExecutionDecisionAttributes": {
                "workflowId": "other",
                "signalName": "release",
                "runId": "r-1",
                "control": "1",
            },
        }
    ]
    sim.history.external_done("1", "ExternalWorkflowExecutionSignaled")
    decisions = sim.decide()
    assert kinds(decisions) == ["RequestCancelExternalWorkflowExecution"]
    assert attrs_of(decisions[0]) == {"workflowId": "other", "runId": "r-1", "control": "2"}
    sim.history.external_done(
        "2", "RequestCancelExternalWorkflowExecutionFailed", cause="UNKNOWN_EXTERNAL"
    )
    assert attrs_of(sim.decide()[0]) == {"result": '"UNKNOWN_EXTERNAL"'}
    sim.close()


def test_continue_as_new_keeps_the_run_settings(cache: bool) -> None:
    sim = Simulation(Looping, 1, cache=cache)
    assert sim.decide() == [
        {
            "decisionType": "ContinueAsNewWorkflowExecution",
            "continueAsNewWorkflowExecutionDecisionAttributes": {
                "taskList": {"name": "tasks"},
                "executionStartToCloseTimeout": "7200",
                "taskStartToCloseTimeout": "30",
                "childPolicy": "TERMINATE",
                "input": "[2]",
            },
        }
    ]
    assert sim.replay().decisions == []
    sim.close()


def test_continue_as_new_to_another_task_list(cache: bool) -> None:
    @workflow.defn
    class Moving:
        @workflow.run
        async def run(self) -> None:
            workflow.continue_as_new(options=WorkflowOptions(task_list="next", task_priority=2))

    decisions = Simulation(Moving, cache=cache).decide()
    assert attrs_of(decisions[0])["taskList"] == {"name": "next"}
    assert attrs_of(decisions[0])["taskPriority"] == "2"


def test_patch_recorded_in_new_executions(cache: bool) -> None:
    sim = Simulation(Patched, cache=cache)
    decisions = sim.decide()
    assert kinds(decisions) == ["RecordMarker", "ScheduleActivityTask"]
    assert attrs_of(decisions[0]) == {"markerName": "aioswf.patch.v2"}
    sim.history.activity_completed("1", "hello new")
    assert attrs_of(sim.decide()[0]) == {"result": '"new"'}
    assert sim.replay().decisions == []
    sim.close()


def test_side_effect_called_once(cache: bool) -> None:
    calls.clear()
    sim = Simulation(SideEffect, cache=cache)
    assert sim.decide()[0] == {
        "decisionType": "RecordMarker",
        "recordMarkerDecisionAttributes": {
            "markerName": "aioswf.side_effect.1",
            "details": '{"n":1}',
        },
    }
    sim.history.timer_fired("1")
    assert attrs_of(sim.decide()[0]) == {"result": '{"n":1}'}
    assert sim.replay().decisions == []
    assert len(calls) == 1
    sim.close()


def test_lambda_scheduled_and_completed(cache: bool) -> None:
    sim = Simulation(Lambda, cache=cache)
    assert sim.decide() == [
        {
            "decisionType": "ScheduleLambdaFunction",
            "scheduleLambdaFunctionDecisionAttributes": {
                "id": "1",
                "name": "fn",
                "input": '{"x":1}',
                "startToCloseTimeout": "30",
            },
        }
    ]
    sim.history.lambda_closed("1", "LambdaFunctionCompleted", result='{"y": 2}')
    assert attrs_of(sim.decide()[0]) == {"result": '{"y":2}'}
    sim.close()


def test_lambda_timed_out(cache: bool) -> None:
    sim = Simulation(Lambda, cache=cache)
    sim.decide()
    sim.history.lambda_closed("1", "LambdaFunctionTimedOut", timeoutType="START_TO_CLOSE")
    assert attrs_of(sim.decide()[0]) == {"result": '"LambdaFunctionTimedOutError"'}
    sim.close()


@workflow.defn
class Stubborn:
    @workflow.run
    async def run(self) -> None:
        try:
            await asyncio.sleep(60)
        finally:
            await workflow.execute_activity(greet, "cleanup")


def test_second_cancel_request_does_not_interrupt_cleanup(cache: bool) -> None:
    sim = Simulation(Stubborn, cache=cache)
    assert kinds(sim.decide()) == ["StartTimer"]
    sim.history.cancel_requested()
    assert kinds(sim.decide()) == ["CancelTimer", "ScheduleActivityTask"]
    sim.history.cancel_requested()
    assert sim.decide() == []
    sim.history.activity_completed("1", "hello cleanup")
    assert kinds(sim.decide()) == ["CancelWorkflowExecution"]
    sim.close()


def test_info_counts_decision_tasks(cache: bool) -> None:
    @workflow.defn
    class Counting:
        @workflow.run
        async def run(self) -> list[int]:
            seen = []
            for _ in range(2):
                info = workflow.info()
                seen += [info.decision_task_count, info.decision_task_attempt, info.history_length]
                await asyncio.sleep(1)
            return seen

    sim = Simulation(Counting, cache=cache)
    started = sim.history.start_decision_task()
    sim.history.time_out_decision_task(started)
    sim.decide()
    sim.history.timer_fired("1")
    sim.decide()
    sim.history.timer_fired("2")
    assert json.loads(attrs_of(sim.decide()[0])["result"]) == [1, 2, 6, 2, 1, 11]
    sim.close()


@workflow.defn
class Restartable:
    @workflow.run
    async def run(self, generation: int) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def restart(self) -> None:
        workflow.continue_as_new(7)


def test_continue_as_new_from_a_signal_handler(cache: bool) -> None:
    sim = Simulation(Restartable, 1, cache=cache)
    assert sim.decide() == []
    sim.history.signal("restart")
    decisions = sim.decide()
    assert kinds(decisions) == ["ContinueAsNewWorkflowExecution"]
    assert attrs_of(decisions[0])["input"] == "[7]"
    sim.close()


@workflow.defn
class ChangeOfMind:
    @workflow.run
    async def run(self) -> str:
        task = asyncio.ensure_future(workflow.execute_child_workflow(Kid.run, "ok"))
        await asyncio.sleep(0)
        task.cancel()
        return "never mind"


def test_child_cancelled_in_the_same_task_is_never_started(cache: bool) -> None:
    sim = Simulation(ChangeOfMind, cache=cache)
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    sim.close()
