"""Quickstart: start, signal, inspect and end a workflow execution on the local SWF service.

Run it with `python3 examples/quickstart.py`; it needs no AWS account.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aioswf import Client, workflow
from aioswf.local import LocalSWF


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Order:
    @workflow.run
    async def run(self, order_id: str, amount: int) -> str:
        return f"receipt-{order_id}"

    @workflow.signal
    async def approve(self, by: str) -> None: ...


async def main() -> None:
    async with LocalSWF() as swf, Client("shop", endpoint_url=swf.endpoint_url) as client:
        print(f"local SWF service at {swf.endpoint_url}")
        handle = await client.start_workflow(
            Order.run, "o-1", 42, workflow_id="order-o-1", task_list="orders"
        )
        print(f"started {handle.workflow_id} (run {handle.first_run_id})")
        await handle.signal(Order.approve, "alice")
        description = await handle.describe()
        print(
            f"status {description.info.status}, open decision tasks: "
            f"{description.open_counts.decision_tasks}"
        )
        async for event in handle.history():
            print(f"  {event['eventId']:>3} {event['eventType']}")
        await handle.terminate("quickstart done")
        print(f"closed as {(await handle.describe()).info.close_status}")


if __name__ == "__main__":
    asyncio.run(main())
