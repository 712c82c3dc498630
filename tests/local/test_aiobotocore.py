"""The local service driven by aiobotocore, the client aioswf itself uses.

Whole workflows by hand, raw SWF calls only (no aioswf Client or Worker): activities, timers,
signals, markers, child workflows, continue-as-new and cancellations, as tests/local's boto3
tests drive them, on the virtual clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioswf.local import LocalSWF, VirtualClock
from tests.local.aio_helpers import AioDriver, aio_client
from tests.local.helpers import (
    ACT,
    DOMAIN,
    WF,
    attrs_of,
    complete,
    decision,
    parked,
    schedule,
    timer,
)


@pytest.fixture
async def aio(local_swf: LocalSWF) -> AsyncIterator[Any]:
    async with aio_client(local_swf.endpoint_url) as client:
        yield client


@pytest.fixture
async def asw(aio: Any) -> AioDriver:
    """An aiobotocore driver on a registered domain, workflow type and activity type."""
    driver = AioDriver(aio)
    await driver.setup()
    return driver


async def test_whole_workflow_with_concurrent_long_polls(aio: Any, local_swf: LocalSWF) -> None:
    local_swf.frontend.long_poll_seconds = 10
    await aio.register_domain(name="d", workflowExecutionRetentionPeriodInDays="1")
    await aio.register_workflow_type(
        domain="d",
        **WF,
        defaultTaskList={"name": "main"},
        defaultExecutionStartToCloseTimeout="60",
        defaultTaskStartToCloseTimeout="10",
        defaultChildPolicy="ABANDON",
    )
    await aio.register_activity_type(domain="d", **ACT)
    tl = {"name": "main"}
    decider = asyncio.ensure_future(aio.poll_for_decision_task(domain="d", taskList=tl))
    workers = [
        asyncio.ensure_future(aio.poll_for_activity_task(domain="d", taskList=tl)) for _ in range(3)
    ]
    await parked(local_swf, 4)
    run = await aio.start_workflow_execution(domain="d", workflowId="w", workflowType=WF)
    task = await decider
    await aio.respond_decision_task_completed(
        taskToken=task["taskToken"], decisions=[schedule(f"a{i}") for i in range(3)]
    )
    done = await asyncio.gather(*workers)
    assert sorted(t["activityId"] for t in done) == ["a0", "a1", "a2"]
    for activity in done:
        await aio.respond_activity_task_completed(taskToken=activity["taskToken"], result="ok")
    task = await aio.poll_for_decision_task(domain="d", taskList=tl)
    assert task["previousStartedEventId"] == 3
    await aio.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[complete()])
    execution = {"workflowId": "w", "runId": run["runId"]}
    detail = await aio.describe_workflow_execution(domain="d", execution=execution)
    assert detail["executionInfo"]["closeStatus"] == "COMPLETED"
    paginator = aio.get_paginator("get_workflow_execution_history")
    events = [
        e
        async for page in paginator.paginate(
            domain="d", execution=execution, PaginationConfig={"PageSize": 4}
        )
        for e in page["events"]
    ]
    assert events[-1]["eventType"] == "WorkflowExecutionCompleted"
    assert [e["eventId"] for e in events] == list(range(1, len(events) + 1))


async def test_poll_paginator_reads_one_task(aio: Any) -> None:
    await aio.register_domain(name="d", workflowExecutionRetentionPeriodInDays="1")
    await aio.register_workflow_type(
        domain="d",
        **WF,
        defaultTaskList={"name": "main"},
        defaultExecutionStartToCloseTimeout="60",
        defaultTaskStartToCloseTimeout="10",
        defaultChildPolicy="ABANDON",
    )
    await aio.start_workflow_execution(domain="d", workflowId="w", workflowType=WF)
    paginator = aio.get_paginator("poll_for_decision_task")
    pages = [
        p
        async for p in paginator.paginate(
            domain="d", taskList={"name": "main"}, PaginationConfig={"PageSize": 1}
        )
    ]
    assert len(pages) == 3
    assert len({p["taskToken"] for p in pages}) == 1


async def test_timers_start_fire_and_cancel(
    asw: AioDriver, local_swf: LocalSWF, clock: VirtualClock
) -> None:
    local_swf.frontend.long_poll_seconds = 10
    run = await asw.start()
    await asw.decide(timer("t1", 30), timer("t2", 300))
    poll = asyncio.ensure_future(asw.poll())
    await parked(local_swf, 1)
    clock.advance(29)
    await asyncio.sleep(0.05)
    assert not poll.done()
    clock.advance(1)  # only the background timer can fire t1 and wake the parked poll
    task = await poll
    events = task["events"]
    assert [e["eventType"] for e in events[4:]] == [
        "TimerStarted",
        "TimerStarted",
        "TimerFired",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
    ]
    assert attrs_of(events[4]) == {
        "timerId": "t1",
        "startToFireTimeout": "30",
        "decisionTaskCompletedEventId": 4,
    }
    assert attrs_of(events[6]) == {"timerId": "t1", "startedEventId": 5}
    assert events[6]["eventTimestamp"].timestamp() == pytest.approx(clock.now())
    assert (task["previousStartedEventId"], task["startedEventId"]) == (3, 9)
    await asw(
        "respond_decision_task_completed",
        taskToken=task["taskToken"],
        decisions=[decision("CancelTimer", timerId="t2")],
    )
    assert (await asw.describe(run))["openCounts"]["openTimers"] == 0
    clock.advance(300)  # a canceled timer never fires (and the workflow has 600 s)
    history = await asw.history(run)
    assert [e["eventType"] for e in history[9:]] == ["DecisionTaskCompleted", "TimerCanceled"]
    assert attrs_of(history[10]) == {
        "timerId": "t2",
        "startedEventId": 6,
        "decisionTaskCompletedEventId": 10,
    }
    await asw.signal("finish")
    await asw.decide(complete())
    assert [e["eventType"] for e in (await asw.history(run))[11:]] == [
        "WorkflowExecutionSignaled",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
        "DecisionTaskCompleted",
        "WorkflowExecutionCompleted",
    ]


async def test_signals_with_input_and_markers(asw: AioDriver) -> None:
    run = await asw.start()
    await asw.decide(decision("RecordMarker", markerName="m", details="d"))
    await asw.signal("go", input="payload")
    await asw.signal("again", runId=run, input="more")
    task = await asw.decide(decision("RecordMarker", markerName="seen"), complete("ok"))
    events = task["events"]
    # Two signals, one decision task: the second signal was batched into it.
    assert [e["eventType"] for e in events] == [
        "WorkflowExecutionStarted",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
        "DecisionTaskCompleted",
        "MarkerRecorded",
        "WorkflowExecutionSignaled",
        "DecisionTaskScheduled",
        "WorkflowExecutionSignaled",
        "DecisionTaskStarted",
    ]
    assert attrs_of(events[4]) == {
        "markerName": "m",
        "details": "d",
        "decisionTaskCompletedEventId": 4,
    }
    assert attrs_of(events[5]) == {"signalName": "go", "input": "payload"}
    assert attrs_of(events[7]) == {"signalName": "again", "input": "more"}
    history = await asw.history(run)
    assert [e["eventType"] for e in history[9:]] == [
        "DecisionTaskCompleted",
        "MarkerRecorded",
        "WorkflowExecutionCompleted",
    ]
    assert attrs_of(history[10])["markerName"] == "seen"
    assert attrs_of(history[11]) == {"result": "ok", "decisionTaskCompletedEventId": 10}
    with pytest.raises(asw.client.exceptions.UnknownResourceFault):
        await asw.signal("late")


async def test_child_workflow_completes_into_the_parents_history(asw: AioDriver) -> None:
    parent = await asw.start("parent", input="pi")
    await asw.decide(
        decision(
            "StartChildWorkflowExecution",
            workflowType=WF,
            workflowId="kid",
            input="ci",
            control="ctl",
        )
    )
    kid = await asw.poll()  # the child's first decision task comes before the parent's next
    assert kid["workflowExecution"]["workflowId"] == "kid"
    kid_run = kid["workflowExecution"]["runId"]
    started = attrs_of(kid["events"][0])
    assert started["parentWorkflowExecution"] == {"workflowId": "parent", "runId": parent}
    assert started["parentInitiatedEventId"] == 5
    assert started["input"] == "ci"
    await asw(
        "respond_decision_task_completed",
        taskToken=kid["taskToken"],
        decisions=[complete("kid-result")],
    )
    assert await asw.types(kid_run, "kid") == [
        "WorkflowExecutionStarted",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
        "DecisionTaskCompleted",
        "WorkflowExecutionCompleted",
    ]
    task = await asw.decide(complete("all"))
    events = task["events"]
    assert task["workflowExecution"] == {"workflowId": "parent", "runId": parent}
    assert [e["eventType"] for e in events] == [
        "WorkflowExecutionStarted",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
        "DecisionTaskCompleted",
        "StartChildWorkflowExecutionInitiated",
        "ChildWorkflowExecutionStarted",
        "DecisionTaskScheduled",
        "ChildWorkflowExecutionCompleted",
        "DecisionTaskStarted",
    ]
    initiated = attrs_of(events[4])
    assert (initiated["workflowId"], initiated["control"]) == ("kid", "ctl")
    assert initiated["decisionTaskCompletedEventId"] == 4
    kid_execution = {"workflowId": "kid", "runId": kid_run}
    assert attrs_of(events[5]) == {
        "workflowExecution": kid_execution,
        "workflowType": WF,
        "initiatedEventId": 5,
    }
    assert attrs_of(events[7]) == {
        "workflowExecution": kid_execution,
        "workflowType": WF,
        "result": "kid-result",
        "initiatedEventId": 5,
        "startedEventId": 6,
    }
    assert (await asw.types(parent, "parent"))[-2:] == [
        "DecisionTaskCompleted",
        "WorkflowExecutionCompleted",
    ]
    info = (await asw.describe(kid_run, "kid"))["executionInfo"]
    assert info["parent"] == {"workflowId": "parent", "runId": parent}
    assert info["closeStatus"] == "COMPLETED"


async def test_continue_as_new_starts_a_new_run(asw: AioDriver) -> None:
    first = await asw.start(input="1", tagList=["old"])
    await asw.decide(decision("ContinueAsNewWorkflowExecution", input="2", tagList=["new"]))
    history = await asw.history(first)
    assert [e["eventType"] for e in history] == [
        "WorkflowExecutionStarted",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
        "DecisionTaskCompleted",
        "WorkflowExecutionContinuedAsNew",
    ]
    continued = attrs_of(history[-1])
    new_run = continued["newExecutionRunId"]
    assert new_run != first
    assert continued["input"] == "2"
    assert continued["decisionTaskCompletedEventId"] == 4
    assert continued["workflowType"] == WF
    assert continued["taskList"] == {"name": "main"}
    assert (await asw.describe(first))["executionInfo"]["closeStatus"] == "CONTINUED_AS_NEW"
    await asw.signal("next-run")  # no runId: the signal reaches the open (new) run
    task = await asw.decide(complete("fin"))
    assert task["workflowExecution"] == {"workflowId": "wf-1", "runId": new_run}
    assert task["previousStartedEventId"] == 0
    assert [e["eventType"] for e in task["events"]] == [
        "WorkflowExecutionStarted",
        "DecisionTaskScheduled",
        "WorkflowExecutionSignaled",
        "DecisionTaskStarted",
    ]
    started = attrs_of(task["events"][0])
    assert started["continuedExecutionRunId"] == first
    assert (started["input"], started["tagList"]) == ("2", ["new"])
    info = (await asw.describe(new_run))["executionInfo"]
    assert (info["executionStatus"], info["closeStatus"]) == ("CLOSED", "COMPLETED")
    runs = await asw(
        "list_closed_workflow_executions",
        domain=DOMAIN,
        startTimeFilter={"oldestDate": 0},
        executionFilter={"workflowId": "wf-1"},
    )
    statuses = {i["execution"]["runId"]: i["closeStatus"] for i in runs["executionInfos"]}
    assert statuses == {first: "CONTINUED_AS_NEW", new_run: "COMPLETED"}


async def test_workflow_cancellation(asw: AioDriver) -> None:
    run = await asw.start()
    await asw.decide(timer("t", 600))
    await asw("request_cancel_workflow_execution", domain=DOMAIN, workflowId="wf-1")
    assert (await asw.describe(run))["executionInfo"]["cancelRequested"] is True
    task = await asw.decide(
        decision("CancelTimer", timerId="t"), decision("CancelWorkflowExecution", details="bye")
    )
    assert [e["eventType"] for e in task["events"][4:]] == [
        "TimerStarted",
        "WorkflowExecutionCancelRequested",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
    ]
    assert attrs_of(task["events"][5]) == {}
    history = await asw.history(run)
    assert [e["eventType"] for e in history[8:]] == [
        "DecisionTaskCompleted",
        "TimerCanceled",
        "WorkflowExecutionCanceled",
    ]
    assert attrs_of(history[-1]) == {"details": "bye", "decisionTaskCompletedEventId": 9}
    info = (await asw.describe(run))["executionInfo"]
    assert (info["executionStatus"], info["closeStatus"]) == ("CLOSED", "CANCELED")
    with pytest.raises(asw.client.exceptions.UnknownResourceFault):
        await asw("request_cancel_workflow_execution", domain=DOMAIN, workflowId="wf-1")


async def test_activity_cancellation(asw: AioDriver) -> None:
    run = await asw.start()
    # a2 goes to a list nobody polls, so it is still waiting when its cancel is requested.
    idle = {"name": "idle"}
    await asw.decide(
        schedule("a1", input="x"),
        decision("ScheduleActivityTask", activityType=ACT, activityId="a2", taskList=idle),
    )
    task = await asw.poll_activity()
    assert (task["activityId"], task["activityType"], task["input"]) == ("a1", ACT, "x")
    status = await asw("record_activity_task_heartbeat", taskToken=task["taskToken"])
    assert status == {"cancelRequested": False}
    await asw.signal("stop")
    await asw.decide(
        decision("RequestCancelActivityTask", activityId="a1"),
        decision("RequestCancelActivityTask", activityId="a2"),
    )
    status = await asw(
        "record_activity_task_heartbeat", taskToken=task["taskToken"], details="stopping"
    )
    assert status == {"cancelRequested": True}
    await asw("respond_activity_task_canceled", taskToken=task["taskToken"], details="bye")
    with pytest.raises(asw.client.exceptions.UnknownResourceFault):
        await asw("record_activity_task_heartbeat", taskToken=task["taskToken"])
    decided = await asw.decide(complete())
    history = await asw.history(run)
    assert [e["eventType"] for e in history] == [
        "WorkflowExecutionStarted",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
        "DecisionTaskCompleted",
        "ActivityTaskScheduled",  # 5: a1
        "ActivityTaskScheduled",  # 6: a2
        "ActivityTaskStarted",
        "WorkflowExecutionSignaled",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
        "DecisionTaskCompleted",  # 11
        "ActivityTaskCancelRequested",  # 12: a1, started, so its worker must be told
        "ActivityTaskCancelRequested",  # 13: a2, never handed out...
        "ActivityTaskCanceled",  # ...so canceled on the spot
        "DecisionTaskScheduled",
        "ActivityTaskCanceled",  # 16: a1, by its worker
        "DecisionTaskStarted",
        "DecisionTaskCompleted",
        "WorkflowExecutionCompleted",
    ]
    assert attrs_of(history[11]) == {"activityId": "a1", "decisionTaskCompletedEventId": 11}
    assert attrs_of(history[12]) == {"activityId": "a2", "decisionTaskCompletedEventId": 11}
    assert attrs_of(history[13]) == {  # startedEventId is required: 0 for a never-started task
        "scheduledEventId": 6,
        "startedEventId": 0,
        "latestCancelRequestedEventId": 13,
    }
    assert attrs_of(history[15]) == {
        "details": "bye",
        "scheduledEventId": 5,
        "startedEventId": 7,
        "latestCancelRequestedEventId": 12,
    }
    assert decided["previousStartedEventId"] == 10
    assert (await asw.describe(run))["executionInfo"]["closeStatus"] == "COMPLETED"
