"""Waiting for many results: one watcher per client, O(1) calls per interval, results of this
process's workers at once, and every outcome as its exception."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from aioswf import Client, Worker, workflow
from aioswf import _close_watcher as watcher_module
from aioswf.exceptions import WorkerError, WorkflowTerminatedError

WAITERS = 60
RESULT_TIMEOUT = timedelta(seconds=30)


@workflow.defn
class Parked:
    """Never decided in these tests unless a worker runs: it stays open until terminated."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.done)
        return "released"

    @workflow.signal
    def release(self) -> None:
        self.done = True


def count_calls(client: Client) -> Counter[str]:
    """The calls ``client`` sends, by operation (botocore's own event)."""
    calls: Counter[str] = Counter()

    def seen(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    client.transport._client.meta.events.register("before-call.swf", seen)
    return calls


async def test_many_waiters_cost_one_listing_per_interval(
    local_endpoint: str, domain_name: str
) -> None:
    async with Client(domain_name, endpoint_url=local_endpoint) as client:
        await client.register_domain()
        handles = [
            await client.start_workflow(Parked.run, workflow_id=f"parked-{n}", task_list="none")
            for n in range(WAITERS)
        ]
        calls = count_calls(client)
        waiting = [asyncio.create_task(h.result(timeout=RESULT_TIMEOUT)) for h in handles]
        await asyncio.sleep(1.5)
        # Each run read once when first awaited, then one listing per interval for them all.
        assert calls["GetWorkflowExecutionHistory"] == WAITERS
        intervals = 1.5 / watcher_module.INTERVAL_MIN
        assert 0 < calls["ListClosedWorkflowExecutions"] <= intervals
        async with Client(domain_name, endpoint_url=local_endpoint) as other:
            for handle in handles:
                await other.get_workflow_handle(handle.workflow_id).terminate("enough")
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(o, WorkflowTerminatedError) for o in outcomes), outcomes
        # Then only the closed runs are read again, for their close events.
        assert calls["GetWorkflowExecutionHistory"] <= 2 * WAITERS + 5
        assert client.close_watcher.waiting == 0


async def test_a_result_of_this_process_arrives_without_waiting_for_a_listing(
    local_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Listings so far apart that none could deliver the result in time.
    monkeypatch.setattr(watcher_module, "INTERVAL_MIN", 3600.0)
    monkeypatch.setattr(watcher_module, "INTERVAL_MAX", 3600.0)
    async with Worker(local_client, task_list="here", workflows=[Parked]):
        handle = await local_client.start_workflow(Parked.run, workflow_id="here", task_list="here")
        waiting = asyncio.create_task(handle.result(timeout=RESULT_TIMEOUT))
        await asyncio.sleep(0.3)  # the first read found it open
        assert not waiting.done()
        await handle.signal(Parked.release)
        assert await waiting == "released"


async def test_closing_the_client_ends_the_waits_with_a_clear_error(
    local_endpoint: str, domain_name: str
) -> None:
    async with Client(domain_name, endpoint_url=local_endpoint) as client:
        await client.register_domain()
        handle = await client.start_workflow(Parked.run, workflow_id="left", task_list="none")
        waiting = asyncio.create_task(handle.result())
        await asyncio.sleep(0.2)
    with pytest.raises(WorkerError, match="client was closed while result\\(\\) waited"):
        await waiting


async def test_a_waiter_that_gives_up_is_forgotten(local_client: Client) -> None:
    handle = await local_client.start_workflow(Parked.run, workflow_id="short", task_list="none")
    with pytest.raises(TimeoutError):
        await handle.result(timeout=timedelta(seconds=0.3))
    assert local_client.close_watcher.waiting == 0


async def test_runs_started_here_are_read_only_for_their_close(
    local_endpoint: str, domain_name: str
) -> None:
    async with Client(domain_name, endpoint_url=local_endpoint) as client:
        await client.register_domain()
        first = await client.start_workflow(Parked.run, workflow_id="first", task_list="none")
        with pytest.raises(TimeoutError):  # one read tells the watcher the service's time
            await first.result(timeout=timedelta(seconds=0.3))
        handles = [
            await client.start_workflow(Parked.run, workflow_id=f"later-{n}", task_list="none")
            for n in range(10)
        ]
        calls = count_calls(client)
        waiting = [asyncio.create_task(h.result(timeout=RESULT_TIMEOUT)) for h in handles]
        await asyncio.sleep(0.5)
        assert calls["GetWorkflowExecutionHistory"] == 0  # the listings cover them
        async with Client(domain_name, endpoint_url=local_endpoint) as other:
            for handle in handles:
                await other.get_workflow_handle(handle.workflow_id).terminate("enough")
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(o, WorkflowTerminatedError) for o in outcomes), outcomes
        assert calls["GetWorkflowExecutionHistory"] == 10


