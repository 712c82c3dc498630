"""Whole workflows driven by hand with boto3: activities, timers, signals, markers, closing."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from aioswf.local import VirtualClock
from tests.local.helpers import DOMAIN, Driver, attrs_of, complete, decision, schedule, timer


async def test_activity_workflow_runs_to_completion(sw: Driver) -> None:
    run = await sw.start(input="in")
    first = await sw.decide(schedule("a1", input="x"))
    assert first["previousStartedEventId"] == 0
    assert first["startedEventId"] == 3
    assert attrs_of(first["events"][0])["input"] == "in"
    task = await sw.poll_activity(identity="worker-1")
    assert (task["activityId"], task["input"]) == ("a1", "x")
    assert task["workflowExecution"] == {"workflowId": "wf-1", "runId": run}
    await sw("respond_activity_task_completed", taskToken=task["taskToken"], result="42")
    second = await sw.decide(complete("42"))
    assert second["previousStartedEventId"] == 3
    assert await sw.types(run) == [
        "WorkflowExecutionStarted",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
        "DecisionTaskCompleted",
        "ActivityTaskScheduled",
        "ActivityTaskStarted",
        "ActivityTaskCompleted",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
        "DecisionTaskCompleted",
        "WorkflowExecutionCompleted",
    ]
    info = (await sw.describe(run))["executionInfo"]
    assert (info["executionStatus"], info["closeStatus"]) == ("CLOSED", "COMPLETED")


async def test_activity_failure_and_type_defaults(sw: Driver) -> None:
    run = await sw.start()
    await sw.decide(schedule("a1", all_timeouts=False))
    history = await sw.history(run)
    scheduled = attrs_of(history[-1])
    assert scheduled["startToCloseTimeout"] == "300"
    assert scheduled["heartbeatTimeout"] == "120"
    task = await sw.poll_activity()
    await sw(
        "respond_activity_task_failed", taskToken=task["taskToken"], reason="boom", details="trace"
    )
    failed = (await sw.history(run))[-2]
    assert failed["eventType"] == "ActivityTaskFailed"
    assert attrs_of(failed)["reason"] == "boom"


async def test_used_token_is_unknown(sw: Driver) -> None:
    await sw.start()
    task = await sw.decide(schedule("a1"))
    with pytest.raises(ClientError) as err:
        await sw("respond_decision_task_completed", taskToken=task["taskToken"])
    assert err.value.response["Error"]["Code"] == "UnknownResourceFault"
    activity = await sw.poll_activity()
    await sw("respond_activity_task_completed", taskToken=activity["taskToken"])
    with pytest.raises(sw.client.exceptions.UnknownResourceFault):
        await sw("record_activity_task_heartbeat", taskToken=activity["taskToken"])


async def test_timer_fires_when_the_clock_passes_it(sw: Driver, clock: VirtualClock) -> None:
    run = await sw.start()
    await sw.decide(timer("t1", 30))
    assert not (await sw.poll())["taskToken"]
    clock.advance(29)
    assert not (await sw.poll())["taskToken"]
    clock.advance(1)
    task = await sw.poll()
    fired = task["events"][-3]
    assert fired["eventType"] == "TimerFired"
    assert attrs_of(fired)["timerId"] == "t1"
    assert fired["eventTimestamp"].timestamp() == pytest.approx(clock.now())
    await sw("respond_decision_task_completed", taskToken=task["taskToken"], decisions=[complete()])
    assert (await sw.describe(run))["executionInfo"]["closeStatus"] == "COMPLETED"


async def test_cancel_timer_and_timer_failures(sw: Driver) -> None:
    run = await sw.start()
    await sw.decide(
        timer("t1", 30),
        timer("t1", 30),
        decision("CancelTimer", timerId="t1"),
        decision("CancelTimer", timerId="nope"),
    )
    types = await sw.types(run)
    assert types[4:] == [
        "TimerStarted",
        "StartTimerFailed",
        "TimerCanceled",
        "CancelTimerFailed",
        "DecisionTaskScheduled",
    ]
    history = await sw.history(run)
    assert attrs_of(history[5])["cause"] == "TIMER_ID_ALREADY_IN_USE"
    assert attrs_of(history[7])["cause"] == "TIMER_ID_UNKNOWN"


async def test_signals_and_markers(sw: Driver) -> None:
    run = await sw.start()
    await sw.decide(decision("RecordMarker", markerName="m", details="d"))
    await sw(
        "signal_workflow_execution",
        domain=DOMAIN,
        workflowId="wf-1",
        signalName="go",
        input="payload",
    )
    await sw(
        "signal_workflow_execution", domain=DOMAIN, workflowId="wf-1", runId=run, signalName="again"
    )
    task = await sw.decide(complete())
    types = [e["eventType"] for e in task["events"]]
    # Two signals, one decision task: the second signal was batched into it.
    assert types[4:] == [
        "MarkerRecorded",
        "WorkflowExecutionSignaled",
        "DecisionTaskScheduled",
        "WorkflowExecutionSignaled",
        "DecisionTaskStarted",
    ]
    assert attrs_of(task["events"][5])["input"] == "payload"
    with pytest.raises(sw.client.exceptions.UnknownResourceFault):
        await sw("signal_workflow_execution", domain=DOMAIN, workflowId="wf-1", signalName="x")


async def test_events_during_a_decision_are_batched(sw: Driver) -> None:
    run = await sw.start()
    task = await sw.poll()
    for name in ("a", "b", "c"):
        await sw("signal_workflow_execution", domain=DOMAIN, workflowId="wf-1", signalName=name)
    assert (await sw.describe(run))["openCounts"]["openDecisionTasks"] == 1
    count = await sw("count_pending_decision_tasks", domain=DOMAIN, taskList={"name": "main"})
    assert count["count"] == 0
    await sw("respond_decision_task_completed", taskToken=task["taskToken"])
    types = await sw.types(run)
    assert types[3:] == ["WorkflowExecutionSignaled"] * 3 + [
        "DecisionTaskCompleted",
        "DecisionTaskScheduled",
    ]
    count = await sw("count_pending_decision_tasks", domain=DOMAIN, taskList={"name": "main"})
    assert count["count"] == 1


async def test_close_racing_a_signal_fails_with_unhandled_decision(sw: Driver) -> None:
    run = await sw.start()
    task = await sw.poll()
    await sw("signal_workflow_execution", domain=DOMAIN, workflowId="wf-1", signalName="late")
    await sw(
        "respond_decision_task_completed",
        taskToken=task["taskToken"],
        decisions=[decision("RecordMarker", markerName="kept"), complete()],
    )
    history = await sw.history(run)
    assert [e["eventType"] for e in history[4:]] == [
        "DecisionTaskCompleted",
        "MarkerRecorded",
        "CompleteWorkflowExecutionFailed",
        "DecisionTaskScheduled",
    ]
    assert attrs_of(history[6])["cause"] == "UNHANDLED_DECISION"
    await sw.decide(complete())
    assert (await sw.describe(run))["executionInfo"]["closeStatus"] == "COMPLETED"


@pytest.mark.parametrize(
    ("kind", "attrs", "status", "event"),
    [
        (
            "FailWorkflowExecution",
            {"reason": "r", "details": "d"},
            "FAILED",
            "WorkflowExecutionFailed",
        ),
        ("CancelWorkflowExecution", {"details": "d"}, "CANCELED", "WorkflowExecutionCanceled"),
    ],
)
async def test_other_close_decisions(
    sw: Driver, kind: str, attrs: dict[str, str], status: str, event: str
) -> None:
    run = await sw.start()
    await sw.decide(decision(kind, **attrs))
    assert (await sw.types(run))[-1] == event
    assert (await sw.describe(run))["executionInfo"]["closeStatus"] == status


async def test_close_must_be_last_and_nothing_is_applied(sw: Driver) -> None:
    run = await sw.start()
    task = await sw.poll()
    with pytest.raises(ClientError) as err:
        await sw(
            "respond_decision_task_completed",
            taskToken=task["taskToken"],
            decisions=[complete(), decision("RecordMarker", markerName="m")],
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert len(await sw.history(run)) == 3
    # The token stays valid after a rejected batch.
    await sw("respond_decision_task_completed", taskToken=task["taskToken"], decisions=[complete()])


async def test_schedule_activity_failures(sw: Driver) -> None:
    run = await sw.start()
    await sw.decide(
        schedule("a1"),
        schedule("a1"),
        decision(
            "ScheduleActivityTask", activityType={"name": "Nope", "version": "1"}, activityId="a2"
        ),
        decision("RequestCancelActivityTask", activityId="zzz"),
    )
    history = await sw.history(run)
    causes = [attrs_of(e)["cause"] for e in history if "Failed" in e["eventType"]]
    assert causes == [
        "ACTIVITY_ID_ALREADY_IN_USE",
        "ACTIVITY_TYPE_DOES_NOT_EXIST",
        "ACTIVITY_ID_UNKNOWN",
    ]
    assert history[-1]["eventType"] == "DecisionTaskScheduled"


async def test_missing_defaults_fail_scheduling(sw: Driver) -> None:
    await sw("register_activity_type", domain=DOMAIN, name="Bare", version="1")
    run = await sw.start()
    await sw.decide(
        decision(
            "ScheduleActivityTask",
            activityType={"name": "Bare", "version": "1"},
            activityId="a1",
            taskList={"name": "main"},
        )
    )
    assert attrs_of((await sw.history(run))[4])["cause"] == (
        "DEFAULT_SCHEDULE_TO_CLOSE_TIMEOUT_UNDEFINED"
    )


async def test_activity_id_can_be_reused_after_it_closed(sw: Driver) -> None:
    run = await sw.start()
    await sw.decide(schedule("a1"))
    task = await sw.poll_activity()
    await sw("respond_activity_task_completed", taskToken=task["taskToken"])
    await sw.decide(schedule("a1"))
    assert (await sw.types(run))[-1] == "ActivityTaskScheduled"


async def test_cancelling_a_started_activity(sw: Driver) -> None:
    run = await sw.start()
    await sw.decide(schedule("a1"), schedule("a2"))
    task = await sw.poll_activity()
    status = await sw("record_activity_task_heartbeat", taskToken=task["taskToken"])
    assert status["cancelRequested"] is False
    await sw("signal_workflow_execution", domain=DOMAIN, workflowId="wf-1", signalName="stop")
    await sw.decide(
        decision("RequestCancelActivityTask", activityId="a1"),
        decision("RequestCancelActivityTask", activityId="a2"),
    )
    history = await sw.history(run)
    # a2 was never handed out, so it is canceled on the spot; a1 must be told.
    assert [e["eventType"] for e in history[-4:]] == [
        "ActivityTaskCancelRequested",
        "ActivityTaskCancelRequested",
        "ActivityTaskCanceled",
        "DecisionTaskScheduled",
    ]
    status = await sw(
        "record_activity_task_heartbeat", taskToken=task["taskToken"], details="stopping"
    )
    assert status["cancelRequested"] is True
    await sw("respond_activity_task_canceled", taskToken=task["taskToken"], details="bye")
    canceled = (await sw.history(run))[-1]
    assert canceled["eventType"] == "ActivityTaskCanceled"
    assert attrs_of(canceled)["details"] == "bye"
    assert attrs_of(canceled)["latestCancelRequestedEventId"] == history[-4]["eventId"]


async def test_request_cancel_and_terminate(sw: Driver) -> None:
    run = await sw.start()
    await sw.decide()
    await sw("request_cancel_workflow_execution", domain=DOMAIN, workflowId="wf-1")
    assert (await sw.describe(run))["executionInfo"]["cancelRequested"] is True
    task = await sw.poll()
    assert task["events"][-3]["eventType"] == "WorkflowExecutionCancelRequested"
    await sw(
        "terminate_workflow_execution",
        domain=DOMAIN,
        workflowId="wf-1",
        reason="stop",
        details="now",
    )
    last = (await sw.history(run))[-1]
    assert last["eventType"] == "WorkflowExecutionTerminated"
    assert attrs_of(last)["cause"] == "OPERATOR_INITIATED"
    assert attrs_of(last)["childPolicy"] == "TERMINATE"
    with pytest.raises(sw.client.exceptions.UnknownResourceFault):
        await sw("respond_decision_task_completed", taskToken=task["taskToken"])


async def test_describe_reports_open_counts_and_context(sw: Driver) -> None:
    run = await sw.start()
    task = await sw.poll()
    await sw(
        "respond_decision_task_completed",
        taskToken=task["taskToken"],
        executionContext="stage-1",
        decisions=[schedule("a1"), timer("t", 5)],
    )
    await sw.poll_activity()
    detail = await sw.describe(run)
    assert detail["openCounts"] == {
        "openActivityTasks": 1,
        "openDecisionTasks": 0,
        "openTimers": 1,
        "openChildWorkflowExecutions": 0,
        "openLambdaFunctions": 0,
    }
    assert detail["latestExecutionContext"] == "stage-1"
    assert "latestActivityTaskTimestamp" in detail
    assert detail["executionConfiguration"]["taskList"] == {"name": "main"}


async def test_workflow_id_is_unique_among_open_executions(sw: Driver) -> None:
    first = await sw.start()
    with pytest.raises(sw.client.exceptions.WorkflowExecutionAlreadyStartedFault):
        await sw.start()
    await sw("terminate_workflow_execution", domain=DOMAIN, workflowId="wf-1")
    second = await sw.start()
    assert second != first
