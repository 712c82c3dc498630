"""Driving an SWF endpoint by hand from tests: a boto3 client in a thread, and decisions."""

from __future__ import annotations

import asyncio
from typing import Any

import boto3
import botocore.config

Json = dict[str, Any]
DOMAIN = "local-tests"
TASK_LIST = "main"
WF = {"name": "Flow", "version": "1"}
ACT = {"name": "Step", "version": "1"}


def boto3_client(endpoint: str) -> Any:
    """A synchronous boto3 SWF client, as a third-party program would make one."""
    config = botocore.config.Config(
        retries={"total_max_attempts": 1}, read_timeout=90, connect_timeout=5
    )
    return boto3.client(
        "swf",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="any-key",
        aws_secret_access_key="any-secret",
        config=config,
    )


class Driver:
    """Calls a blocking boto3 client from async tests, plus shortcuts for whole workflows."""

    def __init__(self, client: Any, domain: str = DOMAIN) -> None:
        self.client = client
        self.domain = domain

    async def __call__(self, operation: str, **kwargs: Any) -> Json:
        result: Json = await asyncio.to_thread(getattr(self.client, operation), **kwargs)
        result.pop("ResponseMetadata", None)
        return result

    async def setup(self, *, timeout: str = "600", task_timeout: str = "30") -> None:
        """Register the domain, a workflow type and an activity type with full defaults."""
        await self("register_domain", name=self.domain, workflowExecutionRetentionPeriodInDays="1")
        await self(
            "register_workflow_type",
            domain=self.domain,
            **WF,
            defaultTaskList={"name": TASK_LIST},
            defaultExecutionStartToCloseTimeout=timeout,
            defaultTaskStartToCloseTimeout=task_timeout,
            defaultChildPolicy="TERMINATE",
        )
        await self(
            "register_activity_type",
            domain=self.domain,
            **ACT,
            defaultTaskList={"name": TASK_LIST},
            defaultTaskScheduleToStartTimeout="300",
            defaultTaskScheduleToCloseTimeout="600",
            defaultTaskStartToCloseTimeout="300",
            defaultTaskHeartbeatTimeout="120",
        )

    async def start(self, workflow_id: str = "wf-1", **kwargs: Any) -> str:
        """Start an execution of the test workflow type; returns its run id."""
        result = await self(
            "start_workflow_execution",
            domain=self.domain,
            workflowId=workflow_id,
            workflowType=kwargs.pop("workflowType", WF),
            **kwargs,
        )
        return str(result["runId"])

    async def poll(self, task_list: str = TASK_LIST, **kwargs: Any) -> Json:
        """PollForDecisionTask on the test domain."""
        return await self(
            "poll_for_decision_task", domain=self.domain, taskList={"name": task_list}, **kwargs
        )

    async def poll_activity(self, task_list: str = TASK_LIST, **kwargs: Any) -> Json:
        """PollForActivityTask on the test domain."""
        return await self(
            "poll_for_activity_task", domain=self.domain, taskList={"name": task_list}, **kwargs
        )

    async def decide(self, *decisions: Json, task_list: str = TASK_LIST) -> Json:
        """Poll one decision task (it must exist) and answer it; returns the task."""
        task = await self.poll(task_list)
        assert task["taskToken"], "expected a decision task"
        await self(
            "respond_decision_task_completed",
            taskToken=task["taskToken"],
            decisions=list(decisions),
        )
        return task

    async def history(self, run_id: str, workflow_id: str = "wf-1") -> list[Json]:
        """The full history of a run."""
        result = await self(
            "get_workflow_execution_history",
            domain=self.domain,
            execution={"workflowId": workflow_id, "runId": run_id},
        )
        events: list[Json] = result["events"]
        return events

    async def types(self, run_id: str, workflow_id: str = "wf-1") -> list[str]:
        """The event types of a run's history."""
        return [e["eventType"] for e in await self.history(run_id, workflow_id)]

    async def describe(self, run_id: str, workflow_id: str = "wf-1") -> Json:
        """DescribeWorkflowExecution."""
        return await self(
            "describe_workflow_execution",
            domain=self.domain,
            execution={"workflowId": workflow_id, "runId": run_id},
        )


async def parked(service: Any, count: int) -> None:
    """Wait until ``count`` polls are parked in the service's long-poll queue."""
    # The state lives in the server: watching it from outside needs a short polling loop.
    while service.frontend.waiters.count() < count:  # noqa: ASYNC110
        await asyncio.sleep(0.005)


def attrs_of(event: Json) -> Json:
    """The attributes member of a history event."""
    kind = event["eventType"]
    value: Json = event[kind[0].lower() + kind[1:] + "EventAttributes"]
    return value


def decision(kind: str, **attrs: Any) -> Json:
    """A decision of ``kind`` with its attributes."""
    return {"decisionType": kind, kind[0].lower() + kind[1:] + "DecisionAttributes": attrs}


def schedule(activity_id: str, *, all_timeouts: bool = True, **attrs: Any) -> Json:
    """ScheduleActivityTask of the test activity type (all four timeouts, as moto needs)."""
    if all_timeouts:
        attrs = {
            "scheduleToStartTimeout": "300",
            "scheduleToCloseTimeout": "600",
            "startToCloseTimeout": "300",
            "heartbeatTimeout": "120",
            **attrs,
        }
    return decision(
        "ScheduleActivityTask",
        activityType=ACT,
        activityId=activity_id,
        taskList={"name": TASK_LIST},
        **attrs,
    )


def timer(timer_id: str, seconds: int) -> Json:
    """StartTimer."""
    return decision("StartTimer", timerId=timer_id, startToFireTimeout=str(seconds))


def complete(result: str = "done") -> Json:
    """CompleteWorkflowExecution."""
    return decision("CompleteWorkflowExecution", result=result)
