"""Every timeout kind, fired by the background timer as the virtual clock moves."""

from __future__ import annotations

import asyncio

import pytest

from aioswf.local import LocalSWF, VirtualClock
from tests.local.helpers import Driver, attrs_of, boto3_client, parked, schedule, timer


async def wait_for_event(service: LocalSWF, run: str, event_type: str) -> list[str]:
    """The history once ``event_type`` is in it.

    It watches the engine's state rather than calling the API, because every API call fires
    due deadlines itself: only the background timer can make the event appear here.
    """
    for _ in range(200):
        types = [e["eventType"] for e in service.engine.executions[run].history]
        if event_type in types:
            return types
        await asyncio.sleep(0.01)
    raise AssertionError(f"{event_type} never appeared")


async def test_timer_wakes_a_parked_poll(
    sw: Driver, local_swf: LocalSWF, clock: VirtualClock
) -> None:
    local_swf.frontend.long_poll_seconds = 10
    await sw.start()
    await sw.decide(timer("t", 60))
    poll = asyncio.ensure_future(sw.poll())
    await parked(local_swf, 1)
    # No request is in flight while the clock moves: the background timer alone must fire
    # the timer, schedule the decision task and wake the poll (else it answers empty).
    clock.advance(60)
    task = await poll
    assert task["taskToken"]
    assert [e["eventType"] for e in task["events"]][-3:] == [
        "TimerFired",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
    ]


async def test_workflow_start_to_close(
    sw: Driver, local_swf: LocalSWF, clock: VirtualClock
) -> None:
    run = await sw.start(executionStartToCloseTimeout="100")
    await sw.decide(timer("t", 500))
    clock.advance(100)
    types = await wait_for_event(local_swf, run, "WorkflowExecutionTimedOut")
    assert types[-1] == "WorkflowExecutionTimedOut"
    info = (await sw.describe(run))["executionInfo"]
    assert info["closeStatus"] == "TIMED_OUT"
    assert attrs_of((await sw.history(run))[-1])["timeoutType"] == "START_TO_CLOSE"


async def test_decision_start_to_close(sw: Driver, clock: VirtualClock) -> None:
    run = await sw.start(taskStartToCloseTimeout="10")
    stale = await sw.poll()
    clock.advance(10)
    task = await sw.poll()
    assert task["taskToken"]
    types = [e["eventType"] for e in task["events"]]
    assert types[3:] == ["DecisionTaskTimedOut", "DecisionTaskScheduled", "DecisionTaskStarted"]
    timed_out = attrs_of(task["events"][3])
    assert (timed_out["scheduledEventId"], timed_out["startedEventId"]) == (2, 3)
    with pytest.raises(sw.client.exceptions.UnknownResourceFault):
        await sw("respond_decision_task_completed", taskToken=stale["taskToken"])
    assert (await sw.types(run))[-1] == "DecisionTaskStarted"


@pytest.mark.parametrize(
    ("timeouts", "start", "advance", "expected"),
    [
        ({"scheduleToStartTimeout": "5"}, False, 5, "SCHEDULE_TO_START"),
        (
            {"scheduleToCloseTimeout": "8", "startToCloseTimeout": "300"},
            True,
            8,
            "SCHEDULE_TO_CLOSE",
        ),
        ({"startToCloseTimeout": "7"}, True, 7, "START_TO_CLOSE"),
        ({"heartbeatTimeout": "3"}, True, 3, "HEARTBEAT"),
    ],
)
async def test_activity_timeouts(
    sw: Driver,
    local_swf: LocalSWF,
    clock: VirtualClock,
    timeouts: dict[str, str],
    start: bool,
    advance: int,
    expected: str,
) -> None:
    run = await sw.start()
    await sw.decide(schedule("a1", **timeouts))
    task = await sw.poll_activity() if start else None
    clock.advance(advance)
    types = await wait_for_event(local_swf, run, "ActivityTaskTimedOut")
    assert types[-2:] == ["ActivityTaskTimedOut", "DecisionTaskScheduled"]
    timed_out = attrs_of((await sw.history(run))[-2])
    assert timed_out["timeoutType"] == expected
    assert timed_out["startedEventId"] == (6 if start else 0)
    if task is not None:
        with pytest.raises(sw.client.exceptions.UnknownResourceFault):
            await sw("respond_activity_task_completed", taskToken=task["taskToken"])


async def test_heartbeats_keep_an_activity_alive(
    sw: Driver, local_swf: LocalSWF, clock: VirtualClock
) -> None:
    run = await sw.start()
    await sw.decide(schedule("a1", heartbeatTimeout="10"))
    task = await sw.poll_activity()
    for step in range(5):
        clock.advance(6)
        await sw(
            "record_activity_task_heartbeat", taskToken=task["taskToken"], details=f"step {step}"
        )
    clock.advance(10)
    await wait_for_event(local_swf, run, "ActivityTaskTimedOut")
    assert attrs_of((await sw.history(run))[-2])["details"] == "step 4"


