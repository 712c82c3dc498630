"""Waiting for many results: one watcher per client, O(1) calls per interval, results of this
process's workers at once, and every outcome as its exception."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aioswf import (
    Client,
    ConnectionOptions,
    DecisionWorkerOptions,
    RetryOptions,
    Worker,
    WorkflowOptions,
    workflow,
)
from aioswf import _close_watcher as watcher_module
from aioswf.exceptions import (
    ApplicationError,
    WorkerError,
    WorkflowCanceledError,
    WorkflowFailedError,
    WorkflowTerminatedError,
)
from aioswf.local import LocalSWF
from aioswf.local.clock import VirtualClock
from tests.activity.proxy import FaultProxy

WAITERS = 60
QUICK_RETRIES = ConnectionOptions(retry=RetryOptions(base_delay=0.01, max_delay=0.05))
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
        # Started here, when the service's clock said (its answers' Date): the listings
        # cover them from their start, so none is read; one listing per interval for all.
        assert calls["GetWorkflowExecutionHistory"] == 0
        intervals = 1.5 / watcher_module.INTERVAL_MIN
        assert 0 < calls["ListClosedWorkflowExecutions"] <= intervals
        async with Client(domain_name, endpoint_url=local_endpoint) as other:
            for handle in handles:
                await other.get_workflow_handle(handle.workflow_id).terminate("enough")
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(o, WorkflowTerminatedError) for o in outcomes), outcomes
        # Then only the closed runs are read, for their close events.
        assert calls["GetWorkflowExecutionHistory"] == WAITERS
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


async def test_closes_decided_here_are_delivered_unread_a_listing_for_many(
    local_client: Client,
) -> None:
    runs = 100
    async with Worker(local_client, task_list="naps", workflows=[Napping]):
        handles = [
            await local_client.start_workflow(Napping.run, workflow_id=f"nap-{n}", task_list="naps")
            for n in range(runs)
        ]
        calls = count_calls(local_client)
        began = asyncio.get_running_loop().time()
        results = await asyncio.gather(*(h.result(timeout=RESULT_TIMEOUT) for h in handles))
        waited = asyncio.get_running_loop().time() - began
    assert results == ["rested"] * runs
    # Every close came from this process: confirmed by listings, none read; and a listing
    # confirms the closes answered meanwhile, not one each.
    assert calls["GetWorkflowExecutionHistory"] == 0
    confirmations = waited / watcher_module.CONFIRM_SPACING + 1
    listings = confirmations + backed_off_listings(waited) + 3
    assert calls["ListClosedWorkflowExecutions"] <= listings, waited


@workflow.defn
class Dozing:
    @workflow.run
    async def run(self, seconds: int) -> int:
        await asyncio.sleep(seconds)
        return seconds


async def test_the_last_results_of_a_batch_do_not_wait_for_the_listings_spacing(
    local_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Listings so far apart that a result waiting for the next one would time out: the first close after a quiet spell is listed at once, and
    # once every awaited run's close is answered, no other close can join the next listing,
    # so it comes at once too.
    for name in ("CONFIRM_SPACING", "INTERVAL_MIN", "INTERVAL_MAX"):
        monkeypatch.setattr(watcher_module, name, 600.0)
    async with Worker(local_client, task_list="batch", workflows=[Dozing]):
        handles = [
            await local_client.start_workflow(
                Dozing.run, seconds, workflow_id=f"doze-{n}", task_list="batch"
            )
            for n, seconds in enumerate((0, 1, 1, 2))
        ]
        results = [h.result(timeout=timedelta(seconds=20)) for h in handles]
        assert await asyncio.gather(*results) == [0, 1, 1, 2]


def backed_off_listings(seconds: float) -> int:
    """How many listings the watcher makes in ``seconds`` while they find no close made
    elsewhere."""
    count, interval, elapsed = 1, watcher_module.INTERVAL_MIN, 0.0
    while elapsed + interval <= seconds:
        elapsed += interval
        count += 1
        interval = min(interval * 1.5, watcher_module.INTERVAL_MAX)
    return count


# --- closes decided here, and what they prove --------------------------------------------------


@workflow.defn
class Counting:
    """Completes at its first decision task with the number of pokes it has seen."""

    def __init__(self) -> None:
        self.pokes = 0

    @workflow.run
    async def run(self) -> int:
        return self.pokes

    @workflow.signal
    def poke(self) -> None:
        self.pokes += 1


def poke_while_closing(swf: LocalSWF, client: Client, domain: str) -> list[str]:
    """Signal each run once, while the worker here answers its decision task with a close
    (after deciding, before answering): SWF then refuses the close (UnhandledDecision)."""
    poked: list[str] = []
    closing = client.close_watcher.closing

    def signal_then_close(run_id: str) -> None:
        if run_id not in poked:
            poked.append(run_id)
            workflow_id = swf.engine.executions[run_id].workflow_id
            swf.call(
                "SignalWorkflowExecution",
                {
                    "domain": domain,
                    "workflowId": workflow_id,
                    "runId": run_id,
                    "signalName": "poke",
                },
            )
        closing(run_id)

    client.close_watcher.closing = signal_then_close  # type: ignore[method-assign]
    return poked


def event_types(swf: LocalSWF, run_id: str) -> list[str]:
    return [e["eventType"] for e in swf.engine.executions[run_id].history]


@pytest.mark.parametrize("sticky", [True, False], ids=["sticky", "not-sticky"])
async def test_a_refused_close_delivers_the_real_outcome(sticky: bool, domain_name: str) -> None:
    """A signal comes in while the close is being decided: SWF refuses the close, the next
    decision task sees the signal, and result() returns that task's outcome, not the first."""
    options = DecisionWorkerOptions(
        sticky_schedule_to_start=None if not sticky else timedelta(seconds=5)
    )
    async with (
        LocalSWF(port=0, long_poll_seconds=2.0) as swf,
        Client(domain_name, endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        poked = poke_while_closing(swf, client, domain_name)
        async with Worker(
            client, task_list="count", workflows=[Counting], decision_options=options
        ):
            handles = [
                await client.start_workflow(
                    Counting.run, workflow_id=f"count-{n}", task_list="count"
                )
                for n in range(3)
            ]
            calls = count_calls(client)
            results = await asyncio.gather(*(h.result(timeout=RESULT_TIMEOUT) for h in handles))
        assert results == [1, 1, 1]
        assert len(poked) == 3
        for handle in handles:
            assert handle.first_run_id is not None
            kinds = event_types(swf, handle.first_run_id)
            assert "CompleteWorkflowExecutionFailed" in kinds, kinds  # the close was refused
        if not sticky:
            # The refused close's next task could have gone to any worker: each run is read.
            assert calls["GetWorkflowExecutionHistory"] >= 3


def test_a_close_listed_too_late_to_be_only_this_workers_is_read() -> None:
    """Past the sticky schedule-to-start timeout of the closing task, another worker could
    have decided the run: a listed close that late is read, not taken as decided here."""
    answered = watcher_module._answered_close(
        {
            "decisionType": "CompleteWorkflowExecution",
            "completeWorkflowExecutionDecisionAttributes": {"result": "1"},
        },
        started_at=1000.0,
        sticky_seconds=5,
    )
    assert answered is not None
    info = {"closeStatus": "COMPLETED", "closeTimestamp": 1004.9}
    assert answered.closed(info) == {
        "eventType": "WorkflowExecutionCompleted",
        # Listed in epoch seconds (read as plain JSON), given as a history read gives it.
        "eventTimestamp": datetime.fromtimestamp(1004.9, UTC),
        "workflowExecutionCompletedEventAttributes": {"result": "1"},
    }
    # Listed as a datetime (a client on a caller's session, parsed by botocore): kept.
    when = datetime.fromtimestamp(1004.9, UTC)
    close = answered.closed({**info, "closeTimestamp": when})
    assert close is not None
    assert close["eventTimestamp"] == when
    assert answered.closed({**info, "closeTimestamp": 1005.0}) is None
    assert answered.closed({**info, "closeStatus": "TERMINATED"}) is None
    assert answered.closed({**info, "closeStatus": "FAILED"}) is None
    # Nothing to prove with: no sticky routing, no known start, a continue-as-new.
    decision = {"decisionType": "CompleteWorkflowExecution"}
    assert watcher_module._answered_close(decision, 1000.0, None) is None
    assert watcher_module._answered_close(decision, None, 5) is None
    renew = {"decisionType": "ContinueAsNewWorkflowExecution"}
    assert watcher_module._answered_close(renew, 1000.0, 5) is None


async def test_a_close_is_this_workers_only_while_no_other_could_decide_the_run(
    local_client: Client,
) -> None:
    """A decision task started on the sticky list whose answer never reaches the worker (a
    lost poll answer, a crash) goes back to the shared list after the run's decision task
    start-to-close timeout: with that shorter than the sticky schedule-to-start timeout,
    another worker could decide the run sooner, so a close is taken as this worker's only
    within the shorter of the two."""
    windows: list[int | None] = []
    tell = local_client.close_watcher.saw_close

    def saw_close(run_id: str, decision: dict[str, Any], *, sticky_seconds: int | None) -> None:
        windows.append(sticky_seconds)
        tell(run_id, decision, sticky_seconds=sticky_seconds)

    local_client.close_watcher.saw_close = saw_close  # type: ignore[method-assign]
    options = DecisionWorkerOptions(sticky_schedule_to_start=timedelta(seconds=5))
    async with Worker(
        local_client, task_list="count", workflows=[Counting], decision_options=options
    ):
        for seconds in (2, 30):
            handle = await local_client.start_workflow(
                Counting.run,
                workflow_id=f"count-{seconds}",
                task_list="count",
                options=WorkflowOptions(task_start_to_close_timeout=timedelta(seconds=seconds)),
            )
            assert await handle.result(timeout=RESULT_TIMEOUT) == 0
    assert windows == [2, 5]


@workflow.defn
class Failing:
    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("no luck", type="Unlucky")


async def test_every_outcome_decided_here_arrives_unread_as_its_exception(
    local_client: Client,
) -> None:
    async with Worker(local_client, task_list="fates", workflows=[Failing, Napping]):
        failing = await local_client.start_workflow(Failing.run, workflow_id="f", task_list="fates")
        napping = await local_client.start_workflow(Napping.run, workflow_id="n", task_list="fates")
        calls = count_calls(local_client)
        with pytest.raises(WorkflowFailedError, match="no luck") as failed:
            await failing.result(timeout=RESULT_TIMEOUT)
        waiting = asyncio.create_task(napping.result(timeout=RESULT_TIMEOUT))
        await asyncio.sleep(0.3)
        await napping.cancel()
        with pytest.raises(WorkflowCanceledError):
            await waiting
    assert failed.value.reason == "Unlucky"
    assert calls["GetWorkflowExecutionHistory"] == 0


async def test_a_run_started_elsewhere_is_watched_from_its_decision_tasks_here(
    local_endpoint: str, domain_name: str
) -> None:
    async with Client(domain_name, endpoint_url=local_endpoint) as client:
        await client.register_domain()
        async with Client(domain_name, endpoint_url=local_endpoint) as elsewhere:
            started = await elsewhere.start_workflow(
                Parked.run, workflow_id="from-afar", task_list="here"
            )
            on_other_list = await elsewhere.start_workflow(
                Parked.run, workflow_id="not-here", task_list="none"
            )
        async with Worker(client, task_list="here", workflows=[Parked]):
            handle = client.get_workflow_handle("from-afar", workflow=Parked.run)
            waiting = asyncio.create_task(handle.result(timeout=RESULT_TIMEOUT))
            unknown = client.get_workflow_handle("not-here")
            unknown_wait = asyncio.create_task(unknown.result(timeout=RESULT_TIMEOUT))
            await asyncio.sleep(0.5)
            assert not waiting.done()
            assert not unknown_wait.done()
            await handle.signal(Parked.release)
            assert await waiting == "released"
            # Closed by no worker of this process: found by a listing, then read.
            await unknown.terminate("enough")
            with pytest.raises(WorkflowTerminatedError):
                await unknown_wait
        assert started.first_run_id is not None
        assert on_other_list.first_run_id is not None


async def test_results_under_a_virtual_clock_far_from_this_machines(domain_name: str) -> None:
    """The service's clock is years away from the wall clock: starts, decision tasks and
    listings all keep its time, and results arrive without reading the runs."""
    clock = VirtualClock(start=946_684_800.0)  # 2000-01-01
    async with (
        LocalSWF(port=0, long_poll_seconds=2.0, clock=clock) as swf,
        Client(domain_name, endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="then", workflows=[Counting]):
            handles = [
                await client.start_workflow(Counting.run, workflow_id=f"then-{n}", task_list="then")
                for n in range(5)
            ]
            calls = count_calls(client)
            assert (
                await asyncio.gather(*(h.result(timeout=RESULT_TIMEOUT) for h in handles))
                == [0] * 5
            )
        assert calls["GetWorkflowExecutionHistory"] == 0
        # The service's time the watcher keeps is the virtual clock's, not this machine's.
        assert abs(client.close_watcher._service_time - clock.now()) < 60


async def test_closes_decided_here_during_a_listing_outage_are_read_after_a_while(
    local_endpoint: str, domain_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watcher_module, "CONFIRM_PATIENCE", 0.5)
    async with (
        FaultProxy(local_endpoint, can_release_polls=True) as proxy,
        # Retries a moment apart: the outage, not the transport's back-off, is under test.
        Client(domain_name, endpoint_url=proxy.url, connection=QUICK_RETRIES) as client,
    ):
        await client.register_domain()
        proxy.go_down("ListClosedWorkflowExecutions")
        async with Worker(client, task_list="out", workflows=[Counting]):
            handles = [
                await client.start_workflow(Counting.run, workflow_id=f"o-{n}", task_list="out")
                for n in range(3)
            ]
            results = await asyncio.gather(*(h.result(timeout=RESULT_TIMEOUT) for h in handles))
    assert results == [0, 0, 0]
    assert proxy.cut["ListClosedWorkflowExecutions"] >= 1
    assert proxy.calls["GetWorkflowExecutionHistory"] >= 3


async def test_a_run_closed_here_before_it_is_awaited_is_not_read(local_client: Client) -> None:
    async with Worker(local_client, task_list="early", workflows=[Counting]):
        handle = await local_client.start_workflow(Counting.run, workflow_id="e", task_list="early")
        for _ in range(100):  # until the worker here has closed it
            if (await handle.describe()).info.status != "OPEN":
                break
            await asyncio.sleep(0.05)
        calls = count_calls(local_client)
        assert await handle.result(timeout=RESULT_TIMEOUT) == 0
    assert calls["GetWorkflowExecutionHistory"] == 0
    assert calls["ListClosedWorkflowExecutions"] >= 1


async def test_a_close_decided_here_reaches_every_client_of_the_process(
    local_client: Client, local_endpoint: str, domain_name: str
) -> None:
    # The worker runs on one client; the run is started and awaited through another, as an
    # application that keeps a client per component does.
    async with (
        Client(domain_name, endpoint_url=local_endpoint) as callers,
        Client("another-domain", endpoint_url=local_endpoint) as elsewhere,
        Worker(local_client, task_list="fates", workflows=[Failing]),
    ):
        failing = await callers.start_workflow(Failing.run, workflow_id="f", task_list="fates")
        calls = count_calls(callers)
        with pytest.raises(WorkflowFailedError, match="no luck"):
            await failing.result(timeout=RESULT_TIMEOUT)
        # Told by the worker of this process, as its own client's watcher is: no read.
        assert calls["GetWorkflowExecutionHistory"] == 0
        # A client of another domain hears nothing of it.
        assert not elsewhere.close_watcher._decided


def listed_runs(client: Client) -> list[str]:
    """The workflow id of every execution the listings of ``client`` return."""
    listed: list[str] = []

    def seen(parsed: dict[str, Any], **_: Any) -> None:
        listed.extend(i["execution"]["workflowId"] for i in parsed.get("executionInfos") or ())

    client.transport._client.meta.events.register(
        "after-call.swf.ListClosedWorkflowExecutions", seen
    )
    return listed


async def test_listings_reach_back_only_to_when_the_awaited_runs_were_known_open(
    local_client: Client, local_endpoint: str
) -> None:
    # Closes of the same type a moment before: within the listings' visibility lag, but
    # before any awaited run was known open, so no listing needs to read them again.
    earlier = [
        await local_client.start_workflow(Parked.run, workflow_id=f"gone-{n}", task_list="none")
        for n in range(20)
    ]
    for handle in earlier:
        await handle.terminate("enough")
    await asyncio.sleep(1.2)  # the listing's oldest date is in whole seconds
    async with Client(local_client.domain, endpoint_url=local_endpoint) as other:
        await other.start_workflow(Parked.run, workflow_id="awaited", task_list="none")
    listed = listed_runs(local_client)
    awaited = local_client.get_workflow_handle("awaited")
    waiting = asyncio.create_task(awaited.result(timeout=RESULT_TIMEOUT))
    await asyncio.sleep(0.8)
    assert local_client.close_watcher.calls > 1, "no listing was made"
    assert not [w for w in listed if w.startswith("gone-")], listed
    await awaited.terminate("enough")
    with pytest.raises(WorkflowTerminatedError):
        await waiting
