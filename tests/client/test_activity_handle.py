"""Activity types and finishing an activity by its task token, from another client."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aioswf import ApplicationError, Client, UnknownResourceError, activity, workflow
from aioswf._failure import Failure

from .swf_by_hand import decide, schedule, take_activity_task


@activity.defn(
    version="2",
    task_list="work",
    schedule_to_start_timeout=timedelta(minutes=1),
    start_to_close_timeout=timedelta(minutes=2),
    schedule_to_close_timeout=timedelta(minutes=3),
    heartbeat_timeout=timedelta(seconds=30),
    description="charges a card",
)
async def charge(order: str) -> str:
    return order


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Flow:
    @workflow.run
    async def run(self) -> None: ...


async def test_register_activity_type_is_idempotent_and_carries_defaults(client: Client) -> None:
    assert await client.register_activity_type(charge) is True
    assert await client.register_activity_type(charge) is False
    detail = await client.call(
        "DescribeActivityType", activityType={"name": "charge", "version": "2"}
    )
    config = detail["configuration"]
    assert config["defaultTaskList"] == {"name": "work"}
    assert config["defaultTaskScheduleToStartTimeout"] == "60"
    assert config["defaultTaskStartToCloseTimeout"] == "120"
    assert config["defaultTaskScheduleToCloseTimeout"] == "180"
    assert config["defaultTaskHeartbeatTimeout"] == "30"
    assert detail["typeInfo"]["description"] == "charges a card"


async def _started_activity(client: Client, workflow_id: str) -> tuple[str, str]:
    await client.register_activity_type(charge)
    handle = await client.start_workflow(Flow.run, workflow_id=workflow_id, task_list="flow")
    await decide(client, "flow", schedule("a1", "charge", "2"))
    task = await take_activity_task(client)
    return handle.first_run_id or "", task["taskToken"]


async def _closing_event(client: Client, workflow_id: str) -> dict[str, object]:
    await decide(client, "flow")  # the activity's close scheduled a decision task
    events = [e async for e in client.get_workflow_handle(workflow_id).history()]
    return next(e for e in reversed(events) if e["eventType"].startswith("ActivityTask"))


async def test_heartbeat_then_complete_from_another_client(client: Client, endpoint: str) -> None:
    _, token = await _started_activity(client, "async-complete")
    async with Client(client.domain, endpoint_url=endpoint) as elsewhere:
        handle = elsewhere.get_async_activity_handle(token)
        assert await handle.heartbeat({"progress": 50}) is False
        await handle.complete("receipt-1")
        with pytest.raises(UnknownResourceError, match="RespondActivityTaskCompleted"):
            await handle.complete("again")  # task tokens are single-use
    event = await _closing_event(client, "async-complete")
    assert event["eventType"] == "ActivityTaskCompleted"
    assert event["activityTaskCompletedEventAttributes"]["result"] == '"receipt-1"'  # type: ignore[index]


async def test_fail_from_another_client_carries_type_and_message(
    client: Client, endpoint: str
) -> None:
    _, token = await _started_activity(client, "async-fail")
    async with Client(client.domain, endpoint_url=endpoint) as elsewhere:
        await elsewhere.get_async_activity_handle(token).fail(
            ApplicationError("declined", type="CardDeclined")
        )
    event = await _closing_event(client, "async-fail")
    attrs = event["activityTaskFailedEventAttributes"]
    failure = Failure.decode(attrs["reason"], attrs["details"])  # type: ignore[index]
    assert (failure.type_name, failure.message) == ("CardDeclined", "declined")


async def test_cancellation_is_seen_on_heartbeat_and_acknowledged(local_client: Client) -> None:
    _, token = await _started_activity(local_client, "async-cancel")
    handle = local_client.get_async_activity_handle(token)
    await local_client.get_workflow_handle("async-cancel").signal("stop")  # wakes the decider
    await decide(
        local_client,
        "flow",
        {
            "decisionType": "RequestCancelActivityTask",
            "requestCancelActivityTaskDecisionAttributes": {"activityId": "a1"},
        },
    )
    assert await handle.heartbeat() is True
    await handle.report_cancellation("stopped at 50%")
    event = await _closing_event(local_client, "async-cancel")
    assert event["eventType"] == "ActivityTaskCanceled"