async def test_result_on_a_closed_client_fails_at_once(
    local_endpoint: str, domain_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client(domain_name, endpoint_url=local_endpoint) as client:
        await client.register_domain()
    handle = client.get_workflow_handle("any", run_id="r1")
    with pytest.raises(WorkerError, match="the SWF client is not open"):
        await asyncio.wait_for(handle.result(), 5)
    assert client.close_watcher.waiting == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_an_error_that_will_not_heal_ends_every_wait(
    local_endpoint: str, domain_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The watcher's look fails for good: every waiter gets the error, no retry loop."""
    async with Client(domain_name, endpoint_url=local_endpoint) as client:
        await client.register_domain()
        handles = [
            await client.start_workflow(Parked.run, workflow_id=f"stuck-{n}", task_list="none")
            for n in range(3)
        ]
        waits = [asyncio.create_task(h.result()) for h in handles]
        await asyncio.sleep(0.2)
        await client.transport.close()  # the connection goes away under the watcher
        outcomes = await asyncio.wait_for(asyncio.gather(*waits, return_exceptions=True), 20)
        await client.transport.open()
    assert all(isinstance(o, WorkerError) for o in outcomes), outcomes
    assert all("the SWF client is not open" in str(o) for o in outcomes)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def listing_filters(client: Client) -> list[Any]:
    """The typeFilter of each ListClosedWorkflowExecutions ``client`` sends (None: none)."""
    filters: list[Any] = []

    def seen(params: dict[str, Any], **_: Any) -> None:
        filters.append(params.get("typeFilter"))

    client.transport._client.meta.events.register(
        "provide-client-params.swf.ListClosedWorkflowExecutions", seen
    )
    return filters


@workflow.defn
class Other:
    @workflow.run
    async def run(self) -> None:
        return None


async def test_awaited_runs_of_known_types_are_listed_type_by_type(
    local_endpoint: str, domain_name: str
) -> None:
    async with Client(domain_name, endpoint_url=local_endpoint) as client:
        await client.register_domain()
        first = await client.start_workflow(Parked.run, workflow_id="typed", task_list="none")
        with pytest.raises(TimeoutError):  # one read tells the watcher the service's time
            await first.result(timeout=timedelta(seconds=0.3))
        filters = listing_filters(client)
        parked = await client.start_workflow(Parked.run, workflow_id="typed-2", task_list="none")
        other = await client.start_workflow(Other.run, workflow_id="other", task_list="none")
        waits = [asyncio.create_task(h.result(timeout=RESULT_TIMEOUT)) for h in (parked, other)]
        await asyncio.sleep(0.5)
        assert filters, "no listing was made"
        # The version too: moto's server refuses a type filter without one.
        assert set(map(str, filters)) == {
            str({"name": "Parked", "version": "1"}),
            str({"name": "Other", "version": "1"}),
        }
        # A run whose type this client does not know (started elsewhere, or the next run
        # of a continue-as-new) is listed among every type.
        async with Client(domain_name, endpoint_url=local_endpoint) as elsewhere:
            await elsewhere.start_workflow(Parked.run, workflow_id="elsewhere", task_list="none")
        filters.clear()
        unknown = client.get_workflow_handle("elsewhere")
        waits.append(asyncio.create_task(unknown.result(timeout=RESULT_TIMEOUT)))
        await asyncio.sleep(0.5)
        assert None in filters, filters
        assert all(f is None for f in filters[filters.index(None) :]), filters
        for handle in (parked, other, first, unknown):
            await handle.terminate("enough")
        outcomes = await asyncio.gather(*waits, return_exceptions=True)
        assert all(isinstance(o, WorkflowTerminatedError) for o in outcomes), outcomes


@workflow.defn
class Napping:
    @workflow.run
    async def run(self) -> str:
        await asyncio.sleep(1)
        return "rested"


async def test_closes_told_by_a_worker_here_do_not_make_the_listings_more_frequent(
    local_client: Client,
) -> None:
    runs = 100
    async with Worker(local_client, task_list="naps", workflows=[Napping]):
        handles = [
            await local_client.start_workflow(Napping.run, workflow_id=f"nap-{n}", task_list="naps")
            for n in range(runs)
        ]
        waiting = asyncio.gather(*(h.result(timeout=RESULT_TIMEOUT) for h in handles))
        first = await asyncio.wait_for(handles[0].result(), RESULT_TIMEOUT.total_seconds())
        calls = count_calls(local_client)  # from the first close on
        began = asyncio.get_running_loop().time()
        results = await waiting
        waited = asyncio.get_running_loop().time() - began
    assert [first, *results] == ["rested"] * (runs + 1)
    # Every close came from this process: the listings backed off as they found none (a
    # listing at each close would be one every 0.05-0.1 s while they come in).
    assert calls["ListClosedWorkflowExecutions"] <= backed_off_listings(waited) + 3, waited


def backed_off_listings(seconds: float) -> int:
    """How many listings the watcher makes in ``seconds`` while they find no close."""
    count, interval, elapsed = 0, watcher_module.INTERVAL_MIN, 0.0
    while elapsed + interval <= seconds:
        elapsed += interval
        count += 1
        interval = min(interval * 1.5, watcher_module.INTERVAL_MAX)
    return count
