"""A host service's split: activities on the host's loop, workflow code in a child process."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path

from aioswf import Client, DecisionWorkerOptions, Worker, activity, workflow

TASK_LIST = "split"


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def host_pid() -> int:
    """Runs on the host: the pid of the process that ran it."""
    return os.getpid()


@workflow.defn
class Split:
    def __init__(self) -> None:
        self.released = False

    @workflow.run
    async def run(self, hold: bool) -> int:
        if hold:
            await workflow.wait_condition(lambda: self.released)
        return await workflow.execute_activity(host_pid)

    @workflow.signal
    def release(self) -> None:
        self.released = True


async def serve_workflows(endpoint: str, domain: str, stop: asyncio.Event) -> None:
    """A child's main: decide ``Split`` runs until told to stop."""
    # Sticky task lists off: a killed child's next decision goes back to the shared list at once.
    options = DecisionWorkerOptions(sticky_schedule_to_start=None)
    async with (
        Client(domain, endpoint_url=endpoint) as client,
        Worker(client, task_list=TASK_LIST, workflows=[Split], decision_options=options),
    ):
        await stop.wait()


async def hang(ready: Path, stop: asyncio.Event) -> None:
    """A child's main that holds its loop, so it hears no signal it handles: only a kill ends it."""
    ready.touch()  # noqa: ASYNC240 - the point is a loop that does not turn
    time.sleep(600)  # noqa: ASYNC251


async def idle(stop: asyncio.Event) -> None:
    """A child's main that does nothing until told to stop."""
    await stop.wait()


async def fail_at_start(stop: asyncio.Event) -> int:
    """A child's main that cannot start (a bad setting, refused credentials): exits at once."""
    return 3


def not_async(stop: asyncio.Event) -> int:
    """A child's main mistakenly written as a plain function."""
    return 0
