"""History paging on both APIs, reverse order, and long polls that hold and wake up."""

from __future__ import annotations

import asyncio
import time

from aioswf.local import LocalSWF
from tests.local.helpers import DOMAIN, Driver, decision, parked


async def grow_history(sw: Driver, markers: int) -> str:
    run = await sw.start()
    await sw.decide(*[decision("RecordMarker", markerName=f"m{i}") for i in range(markers)])
    await sw("signal_workflow_execution", domain=DOMAIN, workflowId="wf-1", signalName="go")
    return run


async def test_decision_task_pages_belong_to_the_same_task(sw: Driver) -> None:
    run = await grow_history(sw, 20)  # 4 + 20 + signal + scheduled + started = 27 events
    first = await sw.poll(maximumPageSize=10)
    assert [e["eventId"] for e in first["events"]] == list(range(1, 11))
    await sw("signal_workflow_execution", domain=DOMAIN, workflowId="wf-1", signalName="later")
    pages = [first]
    while "nextPageToken" in pages[-1]:
        pages.append(await sw.poll(maximumPageSize=10, nextPageToken=pages[-1]["nextPageToken"]))
    assert len(pages) == 3
    assert {p["taskToken"] for p in pages} == {first["taskToken"]}
    ids = [e["eventId"] for p in pages for e in p["events"]]
    assert ids == list(range(1, first["startedEventId"] + 1))
    # The continuation polls did not start another task: the first one is still answerable.
    await sw("respond_decision_task_completed", taskToken=first["taskToken"])
    assert (await sw.types(run))[-1] == "DecisionTaskScheduled"


async def test_decision_task_in_reverse_order(sw: Driver) -> None:
    await grow_history(sw, 5)
    task = await sw.poll(reverseOrder=True, maximumPageSize=3)
    assert [e["eventType"] for e in task["events"]] == [
        "DecisionTaskStarted",
        "DecisionTaskScheduled",
        "WorkflowExecutionSignaled",
    ]
    rest = await sw.poll(
        reverseOrder=True, maximumPageSize=100, nextPageToken=task["nextPageToken"]
    )
    assert [e["eventId"] for e in rest["events"]] == list(range(task["startedEventId"] - 3, 0, -1))
    assert "nextPageToken" not in rest


async def test_get_history_paging_and_reverse(sw: Driver) -> None:
    run = await grow_history(sw, 30)
    request = {"domain": DOMAIN, "execution": {"workflowId": "wf-1", "runId": run}}
    ids: list[int] = []
    token = None
    while True:
        page = await sw(
            "get_workflow_execution_history",
            maximumPageSize=7,
            **request,
            **({"nextPageToken": token} if token else {}),
        )
        assert len(page["events"]) <= 7
        ids += [e["eventId"] for e in page["events"]]
        token = page.get("nextPageToken")
        if token is None:
            break
    assert ids == list(range(1, len(ids) + 1))
    newest = await sw(
        "get_workflow_execution_history", reverseOrder=True, maximumPageSize=2, **request
    )
    assert [e["eventId"] for e in newest["events"]] == [len(ids), len(ids) - 1]
    paginator = sw.client.get_paginator("get_workflow_execution_history")
    pages = await asyncio.to_thread(
        lambda: list(paginator.paginate(**request, PaginationConfig={"PageSize": 5}))
    )
    assert sum(len(p["events"]) for p in pages) == len(ids)


async def test_empty_poll_is_held_then_answered_empty(sw: Driver, local_swf: LocalSWF) -> None:
    began = time.monotonic()
    empty = await sw.poll()
    held = time.monotonic() - began
    assert local_swf.frontend.long_poll_seconds <= held < 2
    assert empty == {"taskToken": "", "startedEventId": 0, "previousStartedEventId": 0}
    activity = await sw.poll_activity()
    assert activity["taskToken"] == ""


async def test_waiting_poll_wakes_when_a_task_arrives(sw: Driver, local_swf: LocalSWF) -> None:
    local_swf.frontend.long_poll_seconds = 10
    poll = asyncio.ensure_future(sw.poll())
    await parked(local_swf, 1)
    began = time.monotonic()
    await sw.start()
    task = await poll
    assert task["taskToken"]
    assert time.monotonic() - began < 1
    # The other poller of the same list keeps waiting: one task, one poll.
    second = asyncio.ensure_future(sw.poll_activity())
    await parked(local_swf, 1)
    await sw(
        "respond_decision_task_completed",
        taskToken=task["taskToken"],
        decisions=[
            decision(
                "ScheduleActivityTask",
                activityType={"name": "Step", "version": "1"},
                activityId="a1",
            )
        ],
    )
    assert (await second)["activityId"] == "a1"


async def test_many_pollers_each_get_a_distinct_task(sw: Driver, local_swf: LocalSWF) -> None:
    local_swf.frontend.long_poll_seconds = 5
    polls = [asyncio.ensure_future(sw.poll()) for _ in range(4)]
    await parked(local_swf, 4)
    for index in range(4):
        await sw.start(f"wf-{index}")
    tokens = {(await p)["taskToken"] for p in polls}
    assert len(tokens) == 4
    assert "" not in tokens


async def test_start_at_previous_started_event(sw: Driver, local_swf: LocalSWF) -> None:
    from aioswf.local import VirtualClock

    clock = local_swf.clock
    assert isinstance(clock, VirtualClock)
    await sw.start()
    clock.advance(5)
    await sw.decide(decision("RecordMarker", markerName="m"))
    clock.advance(5)
    await sw("signal_workflow_execution", domain=DOMAIN, workflowId="wf-1", signalName="go")
    task = await sw.poll(startAtPreviousStartedEvent=True)
    assert task["previousStartedEventId"] == 3
    assert task["events"][0]["eventId"] == 3
    assert task["events"][-1]["eventId"] == task["startedEventId"]
