"""Quickstart: an order workflow end to end on the embedded local SWF service.

The workflow charges a card (an async activity that heartbeats), renders three invoices in
parallel (a sync activity, run in a thread pool), waits for a person's approval signal with a
deadline, then waits out a durable cooling-off timer. Run it with
`python3 examples/quickstart.py`; it needs no AWS account.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import timedelta

from aioswf import Client, RetryPolicy, Worker, activity, workflow
from aioswf.local import LocalSWF


@activity.defn(start_to_close_timeout=timedelta(minutes=1), heartbeat_timeout=timedelta(seconds=10))
async def charge(order_id: str, amount: int) -> str:
    for step in range(3):
        activity.heartbeat(step)  # sent in the background, throttled
        await asyncio.sleep(0.1)
    return f"receipt-{order_id}-{amount}"


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
def render_invoice(order_id: str, copy: int) -> str:
    return f"invoice {copy} of {order_id}"


@workflow.defn(name="Order", execution_start_to_close_timeout=timedelta(hours=1))
class Order:
    def __init__(self) -> None:
        self.approved_by: str | None = None

    @workflow.run
    async def run(self, order_id: str, amount: int) -> str:
        workflow.logger.info("charging %s", order_id)  # logged once, silent while replaying
        receipt = await workflow.execute_activity(
            charge, order_id, amount, retry_policy=RetryPolicy(maximum_attempts=3)
        )
        workflow.logger.info("charged (%s); rendering three invoices in parallel", receipt)
        invoices = await asyncio.gather(
            *(workflow.execute_activity(render_invoice, order_id, n) for n in range(1, 4))
        )
        workflow.set_state({"stage": "awaiting approval", "invoices": len(invoices)})
        workflow.logger.info("waiting for approval")
        await workflow.wait_condition(
            lambda: self.approved_by is not None, timeout=timedelta(days=2)
        )
        workflow.logger.info("approved by %s; cooling off for a second", self.approved_by)
        await asyncio.sleep(1)  # a durable SWF timer: the cooling-off period
        workflow.set_state({"stage": "done", "invoices": len(invoices)})
        return f"{receipt}, {len(invoices)} invoices, approved by {self.approved_by}"

    @workflow.signal
    async def approve(self, by: str) -> None:
        self.approved_by = by


async def main() -> None:
    logging.basicConfig(format="  workflow: %(message)s", stream=sys.stdout)
    logging.getLogger("aioswf.workflow").setLevel(logging.INFO)
    # Short long polls let the worker stop within a second when the example ends; SWF holds
    # a poll for up to 60 s, and a worker lets the polls in flight return before it stops.
    async with LocalSWF(long_poll_seconds=1) as swf:
        print(f"local SWF service at {swf.endpoint_url}")
        async with (
            Client("shop", endpoint_url=swf.endpoint_url) as client,
            Worker(
                client, task_list="orders", workflows=[Order], activities=[charge, render_invoice]
            ),
        ):
            handle = await client.start_workflow(
                Order.run, "o-1", 42, workflow_id="order-o-1", task_list="orders"
            )
            print(f"started workflow {handle.workflow_id}")
            await handle.signal(Order.approve, "alice")  # delivered whenever it arrives
            print("sent the approval signal")
            print(f"result: {await handle.result(timeout=timedelta(seconds=30))}")
            print(f"last state it reported: {(await handle.describe()).state}")
            events = [event["eventType"] async for event in handle.history()]
            print(f"the history has {len(events)} events, the last {events[-1]}")


if __name__ == "__main__":
    asyncio.run(main())
