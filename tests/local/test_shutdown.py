"""Stopping the service answers parked long polls at once instead of waiting them out."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from aioswf.local import LocalSWF, VirtualClock
from tests.local.helpers import DOMAIN, TASK_LIST, WF, parked

EMPTY = {"taskToken": "", "startedEventId": 0, "previousStartedEventId": 0}


async def post(endpoint: str, operation: str, body: Any) -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            endpoint + "/",
            data=json.dumps(body).encode(),
            headers={"X-Amz-Target": f"SimpleWorkflowService.{operation}"},
        ) as resp,
    ):
        assert resp.status == 200
        return await resp.json(content_type=None)


def setup(service: LocalSWF) -> None:
    service.call("RegisterDomain", {"name": DOMAIN, "workflowExecutionRetentionPeriodInDays": "1"})
    service.call(
        "RegisterWorkflowType",
        {
            "domain": DOMAIN,
            **WF,
            "defaultTaskList": {"name": TASK_LIST},
            "defaultExecutionStartToCloseTimeout": "600",
            "defaultTaskStartToCloseTimeout": "30",
            "defaultChildPolicy": "TERMINATE",
        },
    )


async def test_stop_answers_a_parked_poll_with_no_task() -> None:
    service = LocalSWF(clock=VirtualClock(), long_poll_seconds=60)
    await service.start()
    setup(service)
    request = {"domain": DOMAIN, "taskList": {"name": TASK_LIST}}
    poll = asyncio.ensure_future(post(service.endpoint_url, "PollForDecisionTask", request))
    await parked(service, 1)
    stopping = asyncio.ensure_future(service.stop())
    # Both bounds are a sixth of the long-poll limit: only an immediate answer meets them.
    assert await asyncio.wait_for(poll, 10) == EMPTY
    await asyncio.wait_for(stopping, 10)
    assert service.frontend.waiters.count() == 0


async def test_polls_while_stopping_get_no_task_and_leave_it_queued() -> None:
    async with LocalSWF(clock=VirtualClock(), long_poll_seconds=60) as service:
        setup(service)
        service.call(
            "StartWorkflowExecution", {"domain": DOMAIN, "workflowId": "w", "workflowType": WF}
        )
        service.frontend.shut()
        request = {"domain": DOMAIN, "taskList": {"name": TASK_LIST}}
        assert await post(service.endpoint_url, "PollForDecisionTask", request) == EMPTY
        assert service.frontend.waiters.count() == 0
        pending = service.call("CountPendingDecisionTasks", request)
        assert pending["count"] == 1
