"""The local service driven by aiobotocore, the client aioswf itself uses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from aioswf.local import LocalSWF
from tests.local.helpers import ACT, WF, complete, parked, schedule


@pytest.fixture
async def aio(local_swf: LocalSWF) -> AsyncIterator[Any]:
    config = AioConfig(retries={"total_max_attempts": 1}, read_timeout=90)
    async with get_session().create_client(
        "swf",
        endpoint_url=local_swf.endpoint_url,
        region_name="eu-west-3",
        aws_access_key_id="whatever",
        aws_secret_access_key="whatever",
        config=config,
    ) as client:
        yield client


async def test_whole_workflow_with_concurrent_long_polls(aio: Any, local_swf: LocalSWF) -> None:
    local_swf.frontend.long_poll_seconds = 10
    await aio.register_domain(name="d", workflowExecutionRetentionPeriodInDays="1")
    await aio.register_workflow_type(
        domain="d",
        **WF,
        defaultTaskList={"name": "main"},
        defaultExecutionStartToCloseTimeout="60",
        defaultTaskStartToCloseTimeout="10",
        defaultChildPolicy="ABANDON",
    )
    await aio.register_activity_type(domain="d", **ACT)
    tl = {"name": "main"}
    decider = asyncio.ensure_future(aio.poll_for_decision_task(domain="d", taskList=tl))
    workers = [
        asyncio.ensure_future(aio.poll_for_activity_task(domain="d", taskList=tl)) for _ in range(3)
    ]
    await parked(local_swf, 4)
    run = await aio.start_workflow_execution(domain="d", workflowId="w", workflowType=WF)
    task = await decider
    await aio.respond_decision_task_completed(
        taskToken=task["taskToken"], decisions=[schedule(f"a{i}") for i in range(3)]
    )
    done = await asyncio.gather(*workers)
    assert sorted(t["activityId"] for t in done) == ["a0", "a1", "a2"]
    for activity in done:
        await aio.respond_activity_task_completed(taskToken=activity["taskToken"], result="ok")
    task = await aio.poll_for_decision_task(domain="d", taskList=tl)
    assert task["previousStartedEventId"] == 3
    await aio.respond_decision_task_completed(taskToken=task["taskToken"], decisions=[complete()])
    execution = {"workflowId": "w", "runId": run["runId"]}
    detail = await aio.describe_workflow_execution(domain="d", execution=execution)
    assert detail["executionInfo"]["closeStatus"] == "COMPLETED"
    paginator = aio.get_paginator("get_workflow_execution_history")
    events = [
        e
        async for page in paginator.paginate(
            domain="d", execution=execution, PaginationConfig={"PageSize": 4}
        )
        for e in page["events"]
    ]
    assert events[-1]["eventType"] == "WorkflowExecutionCompleted"
    assert [e["eventId"] for e in events] == list(range(1, len(events) + 1))


async def test_poll_paginator_reads_one_task(aio: Any) -> None:
    await aio.register_domain(name="d", workflowExecutionRetentionPeriodInDays="1")
    await aio.register_workflow_type(
        domain="d",
        **WF,
        defaultTaskList={"name": "main"},
        defaultExecutionStartToCloseTimeout="60",
        defaultTaskStartToCloseTimeout="10",
        defaultChildPolicy="ABANDON",
    )
    await aio.start_workflow_execution(domain="d", workflowId="w", workflowType=WF)
    paginator = aio.get_paginator("poll_for_decision_task")
    pages = [
        p
        async for p in paginator.paginate(
            domain="d", taskList={"name": "main"}, PaginationConfig={"PageSize": 1}
        )
    ]
    assert len(pages) == 3
    assert len({p["taskToken"] for p in pages}) == 1
