"""Writing workflows: activities, durable timers, signals and conditions.

A reminder workflow: it waits for a signal that sets a deadline, sleeps on a durable SWF
timer, then sends the reminder with an activity. Run it with
`python examples/workflows_basics.py`; it needs no AWS account.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aioswf import Client, Worker, activity, workflow
from aioswf.local import LocalSWF


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def send_reminder(to: str, text: str) -> str:
    return f"sent {text!r} to {to}"


@workflow.defn
class Reminder:
    def __init__(self) -> None:
        self.delay: int | None = None

    @workflow.run
    async def run(self, to: str) -> str:
        # Everything here replays: use workflow.now(), workflow.random(), workflow.uuid4()
        # instead of the clock, random or uuid modules, and do I/O in activities.
        await workflow.wait_condition(lambda: self.delay is not None, timeout=timedelta(days=1))
        assert self.delay is not None
        await asyncio.sleep(self.delay)  # a durable SWF timer
        return await workflow.execute_activity(send_reminder, to, f"at {workflow.now():%H:%M}")

    @workflow.signal
    def schedule(self, seconds: int) -> None:
        self.delay = seconds


async def main() -> None:
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("examples", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        async with Worker(
            client, task_list="main", workflows=[Reminder], activities=[send_reminder]
        ):
            handle = await client.start_workflow(
                Reminder.run, "ann", workflow_id="reminder", task_list="main"
            )
            await handle.signal(Reminder.schedule, 1)
            print(await handle.result())


if __name__ == "__main__":
    asyncio.run(main())
