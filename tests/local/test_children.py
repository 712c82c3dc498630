"""Child workflows, child policies, continue-as-new, and decisions aimed at other executions."""

from __future__ import annotations

import pytest

from aioswf.local import VirtualClock
from tests.local.helpers import DOMAIN, WF, Driver, attrs_of, complete, decision


def child(workflow_id: str, **attrs: object) -> dict[str, object]:
    return decision("StartChildWorkflowExecution", workflowType=WF, workflowId=workflow_id, **attrs)


async def start_parent_with_child(sw: Driver, **attrs: object) -> tuple[str, str]:
    parent = await sw.start("parent")
    await sw.decide(child("kid", input="ci", **attrs))
    kid = await sw.poll()  # the child's first decision task (parent's comes after it)
    assert kid["workflowExecution"]["workflowId"] == "kid"
    started = attrs_of(kid["events"][0])
    assert started["parentWorkflowExecution"] == {"workflowId": "parent", "runId": parent}
    await sw("respond_decision_task_completed", taskToken=kid["taskToken"])
    return parent, kid["workflowExecution"]["runId"]


async def test_child_completes_and_parent_hears_of_it(sw: Driver) -> None:
    parent, kid_run = await start_parent_with_child(sw)
    task = await sw.poll()
    types = [e["eventType"] for e in task["events"]]
    assert types[4:7] == [
        "StartChildWorkflowExecutionInitiated",
        "ChildWorkflowExecutionStarted",
        "DecisionTaskScheduled",
    ]
    await sw("respond_decision_task_completed", taskToken=task["taskToken"])
    await sw("signal_workflow_execution", domain=DOMAIN, workflowId="kid", signalName="s")
    await sw.decide(complete("kid-result"))
    task = await sw.decide(complete("all"))
    done = task["events"][-3]
    assert done["eventType"] == "ChildWorkflowExecutionCompleted"
    assert attrs_of(done)["result"] == "kid-result"
    assert attrs_of(done)["workflowExecution"] == {"workflowId": "kid", "runId": kid_run}
    info = (await sw.describe(kid_run, "kid"))["executionInfo"]
    assert info["parent"] == {"workflowId": "parent", "runId": parent}


async def test_child_that_is_already_running_fails_to_start(sw: Driver) -> None:
    await sw.start("kid")
    parent = await sw.start("parent")
    await sw.poll()  # the first "kid" run's task, left open
    await sw.decide(child("kid"))
    history = await sw.history(parent, "parent")
    failed = [e for e in history if e["eventType"] == "StartChildWorkflowExecutionFailed"]
    assert attrs_of(failed[0])["cause"] == "WORKFLOW_ALREADY_RUNNING"
    assert attrs_of(failed[0])["initiatedEventId"] == 5


async def test_unknown_child_type_fails(sw: Driver) -> None:
    parent = await sw.start("parent")
    await sw.decide(
        decision(
            "StartChildWorkflowExecution",
            workflowId="kid",
            workflowType={"name": "Nope", "version": "1"},
        )
    )
    last = (await sw.history(parent, "parent"))[-2]
    assert attrs_of(last)["cause"] == "WORKFLOW_TYPE_DOES_NOT_EXIST"


@pytest.mark.parametrize(
    ("policy", "kid_event"),
    [
        ("TERMINATE", "WorkflowExecutionTerminated"),
        ("REQUEST_CANCEL", "DecisionTaskScheduled"),
        ("ABANDON", "DecisionTaskCompleted"),
    ],
)
async def test_child_policy_on_terminate(sw: Driver, policy: str, kid_event: str) -> None:
    _, kid_run = await start_parent_with_child(sw)
    await sw("terminate_workflow_execution", domain=DOMAIN, workflowId="parent", childPolicy=policy)
    history = await sw.history(kid_run, "kid")
    assert history[-1]["eventType"] == kid_event
    if policy == "TERMINATE":
        assert attrs_of(history[-1])["cause"] == "CHILD_POLICY_APPLIED"
    if policy == "REQUEST_CANCEL":
        assert attrs_of(history[-2])["cause"] == "CHILD_POLICY_APPLIED"


