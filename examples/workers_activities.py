"""Activities: async, sync and method activities, heartbeats and cancellation, and an
activity completed later, by its task token, from another client.

Run it with `python examples/workers_activities.py`; it needs no AWS account.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from aioswf import (
    ActivityOptions,
    Client,
    DefinitionError,
    Worker,
    activity,
    workflow,
)
from aioswf.local import LocalSWF


@dataclass
class Order:
    id: str
    amount: int


# An async activity runs on the worker's event loop. Arguments and results go through the
# client's converter, typed by the annotations: `order` arrives as an Order.
@activity.defn(start_to_close_timeout=timedelta(minutes=5))
async def charge(order: Order) -> str:
    info = activity.info()
    print(
        f"charge: {order.amount} for {order.id} (activity {info.activity_id} of {info.workflow_id})"
    )
    await asyncio.sleep(0.1)  # the payment provider's API
    return f"receipt-{order.id}"


# A sync activity runs in the worker's thread pool, so blocking calls do not stall the loop.
@activity.defn(start_to_close_timeout=timedelta(minutes=1))
def render_invoice(order_id: str) -> str:
    time.sleep(0.1)  # a blocking PDF library
    print(f"render_invoice: {order_id} on thread {threading.current_thread().name}")
    return f"invoice-{order_id}.pdf"


class Bank:
    """A dependency the activities need: a client of some bank's API."""

    async def refund(self, order_id: str) -> str:
        return f"refund of {order_id} accepted"


# Methods of an instance are activities too, so dependencies come through the constructor.
# The class gives its methods shared defaults; a method's own settings win.
@activity.defaults(
    name_prefix="payments.",
    options=ActivityOptions(start_to_close_timeout=timedelta(minutes=1)),
)
class Payments:
    def __init__(self, bank: Bank) -> None:
        self.bank = bank

    @activity.defn
    async def refund(self, order_id: str) -> str:
        print(f"payments.refund: registered as {activity.info().activity_type!r}")
        return await self.bank.refund(order_id)


# Completing elsewhere: the activity hands its task token to a human (here, a queue that
# main() reads) and ends without finishing the task.
HELPDESK: asyncio.Queue[tuple[str, str]] = asyncio.Queue()


@activity.defn(start_to_close_timeout=timedelta(days=1))
async def ask_a_human(question: str) -> str:
    await HELPDESK.put((question, activity.info().task_token))
    activity.raise_complete_async()


# Heartbeats: the worker sends them at most once per a third of the heartbeat timeout, and
# SWF's answer to one is how a cancellation requested by the workflow arrives.
@activity.defn(start_to_close_timeout=timedelta(minutes=10), heartbeat_timeout=timedelta(seconds=2))
async def copy_files(count: int) -> int:
    done = 0
    try:
        for done in range(count):
            activity.heartbeat(done)  # records the progress; never blocks
            await asyncio.sleep(0.1)  # copy one file; cancelled here when the workflow asks
        return count
    except asyncio.CancelledError:
        print(f"copy_files: cancelled ({activity.cancel_reason()}) after {done} files")
        raise  # reported to SWF as canceled


@activity.defn(start_to_close_timeout=timedelta(minutes=10), heartbeat_timeout=timedelta(seconds=2))
def checksum_files(count: int) -> int:
    for done in range(count):
        if activity.is_cancelled():  # a sync activity cannot be interrupted: it looks
            print(f"checksum_files: cancelled ({activity.cancel_reason()}) after {done} files")
            raise asyncio.CancelledError
        activity.heartbeat(done)
        time.sleep(0.1)
    return count


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Checkout:
    @workflow.run
    async def run(self, order: Order) -> list[str]:
        receipt = await workflow.execute_activity(charge, order)
        invoice = await workflow.execute_activity(render_invoice, order.id)
        answer = await workflow.execute_activity(ask_a_human, f"is {order.id} in stock?")
        steps = [receipt, invoice, f"in stock: {answer}"]
        if answer == "no":
            steps.append(await workflow.execute_activity(Payments.refund, order.id))
        return steps


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Backup:
    @workflow.run
    async def run(self, files: int) -> str:
        copying = workflow.start_activity(copy_files, files)
        hashing = workflow.start_activity(checksum_files, files)
        await asyncio.sleep(0.5)  # a durable timer: the backup window closes
        copying.cancel()  # asks SWF to cancel; the activity hears of it at its next heartbeat
        hashing.cancel()
        # Give them time to stop before the run closes: once it is closed, SWF drops its
        # tasks, refuses their heartbeats, and the activities see cancel_reason() LOST.
        await asyncio.sleep(1.5)
        return "window closed"


async def helpdesk(endpoint_url: str) -> None:
    """Another process, with its own client, answers the question by its task token."""
    async with Client("examples", endpoint_url=endpoint_url) as client:
        question, token = await HELPDESK.get()
        print(f"helpdesk: {question!r} received")
        handle = client.get_async_activity_handle(token)
        cancel_requested = await handle.heartbeat("still thinking")
        print(f"helpdesk: heartbeat sent (cancellation requested: {cancel_requested})")
        await handle.complete("no")  # or handle.fail(error), handle.report_cancellation()


async def main() -> None:
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("examples", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        payments = Payments(Bank())
        activities = [charge, render_invoice, payments.refund, ask_a_human]

        @activity.defn(name="charge")
        async def charge_twice(order: Order) -> str:
            return "duplicate"

        try:
            Worker(client, task_list="main", activities=[*activities, charge_twice])
        except DefinitionError as error:
            print(f"refused: {error}")

        async with Worker(
            client,
            task_list="main",
            workflows=[Checkout, Backup],
            activities=[*activities, copy_files, checksum_files],
        ):
            answering = asyncio.create_task(helpdesk(swf.endpoint_url))
            checkout = await client.start_workflow(
                Checkout.run, Order("o-17", 4200), workflow_id="checkout", task_list="main"
            )
            print(f"checkout: {await checkout.result()}")
            await answering

            backup = await client.start_workflow(
                Backup.run, 100, workflow_id="backup", task_list="main"
            )
            print(f"backup: {await backup.result()}")


if __name__ == "__main__":
    asyncio.run(main())
