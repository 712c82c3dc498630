"""Workflows and activities the runtime tests share."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aioswf import ApplicationError, RetryPolicy, activity, workflow

TIMEOUTS = {
    "schedule_to_start_timeout": timedelta(seconds=60),
    "start_to_close_timeout": timedelta(seconds=60),
    "schedule_to_close_timeout": timedelta(seconds=120),
    "heartbeat_timeout": timedelta(seconds=60),
}


@activity.defn(**TIMEOUTS)
async def greet(name: str) -> str:
    return f"hello {name}"


@activity.defn(name="Shout", version="2", **TIMEOUTS)
def shout(text: str) -> str:
    return text.upper()


@activity.defn(**TIMEOUTS)
async def flaky(n: int) -> int:
    raise ApplicationError("not yet")


@workflow.defn(name="Hello", version="1")
class Hello:
    @workflow.run
    async def run(self, name: str) -> str:
        greeting = await workflow.execute_activity(greet, name)
        return await workflow.execute_activity(shout, greeting)


@workflow.defn
class Parallel:
    @workflow.run
    async def run(self, names: list[str]) -> list[str]:
        return list(await asyncio.gather(*(workflow.execute_activity(greet, n) for n in names)))


@workflow.defn
class Sleeper:
    @workflow.run
    async def run(self, seconds: int) -> str:
        workflow.set_state({"stage": "sleeping"})
        await asyncio.sleep(seconds)
        workflow.set_state({"stage": "done"})
        return workflow.now().isoformat()


@workflow.defn
class Approval:
    def __init__(self) -> None:
        self.approved_by: str | None = None
        self.seen: list[str] = []

    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.wait_condition(
                lambda: self.approved_by is not None, timeout=timedelta(hours=1)
            )
        except TimeoutError:
            return "timed out"
        return f"approved by {self.approved_by} after {self.seen}"

    @workflow.signal
    def approve(self, by: str) -> None:
        self.approved_by = by

    @workflow.signal(name="note")
    async def add_note(self, text: str) -> None:
        self.seen.append(text)


@workflow.defn
class Retrying:
    @workflow.run
    async def run(self) -> int:
        policy = RetryPolicy(initial_interval=timedelta(seconds=5), maximum_attempts=3)
        result: int = await workflow.execute_activity(flaky, 1, retry_policy=policy)
        return result


@workflow.defn
class Failing:
    @workflow.run
    async def run(self, kind: str) -> None:
        if kind == "application":
            raise ApplicationError("bad order", {"order": 7}, type="OrderError")
        raise KeyError("a bug")


@workflow.defn
class Cancellable:
    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.execute_activity(greet, "slow")
        except asyncio.CancelledError:
            await workflow.execute_activity(greet, "cleanup")
            raise
        return "finished"


@workflow.defn
class Racing:
    @workflow.run
    async def run(self) -> str:
        try:
            return await asyncio.wait_for(workflow.execute_activity(greet, "slow"), timeout=30)
        except TimeoutError:
            return "too slow"


@workflow.defn
class Typed:
    @workflow.run
    async def run(self, count: int, name: str) -> str:
        return name * count


@workflow.defn
class Order:
    def __init__(self) -> None:
        self.approved_by: str | None = None

    @workflow.run
    async def run(self, order_id: str) -> dict[str, Any]:
        receipts = await asyncio.gather(
            *(workflow.execute_activity(greet, f"{order_id}-{i}") for i in range(3))
        )
        workflow.set_state({"stage": "awaiting approval"})
        await workflow.wait_condition(lambda: self.approved_by is not None)
        await asyncio.sleep(60)
        workflow.set_state({"stage": "done"})
        return {"receipts": list(receipts), "by": self.approved_by, "at": workflow.now().year}

    @workflow.signal
    async def approve(self, by: str) -> None:
        self.approved_by = by


@workflow.defn
class FanOut:
    """Fans activities out with ``gather`` and with a ``TaskGroup``; the order things finish
    in (as the code sees it) goes into the decisions that follow."""

    @workflow.run
    async def run(self, names: list[str]) -> list[str]:
        first = await asyncio.gather(*(workflow.execute_activity(greet, n) for n in names))
        seen: list[str] = []

        async def one(text: str) -> None:
            seen.append(await workflow.execute_activity(shout, text))

        async with asyncio.TaskGroup() as group:
            for text in first:
                group.create_task(one(text))
        labels = {text: i for i, text in enumerate(seen)}  # a dict keeps insertion order
        await workflow.execute_activity(greet, ",".join(labels))
        return seen