async def test_auto_skip_jumps_to_the_next_deadline() -> None:
    clock = VirtualClock(start=1_000_000.0, auto_skip=True)
    async with LocalSWF(clock=clock, long_poll_seconds=2) as service:
        client = boto3_client(service.endpoint_url)
        try:
            sw = Driver(client)
            await sw.setup()
            run = await sw.start()
            await sw.decide(timer("nap", 300))
            # Nothing is queued or in flight, so the service skips five minutes at once.
            task = await sw.poll()
            assert [e["eventType"] for e in task["events"]][-3] == "TimerFired"
            assert clock.now() == pytest.approx(1_000_000.0 + 300)
            await sw(
                "respond_decision_task_completed",
                taskToken=task["taskToken"],
                decisions=[schedule("a1")],
            )
            before = clock.now()
            activity = await sw.poll_activity()
            await asyncio.sleep(0.05)
            assert clock.now() == before  # an activity in flight holds time still
            await sw("respond_activity_task_completed", taskToken=activity["taskToken"])
            assert (await sw.types(run))[-1] == "DecisionTaskScheduled"
        finally:
            client.close()


async def test_decision_task_list_override_and_its_revert(sw: Driver, clock: VirtualClock) -> None:
    run = await sw.start()
    task = await sw.poll()
    await sw(
        "respond_decision_task_completed",
        taskToken=task["taskToken"],
        taskList={"name": "sticky"},
        taskListScheduleToStartTimeout="5",
        decisions=[timer("t", 1)],
    )
    clock.advance(1)
    sticky = await sw.poll("sticky")
    assert sticky["taskToken"]
    await sw(
        "respond_decision_task_completed", taskToken=sticky["taskToken"], decisions=[timer("t2", 1)]
    )
    clock.advance(1)
    clock.advance(5)  # nobody polls "sticky": the task goes back to the execution's list
    task = await sw.poll()
    types = [e["eventType"] for e in task["events"]]
    assert types[-4:] == [
        "DecisionTaskScheduled",
        "DecisionTaskTimedOut",
        "DecisionTaskScheduled",
        "DecisionTaskStarted",
    ]
    timed_out = attrs_of(task["events"][-3])
    assert timed_out["timeoutType"] == "SCHEDULE_TO_START"
    assert attrs_of(task["events"][-2])["taskList"] == {"name": "main"}
    assert (await sw.types(run))[-1] == "DecisionTaskStarted"


async def test_a_temporary_override_is_reverted_when_its_task_is_not_completed_in_time(
    sw: Driver, clock: VirtualClock
) -> None:
    run = await sw.start(taskStartToCloseTimeout="10")
    task = await sw.poll()
    await sw(
        "respond_decision_task_completed",
        taskToken=task["taskToken"],
        taskList={"name": "sticky"},
        taskListScheduleToStartTimeout="5",
        decisions=[timer("t", 1)],
    )
    clock.advance(1)
    stalled = await sw.poll("sticky")  # started in time, then never completed
    assert stalled["taskToken"]
    clock.advance(10)
    assert not (await sw.poll("sticky"))["taskToken"]  # nothing is left on the sticky list
    task = await sw.poll()
    types = [e["eventType"] for e in task["events"]]
    assert types[-3:] == ["DecisionTaskTimedOut", "DecisionTaskScheduled", "DecisionTaskStarted"]
    assert attrs_of(task["events"][-3])["timeoutType"] == "START_TO_CLOSE"
    assert attrs_of(task["events"][-2])["taskList"] == {"name": "main"}
    assert attrs_of(task["events"][-2])["scheduleToStartTimeout"] == "NONE"
    assert (await sw.types(run))[-1] == "DecisionTaskStarted"


async def test_a_permanent_override_stays(sw: Driver, clock: VirtualClock) -> None:
    await sw.start(taskStartToCloseTimeout="10")
    task = await sw.poll()
    await sw(
        "respond_decision_task_completed",
        taskToken=task["taskToken"],
        taskList={"name": "elsewhere"},
        decisions=[timer("t", 1)],
    )
    clock.advance(1)
    stalled = await sw.poll("elsewhere")
    assert stalled["taskToken"]
    clock.advance(10)  # timed out, and scheduled again on the override list
    task = await sw.poll("elsewhere")
    assert task["taskToken"]
    assert attrs_of(task["events"][-2])["taskList"] == {"name": "elsewhere"}


async def test_an_override_with_no_schedule_to_start_limit_is_permanent(
    sw: Driver, clock: VirtualClock
) -> None:
    """``taskListScheduleToStartTimeout="NONE"`` sets no limit, as when it is missing."""
    await sw.start(taskStartToCloseTimeout="10")
    task = await sw.poll()
    await sw(
        "respond_decision_task_completed",
        taskToken=task["taskToken"],
        taskList={"name": "elsewhere"},
        taskListScheduleToStartTimeout="NONE",
        decisions=[timer("t", 1)],
    )
    clock.advance(1)
    stalled = await sw.poll("elsewhere")
    assert attrs_of(stalled["events"][-2])["scheduleToStartTimeout"] == "NONE"
    clock.advance(10)  # timed out, and scheduled again on the override list
    task = await sw.poll("elsewhere")
    assert task["taskToken"]
    assert attrs_of(task["events"][-2])["taskList"] == {"name": "elsewhere"}
