"""Sticky decision task lists: a cached run's next tasks come to the worker that has it, on
a task list only that worker polls, and read only the newest events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aioswf import Client, Worker, activity, workflow
from aioswf._pollers.decision import DecisionWorkerOptions, sticky_task_list_name

STEPS = 6


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def add_one(n: int) -> int:
    return n + 1


@workflow.defn
class Counter:
    @workflow.run
    async def run(self, steps: int) -> int:
        total = 0
        for _ in range(steps):
            total = await workflow.execute_activity(add_one, total)
        return total


async def scheduled_task_lists(client: Client, workflow_id: str) -> list[tuple[str, str]]:
    handle = client.get_workflow_handle(workflow_id)
    return [
        (
            e["decisionTaskScheduledEventAttributes"]["taskList"]["name"],
            e["decisionTaskScheduledEventAttributes"].get("scheduleToStartTimeout", "NONE"),
        )
        async for e in handle.history()
        if e["eventType"] == "DecisionTaskScheduled"
    ]


async def test_a_cached_run_is_decided_from_the_sticky_task_list(client: Client) -> None:
    async with Worker(client, task_list="shared", workflows=[Counter], activities=[add_one]) as w:
        handle = await client.start_workflow(
            Counter.run, STEPS, workflow_id="sticky", task_list="shared"
        )
        assert await handle.result(timeout=timedelta(seconds=30)) == STEPS
        poller = w._decision_poller
        assert poller is not None
        sticky = poller.sticky_task_list
        counters = poller.counters
    assert sticky is not None
    assert sticky.startswith("shared-sticky-")
    # The first task on the shared list; every later one on the sticky list, for 5 s.
    assert (
        await scheduled_task_lists(client, "sticky")
        == [("shared", "NONE")] + [(sticky, "5")] * STEPS
    )
    assert (counters.tasks, counters.sticky_tasks) == (STEPS + 1, STEPS)
    assert (counters.cache_hits, counters.cache_misses, counters.sticky_misses) == (STEPS, 1, 0)
    # A cached run's task reads one small page: what is new, not the whole history.
    assert counters.history_pages == counters.tasks


async def test_sticky_task_lists_can_be_turned_off(client: Client) -> None:
    options = DecisionWorkerOptions(sticky_schedule_to_start=None)
    async with Worker(
        client,
        task_list="plain",
        workflows=[Counter],
        activities=[add_one],
        decision_options=options,
    ) as w:
        handle = await client.start_workflow(Counter.run, 2, workflow_id="plain", task_list="plain")
        assert await handle.result(timeout=timedelta(seconds=30)) == 2
        assert w._decision_poller is not None
        assert w._decision_poller.sticky_task_list is None
        assert w._decision_poller.counters.cache_hits == 2
    assert await scheduled_task_lists(client, "plain") == [("plain", "NONE")] * 3


def test_sticky_options_are_checked() -> None:
    with pytest.raises(ValueError, match="whole seconds"):
        DecisionWorkerOptions(sticky_schedule_to_start=timedelta(milliseconds=1500))
    with pytest.raises(ValueError, match="at least 1"):
        DecisionWorkerOptions(sticky_schedule_to_start=timedelta(0))
    assert not DecisionWorkerOptions(max_cached_workflows=0).sticky
    assert DecisionWorkerOptions(pollers=3).long_polls == 6


def test_sticky_task_list_names_fit_swf_rules() -> None:
    name = sticky_task_list_name("x" * 256)
    assert len(name) == 256
    assert not any(c in name for c in ":/|")
    assert "arn" not in name
    assert sticky_task_list_name("a") != sticky_task_list_name("a")


async def test_an_evicted_run_on_the_sticky_list_is_replayed_from_its_whole_history(
    client: Client,
) -> None:
    # One cached run for two: each task of one evicts the other, whose next task still comes
    # to this worker's sticky list and must be replayed; with tiny pages, the rest of its
    # history is read in large pages of GetWorkflowExecutionHistory.
    options = DecisionWorkerOptions(max_cached_workflows=1)
    async with Worker(
        client,
        task_list="evict",
        workflows=[Counter],
        activities=[add_one],
        decision_options=options,
    ) as w:
        poller = w._decision_poller
        assert poller is not None
        poller.pages.page_size = 2
        handles = [
            await client.start_workflow(Counter.run, STEPS, workflow_id=f"e{n}", task_list="evict")
            for n in range(2)
        ]
        results = [await h.result(timeout=timedelta(seconds=60)) for h in handles]
        counters = poller.counters
    assert results == [STEPS, STEPS]
    assert counters.sticky_misses > 0
    # Poll pages hold two events at most: the rest came in the large pages.
    assert counters.history_events > 2 * counters.history_pages