async def test_child_policy_applies_on_timeout_but_not_on_completion(
    sw: Driver, clock: VirtualClock
) -> None:
    _, kid_run = await start_parent_with_child(sw)
    await sw.decide(complete())
    assert "WorkflowExecutionTerminated" not in await sw.types(kid_run, "kid")
    await sw.start("parent2", executionStartToCloseTimeout="50")
    await sw.decide(child("kid2", childPolicy="ABANDON"))
    kid2 = await sw.decide()
    clock.advance(50)
    parent2 = (
        await sw(
            "list_closed_workflow_executions",
            domain=DOMAIN,
            startTimeFilter={"oldestDate": 0},
            executionFilter={"workflowId": "parent2"},
        )
    )["executionInfos"][0]
    assert parent2["closeStatus"] == "TIMED_OUT"
    kid2_run = kid2["workflowExecution"]["runId"]
    assert (await sw.types(kid2_run, "kid2"))[-1] == "WorkflowExecutionTerminated"


async def test_child_failure_timeout_and_cancel_reach_the_parent(
    sw: Driver, clock: VirtualClock
) -> None:
    parent = await sw.start("parent")
    await sw.decide(child("k1"), child("k2", executionStartToCloseTimeout="10"), child("k3"))
    for _ in range(3):
        task = await sw.poll()
        if task["workflowExecution"]["workflowId"] == "k1":
            answer = [decision("FailWorkflowExecution", reason="bad")]
        elif task["workflowExecution"]["workflowId"] == "k3":
            answer = [decision("CancelWorkflowExecution")]
        else:
            answer = []
        await sw("respond_decision_task_completed", taskToken=task["taskToken"], decisions=answer)
    clock.advance(10)
    types = await sw.types(parent, "parent")
    assert {
        "ChildWorkflowExecutionFailed",
        "ChildWorkflowExecutionCanceled",
        "ChildWorkflowExecutionTimedOut",
    } <= set(types)
    assert (await sw.describe(parent, "parent"))["openCounts"]["openChildWorkflowExecutions"] == 0


async def test_continue_as_new_starts_a_fresh_run(sw: Driver) -> None:
    first = await sw.start(tagList=["old"])
    await sw.decide(decision("ContinueAsNewWorkflowExecution", input="next", tagList=["new"]))
    closed = (await sw.history(first))[-1]
    assert closed["eventType"] == "WorkflowExecutionContinuedAsNew"
    new_run = attrs_of(closed)["newExecutionRunId"]
    assert (await sw.describe(first))["executionInfo"]["closeStatus"] == "CONTINUED_AS_NEW"
    task = await sw.poll()
    assert task["workflowExecution"]["runId"] == new_run
    assert task["previousStartedEventId"] == 0
    started = attrs_of(task["events"][0])
    assert started["continuedExecutionRunId"] == first
    assert started["input"] == "next"
    assert started["tagList"] == ["new"]
    assert started["taskStartToCloseTimeout"] == "30"  # from the type, not inherited


async def test_continue_as_new_with_unknown_version_fails(sw: Driver) -> None:
    run = await sw.start()
    await sw.decide(decision("ContinueAsNewWorkflowExecution", workflowTypeVersion="9"))
    failed = (await sw.history(run))[-2]
    assert failed["eventType"] == "ContinueAsNewWorkflowExecutionFailed"
    assert attrs_of(failed)["cause"] == "WORKFLOW_TYPE_DOES_NOT_EXIST"


async def test_signal_and_cancel_external(sw: Driver) -> None:
    target = await sw.start("target")
    await sw.decide()
    source = await sw.start("source")
    await sw.decide(
        decision(
            "SignalExternalWorkflowExecution", workflowId="target", signalName="hi", input="x"
        ),
        decision("SignalExternalWorkflowExecution", workflowId="ghost", signalName="hi"),
        decision("RequestCancelExternalWorkflowExecution", workflowId="target"),
        decision("RequestCancelExternalWorkflowExecution", workflowId="ghost"),
    )
    types = await sw.types(source, "source")
    assert types[4:] == [
        "SignalExternalWorkflowExecutionInitiated",
        "SignalExternalWorkflowExecutionInitiated",
        "RequestCancelExternalWorkflowExecutionInitiated",
        "RequestCancelExternalWorkflowExecutionInitiated",
        "ExternalWorkflowExecutionSignaled",
        "SignalExternalWorkflowExecutionFailed",
        "ExternalWorkflowExecutionCancelRequested",
        "RequestCancelExternalWorkflowExecutionFailed",
        "DecisionTaskScheduled",
    ]
    target_history = await sw.history(target, "target")
    signaled = attrs_of(target_history[4])
    assert signaled["externalWorkflowExecution"] == {"workflowId": "source", "runId": source}
    assert signaled["externalInitiatedEventId"] == 5
    assert target_history[6]["eventType"] == "WorkflowExecutionCancelRequested"
