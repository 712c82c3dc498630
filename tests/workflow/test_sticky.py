"""Sticky decision task lists: a cached run's next tasks come to the worker that has it, on
a task list only that worker polls, and read only the newest events."""

from __future__ import annotations

import asyncio
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


@workflow.defn
class Mailbox:
    """Open until it has three letters; each signal is a decision task of its own."""

    def __init__(self) -> None:
        self.letters = 0

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.letters >= 3)
        return self.letters

    @workflow.signal
    def post(self, slow: bool = False) -> None:
        if slow:  # long enough for the worker to be stopped while this is decided
            # In bytecode, not in one C call (``sum(range(...))``), which would hold the GIL
            # from start to end: the host loop must run meanwhile, to see the task being
            # decided and stop the worker before it is answered.
            for _ in range(3_000_000):
                pass
        self.letters += 1


async def decided(client: Client, workflow_id: str, tasks: int) -> None:
    """Until ``tasks`` decision tasks of the run were answered."""
    handle = client.get_workflow_handle(workflow_id)
    for _ in range(600):
        done = [e async for e in handle.history() if e["eventType"] == "DecisionTaskCompleted"]
        if len(done) >= tasks:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id}: fewer than {tasks} decision tasks answered")


async def test_an_evicted_run_on_the_sticky_list_is_replayed_from_its_whole_history(
    client: Client,
) -> None:
    # One cached run for two: the second run's first task evicts the first, whose next task
    # still comes to this worker's sticky list and must be replayed; with tiny pages, the
    # rest of its history is read in large pages of GetWorkflowExecutionHistory.
    options = DecisionWorkerOptions(max_cached_workflows=1)
    async with Worker(
        client, task_list="evict", workflows=[Mailbox], decision_options=options
    ) as w:
        poller = w._decision_poller
        assert poller is not None
        poller.pages.page_size = 2
        for name in ("e0", "e1"):
            await client.start_workflow(Mailbox.run, workflow_id=name, task_list="evict")
            await decided(client, name, 1)
        e0 = client.get_workflow_handle("e0")
        for _ in range(3):
            await e0.signal(Mailbox.post)
        assert await e0.result(timeout=timedelta(seconds=60)) == 3
        counters = poller.counters
    assert counters.sticky_misses >= 1
    # Poll pages hold two events at most: the rest came in the large pages.
    assert counters.history_events > 2 * counters.history_pages


async def test_a_run_no_longer_cached_is_sent_back_to_its_own_task_list(client: Client) -> None:
    # A cache of one for two runs: each task of one evicts the other. A task that comes to
    # the sticky list for a run no longer cached is answered with the run's own task list,
    # so that its next task goes to whichever worker polls first, not back to this cache.
    options = DecisionWorkerOptions(max_cached_workflows=1)
    async with Worker(client, task_list="mail", workflows=[Mailbox], decision_options=options) as w:
        assert w._decision_poller is not None
        sticky = w._decision_poller.sticky_task_list
        for name in ("m0", "m1"):
            await client.start_workflow(Mailbox.run, workflow_id=name, task_list="mail")
            await decided(client, name, 1)
        m0 = client.get_workflow_handle("m0")
        for tasks in (2, 3, 4):  # evicted by m1 before the first letter only
            await m0.signal(Mailbox.post)
            await decided(client, "m0", tasks)
        assert await m0.result(timeout=timedelta(seconds=30)) == 3
    names = [name for name, _ in await scheduled_task_lists(client, "m0")]
    # First on the shared list; the letter that found it evicted, on the sticky list, sends
    # the next task back to the shared one, where the worker caches it again.
    assert names == ["mail", sticky, "mail", sticky]


async def test_a_stopping_worker_sends_its_runs_back_to_their_own_task_list(
    client: Client,
) -> None:
    worker = Worker(client, task_list="stop", workflows=[Mailbox])
    await worker.start()
    try:
        poller = worker._decision_poller
        assert poller is not None
        handle = await client.start_workflow(Mailbox.run, workflow_id="s", task_list="stop")
        await decided(client, "s", 1)
        await handle.signal(Mailbox.post, True)
        for _ in range(600):  # until the slow letter is being decided
            if handle.run_id in poller.deciding:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the letter's decision task never came")
    finally:
        await worker.shutdown()
    await decided(client, "s", 2)
    await handle.signal(Mailbox.post)
    names = [name for name, _ in await scheduled_task_lists(client, "s")]
    # The task answered while stopping sent the run's next task to the shared list at once,
    # not to the stopped worker's sticky list for 5 s.
    assert names == ["stop", poller.sticky_task_list, "stop"]
