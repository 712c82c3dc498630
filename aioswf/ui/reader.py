"""What the pages show, read from SWF: domains, executions and one run's timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aioswf import exceptions as exc
from aioswf.client import Client
from aioswf.executions import ExecutionFilter, WorkflowDescription, WorkflowExecutionInfo
from aioswf.timeline import Timeline, build_timeline, fetch_payloads

PAGE_SIZE = 50


class BadQuery(Exception):
    """The page's query asks for something that cannot be: the client's mistake (400)."""


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of executions and the token of the next."""

    executions: list[WorkflowExecutionInfo]
    next_page: str | None = None


@dataclass(slots=True)
class RunView:
    """One run: its description (if SWF still has it) and its timeline."""

    description: WorkflowDescription
    timeline: Timeline
    extra: dict[str, Any] = field(default_factory=dict)


class Reader:
    """Read-only SWF calls for the pages, through one :class:`~aioswf.Client`'s transport.

    The client's domain does not matter: every call names the page's domain, and payloads
    are decoded by the client's converter (so a custom converter or codec is honoured).
    """

    def __init__(self, client: Client) -> None:
        self.client = client

    async def domains(self) -> list[dict[str, Any]]:
        """Registered domains, each with its count of open executions."""
        found: list[dict[str, Any]] = []
        async for page in self.client.transport.pages(
            "ListDomains", {"registrationStatus": "REGISTERED"}
        ):
            found += page.get("domainInfos", [])
        for info in found:
            count = await self.client.transport.call(
                "CountOpenWorkflowExecutions",
                {"domain": info["name"], **ExecutionFilter().to_swf(closed=False)},
            )
            info["open"] = count["count"]
        return sorted(found, key=lambda info: str(info["name"]))

    async def executions(
        self, domain: str, chosen: ExecutionFilter, *, closed: bool, page: str | None
    ) -> Listing:
        """One page of open or closed executions matching ``chosen``, newest first."""
        operation = "ListClosedWorkflowExecutions" if closed else "ListOpenWorkflowExecutions"
        params: dict[str, Any] = {
            "domain": domain,
            "maximumPageSize": PAGE_SIZE,
            **chosen.to_swf(closed=closed),
        }
        if page:
            params["nextPageToken"] = page
        try:
            response = await self.client.transport.call(operation, params)
        except exc.ValidationError as error:
            if not page:
                raise
            raise BadQuery(
                f"the page token {page!r} is not one SWF gave for this listing (or it has "
                f"expired): start again from the first page. SWF said: {error.service_message}"
            ) from error
        infos = [WorkflowExecutionInfo.from_swf(i) for i in response.get("executionInfos", ())]
        return Listing(infos, response.get("nextPageToken"))

    async def run(self, domain: str, workflow_id: str, run_id: str) -> RunView:
        """One run's description and timeline."""
        execution = {"workflowId": workflow_id, "runId": run_id}
        detail = await self.client.transport.call(
            "DescribeWorkflowExecution", {"domain": domain, "execution": execution}
        )
        events: list[dict[str, Any]] = []
        async for page in self.client.transport.pages(
            "GetWorkflowExecutionHistory", {"domain": domain, "execution": execution}
        ):
            events += page.get("events", ())
        await fetch_payloads(self.client.converter, events)
        timeline = build_timeline(
            events, converter=self.client.converter, workflow_id=workflow_id, run_id=run_id
        )
        return RunView(WorkflowDescription.from_swf(detail), timeline)

    async def current_run(self, domain: str, workflow_id: str) -> str | None:
        """The newest run of ``workflow_id``: the open one, else the last closed."""
        chosen = ExecutionFilter(workflow_id=workflow_id)
        for closed in (False, True):
            listing = await self.executions(domain, chosen, closed=closed, page=None)
            if listing.executions:
                return listing.executions[0].run_id
        return None
