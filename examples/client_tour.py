"""The client in one tour: start, signal, inspect, list, count, follow and end executions.

Run it with `python3 examples/client_tour.py`; it needs no AWS account.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aioswf import (
    Client,
    ExecutionFilter,
    Worker,
    WorkflowAlreadyStartedError,
    WorkflowTerminatedError,
    workflow,
)
from aioswf.local import LocalSWF


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Ticket:
    def __init__(self) -> None:
        self.comments: list[str] = []

    @workflow.run
    async def run(self, title: str) -> list[str]:
        workflow.set_state({"title": title, "status": "open"})
        await workflow.wait_condition(lambda: "close" in self.comments)
        workflow.set_state({"title": title, "status": "closed", "comments": len(self.comments)})
        return self.comments

    @workflow.signal
    def comment(self, text: str) -> None:
        self.comments.append(text)


async def main() -> None:
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("support", endpoint_url=swf.endpoint_url) as client,
        Worker(client, task_list="tickets", workflows=[Ticket]),
    ):
        # Start two executions; a workflow id is unique among open executions.
        first = await client.start_workflow(
            Ticket.run, "printer on fire", workflow_id="ticket-1", task_list="tickets", tags=["hw"]
        )
        await client.start_workflow(
            Ticket.run, "vpn down", workflow_id="ticket-2", task_list="tickets"
        )
        try:
            await client.start_workflow(
                Ticket.run, "again", workflow_id="ticket-1", task_list="tickets"
            )
        except WorkflowAlreadyStartedError as error:
            print(f"refused: {error.workflow_id} is already open")

        # Signal, then look: describe() shows what workflow.set_state() published.
        await first.signal(Ticket.comment, "on it")
        await first.signal(Ticket.comment, "close")
        print(f"ticket-1 ended with {await first.result(timeout=timedelta(seconds=30))}")
        print(f"its last state: {(await first.describe()).state}")

        # Histories page with nextPageToken behind the iterator.
        kinds = [event["eventType"] async for event in first.history(page_size=5)]
        print(f"ticket-1 history: {len(kinds)} events, from {kinds[0]} to {kinds[-1]}")

        # Visibility: list and count with SWF's filters.
        open_ids = [info.workflow_id async for info in client.list_open_workflows()]
        tagged = await client.count_closed_workflows(ExecutionFilter(tag="hw"))
        print(f"open: {open_ids}; closed with tag 'hw': {tagged.count}")

        # A handle by id acts on the current run; terminate ends it without its code.
        second = client.get_workflow_handle("ticket-2", workflow=Ticket.run)
        await second.terminate("duplicate of ticket-1")
        try:
            await second.result()
        except WorkflowTerminatedError as error:
            print(f"ticket-2: {error}")


if __name__ == "__main__":
    asyncio.run(main())
