"""Poll loops survive throttling, server errors, dropped connections and unknown domains."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from aioswf import Client, activity
from aioswf.worker import ActivityWorkerOptions, Worker

from .helpers import Flow
from .proxy import (
    DROP,
    LOSE_ANSWER,
    SERVER_ERROR,
    THROTTLED,
    UNAVAILABLE,
    UNKNOWN,
    FaultProxy,
)


@activity.defn
async def echo(text: str) -> str:
    return text


FAST_BACKOFF = ActivityWorkerOptions(
    pollers=2,
    poll_backoff=timedelta(seconds=0.05),
    max_poll_backoff=timedelta(seconds=0.2),
)


async def test_polls_back_off_and_recover(
    proxied: Client, proxy: FaultProxy, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    faults = [THROTTLED, SERVER_ERROR, UNAVAILABLE, DROP, UNKNOWN] * 3
    proxy.fail("PollForActivityTask", *faults)
    flow = await Flow(proxied, task_list).start()
    caplog.set_level(logging.WARNING, logger="aioswf._pollers.activity")
    async with Worker(
        proxied, task_list=task_list, activities=[echo], activity_options=FAST_BACKOFF
    ):
        [a] = await flow.schedule(echo, "still here")
        outcomes = await flow.outcomes(1)
    assert outcomes[a].result == "still here"
    assert not proxy.faults["PollForActivityTask"]
    # Each kind of fault was logged once (not once per poll), and the pollers kept going.
    failures = [r for r in caplog.records if "polling activity tasks on" in r.getMessage()]
    assert len(failures) == 5  # throttled, server error, unavailable, dropped, unknown
    assert any(r.levelno == logging.ERROR and "UnknownResource" in r.getMessage() for r in failures)


async def test_responses_are_retried_through_transient_faults(
    proxied: Client, proxy: FaultProxy, task_list: str
) -> None:
    proxy.fail("RespondActivityTaskCompleted", THROTTLED, SERVER_ERROR)
    flow = await Flow(proxied, task_list).start()
    async with Worker(
        proxied, task_list=task_list, activities=[echo], activity_options=FAST_BACKOFF
    ):
        [a] = await flow.schedule(echo, "delivered")
        outcomes = await flow.outcomes(1)
    assert outcomes[a].result == "delivered"
    assert proxy.calls["RespondActivityTaskCompleted"] == 3


async def test_a_poller_that_keeps_failing_does_not_spin(
    proxied: Client, proxy: FaultProxy, task_list: str
) -> None:
    proxy.fail("PollForActivityTask", *([SERVER_ERROR] * 1000))
    async with Worker(
        proxied, task_list=task_list, activities=[echo], activity_options=FAST_BACKOFF
    ):
        await asyncio.sleep(1.0)
    # Two pollers, back-off capped at 0.2 s with jitter no lower than a tenth: a bounded rate.
    assert 4 <= proxy.calls["PollForActivityTask"] <= 80


async def test_an_answer_applied_before_its_reply_was_lost_is_not_called_unrecorded(
    proxied: Client, proxy: FaultProxy, task_list: str, caplog: pytest.LogCaptureFixture
) -> None:
    # SWF records the result, the reply is lost, the repeat is refused: the task is answered.
    proxy.fail("RespondActivityTaskCompleted", LOSE_ANSWER)
    flow = await Flow(proxied, task_list).start()
    caplog.set_level(logging.INFO, logger="aioswf")
    async with Worker(
        proxied, task_list=task_list, activities=[echo], activity_options=FAST_BACKOFF
    ):
        [a] = await flow.schedule(echo, "recorded once")
        outcomes = await flow.outcomes(1)
    assert outcomes[a].result == "recorded once"
    assert proxy.calls["RespondActivityTaskCompleted"] == 2
    told = [r.getMessage() for r in caplog.records if r.name == "aioswf._pollers._activity_task"]
    assert not any("was not recorded" in line for line in told), told
    assert any("answer was lost" in line for line in told), told
