"""The end of an outage is logged as soon as SWF answers, not when an idle long poll returns."""

from __future__ import annotations

import asyncio
import logging
import time
import types
from datetime import timedelta

import pytest

import aioswf._pollers.decision
from aioswf import Client, ConnectionOptions, RetryOptions, activity, workflow
from aioswf._pollers.decision import DecisionWorkerOptions
from aioswf.local import LocalSWF
from aioswf.worker import ActivityWorkerOptions, Worker

from .helpers import until
from .proxy import FaultProxy


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def echo(text: str) -> str:
    return text


@workflow.defn
class Echo:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(echo, text)


@workflow.defn
class Gate:
    def __init__(self) -> None:
        self.opened = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.opened)
        return "through"

    @workflow.signal
    async def open(self) -> None:
        self.opened = True


def _lines(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


async def test_an_idle_worker_says_polling_resumes_as_soon_as_swf_answers(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, domain_name: str
) -> None:
    monkeypatch.setattr(aioswf._pollers.decision, "_BACKOFF_MAX", 0.3)
    caplog.set_level(logging.INFO, logger="aioswf")
    options = ActivityWorkerOptions(
        pollers=1, poll_backoff=timedelta(seconds=0.05), max_poll_backoff=timedelta(seconds=0.3)
    )
    retry = ConnectionOptions(retry=RetryOptions(max_attempts=2, base_delay=0.01, max_delay=0.05))
    async with (
        LocalSWF(long_poll_seconds=60) as swf,
        FaultProxy(swf.endpoint_url, can_release_polls=True) as proxy,
        Client(domain_name, endpoint_url=proxy.url, connection=retry) as client,
    ):
        await client.register_domain()
        # Started before the outage: start-up itself waits for SWF.
        async with Worker(
            client,
            task_list="idle",
            workflows=[Echo],
            activities=[echo],
            activity_options=options,
        ) as worker:
            await asyncio.wait_for(worker.wait_until_polling(), 10)
            proxy.go_down()
            proxy.drop_connections()  # the parked long polls fail too
            await until(lambda: proxy.cut["DescribeDomain"] >= 4, timeout=15)
            assert not _lines(caplog, "SWF answers again")
            proxy.come_up()
            back = time.monotonic()
            await until(lambda: len(_lines(caplog, "SWF answers again")) >= 3, timeout=15)
            # Long before the long polls sent after the outage return (60 s).
            assert time.monotonic() - back < 10
            handle = await client.start_workflow(
                Echo.run, "still works", workflow_id="after-outage", task_list="idle"
            )
            assert await handle.result(timeout=timedelta(seconds=30)) == "still works"
    answered = [r.getMessage() for r in _lines(caplog, "SWF answers again")]
    # One line per poller (activity tasks, decision tasks, the sticky decision list).
    assert len(answered) == 3, answered
    assert all("polling resumes" in m and "\n" not in m for m in answered)
    # The polls' own recovery is not said a second time.
    again = [r for r in _lines(caplog, "works again") if r.levelno >= logging.INFO]
    assert not again, [r.getMessage() for r in again]
    failed = [r for r in caplog.records if r.levelno >= logging.WARNING and "polling" in r.msg]
    assert len(failed) == 3, [r.getMessage() for r in failed]


async def test_a_refused_poll_is_not_probed(
    caplog: pytest.LogCaptureFixture, domain_name: str
) -> None:
    caplog.set_level(logging.INFO, logger="aioswf")
    options = ActivityWorkerOptions(
        pollers=1, poll_backoff=timedelta(seconds=0.05), max_poll_backoff=timedelta(seconds=0.1)
    )
    denied = (400, {"__type": "AccessDeniedException", "message": "not allowed"})
    async with (
        LocalSWF(long_poll_seconds=0.3) as swf,
        FaultProxy(swf.endpoint_url, can_release_polls=True) as proxy,
        Client(domain_name, endpoint_url=proxy.url) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="denied", activities=[echo], activity_options=options):
            probes = proxy.calls["DescribeDomain"]
            proxy.fail("PollForActivityTask", *[denied] * 5)
            await until(lambda: not proxy.faults["PollForActivityTask"], timeout=10)
            await until(lambda: bool(_lines(caplog, "works again")), timeout=10)
    # A refusal is no outage a cheap call could see the end of: no probes, and no flapping.
    assert proxy.calls["DescribeDomain"] == probes
    assert not _lines(caplog, "SWF answers again")
    assert len(_lines(caplog, "polling activity tasks on 'denied' failed")) == 1


async def test_the_sticky_poller_resumes_when_another_poll_loop_reaches_swf(
    monkeypatch: pytest.MonkeyPatch, domain_name: str
) -> None:
    # Every failed decision poll backs off for the longest time, 30 s: only the word of the
    # activity poller (backing off 0.3 s at most) can bring the sticky poller back sooner.
    monkeypatch.setattr(aioswf._pollers.decision, "_BACKOFF_FIRST", 30.0)
    monkeypatch.setattr(
        aioswf._pollers.decision, "random", types.SimpleNamespace(uniform=lambda a, b: b)
    )
    activities = ActivityWorkerOptions(
        pollers=1, poll_backoff=timedelta(seconds=0.05), max_poll_backoff=timedelta(seconds=0.3)
    )
    # Long enough that a task left on the sticky list is not moved back to the shared one
    # within the test: only the sticky poller can decide it.
    decisions = DecisionWorkerOptions(pollers=1, sticky_schedule_to_start=timedelta(seconds=60))
    retry = ConnectionOptions(retry=RetryOptions(max_attempts=2, base_delay=0.01, max_delay=0.05))
    async with (
        # Short long polls, so that the outage needs no cut connections: a poll parked before it
        # would stay parked upstream and take the task meant for the sticky poller.
        LocalSWF(long_poll_seconds=1) as swf,
        FaultProxy(swf.endpoint_url, can_release_polls=True) as proxy,
        Client(domain_name, endpoint_url=proxy.url, connection=retry) as client,
    ):
        await client.register_domain()
        async with Worker(
            client,
            task_list="gated",
            workflows=[Gate],
            activities=[echo],
            activity_options=activities,
            decision_options=decisions,
        ) as worker:
            poller = worker._decision_poller
            assert poller is not None
            assert poller.sticky_task_list is not None
            handle = await client.start_workflow(Gate.run, workflow_id="gate", task_list="gated")
            await until(lambda: poller.counters.tasks >= 1)
            proxy.go_down()
            sticky = poller._health(poller.sticky_task_list)
            await until(lambda: sticky.failures >= 1, timeout=15)
            proxy.come_up()
            await handle.signal(Gate.open)
            # Well before the sticky poller's own back-off (30 s) would end.
            assert await handle.result(timeout=timedelta(seconds=15)) == "through"
            assert poller.counters.sticky_tasks >= 1
