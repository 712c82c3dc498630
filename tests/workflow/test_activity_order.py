"""An activity call that cannot be retried resolves through no retry task of its own (see
``SingleAttempt``): code that races such calls with timers, tasks and retrying calls must see
everything in the same order as it does when each call has its retry task.

Each workflow here runs twice over the same history: once with its calls as they are (no
retry policy), once with a policy that never retries (``maximum_attempts=1``), which keeps the
retry task. What the code saw, in order, and every decision it made must be the same.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

import pytest

from aioswf import CancellationType, RetryPolicy, activity, workflow
from aioswf._decider.activity import ActivityHandle, SingleAttempt
from tests.workflow.histories import Simulation

NEVER_AGAIN = RetryPolicy(maximum_attempts=1)
TWICE = RetryPolicy(maximum_attempts=2, initial_interval=timedelta(seconds=1))


@activity.defn(start_to_close_timeout=timedelta(seconds=60))
async def work(n: int) -> int:
    return n


@workflow.defn
class Races:
    """Activities raced against each other, timers, tasks and cancellations."""

    def __init__(self) -> None:
        self.trace: list[str] = []
        self.stoppable: list[ActivityHandle[int]] = []
        self.peeked: list[ActivityHandle[int]] = []

    @workflow.signal
    def stop(self) -> None:
        # Delivered before the other news of its task: it can cancel a call whose outcome
        # is in the same task, before the outcome is passed on.
        while self.stoppable:
            handle = self.stoppable.pop(0)
            self.trace.append(f"stop {handle.activity_id}: {handle.cancel()}")

    async def watch(self, name: str, awaitable: Awaitable[Any]) -> None:
        try:
            self.trace.append(f"{name} = {await awaitable}")
        except asyncio.CancelledError as error:
            self.trace.append(f"{name} cancelled {error.args}")
        except BaseException as error:
            self.trace.append(f"{name} raised {type(error).__name__}")

    async def note_later(self, text: str) -> None:
        # Its first step tells whether the peeked calls had ended by then.
        self.trace.append(f"{text} sees {[h.done() for h in self.peeked]}")
        await asyncio.sleep(0)
        self.trace.append(text)

    async def outcome(self, awaitable: Awaitable[Any]) -> Any:
        return await awaitable

    @workflow.run
    async def run(self, keep_tasks: bool) -> list[str]:
        extra: dict[str, Any] = {"retry_policy": NEVER_AGAIN} if keep_tasks else {}

        def call(n: int, **options: Any) -> ActivityHandle[int]:
            return workflow.start_activity(work, n, **{**extra, **options})

        def retrying(n: int) -> ActivityHandle[int]:
            return workflow.start_activity(work, n, retry_policy=TWICE)

        trace, watch = self.trace, self.watch
        # Activities, a timer, a retrying call and a task in one gather.
        await asyncio.gather(
            watch("a1", call(1)),
            watch("sleep", asyncio.sleep(1)),
            watch("a2", call(2, cancellation_type=CancellationType.ABANDON)),
            watch("r3", retrying(3)),
            watch("a4", call(4)),
        )
        # The first to finish, and what else is done by then.
        first = {
            asyncio.ensure_future(call(5)): "a5",
            asyncio.ensure_future(asyncio.sleep(2)): "sleep",
            asyncio.ensure_future(call(6)): "a6",
        }
        done, pending = await workflow.wait(first, return_when=asyncio.FIRST_COMPLETED)
        trace.append(f"wait: done {[first[f] for f in done]}")
        if pending:
            await workflow.wait(pending)
        # Outcomes as they come.
        for index, next_done in enumerate(
            workflow.as_completed([call(7), asyncio.sleep(1, "slept"), call(8), retrying(9)])
        ):
            await watch(f"as_completed {index}", next_done)
        # Cancelled before the call's first step, then after it.
        early = call(10)
        noted = asyncio.ensure_future(watch("noted", asyncio.sleep(0, "yes")))
        awaiting_early = asyncio.ensure_future(watch("a10", early))
        trace.append(f"cancel early: {early.cancel()}")
        await asyncio.sleep(0)
        trace.append(f"after cancelling early; again: {early.cancel()}")
        await asyncio.gather(noted, awaiting_early)
        late = call(11)
        awaiting = asyncio.ensure_future(late)
        await asyncio.sleep(0)
        trace.append(f"cancel late: {awaiting.cancel('late')}")
        await watch("a11", awaiting)
        trace.append(f"cancel done: {late.cancel()}")
        # A signal cancels calls whose outcomes arrive with it.
        self.stoppable = [call(12), call(13)]
        watchers = [
            asyncio.ensure_future(watch(f"a{n}", h))
            for n, h in ((12, self.stoppable[0]), (13, self.stoppable[1]))
        ]
        await asyncio.gather(*watchers, watch("a14", call(14)))
        # A timeout that fires first, and a task group whose member fails.
        await watch("wait_for", asyncio.wait_for(call(15), timeout=1))
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(watch("a16", call(16)))
                group.create_task(self.outcome(call(17)))  # fails, cancelling the rest
                group.create_task(watch("a18", call(18)))
        except* Exception as errors:
            trace.append(f"group: {[type(e).__name__ for e in errors.exceptions]}")
        # Cancelled before its first step, with callbacks queued before and after it.
        before = asyncio.ensure_future(self.note_later("before"))
        queued = call(19)
        self.peeked = [queued]
        after = asyncio.ensure_future(self.note_later("after"))
        awaiting_queued = asyncio.ensure_future(watch("a19", queued))
        trace.append(f"cancel queued: {queued.cancel()}")
        await asyncio.sleep(0)
        trace.append("after cancelling queued")
        await asyncio.gather(before, after, awaiting_queued)
        return trace


def _drive(keep_tasks: bool, *, cache: bool = True) -> tuple[list[Any], list[str]]:
    """Run ``Races`` to its end; outcomes come in an order the code cannot foresee: newest
    call first, timers before activities in every other task, activities 3 and 17 failing, a
    signal first."""
    sim = Simulation(Races, keep_tasks, cache=cache)
    answers: list[Any] = []
    open_activities: dict[str, int] = {}
    open_timers: list[str] = []
    for round in range(60):
        decisions = sim.decide()
        answers.append(decisions)
        for decision in decisions:
            kind = decision["decisionType"]
            if kind == "ScheduleActivityTask":
                data = decision["scheduleActivityTaskDecisionAttributes"]
                open_activities[data["activityId"]] = json.loads(data["input"])[0]
            elif kind == "StartTimer":
                open_timers.append(decision["startTimerDecisionAttributes"]["timerId"])
            elif kind == "RequestCancelActivityTask":
                activity_id = decision["requestCancelActivityTaskDecisionAttributes"]["activityId"]
                scheduled = sim.history.activity_scheduled[activity_id]
                sim.history.add("ActivityTaskCanceled", {"scheduledEventId": scheduled})
                open_activities.pop(activity_id)
            elif kind == "FailWorkflowExecution":
                raise AssertionError(decision)
            elif kind == "CompleteWorkflowExecution":
                sim.close()
                result = decision["completeWorkflowExecutionDecisionAttributes"]["result"]
                return answers, json.loads(result)
        sim.history.signal("stop")
        if round % 2:
            for timer_id in open_timers:
                sim.history.timer_fired(timer_id)
            open_timers.clear()
        for activity_id, n in sorted(open_activities.items(), key=lambda item: -item[1]):
            if n in (3, 17):
                sim.history.activity_failed(activity_id, "Boom")
            else:
                sim.history.activity_completed(activity_id, n * 10)
        for timer_id in open_timers:
            sim.history.timer_fired(timer_id)
        open_activities.clear()
        open_timers.clear()
    raise AssertionError("the workflow did not finish")


@pytest.mark.parametrize("cache", [True, False], ids=["cached", "replayed"])
def test_calls_without_retry_task_resolve_in_the_same_order(cache: bool) -> None:
    with_tasks = _drive(True, cache=cache)
    without = _drive(False, cache=cache)
    assert without[1] == with_tasks[1]
    assert without[0] == with_tasks[0]
    # The order today, which the races decide.
    assert without[1] == [
        "a4 = 40",
        "a2 = 20",
        "a1 = 10",
        "sleep = None",
        "r3 raised ActivityFailedError",
        "wait: done ['a5', 'sleep', 'a6']",
        "as_completed 0 = 90",
        "as_completed 1 = 80",
        "as_completed 2 = 70",
        "as_completed 3 = slept",
        "cancel early: True",
        "a10 cancelled ()",
        "after cancelling early; again: False",
        "noted = yes",
        "cancel late: True",
        "a11 cancelled ('late',)",
        "cancel done: False",
        "stop 12: True",
        "stop 13: True",
        "a14 = 140",
        "a13 cancelled ()",
        "a12 cancelled ()",
        "wait_for = 150",
        "a18 = 180",
        "a16 = 160",
        "group: ['ActivityFailedError']",
        "cancel queued: True",
        "before sees [False]",
        "after sees [True]",
        "a19 cancelled ()",
        "after cancelling queued",
        "before",
        "after",
    ]


def test_a_call_without_retry_policy_has_no_retry_task() -> None:
    # What the test above compares: without a policy the handle holds no task.
    sim = Simulation(Races, False)
    sim.decide()
    assert sim.instance is not None
    tasks = asyncio.all_tasks(sim.instance.loop)
    handles = [t for t in tasks if t.get_coro().__qualname__ == "Activities._attempts"]
    assert len(handles) == 1  # the retrying call's only
    sim.close()


def test_single_attempt_only_without_policy_and_waiting_cancellation() -> None:
    from aioswf._decider.activity import resolve
    from aioswf._definitions import activity_definition
    from aioswf.options import ActivityOptions

    definition = activity_definition(work)
    assert resolve(definition, ActivityOptions()).single_attempt
    assert not resolve(definition, ActivityOptions(retry_policy=NEVER_AGAIN)).single_attempt
    waiting = ActivityOptions(cancellation_type=CancellationType.WAIT_CANCELLATION_COMPLETED)
    assert not resolve(definition, waiting).single_attempt
    assert issubclass(SingleAttempt, asyncio.Future)


@pytest.mark.parametrize("policy", [None, NEVER_AGAIN], ids=["single attempt", "retry task"])
def test_a_closed_run_starts_no_activity(policy: RetryPolicy | None) -> None:
    # Code still running on a thread that was given up finds the loop closed either way.
    from aioswf._definitions import activity_definition
    from aioswf.options import ActivityOptions

    sim = Simulation(Races, False)
    sim.decide()
    instance = sim.instance
    assert instance is not None
    instance.close()
    with pytest.raises(RuntimeError, match="the workflow's loop is closed"):
        instance.start_activity(
            activity_definition(work), [1], ActivityOptions(retry_policy=policy)
        )
