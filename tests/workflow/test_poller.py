"""The decision poller driven directly: history paging, incremental reads, shutdown, and\nsharing the host loop while it decides."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from aioswf import Client, workflow
from aioswf._decider.instance import APPLY_CHUNK, WorkflowInstance
from aioswf._definitions import WorkflowDefinition, workflow_definition
from aioswf._pollers import _activation
from aioswf._pollers._activation import InlineActivations
from aioswf._pollers.decision import DecisionPoller, DecisionWorkerOptions
from aioswf._pollers.history_pages import PageSource
from aioswf.exceptions import ServiceError
from aioswf.local import VirtualClock
from aioswf.worker import Worker
from tests.workflow.histories import Simulation, kinds
from tests.workflow.workflows import Hello, greet, shout


async def run_hello(client: Client, cache: int) -> int:
    poller = DecisionPoller(
        client,
        "paged",
        [workflow_definition(Hello)],
        DecisionWorkerOptions(pollers=1, max_cached_workflows=cache),
    )
    poller.pages.page_size = 2
    stopping = asyncio.Event()
    await client.ensure_registered(workflows=[workflow_definition(Hello)], task_list="paged")
    async with Worker(client, task_list="paged", activities=[greet, shout]):
        deciding = asyncio.create_task(poller.run(stopping))
        handle = await client.start_workflow(
            Hello.run, "pat", workflow_id=f"paged-{cache}", task_list="paged"
        )
        assert await handle.result(timeout=timedelta(seconds=10)) == "HELLO PAT"
        stopping.set()
        await asyncio.wait_for(deciding, 5)
    assert poller.counters.history_pages > poller.counters.tasks  # pages were continued
    return poller.counters.history_events


async def test_history_is_paged_and_read_only_as_far_as_needed(client: Client) -> None:
    replaying = await run_hello(client, cache=0)
    incremental = await run_hello(client, cache=10)
    assert replaying > 1.5 * incremental > 0


async def test_stops_promptly_while_polling(client: Client) -> None:
    poller = DecisionPoller(client, "idle", [workflow_definition(Hello)], DecisionWorkerOptions())
    stopping = asyncio.Event()
    task = asyncio.create_task(poller.run(stopping))
    await asyncio.sleep(0.1)
    stopping.set()
    await asyncio.wait_for(task, 2)


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="pollers"):
        DecisionWorkerOptions(pollers=0)
    with pytest.raises(ValueError, match="max_cached_workflows"):
        DecisionWorkerOptions(max_cached_workflows=-1)


@workflow.defn
class Tally:
    def __init__(self) -> None:
        self.total = 0

    @workflow.run
    async def run(self, goal: int) -> int:
        await workflow.wait_condition(lambda: self.total >= goal)
        return self.total

    @workflow.signal
    def add(self, n: int) -> None:
        self.total += n


async def test_one_big_task_lets_the_host_loop_run_in_between(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    signals = 5_000
    sim = Simulation(Tally, signals)
    for _ in range(signals):
        sim.history.signal("add", 1)
    started = sim.history.start_decision_task()
    expected = sim.new_instance().run_to_completion(sim.history.events, started)
    assert kinds(expected.decisions) == ["CompleteWorkflowExecution"]

    # Every pause the instance offers is handed to the host loop, so what is counted is
    # how often it pauses, not how fast this machine is.
    monkeypatch.setattr(_activation, "_SLICE_SECONDS", -1.0)
    inline = InlineActivations()
    ticks = 0
    deciding = True

    async def tick() -> None:
        nonlocal ticks
        while deciding:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    instance = sim.new_instance()
    activation = await inline.activate(instance, sim.history.events, started)
    deciding = False
    await ticker
    instance.close()
    assert activation.decisions == expected.decisions
    assert ticks >= signals // APPLY_CHUNK


async def test_a_history_read_again_from_the_start_has_each_event_once(client: Client) -> None:
    # A cached run's task reads only what is new; when the instance cannot continue (a cache
    # miss found late), the same task's history is read again from the start. The second
    # read overlaps the first (poll pages and GetWorkflowExecutionHistory pages): an event
    # handed to the run twice would be applied twice, and the replay would go wrong.
    await client.ensure_registered(workflows=[workflow_definition(Hello)], task_list="overlap")
    handle = await client.start_workflow(
        Hello.run, "pat", workflow_id="overlap", task_list="overlap"
    )
    for n in range(40):
        await handle.signal("nudge", n)
    pages = PageSource(client)
    first = await pages.poll("overlap", 4)
    started = int(first["startedEventId"])
    history = pages.history(first, "overlap", 4)
    # What follows the run's first decision task: far back for small pages, so read in the
    # large pages of GetWorkflowExecutionHistory; the poll's own pages are not yet all read.
    newest = await history.after(3)
    assert [e["eventId"] for e in newest] == list(range(4, started + 1))
    everything = await history.after(0)
    assert [e["eventId"] for e in everything] == list(range(1, started + 1))


class _PagesThatFailOnce(PageSource):
    """History pages that cannot be read once, in the run's second decision task."""

    def __init__(self, client: Client, poller: DecisionPoller) -> None:
        super().__init__(client)
        self.poller = poller
        self.failed = False

    def _fail_once(self) -> None:
        if self.poller.counters.tasks >= 2 and not self.failed:
            self.failed = True
            raise ServiceError(
                "the service went away", operation="PollForDecisionTask", code="InternalFailure"
            )

    async def next_page(self, task_list: str, page_size: int, token: str) -> dict[str, Any]:
        self._fail_once()
        return await super().next_page(task_list, page_size, token)

    async def older_events(
        self, execution: dict[str, Any], after: int, before: int
    ) -> list[dict[str, Any]] | None:
        self._fail_once()
        return await super().older_events(execution, after, before)


