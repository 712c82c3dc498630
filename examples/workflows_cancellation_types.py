"""Cancellation types: what cancelling the code that waits on an activity or a child does.

`TRY_CANCEL` (the default) asks SWF to cancel the activity and goes on at once;
`WAIT_CANCELLATION_COMPLETED` asks, then waits until the activity has stopped and hears how
far it got; `ABANDON` asks nothing and leaves the activity to finish on its own. A child
workflow's type can set its own default: `Reservation`'s parents wait for its cleanup.
Run it with `python examples/workflows_cancellation_types.py`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aioswf import (
    ActivityCanceledError,
    CancellationType,
    ChildWorkflowCanceledError,
    Client,
    Worker,
    activity,
    workflow,
)
from aioswf.local import LocalSWF


@activity.defn(start_to_close_timeout=timedelta(minutes=1), heartbeat_timeout=timedelta(seconds=1))
async def pack(box: str) -> str:
    for items in range(1, 16):
        activity.heartbeat(f"{items} items in {box}")  # the answer tells it of a cancel
        await asyncio.sleep(0.1)  # cancelled here, once the workflow asks
    return f"{box} full"


@activity.defn(start_to_close_timeout=timedelta(minutes=1))
async def free_shelf(box: str) -> str:
    return f"shelf of {box} freed"


WAIT = CancellationType.WAIT_CANCELLATION_COMPLETED


@workflow.defn(cancellation_type=WAIT)  # the default for every parent's call
class Reservation:
    """Holds a shelf until cancelled, then frees it."""

    @workflow.run
    async def run(self, box: str) -> str:
        try:
            await workflow.wait_condition(lambda: False)
        except asyncio.CancelledError:
            workflow.logger.info(await workflow.execute_activity(free_shelf, box))
            raise
        return "never"


@workflow.defn
class Packing:
    @workflow.run
    async def run(self) -> list[str]:
        outcomes = []
        # The abandoned activity goes first: it finishes while the others are cancelled.
        for kind in (CancellationType.ABANDON, CancellationType.TRY_CANCEL, WAIT):
            handle = workflow.start_activity(pack, f"box {kind.name}", cancellation_type=kind)
            await asyncio.sleep(1)  # a durable timer: let it pack for a while
            handle.cancel()
            try:
                outcomes.append(f"{kind.name}: {await handle}")
            except asyncio.CancelledError:
                outcomes.append(f"{kind.name}: the workflow went on at once")
            except ActivityCanceledError as error:
                outcomes.append(f"{kind.name}: stopped, with {error.details}")
        shelf = await workflow.start_child_workflow(
            Reservation.run, "box D", workflow_id="shelf-of-box-d"
        )
        try:
            await asyncio.wait_for(shelf, timeout=1)  # cancels the wait on the child
        except ChildWorkflowCanceledError:
            outcomes.append("Reservation (WAIT by its type): its shelf freed, then canceled")
        return outcomes


async def main() -> None:
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("examples", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        async with Worker(
            client,
            task_list="main",
            workflows=[Packing, Reservation],
            activities=[pack, free_shelf],
        ):
            handle = await client.start_workflow(
                Packing.run, workflow_id="packing", task_list="main"
            )
            for line in await handle.result():
                print(line)


if __name__ == "__main__":
    asyncio.run(main())
