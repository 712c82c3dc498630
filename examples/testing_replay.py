"""Replaying recorded histories: catch a change that would break running executions.

Run it with `python examples/testing_replay.py`. It records the history of one execution,
replays it against the code that made it (fine), then against a changed version of the
workflow, which no longer makes the decisions the history records.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path

from aioswf import NondeterminismError, Worker, activity, workflow
from aioswf.testing import Replayer, WorkflowEnvironment


@activity.defn(schedule_to_close_timeout=timedelta(minutes=5))
async def send_invoice(customer: str) -> str:
    return f"invoice for {customer}"


@activity.defn(schedule_to_close_timeout=timedelta(minutes=5))
async def send_reminder(customer: str) -> str:
    return f"reminder for {customer}"


@workflow.defn(name="Invoice", version="1")
class Invoice:
    @workflow.run
    async def run(self, customer: str) -> str:
        await workflow.execute_activity(send_invoice, customer)
        await asyncio.sleep(timedelta(days=14).total_seconds())  # the payment term
        return await workflow.execute_activity(send_reminder, customer)


# The same workflow type after a change: a reminder one week in, before the term ends.
# Executions already sleeping through their 14 days would not replay on this code: the
# replay compares each timer's duration with the one recorded (7 days decided, 14 recorded).
@workflow.defn(name="Invoice", version="1")
class InvoiceWithEarlyReminder:
    @workflow.run
    async def run(self, customer: str) -> str:
        await workflow.execute_activity(send_invoice, customer)
        await asyncio.sleep(timedelta(days=7).total_seconds())
        await workflow.execute_activity(send_reminder, customer)
        await asyncio.sleep(timedelta(days=7).total_seconds())
        return await workflow.execute_activity(send_reminder, customer)


async def record(path: Path) -> None:
    async with WorkflowEnvironment() as env:
        activities = [send_invoice, send_reminder]
        async with Worker(
            env.client, task_list="billing", workflows=[Invoice], activities=activities
        ):
            handle = await env.client.start_workflow(
                Invoice.run, "acme", workflow_id="invoice-acme", task_list="billing"
            )
            await handle.result()
        await handle.fetch_history(path)  # the same JSON as the AWS CLI prints


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "invoice-acme.json"
        await record(path)

        Replayer([Invoice]).replay(path)  # raises if today's code decides differently
        print("the original code replays its history")

        try:
            Replayer([InvoiceWithEarlyReminder]).replay(path)
        except NondeterminismError as error:
            print(f"the changed code does not:\n  {error}")
        else:
            raise AssertionError("the change should have been caught")


if __name__ == "__main__":
    asyncio.run(main())
