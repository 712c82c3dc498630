"""Testing workflows with `WorkflowEnvironment`: months of workflow time in a second.

Run it with `python examples/testing_workflows.py`; the same test functions run under
pytest with the fixture of `examples/testing_pytest.py`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aioswf import ActivityTimedOutError, Worker, activity, workflow
from aioswf.testing import WorkflowEnvironment

# --- the application: workflows and the activities they call ------------------------------


@activity.defn(start_to_close_timeout=timedelta(minutes=1))
async def send_email(to: str, subject: str) -> str:
    raise NotImplementedError("talks to the mail service; tests use a fake")


@activity.defn(start_to_close_timeout=timedelta(hours=2), heartbeat_timeout=timedelta(minutes=5))
async def export_rows(table: str) -> int:
    raise NotImplementedError("talks to the database; tests use a fake")


@workflow.defn(execution_start_to_close_timeout=timedelta(days=60))
class Trial:
    """A 30-day trial: a reminder after 23 days, then expiry unless the customer subscribes."""

    def __init__(self) -> None:
        self.subscribed = False

    @workflow.run
    async def run(self, email: str) -> str:
        await asyncio.sleep(timedelta(days=23).total_seconds())
        await workflow.execute_activity(send_email, email, "7 days left")
        try:
            await workflow.wait_condition(lambda: self.subscribed, timeout=timedelta(days=7))
        except TimeoutError:
            await workflow.execute_activity(send_email, email, "your trial is over")
            return "expired"
        return "subscribed"

    @workflow.signal
    def subscribe(self) -> None:
        self.subscribed = True


@workflow.defn(execution_start_to_close_timeout=timedelta(days=1))
class Export:
    """Exports a table; gives up when the export stops heartbeating."""

    @workflow.run
    async def run(self, table: str) -> str:
        try:
            rows = await workflow.execute_activity(export_rows, table)
        except ActivityTimedOutError as error:
            return f"gave up: {error.timeout_type}"
        return f"exported {rows} rows"


# --- fakes: same activity names, no mail service, no database ------------------------------


class FakeMail:
    def __init__(self) -> None:
        self.outbox: list[tuple[str, str]] = []

    @activity.defn(name="send_email", start_to_close_timeout=timedelta(minutes=1))
    async def send_email(self, to: str, subject: str) -> str:
        self.outbox.append((to, subject))
        return "queued"


class StuckExport:
    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    @activity.defn(
        name="export_rows",
        start_to_close_timeout=timedelta(hours=2),
        heartbeat_timeout=timedelta(minutes=5),
    )
    async def export_rows(self, table: str) -> int:
        self.started.set()
        await self.release.wait()  # never heartbeats: stuck, as far as SWF can tell
        return 0


# --- the tests -----------------------------------------------------------------------------


async def test_trial_expires_after_30_days(env: WorkflowEnvironment) -> None:
    mail = FakeMail()
    async with Worker(
        env.client, task_list="tests", workflows=[Trial], activities=[mail.send_email]
    ):
        began = env.now()
        handle = await env.client.start_workflow(
            Trial.run, "ann@example.com", workflow_id="trial-ann", task_list="tests"
        )
        # result() skips time whenever the workflow only waits: 30 days pass at once.
        assert await handle.result() == "expired"
        assert env.now() - began >= timedelta(days=30)
    assert [subject for _, subject in mail.outbox] == ["7 days left", "your trial is over"]


async def test_subscribing_during_the_trial(env: WorkflowEnvironment) -> None:
    mail = FakeMail()
    async with Worker(
        env.client, task_list="tests", workflows=[Trial], activities=[mail.send_email]
    ):
        handle = await env.client.start_workflow(
            Trial.run, "bob@example.com", workflow_id="trial-bob", task_list="tests"
        )
        await env.sleep(timedelta(days=24))  # the reminder goes out on day 23
        assert mail.outbox == [("bob@example.com", "7 days left")]
        await handle.signal(Trial.subscribe)
        assert await handle.result() == "subscribed"


async def test_a_stuck_export_times_out(env: WorkflowEnvironment) -> None:
    export = StuckExport()
    async with Worker(
        env.client, task_list="tests", workflows=[Export], activities=[export.export_rows]
    ):
        handle = await env.client.start_workflow(
            Export.run, "orders", workflow_id="export-orders", task_list="tests"
        )
        await export.started.wait()
        # A running activity holds automatic skipping back; sleep() does not.
        await env.sleep(timedelta(minutes=6))
        assert await handle.result() == "gave up: HEARTBEAT"
        export.release.set()  # let the fake return, so that the worker stops at once


async def main() -> None:
    for test in (
        test_trial_expires_after_30_days,
        test_subscribing_during_the_trial,
        test_a_stuck_export_times_out,
    ):
        async with WorkflowEnvironment() as env:
            await test(env)
        print(f"passed: {test.__name__}")


if __name__ == "__main__":
    asyncio.run(main())
