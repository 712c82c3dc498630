"""Workflows and activities the toolkit's tests run."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aioswf import ActivityTimedOutError, activity, workflow

TIMEOUTS = {
    "schedule_to_start_timeout": timedelta(minutes=1),
    "start_to_close_timeout": timedelta(hours=1),
    "schedule_to_close_timeout": timedelta(hours=2),
}


@workflow.defn(execution_start_to_close_timeout=timedelta(days=365))
class Nap:
    """Sleeps, then says how long it slept by its own clock."""

    @workflow.run
    async def run(self, days: int) -> float:
        began = workflow.now()
        await asyncio.sleep(timedelta(days=days).total_seconds())
        return (workflow.now() - began).total_seconds()


@workflow.defn(execution_start_to_close_timeout=timedelta(days=365))
class Approval:
    """Waits up to a week for an approval signal."""

    def __init__(self) -> None:
        self.approved_by: str | None = None

    @workflow.run
    async def run(self) -> str:
        workflow.set_state("waiting")
        try:
            await workflow.wait_condition(
                lambda: self.approved_by is not None, timeout=timedelta(days=7)
            )
        except TimeoutError:
            return f"timed out at {workflow.now().isoformat()}"
        return f"approved by {self.approved_by}"

    @workflow.signal
    def approve(self, by: str) -> None:
        self.approved_by = by


@workflow.defn(execution_start_to_close_timeout=timedelta(days=365))
class Alarm:
    """Sets its state after an hour, then waits for a signal to finish."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> str:
        workflow.set_state("sleeping")
        await asyncio.sleep(3600)
        workflow.set_state("ringing")
        await workflow.wait_condition(lambda: self.done)
        return "stopped"

    @workflow.signal
    def stop(self) -> None:
        self.done = True


class Stuck:
    """An activity that starts, never heartbeats, and returns only when released."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    @activity.defn(name="stuck", heartbeat_timeout=timedelta(seconds=30), **TIMEOUTS)
    async def stuck(self) -> str:
        self.started.set()
        await self.release.wait()
        return "released"


@activity.defn(name="stuck", heartbeat_timeout=timedelta(seconds=30), **TIMEOUTS)
async def stuck_declaration() -> str:
    raise NotImplementedError("the workflow only needs the declaration")


@workflow.defn(execution_start_to_close_timeout=timedelta(days=1))
class Watchdog:
    """Runs an activity with a heartbeat timeout and reports how it ended."""

    @workflow.run
    async def run(self, heartbeat_seconds: int) -> str:
        try:
            await workflow.execute_activity(
                stuck_declaration, heartbeat_timeout=timedelta(seconds=heartbeat_seconds)
            )
        except ActivityTimedOutError as error:
            return f"{error.timeout_type} at {workflow.now().isoformat()}"
        return "finished"


@activity.defn(**TIMEOUTS)
async def greet(name: str) -> str:
    return f"hello {name}"


@workflow.defn(name="Greeting", version="1")
class Greeting:
    """Greets, waits a day, greets again."""

    @workflow.run
    async def run(self, name: str) -> list[str]:
        first = await workflow.execute_activity(greet, name)
        await asyncio.sleep(86400)
        return [first, await workflow.execute_activity(greet, f"{name} again")]


@activity.defn(
    schedule_to_start_timeout=timedelta(seconds=10),
    start_to_close_timeout=timedelta(seconds=10),
    schedule_to_close_timeout=timedelta(seconds=20),
)
async def brief_work() -> str:
    await asyncio.sleep(0.1)  # real time, well under the environment's stuck_after
    return "done"


@workflow.defn(execution_start_to_close_timeout=timedelta(days=1))
class Brief:
    """Runs one short activity, then sleeps an hour."""

    @workflow.run
    async def run(self) -> str:
        outcome = await workflow.execute_activity(brief_work)
        await asyncio.sleep(3600)
        return outcome


@activity.defn(
    name="orphan",
    task_list="nobody-polls",
    schedule_to_start_timeout=timedelta(minutes=2),
    start_to_close_timeout=timedelta(minutes=5),
    schedule_to_close_timeout=timedelta(minutes=7),
)
async def orphan() -> str:
    raise NotImplementedError("nobody polls its task list")


@workflow.defn(execution_start_to_close_timeout=timedelta(days=1))
class Orphaned:
    """Schedules an activity on a task list nobody polls."""

    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.execute_activity(orphan)
        except ActivityTimedOutError as error:
            return f"{error.timeout_type} at {workflow.now().isoformat()}"
        return "ran"
