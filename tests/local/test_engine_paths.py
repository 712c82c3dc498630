"""Engine paths no other test reaches: the operation table, activity-type listing, and the
limit, default and deprecation causes of decisions."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.session import get_session

from aioswf.local import LocalSWF
from aioswf.local.engine import OPERATIONS
from aioswf.local.engine.core import Limits
from tests.local.helpers import ACT, DOMAIN, WF, Driver, attrs_of, decision, schedule, timer

BARE = {"name": "Bare", "version": "1"}


def test_every_operation_of_the_service_model_is_implemented() -> None:
    model = get_session().get_service_model("swf")
    assert set(OPERATIONS) == set(model.operation_names)


async def failures(sw: Driver, run: str, workflow_id: str = "wf-1") -> list[tuple[str, str]]:
    """The ``*Failed`` events of a run with their causes."""
    return [
        (e["eventType"], attrs_of(e)["cause"])
        for e in await sw.history(run, workflow_id)
        if e["eventType"].endswith("Failed") and "cause" in attrs_of(e)
    ]


async def test_list_and_undeprecate_activity_types(sw: Driver) -> None:
    for version in ("2", "3"):
        await sw("register_activity_type", domain=DOMAIN, name="Step", version=version)
    await sw("register_activity_type", domain=DOMAIN, name="Other", version="1")
    await sw(
        "deprecate_activity_type", domain=DOMAIN, activityType={"name": "Step", "version": "2"}
    )

    async def versions(status: str, **extra: Any) -> list[str]:
        found = await sw(
            "list_activity_types", domain=DOMAIN, registrationStatus=status, name="Step", **extra
        )
        return [t["activityType"]["version"] for t in found["typeInfos"]]

    assert await versions("REGISTERED") == ["1", "3"]
    assert await versions("DEPRECATED") == ["2"]
    page = await sw(
        "list_activity_types",
        domain=DOMAIN,
        registrationStatus="REGISTERED",
        maximumPageSize=2,
        reverseOrder=True,
    )
    assert [t["activityType"]["name"] for t in page["typeInfos"]] == ["Step", "Step"]
    assert "nextPageToken" in page
    await sw(
        "undeprecate_activity_type", domain=DOMAIN, activityType={"name": "Step", "version": "2"}
    )
    assert await versions("REGISTERED") == ["1", "2", "3"]
    assert await versions("DEPRECATED") == []
    with pytest.raises(sw.client.exceptions.TypeAlreadyExistsFault):
        await sw("undeprecate_activity_type", domain=DOMAIN, activityType=ACT)
    with pytest.raises(sw.client.exceptions.UnknownResourceFault):
        await sw(
            "undeprecate_activity_type", domain=DOMAIN, activityType={"name": "No", "version": "1"}
        )


async def test_open_activity_and_timer_limits(sw: Driver, local_swf: LocalSWF) -> None:
    local_swf.engine.limits = Limits(open_activities=2, open_timers=1)
    run = await sw.start()
    await sw.decide(schedule("a1"), schedule("a2"), schedule("a3"), timer("t1", 9), timer("t2", 9))
    assert await failures(sw, run) == [
        ("ScheduleActivityTaskFailed", "OPEN_ACTIVITIES_LIMIT_EXCEEDED"),
        ("StartTimerFailed", "OPEN_TIMERS_LIMIT_EXCEEDED"),
    ]


async def test_open_lambda_functions_limit(sw: Driver, local_swf: LocalSWF) -> None:
    local_swf.engine.limits = Limits(open_lambdas=1)
    run = await sw.start()
    await sw.decide(
        decision("ScheduleLambdaFunction", id="f1", name="fn"),
        decision("ScheduleLambdaFunction", id="f2", name="fn"),
    )
    assert await failures(sw, run) == [
        ("ScheduleLambdaFunctionFailed", "OPEN_LAMBDA_FUNCTIONS_LIMIT_EXCEEDED")
    ]


def child(workflow_id: str, workflow_type: dict[str, str] = WF, **attrs: Any) -> dict[str, Any]:
    return decision(
        "StartChildWorkflowExecution", workflowType=workflow_type, workflowId=workflow_id, **attrs
    )


async def test_open_children_and_open_workflows_limits(sw: Driver, local_swf: LocalSWF) -> None:
    local_swf.engine.limits = Limits(open_children=2)
    run = await sw.start()
    await sw.decide(child("k1"), child("k2"), child("k3"))
    assert await failures(sw, run) == [
        ("StartChildWorkflowExecutionFailed", "OPEN_CHILDREN_LIMIT_EXCEEDED")
    ]
    # Three runs are open in the domain now (the parent and two children): no room for more.
    local_swf.engine.limits = Limits(open_executions=4)
    await sw.poll()  # k1's first task
    await sw.poll()  # k2's
    await sw.decide(child("k4"), child("k5"))
    found = await failures(sw, run)
    assert found[1:] == [("StartChildWorkflowExecutionFailed", "OPEN_WORKFLOWS_LIMIT_EXCEEDED")]
    assert "k4" in {i["execution"]["workflowId"] for i in await open_runs(sw)}


async def open_runs(sw: Driver) -> list[dict[str, Any]]:
    found = await sw(
        "list_open_workflow_executions", domain=DOMAIN, startTimeFilter={"oldestDate": 0}
    )
    infos: list[dict[str, Any]] = found["executionInfos"]
    return infos


async def register_bare(sw: Driver) -> None:
    await sw("register_workflow_type", domain=DOMAIN, **BARE)


async def test_child_defaults_undefined(sw: Driver) -> None:
    await register_bare(sw)
    run = await sw.start()
    await sw.decide(
        child("c1", BARE),
        child("c2", BARE, taskList={"name": "main"}),
        child("c3", BARE, taskList={"name": "main"}, executionStartToCloseTimeout="60"),
        child(
            "c4",
            BARE,
            taskList={"name": "main"},
            executionStartToCloseTimeout="60",
            taskStartToCloseTimeout="10",
        ),
    )
    assert [cause for _, cause in await failures(sw, run)] == [
        "DEFAULT_TASK_LIST_UNDEFINED",
        "DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED",
        "DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED",
        "DEFAULT_CHILD_POLICY_UNDEFINED",
    ]


async def test_continue_as_new_defaults_undefined(sw: Driver) -> None:
    await register_bare(sw)
    full = {
        "taskList": {"name": "main"},
        "executionStartToCloseTimeout": "60",
        "taskStartToCloseTimeout": "10",
        "childPolicy": "TERMINATE",
    }
    run = await sw.start(workflowType=BARE, **full)
    expected = []
    for missing, cause in [
        ("taskList", "DEFAULT_TASK_LIST_UNDEFINED"),
        ("executionStartToCloseTimeout", "DEFAULT_EXECUTION_START_TO_CLOSE_TIMEOUT_UNDEFINED"),
        ("taskStartToCloseTimeout", "DEFAULT_TASK_START_TO_CLOSE_TIMEOUT_UNDEFINED"),
        ("childPolicy", "DEFAULT_CHILD_POLICY_UNDEFINED"),
    ]:
        attrs = {k: v for k, v in full.items() if k != missing}
        await sw.decide(decision("ContinueAsNewWorkflowExecution", **attrs))
        expected.append(("ContinueAsNewWorkflowExecutionFailed", cause))
    assert await failures(sw, run) == expected
    assert (await sw.describe(run))["executionInfo"]["executionStatus"] == "OPEN"


async def test_deprecated_workflow_type_for_child_and_continue_as_new(sw: Driver) -> None:
    run = await sw.start()
    await sw("deprecate_workflow_type", domain=DOMAIN, workflowType=WF)
    await sw.decide(child("kid"))
    await sw.decide(decision("ContinueAsNewWorkflowExecution"))
    assert await failures(sw, run) == [
        ("StartChildWorkflowExecutionFailed", "WORKFLOW_TYPE_DEPRECATED"),
        ("ContinueAsNewWorkflowExecutionFailed", "WORKFLOW_TYPE_DEPRECATED"),
    ]
