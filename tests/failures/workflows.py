"""Workflows whose code goes wrong, each in one of the ways the failure policy covers."""

from __future__ import annotations

import asyncio
import math
import sys
from datetime import timedelta
from typing import Any

from aioswf import ApplicationError, RetryPolicy, activity, workflow

TIMEOUTS: dict[str, Any] = {
    "schedule_to_start_timeout": timedelta(seconds=60),
    "start_to_close_timeout": timedelta(seconds=60),
    "schedule_to_close_timeout": timedelta(seconds=120),
    "heartbeat_timeout": timedelta(seconds=60),
}


@activity.defn(**TIMEOUTS)
async def refuse(order: str) -> None:
    try:
        {}[order]
    except KeyError:
        raise KeyError(f"no such order {order}") from ConnectionError("inventory unreachable")


@activity.defn(**TIMEOUTS)
async def note(text: str) -> str:
    return text


def check_order(order: str) -> None:
    raise ValueError(f"order {order!r} is not valid")


@workflow.defn
class RaisesValueError:
    @workflow.run
    async def run(self, order: str) -> None:
        check_order(order)


@workflow.defn
class ConditionTimesOut:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False, timeout=timedelta(minutes=5))


@workflow.defn
class TimeoutBlockExpires:
    @workflow.run
    async def run(self) -> None:
        async with asyncio.timeout(60):
            await asyncio.Event().wait()


@workflow.defn
class HugeResult:
    @workflow.run
    async def run(self) -> str:
        return "x" * 40_000


@workflow.defn
class ActivityFails:
    @workflow.run
    async def run(self, order: str) -> None:
        await workflow.execute_activity(refuse, order)


@workflow.defn
class ChildFails:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_child_workflow(ActivityFails.run, "o-7")


@workflow.defn
class Exits:
    @workflow.run
    async def run(self, how: str) -> None:
        await asyncio.sleep(0)
        if how == "exit":
            sys.exit(3)
        if how == "interrupt":
            raise KeyboardInterrupt
        raise GeneratorExit


@workflow.defn
class ExitsInSignal:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.signal
    def stop(self) -> None:
        sys.exit(4)


@workflow.defn
class Fine:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(note, f"hello {name}")


@workflow.defn
class InitFails:
    def __init__(self) -> None:
        raise ApplicationError("cannot build", type="Setup")

    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn
class InitSeesTheRun:
    def __init__(self) -> None:
        self.started = workflow.now().isoformat()
        self.workflow_id = workflow.info().workflow_id
        workflow.logger.info("constructed")

    @workflow.run
    async def run(self) -> list[str]:
        return [self.started, self.workflow_id, workflow.info().start_time.isoformat()]


@workflow.defn
class InitTakesArgs:
    @workflow.init
    def __init__(self, name: str, count: int) -> None:
        self.greeting = f"{name} x{count}"
        self.seen: list[str] = []

    @workflow.run
    async def run(self, name: str, count: int) -> list[str]:
        await workflow.wait_condition(lambda: len(self.seen) >= 1)
        return [self.greeting, *self.seen]

    @workflow.signal
    def hear(self, text: str) -> None:
        self.seen.append(f"{self.greeting}: {text}")


BROKEN = {"on": True}
"""While on, :class:`Flaky` raises a ``KeyError`` (the "bug" a deployment fixes)."""


@workflow.defn
class Flaky:
    @workflow.run
    async def run(self) -> str:
        workflow.set_state("starting")
        await asyncio.sleep(0)
        if BROKEN["on"]:
            raise KeyError("missing configuration")
        return "recovered"


@workflow.defn
class LongSleep:
    @workflow.run
    async def run(self, days: int) -> float:
        began = workflow.now()
        await asyncio.sleep(days * 86_400)
        return (workflow.now() - began).total_seconds()


@workflow.defn
class Forever:
    @workflow.run
    async def run(self) -> str:
        try:
            await asyncio.wait_for(asyncio.Event().wait(), timeout=math.inf)
        except asyncio.CancelledError:
            return "cancelled while waiting"
        return "timed out"

    @workflow.signal
    def ping(self) -> None:
        return None


@workflow.defn
class BadDurations:
    @workflow.run
    async def run(self, how: str) -> str:
        try:
            if how == "nan":
                await asyncio.sleep(math.nan)
            elif how == "negative-later":
                asyncio.get_running_loop().call_later(-1, print)
            else:
                await workflow.wait_condition(lambda: False, timeout=timedelta(seconds=-1))
        except ValueError as error:
            return str(error)
        return "accepted"


@activity.defn(**TIMEOUTS)
async def clean_up(what: str) -> str:
    return f"cleaned {what}"


@workflow.defn
class CancelledEarly:
    @workflow.run
    async def run(self) -> str:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await workflow.execute_activity(clean_up, "early")
            raise
        return "slept"


async def ticks(record: list[str]) -> Any:
    try:
        for i in range(10):
            yield i
    finally:
        record.append(workflow.now().isoformat())  # raises outside workflow code


@workflow.defn
class AbandonsGenerator:
    @workflow.run
    async def run(self) -> list[str]:
        record: list[str] = []
        async for i in ticks(record):
            if i == 2:
                break
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return [*record, workflow.now().isoformat()]


@workflow.defn
class SlowHandler:
    def __init__(self) -> None:
        self.done: list[str] = []

    @workflow.run
    async def run(self, wait: bool) -> list[str]:
        await workflow.wait_condition(lambda: bool(self.done) or self.started)
        if wait:
            await workflow.wait_condition(workflow.all_handlers_finished)
        return self.done

    started = False

    @workflow.signal
    async def work(self) -> None:
        self.started = True
        self.done.append(await workflow.execute_activity(note, "handled"))


@workflow.defn
class WaitingHandler:
    def __init__(self) -> None:
        self.started = False
        self.done: list[str] = []

    @workflow.run
    async def run(self) -> list[str]:
        await workflow.wait_condition(lambda: self.started)
        return self.done

    @workflow.signal(unfinished_policy=workflow.HandlerUnfinishedPolicy.WAIT)
    async def work(self) -> None:
        self.started = True
        self.done.append(await workflow.execute_activity(note, "handled"))


@workflow.defn
class FailingHandler:
    def __init__(self) -> None:
        self.started = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.started)

    @workflow.signal(unfinished_policy=workflow.HandlerUnfinishedPolicy.FAIL)
    async def work(self) -> None:
        self.started = True
        await workflow.execute_activity(note, "handled")


@activity.defn
async def unbounded(text: str) -> str:
    return text


@workflow.defn
class SchedulesUnbounded:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(unbounded, "x")


@workflow.defn
class ReadsTheClock:
    @workflow.run
    async def run(self) -> float:
        import time

        return time.time()  # not deterministic: NondeterminismError, retried


@workflow.defn
class BreaksLater:
    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self) -> str:
        workflow.set_state({"stage": "waiting"})
        await workflow.wait_condition(lambda: self.go)
        if BROKEN["on"]:
            raise KeyError("missing configuration")
        return f"attempt {workflow.info().decision_task_attempt}"

    @workflow.signal
    def proceed(self) -> None:
        self.go = True


@workflow.defn
class PatientRetries:
    @workflow.run
    async def run(self) -> None:
        policy = RetryPolicy(initial_interval=timedelta(days=400), maximum_attempts=2)
        await workflow.execute_activity(refuse, "o-1", retry_policy=policy)
