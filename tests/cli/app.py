"""A small application for the `aioswf` commands to drive in a subprocess."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aioswf import ApplicationError, RetryPolicy, activity, workflow


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def shout(text: str) -> str:
    return text.upper()


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def flaky(attempts_to_fail: int) -> str:
    if (activity.info().attempt or 1) <= attempts_to_fail:
        raise RuntimeError(f"attempt {activity.info().attempt} failed")
    return "finally"


@activity.defn(start_to_close_timeout=timedelta(seconds=60))
async def slow(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "slept"


@workflow.defn
class Greet:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(shout, f"hello {name}")


@workflow.defn
class Approval:
    def __init__(self) -> None:
        self.by: str | None = None

    @workflow.run
    async def run(self, order: str) -> str:
        workflow.set_state({"stage": "waiting for approval"})
        await workflow.wait_condition(lambda: self.by is not None)
        retried = await workflow.execute_activity(
            flaky, 1, retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1))
        )
        return f"{order} approved by {self.by} ({retried})"

    @workflow.signal
    async def approve(self, by: str) -> None:
        self.by = by


@workflow.defn
class Doomed:
    @workflow.run
    async def run(self, why: str) -> None:
        raise ApplicationError(f"cannot go on: {why}", non_retryable=True)


@workflow.defn
class Pages:
    @workflow.run
    async def run(self, page: int) -> str:
        if page < 2:
            workflow.continue_as_new(page + 1)
        return f"read {page + 1} pages"


@workflow.defn
class Sleeper:
    @workflow.run
    async def run(self, seconds: float) -> str:
        return await workflow.execute_activity(slow, seconds)


@workflow.defn
class Misconfigured:
    """Its decision tasks fail (a worker retrying KeyError keeps it open, visibly)."""

    @workflow.run
    async def run(self) -> None:
        raise KeyError("PAYMENT_URL is not set")
