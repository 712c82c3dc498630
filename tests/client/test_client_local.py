"""Client behaviour that moto does not emulate, against the local SWF service."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from aioswf import (
    Client,
    ExecutionFilter,
    WorkflowCanceledError,
    WorkflowOptions,
    WorkflowTimedOutError,
    workflow,
)
from aioswf.local import LocalSWF, VirtualClock

from .swf_by_hand import decide


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Job:
    @workflow.run
    async def run(self, n: int) -> int:
        raise NotImplementedError


@workflow.defn(name="Other")
class Other:
    @workflow.run
    async def run(self) -> None: ...


def _marker(n: int) -> dict[str, object]:
    return {
        "decisionType": "RecordMarker",
        "recordMarkerDecisionAttributes": {"markerName": f"m{n}"},
    }


async def test_history_longer_than_a_page_is_read_across_pages(local_client: Client) -> None:
    handle = await local_client.start_workflow(Job.run, 1, workflow_id="long", task_list="jobs")
    await decide(local_client, "jobs", *(_marker(n) for n in range(250)))
    forward = [e async for e in handle.history(page_size=100)]
    # started, decision scheduled/started/completed, then the 250 markers: three pages
    assert [e["eventId"] for e in forward] == list(range(1, 255))
    backward = [e["eventId"] async for e in handle.history(page_size=100, reverse=True)]
    assert backward == list(range(254, 0, -1))


async def test_cancel_request_reaches_the_decider_and_result_reports_it(
    local_client: Client,
) -> None:
    handle = await local_client.start_workflow(
        Job.run, 2, workflow_id="cancel-me", task_list="jobs"
    )
    await decide(local_client, "jobs")
    await handle.cancel()
    assert (await handle.describe()).info.cancel_requested
    task = await decide(
        local_client,
        "jobs",
        {
            "decisionType": "CancelWorkflowExecution",
            "cancelWorkflowExecutionDecisionAttributes": {"details": "bye"},
        },
    )
    assert "WorkflowExecutionCancelRequested" in [e["eventType"] for e in task["events"]]
    with pytest.raises(WorkflowCanceledError) as info:
        await handle.result(timeout=timedelta(seconds=5))
    assert info.value.details == "bye"


async def test_describe_shows_the_latest_execution_context(local_client: Client) -> None:
    handle = await local_client.start_workflow(Job.run, 3, workflow_id="ctx", task_list="jobs")
    task = await local_client.call("PollForDecisionTask", taskList={"name": "jobs"})
    await local_client.call(
        "RespondDecisionTaskCompleted",
        taskToken=task["taskToken"],
        decisions=[],
        executionContext=json.dumps({"stage": "awaiting approval"}),
    )
    description = await handle.describe()
    assert description.state == {"stage": "awaiting approval"}
    assert description.open_counts.decision_tasks == 0


async def test_list_and_count_with_every_filter(local_client: Client) -> None:
    for n in range(3):
        await local_client.start_workflow(
            Job.run, n, workflow_id=f"job-{n}", task_list="jobs", tags=[f"t{n}"]
        )
    await local_client.start_workflow(Other.run, workflow_id="other", task_list="jobs")
    await local_client.get_workflow_handle("job-0").terminate()

    async def open_ids(filter_: ExecutionFilter) -> list[str]:
        return sorted([i.workflow_id async for i in local_client.list_open_workflows(filter_)])

    assert await open_ids(ExecutionFilter()) == ["job-1", "job-2", "other"]
    assert await open_ids(ExecutionFilter(workflow_id="job-1")) == ["job-1"]
    assert await open_ids(ExecutionFilter(workflow_type=("Job", "1"))) == ["job-1", "job-2"]
    assert await open_ids(ExecutionFilter(tag="t2")) == ["job-2"]
    closed = [
        i
        async for i in local_client.list_closed_workflows(
            ExecutionFilter(close_status="TERMINATED")
        )
    ]
    assert [(i.workflow_id, i.close_status) for i in closed] == [("job-0", "TERMINATED")]
    assert not [
        i async for i in local_client.list_closed_workflows(ExecutionFilter(close_status="FAILED"))
    ]

    assert (await local_client.count_open_workflows()).count == 3
    assert (
        await local_client.count_open_workflows(ExecutionFilter(workflow_type=("Other", None)))
    ).count == 1
    assert (
        await local_client.count_closed_workflows(ExecutionFilter(close_status="TERMINATED"))
    ).count == 1


async def test_listing_pages_through_every_execution(local_client: Client) -> None:
    for n in range(7):
        await local_client.start_workflow(Job.run, n, workflow_id=f"page-{n}", task_list="jobs")
    seen = [i.workflow_id async for i in local_client.list_open_workflows(page_size=3)]
    assert sorted(seen) == [f"page-{n}" for n in range(7)]


async def test_a_handle_without_run_id_follows_the_current_run(local_client: Client) -> None:
    first = await local_client.start_workflow(Job.run, 1, workflow_id="reused", task_list="jobs")
    await first.terminate()
    second = await local_client.start_workflow(Job.run, 2, workflow_id="reused", task_list="jobs")
    current = local_client.get_workflow_handle("reused")
    assert (await current.describe()).info.run_id == second.first_run_id
    await current.signal("nudge")
    events = [e["eventType"] async for e in second.history()]
    assert "WorkflowExecutionSignaled" in events


async def test_the_endpoint_and_region_come_from_the_environment(
    local_endpoint: str, domain_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SWF", local_endpoint)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    async with Client(domain_name) as client:
        assert await client.register_domain() is True
    async with Client(domain_name, region_name="eu-west-1") as client:
        described = await client.call("DescribeDomain", name=domain_name)
    assert described["domainInfo"]["arn"].startswith("arn:aws:swf:")


async def test_time_windows_filter_by_start_and_by_close(local_client: Client) -> None:
    first = await local_client.start_workflow(Job.run, 1, workflow_id="early", task_list="jobs")
    started = (await first.describe()).info.start_time
    await first.terminate()
    closed = (await first.describe()).info.close_time
    assert closed is not None
    later = started + timedelta(hours=1)

    async def closed_ids(filter_: ExecutionFilter) -> list[str]:
        return [i.workflow_id async for i in local_client.list_closed_workflows(filter_)]

    # Timestamps cross the wire as epoch seconds: compare with a margin, not to the microsecond.
    earlier = started - timedelta(seconds=1)
    assert await closed_ids(ExecutionFilter(started_after=earlier)) == ["early"]
    assert await closed_ids(ExecutionFilter(started_after=later)) == []
    assert await closed_ids(ExecutionFilter(closed_before=closed + timedelta(seconds=1))) == [
        "early"
    ]
    assert await closed_ids(ExecutionFilter(closed_after=later)) == []
    count = await local_client.count_closed_workflows(ExecutionFilter(started_before=later))
    assert count.count == 1


async def test_result_reports_an_execution_that_timed_out(
    local_endpoint: str, domain_name: str
) -> None:
    clock = VirtualClock()
    async with (
        LocalSWF(port=0, clock=clock) as swf,
        Client(domain_name, endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        options = WorkflowOptions(execution_start_to_close_timeout=timedelta(minutes=5))
        handle = await client.start_workflow(
            Job.run, 1, workflow_id="slow", task_list="jobs", options=options
        )
        clock.advance(301)
        with pytest.raises(
            WorkflowTimedOutError, match="'slow'.*timed out \\(START_TO_CLOSE\\)"
        ) as info:
            await handle.result(timeout=timedelta(seconds=10))
    assert info.value.timeout_type == "START_TO_CLOSE"
