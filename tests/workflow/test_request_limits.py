"""Every answer to a decision task fits SWF's 1 MB request limit: a large batch is split."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioswf import Client, activity, workflow
from aioswf._decider.batching import CONTINUE_TIMER_PREFIX, DECISIONS_BUDGET_BYTES
from aioswf._decider.history import RETRY_TIMER_PREFIX
from aioswf._pollers.decision import DecisionWorkerOptions
from aioswf.converter import DataConverter
from aioswf.exceptions import WorkerError
from aioswf.payloads import ZlibCodec
from aioswf.testing import Replayer
from aioswf.worker import Worker
from tests.workflow.workflows import TIMEOUTS

INPUT = "x" * 20_000


def retried_tasks(events: list[dict[str, Any]]) -> list[str]:
    """The back-off timers of decision tasks that failed (a non-determinism found, say)."""
    return [
        e["timerStartedEventAttributes"]["timerId"]
        for e in events
        if e["eventType"] == "TimerStarted"
        and e["timerStartedEventAttributes"]["timerId"].startswith(RETRY_TIMER_PREFIX)
    ]


@activity.defn(**TIMEOUTS)
async def measure(index: int, payload: str) -> int:
    return index + len(payload)


@workflow.defn
class Wide:
    @workflow.run
    async def run(self, count: int) -> int:
        sizes = await asyncio.gather(
            *(workflow.execute_activity(measure, i, INPUT) for i in range(count))
        )
        return sum(sizes)


async def test_sixty_activities_of_twenty_kilobytes_are_scheduled_over_two_tasks(
    client: Client,
) -> None:
    async with Worker(client, task_list="wide", workflows=[Wide], activities=[measure]):
        handle = await client.start_workflow(Wide.run, 60, workflow_id="wide", task_list="wide")
        total = await handle.result(timeout=timedelta(seconds=60))
    assert total == sum(range(60)) + 60 * len(INPUT)
    events = [e async for e in handle.history()]
    scheduled = [e for e in events if e["eventType"] == "ActivityTaskScheduled"]
    assert len(scheduled) == 60
    ids = [e["activityTaskScheduledEventAttributes"]["activityId"] for e in scheduled]
    assert len(set(ids)) == 60
    continuation = [
        e
        for e in events
        if e["eventType"] == "TimerStarted"
        and e["timerStartedEventAttributes"]["timerId"].startswith(CONTINUE_TIMER_PREFIX)
    ]
    assert continuation
    assert retried_tasks(events) == []
    # The split replays: the same code makes the same parts.
    result = Replayer([Wide]).replay_result(events)
    assert result.error is None, result.error
    # Where it was split, whatever the decisions' size is now: compressed, they would all
    # fit in one answer, but history says the first task sent only some of them.
    compressing = DataConverter(codecs=[ZlibCodec()])
    result = Replayer([Wide], converter=compressing).replay_result(events)
    assert result.error is None, result.error


@pytest.mark.parametrize("count", [1, 44, 45, 46, 120])
def test_every_part_fits_the_budget(count: int) -> None:
    from aioswf._decider.batching import fit_request
    from aioswf._decider.commands import Command

    commands = [
        Command("ScheduleActivityTask", {"activityId": str(i), "input": INPUT})
        for i in range(count)
    ]
    remaining, parts = commands, []
    while remaining:
        sent, remaining = fit_request(remaining, len(parts) + 1)
        parts.append(sent)
        assert len(json.dumps([c.to_swf() for c in sent])) <= DECISIONS_BUDGET_BYTES
    flat = [c for part in parts for c in part if c.decision_type == "ScheduleActivityTask"]
    assert flat == commands
    assert len(json.dumps([c.to_swf() for c in parts[0]])) < 1_000_000


@pytest.mark.parametrize("count", [0, 1, 3])
def test_the_size_of_a_batch_is_its_json_length(count: int) -> None:
    from aioswf._decider.batching import encoded_size
    from aioswf._decider.commands import Command

    commands = [
        Command("ScheduleActivityTask", {"activityId": str(i), "input": f'["é\\n{i}"]'})
        for i in range(count)
    ]
    assert encoded_size(commands) == len(json.dumps([c.to_swf() for c in commands]))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), st.text() | st.lists(st.text(), max_size=3)))
def test_the_cheap_bound_of_a_decision_is_never_below_its_size(
    attributes: dict[str, object],
) -> None:
    from aioswf._decider.commands import Command

    command = Command("RecordMarker", attributes)
    assert command.size_bound() >= len(json.dumps(command.to_swf()))


@workflow.defn
class WideThenReturn:
    """Schedules activities without awaiting them and returns in the same step: the close
    decided with them must go out in the last part, after all of them."""

    @workflow.run
    async def run(self, count: int) -> int:
        for i in range(count):
            asyncio.ensure_future(workflow.execute_activity(measure, i, INPUT))  # noqa: RUF006
        return -1


async def test_a_split_batch_ending_in_a_close_schedules_everything_then_closes(
    client: Client,
) -> None:
    async with Worker(
        client, task_list="wide-return", workflows=[WideThenReturn], activities=[measure]
    ):
        handle = await client.start_workflow(
            WideThenReturn.run, 60, workflow_id="wide-return", task_list="wide-return"
        )
        assert await handle.result(timeout=timedelta(seconds=60)) == -1
    events = [e async for e in handle.history()]
    kinds = [e["eventType"] for e in events]
    scheduled = [e for e in events if e["eventType"] == "ActivityTaskScheduled"]
    assert len({e["activityTaskScheduledEventAttributes"]["activityId"] for e in scheduled}) == 60
    assert kinds.index("WorkflowExecutionCompleted") > kinds.index("ActivityTaskScheduled")
    assert "DecisionTaskTimedOut" not in kinds
    # The task that sends the rest continues the cached run: no replay, no mismatch.
    assert retried_tasks(events) == []
    result = Replayer([WideThenReturn]).replay_result(events)
    assert result.error is None, result.error


@workflow.defn
class ManySideEffects:
    """Records sixty 20 KB side effects and returns in one step: markers and the close are
    split over two tasks, the close in the second."""

    @workflow.run
    async def run(self, count: int) -> int:
        values = [workflow.side_effect(lambda i=i: INPUT + str(i)) for i in range(count)]
        return sum(len(v) for v in values)


@pytest.mark.parametrize(
    "options",
    [
        DecisionWorkerOptions(),
        DecisionWorkerOptions(max_cached_workflows=0),
        DecisionWorkerOptions(sticky_schedule_to_start=None),
        DecisionWorkerOptions(workflow_threads=False, pollers=3),
    ],
    ids=["cached", "no-cache", "no-sticky", "inline"],
)
async def test_a_split_batch_of_markers_then_a_close_is_decided_without_a_retry(
    client: Client, options: DecisionWorkerOptions
) -> None:
    async with Worker(
        client, task_list="wide-markers", workflows=[ManySideEffects], decision_options=options
    ):
        handle = await client.start_workflow(
            ManySideEffects.run, 60, workflow_id="wide-markers", task_list="wide-markers"
        )
        total = await handle.result(timeout=timedelta(seconds=60))
    assert total == 60 * len(INPUT) + sum(len(str(i)) for i in range(60))
    events = [e async for e in handle.history()]
    markers = [e for e in events if e["eventType"] == "MarkerRecorded"]
    assert len(markers) == 60
    assert retried_tasks(events) == []
    result = Replayer([ManySideEffects]).replay_result(events)
    assert result.error is None, result.error
    compressing = DataConverter(codecs=[ZlibCodec()])
    result = Replayer([ManySideEffects], converter=compressing).replay_result(events)
    assert result.error is None, result.error


def test_events_handed_twice_to_a_run_are_a_worker_error_not_a_nondeterminism() -> None:
    from aioswf._decider.history import make_plan

    events = [
        {"eventId": 1, "eventType": "WorkflowExecutionStarted"},
        {"eventId": 2, "eventType": "DecisionTaskScheduled"},
        {"eventId": 3, "eventType": "DecisionTaskStarted"},
        {"eventId": 3, "eventType": "DecisionTaskStarted"},
    ]
    with pytest.raises(WorkerError, match="event 3 comes after event 3"):
        make_plan(events, 0, 3)
    with pytest.raises(WorkerError, match="event 2 comes after event 2"):
        make_plan(events[1:3], 2, 3)
