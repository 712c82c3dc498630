"""SQLite persistence across restarts, local Lambda functions, and the event limit."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aioswf.local import LocalSWF, VirtualClock
from aioswf.local.engine.core import EVENT_LIMIT
from tests.local.helpers import DOMAIN, Driver, attrs_of, boto3_client, decision, schedule, timer


async def test_restart_with_a_database_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "swf.db"
    clock = VirtualClock(start=1_700_000_000.0)
    async with LocalSWF(clock=clock, db_path=db, long_poll_seconds=0.3) as first:
        client = boto3_client(first.endpoint_url)
        sw = Driver(client)
        await sw.setup()
        run = await sw.start()
        await sw.decide(schedule("queued"), schedule("running"), timer("t", 60))
        running = await sw.poll_activity()
        await sw(
            "signal_workflow_execution", domain=DOMAIN, workflowId="wf-1", signalName="pending"
        )
        before = await sw.history(run)
        client.close()
    async with LocalSWF(clock=clock, db_path=db, long_poll_seconds=0.3) as second:
        client = boto3_client(second.endpoint_url)
        sw = Driver(client)
        assert await sw.history(run) == before
        queued = await sw.poll_activity()
        assert queued["activityId"] == "running" or queued["activityId"] == "queued"
        assert queued["activityId"] != running["activityId"]
        await sw("respond_activity_task_completed", taskToken=running["taskToken"])
        task = await sw.poll()
        assert task["previousStartedEventId"] == 3
        await sw("respond_decision_task_completed", taskToken=task["taskToken"])
        clock.advance(60)
        assert "TimerFired" in await sw.types(run)
        with_more = await sw.start("wf-2")
        client.close()
    async with LocalSWF(clock=clock, db_path=db, long_poll_seconds=0.3) as third:
        client = boto3_client(third.endpoint_url)
        sw = Driver(client)
        listed = await sw(
            "list_open_workflow_executions", domain=DOMAIN, startTimeFilter={"oldestDate": 0}
        )
        assert {i["execution"]["runId"] for i in listed["executionInfos"]} == {run, with_more}
        client.close()


async def test_lambda_functions_run_registered_callables(sw: Driver, local_swf: LocalSWF) -> None:
    async def shout(payload: str | None) -> str:
        return (payload or "").upper()

    def explode(payload: str | None) -> str:
        raise ValueError("no way")

    local_swf.register_lambda("shout", shout)
    local_swf.register_lambda("explode", explode)
    run = await sw.start()
    await sw.decide(
        decision("ScheduleLambdaFunction", id="l1", name="shout", input="hi"),
        decision("ScheduleLambdaFunction", id="l2", name="explode"),
        decision("ScheduleLambdaFunction", id="l3", name="missing"),
        decision("ScheduleLambdaFunction", id="l1", name="shout"),
    )
    for _ in range(100):
        events = await sw.history(run)
        types = [e["eventType"] for e in events]
        if "LambdaFunctionCompleted" in types and "LambdaFunctionFailed" in types:
            break
        await asyncio.sleep(0.01)
    by_type = {e["eventType"]: attrs_of(e) for e in events}
    assert by_type["LambdaFunctionCompleted"]["result"] == "HI"
    assert by_type["LambdaFunctionFailed"]["reason"] == "ValueError"
    assert by_type["ScheduleLambdaFunctionFailed"]["cause"] == "ID_ALREADY_IN_USE"
    assert "StartLambdaFunctionFailed" in by_type


async def test_event_limit_terminates_the_execution(local_swf: LocalSWF) -> None:
    call = local_swf.call
    call("RegisterDomain", {"name": "d", "workflowExecutionRetentionPeriodInDays": "1"})
    call(
        "RegisterWorkflowType",
        {
            "domain": "d",
            "name": "w",
            "version": "1",
            "defaultTaskList": {"name": "l"},
            "defaultExecutionStartToCloseTimeout": "3600",
            "defaultTaskStartToCloseTimeout": "60",
            "defaultChildPolicy": "TERMINATE",
        },
    )
    run = call(
        "StartWorkflowExecution",
        {"domain": "d", "workflowId": "big", "workflowType": {"name": "w", "version": "1"}},
    )["runId"]
    markers = [decision("RecordMarker", markerName="m")] * 1000
    for _ in range(30):
        task = call(
            "PollForDecisionTask", {"domain": "d", "taskList": {"name": "l"}, "maximumPageSize": 1}
        )
        call("RespondDecisionTaskCompleted", {"taskToken": task["taskToken"], "decisions": markers})
        status = call(
            "DescribeWorkflowExecution",
            {"domain": "d", "execution": {"workflowId": "big", "runId": run}},
        )["executionInfo"]
        if status["executionStatus"] != "OPEN":
            break
        call("SignalWorkflowExecution", {"domain": "d", "workflowId": "big", "signalName": "m"})
    detail = call(
        "DescribeWorkflowExecution",
        {"domain": "d", "execution": {"workflowId": "big", "runId": run}},
    )
    assert detail["executionInfo"]["closeStatus"] == "TERMINATED"
    last = call(
        "GetWorkflowExecutionHistory",
        {
            "domain": "d",
            "execution": {"workflowId": "big", "runId": run},
            "reverseOrder": True,
            "maximumPageSize": 1,
        },
    )["events"][0]
    assert last["workflowExecutionTerminatedEventAttributes"]["cause"] == "EVENT_LIMIT_EXCEEDED"
    assert last["eventId"] == EVENT_LIMIT  # the close takes the last place, no more