class _RecordingPoller(DecisionPoller):
    """A decision poller that keeps every instance it makes, to look at them afterwards."""

    made: list[WorkflowInstance]

    def _new_instance(
        self, definition: WorkflowDefinition, execution: dict[str, Any]
    ) -> WorkflowInstance:
        instance = super()._new_instance(definition, execution)
        self.made.append(instance)
        return instance


async def test_a_cached_run_whose_task_fails_outside_its_code_is_closed_not_leaked(
    client: Client, clock: VirtualClock
) -> None:
    # Reading the new events of a cached run's task fails: the task is retried, and the
    # instance, taken out of the cache half-way through a task, is closed (its coroutines
    # ended) rather than dropped with them pending; the retry replays on a fresh one.
    poller = _RecordingPoller(
        client,
        "fails-once",
        [workflow_definition(Hello)],
        DecisionWorkerOptions(pollers=1, sticky_schedule_to_start=None),
    )
    poller.made = []
    pages = _PagesThatFailOnce(client, poller)
    pages.page_size = 2
    poller.pages = pages
    stopping = asyncio.Event()
    await client.ensure_registered(workflows=[workflow_definition(Hello)], task_list="fails-once")
    async with Worker(client, task_list="fails-once", activities=[greet, shout]):
        deciding = asyncio.create_task(poller.run(stopping))
        handle = await client.start_workflow(
            Hello.run, "pat", workflow_id="fails-once", task_list="fails-once"
        )
        result = asyncio.ensure_future(handle.result(timeout=timedelta(seconds=30)))
        while not result.done():  # the retry's back-off timer fires in virtual time
            await asyncio.sleep(0.05)
            clock.advance(0.5)
        assert await result == "HELLO PAT"
        first = poller.made[0]
        assert pages.failed
        assert first.closed
        stopping.set()
        await asyncio.wait_for(deciding, 5)
    assert len(poller.made) >= 2
    assert all(instance.closed for instance in poller.made)
