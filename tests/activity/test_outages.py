"""Answers that carry finished work outlast an outage; nothing computed runs twice."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from aioswf import Client, ConnectionOptions, RetryOptions, activity, workflow
from aioswf.exceptions import WorkerError
from aioswf.worker import ActivityWorkerOptions, Worker

from .helpers import QUICK_POLLER, Flow, until
from .proxy import FaultProxy

RUNS: list[str] = []


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def compute(text: str) -> str:
    RUNS.append(text)
    await asyncio.sleep(0.3)  # the outage begins while it runs
    return text.upper()


@activity.defn(start_to_close_timeout=timedelta(seconds=2))
async def brief(text: str) -> str:
    RUNS.append(text)
    await asyncio.sleep(0.3)
    return text


@pytest.mark.parametrize("cut", ["RespondActivityTaskCompleted", ""])
async def test_a_result_outlasts_an_outage_and_the_activity_runs_once(
    proxied: Client, proxy: FaultProxy, task_list: str, cut: str
) -> None:
    RUNS.clear()
    flow = await Flow(proxied, task_list).start()
    async with Worker(
        proxied, task_list=task_list, activities=[compute], activity_options=QUICK_POLLER
    ):
        [a] = await flow.schedule(compute, "done once")
        await until(lambda: bool(RUNS))
        proxy.go_down(*([cut] if cut else []))  # only the answer, or everything
        await until(lambda: proxy.cut["RespondActivityTaskCompleted"] >= 5)
        await asyncio.sleep(0.5)
        proxy.come_up()
        outcomes = await flow.outcomes(1)
    assert outcomes[a].kind == "Completed"
    assert outcomes[a].result == "DONE ONCE"
    assert RUNS == ["done once"]


async def test_an_answer_past_the_tasks_deadline_is_given_up_in_one_line(
    proxied: Client, proxy: FaultProxy, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    RUNS.clear()
    flow = await Flow(proxied, task_list).start()
    caplog.set_level(logging.INFO, logger="aioswf")
    async with Worker(
        proxied, task_list=task_list, activities=[brief], activity_options=QUICK_POLLER
    ):
        await flow.schedule(brief, "late")
        await until(lambda: bool(RUNS))
        proxy.go_down("RespondActivityTaskCompleted")
        await until(
            lambda: any("gave up sending" in r.getMessage() for r in caplog.records), timeout=15
        )
        proxy.come_up()
    given_up = [r for r in caplog.records if "gave up sending" in r.getMessage()]
    assert len(given_up) == 1
    assert "\n" not in given_up[0].getMessage()
    # One line while it keeps trying, not one per attempt.
    persisting = [r for r in caplog.records if "keeps trying" in r.getMessage()]
    assert len(persisting) == 1


async def test_a_worker_starts_once_swf_comes_back(
    proxy: FaultProxy, domain_name: str, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    retry = RetryOptions(max_attempts=2, base_delay=0.01, max_delay=0.05)
    async with Client(
        domain_name, endpoint_url=proxy.url, connection=ConnectionOptions(retry=retry)
    ) as swf:
        proxy.go_down()
        starting = asyncio.create_task(
            Worker(
                swf, task_list=task_list, activities=[compute], activity_options=QUICK_POLLER
            ).start()
        )
        await until(lambda: proxy.cut["DescribeDomain"] >= 3)
        assert not starting.done()
        proxy.come_up()
        await asyncio.wait_for(starting, 30)
    waiting = [r for r in caplog.records if "cannot register yet" in r.getMessage()]
    assert len(waiting) == 1


async def test_an_unknown_domain_without_auto_registration_stops_start_up(
    local_endpoint: str, task_list: str
) -> None:
    async with Client("never-registered", endpoint_url=local_endpoint, auto_register=False) as swf:
        worker = Worker(swf, task_list=task_list, activities=[compute])
        with pytest.raises(WorkerError, match="'never-registered' is not registered"):
            await worker.start()


async def test_result_waits_out_an_outage(
    proxied: Client, proxy: FaultProxy, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    flow = await Flow(proxied, task_list).start()
    handle = proxied.get_workflow_handle(flow.workflow_id, run_id=flow.run_id)
    waiting = asyncio.create_task(handle.result(timeout=timedelta(seconds=60)))
    await asyncio.sleep(0.2)
    proxy.go_down("GetWorkflowExecutionHistory", "ListClosedWorkflowExecutions")
    await until(lambda: proxy.cut["ListClosedWorkflowExecutions"] >= 6)
    assert not waiting.done()
    proxy.come_up()
    await flow.decide(
        {
            "decisionType": "CompleteWorkflowExecution",
            "completeWorkflowExecutionDecisionAttributes": {"result": '"finished"'},
        }
    )
    assert await asyncio.wait_for(waiting, 30) == "finished"
    assert len([r for r in caplog.records if "waits out an SWF outage" in r.getMessage()]) == 1


@workflow.defn
class Relay:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(compute, text)


async def test_a_decision_outlasts_an_outage(
    proxied: Client, proxy: FaultProxy, task_list: str
) -> None:
    RUNS.clear()
    async with Worker(
        proxied,
        task_list=task_list,
        workflows=[Relay],
        activities=[compute],
        activity_options=QUICK_POLLER,
    ):
        proxy.go_down("RespondDecisionTaskCompleted")
        handle = await proxied.start_workflow(
            Relay.run, "decided", workflow_id=f"relay-{task_list}", task_list=task_list
        )
        await until(lambda: proxy.cut["RespondDecisionTaskCompleted"] >= 5)
        await asyncio.sleep(0.5)
        proxy.come_up()
        assert await handle.result(timeout=timedelta(seconds=30)) == "DECIDED"
    kinds = [e["eventType"] async for e in handle.history()]
    assert "DecisionTaskTimedOut" not in kinds
    assert RUNS == ["decided"]


@activity.defn(
    start_to_close_timeout=timedelta(seconds=30), heartbeat_timeout=timedelta(seconds=10)
)
async def beating(text: str) -> str:
    RUNS.append(text)
    for _ in range(40):
        activity.heartbeat()
        await asyncio.sleep(0.05)
    return text


async def test_heartbeats_outlast_an_outage_in_one_line(
    proxied: Client, proxy: FaultProxy, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    RUNS.clear()
    caplog.set_level(logging.INFO, logger="aioswf")
    flow = await Flow(proxied, task_list).start()
    options = ActivityWorkerOptions(pollers=1, heartbeat_ratio=0.01)  # one every 0.1 s
    async with Worker(proxied, task_list=task_list, activities=[beating], activity_options=options):
        proxy.go_down("RecordActivityTaskHeartbeat")
        [a] = await flow.schedule(beating, "steady")
        await until(lambda: proxy.cut["RecordActivityTaskHeartbeat"] >= 6)
        proxy.come_up()
        outcomes = await flow.outcomes(1)
    assert outcomes[a].kind == "Completed"
    assert RUNS == ["steady"]
    # Within its heartbeat timeout the heartbeat keeps trying: one line says so, one that it
    # went through; the task was never given up.
    messages = [r.getMessage() for r in caplog.records if "Heartbeat" in r.getMessage()]
    assert len([m for m in messages if "keeps trying" in m]) == 1, messages
    assert any("went through after" in m for m in messages), messages
    assert not [r for r in caplog.records if "no heartbeat got through" in r.getMessage()]


async def test_result_of_a_handle_without_a_run_waits_out_an_outage(
    proxied: Client, proxy: FaultProxy, task_list: str
) -> None:
    flow = await Flow(proxied, task_list).start()
    proxy.go_down()
    handle = proxied.get_workflow_handle(flow.workflow_id)  # the run is looked up first
    waiting = asyncio.create_task(handle.result(timeout=timedelta(seconds=60)))
    await until(lambda: sum(proxy.cut.values()) >= 8)
    assert not waiting.done()
    proxy.come_up()
    await flow.decide(
        {
            "decisionType": "CompleteWorkflowExecution",
            "completeWorkflowExecutionDecisionAttributes": {"result": '"found"'},
        }
    )
    assert await asyncio.wait_for(waiting, 30) == "found"


async def test_an_outage_is_one_warning_per_poller_not_one_per_retry(
    proxied: Client, proxy: FaultProxy, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="aioswf")
    async with Worker(
        proxied, task_list=task_list, activities=[compute], activity_options=QUICK_POLLER
    ):
        proxy.go_down()
        # Polls, and the probes that go before polls until SWF answers again.
        await until(
            lambda: proxy.cut["PollForActivityTask"] + proxy.cut["DescribeDomain"] >= 12,
            timeout=20,
        )
        proxy.come_up()
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [r.getMessage() for r in warned if r.name.startswith("aioswf._transport")]
    polling = [r.getMessage() for r in warned if "polling activity tasks" in r.getMessage()]
    assert len(polling) == 1, polling


async def test_start_up_through_a_long_outage_says_so_once_then_in_short_reminders(
    proxy: FaultProxy,
    domain_name: str,
    task_list: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import aioswf.worker

    monkeypatch.setattr(aioswf.worker, "_REGISTER_REMINDER_EVERY", 0.3)
    monkeypatch.setattr(aioswf.worker, "_REGISTER_BACKOFF_MAX", 0.05)
    caplog.set_level(logging.INFO, logger="aioswf")
    retry = RetryOptions(max_attempts=3, base_delay=0.01, max_delay=0.02)
    async with Client(
        domain_name, endpoint_url=proxy.url, connection=ConnectionOptions(retry=retry)
    ) as swf:
        proxy.go_down()
        worker = Worker(
            swf, task_list=task_list, activities=[compute], activity_options=QUICK_POLLER
        )
        starting = asyncio.create_task(worker.start())
        await asyncio.sleep(1.2)
        proxy.come_up()
        await asyncio.wait_for(starting, 30)
        await worker.shutdown()
    warned = [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and "did not exist; registered it" not in r.getMessage()
    ]
    assert len([m for m in warned if "cannot register yet" in m]) == 1, warned
    reminders = [m for m in warned if "still cannot reach SWF at " + proxy.url in m]
    assert 2 <= len(reminders) <= 5, warned
    assert len(warned) == 1 + len(reminders), warned
    assert any("SWF reachable again" in r.getMessage() for r in caplog.records)


async def test_result_timeout_holds_during_an_outage(
    proxy: FaultProxy, domain_name: str, task_list: str
) -> None:
    # Slow retries, as against AWS: the timeout must not wait for them to give up.
    retry = RetryOptions(max_attempts=6, base_delay=1.0, max_delay=5.0)
    async with Client(
        domain_name, endpoint_url=proxy.url, connection=ConnectionOptions(retry=retry)
    ) as swf:
        await swf.register_domain()
        flow = await Flow(swf, task_list).start()
        handle = swf.get_workflow_handle(flow.workflow_id, run_id=flow.run_id)
        proxy.go_down()
        loop = asyncio.get_running_loop()
        began = loop.time()
        with pytest.raises(TimeoutError, match=r"did not close within 1 second\b"):
            await handle.result(timeout=timedelta(seconds=1))
        assert loop.time() - began < 3.0
        proxy.come_up()
