"""Cancellation: a cancelled workflow cleans up with activities before it closes.

A cancel request arrives as `asyncio.CancelledError` where the workflow waits; the cleanup
in `except` and `finally` still runs activities, then the execution closes as canceled.
Run it with `python examples/workflows_cancellation.py`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aioswf import Client, Worker, WorkflowCanceledError, activity, workflow
from aioswf.local import LocalSWF


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def release(what: str) -> str:
    print(f"released {what}")
    return what


@workflow.defn
class Booking:
    @workflow.run
    async def run(self) -> str:
        try:
            await asyncio.sleep(3600)  # hold the booking for an hour
            return "kept"
        except asyncio.CancelledError:
            await workflow.execute_activity(release, "the seat")
            raise  # closes the execution as canceled
        finally:
            await workflow.execute_activity(release, "the lock")


async def main() -> None:
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("examples", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="main", workflows=[Booking], activities=[release]):
            handle = await client.start_workflow(
                Booking.run, workflow_id="booking", task_list="main"
            )
            await asyncio.sleep(0.5)
            await handle.cancel()
            try:
                await handle.result()
            except WorkflowCanceledError as error:
                print(error)


if __name__ == "__main__":
    asyncio.run(main())
