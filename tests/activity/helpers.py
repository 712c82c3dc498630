"""A hand-written decider for activity tests: schedule activities, cancel them, read outcomes."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aioswf import Client
from aioswf._definitions import activity_definition
from aioswf.exceptions import TypeAlreadyExistsError
from aioswf.worker import ActivityWorkerOptions

FLOW = {"name": "ActivityTestFlow", "version": "1"}
CLOSE_EVENTS = {
    "ActivityTaskCompleted": "activityTaskCompletedEventAttributes",
    "ActivityTaskFailed": "activityTaskFailedEventAttributes",
    "ActivityTaskCanceled": "activityTaskCanceledEventAttributes",
    "ActivityTaskTimedOut": "activityTaskTimedOutEventAttributes",
}
_ids = itertools.count(1)

# One poller that polls again soon after an outage ends.
QUICK_POLLER = ActivityWorkerOptions(
    pollers=1, poll_backoff=timedelta(seconds=0.05), max_poll_backoff=timedelta(seconds=0.2)
)


@dataclass
class Outcome:
    """How one activity ended, from the execution's history."""

    kind: str
    attributes: dict[str, Any]

    @property
    def result(self) -> Any:
        text = self.attributes.get("result")
        return None if text is None else json.loads(text)

    @property
    def details(self) -> dict[str, Any]:
        return dict(json.loads(self.attributes["details"]))


class Call:
    """One ScheduleActivityTask decision."""

    def __init__(
        self,
        activity: Any,
        *args: Any,
        activity_id: str | None = None,
        raw_input: str | None = None,
        heartbeat: str = "60",
    ) -> None:
        self.type = (
            activity if isinstance(activity, dict) else activity_definition(activity).swf_type()
        )
        self.activity_id = activity_id or f"a{next(_ids)}"
        self.input = raw_input if raw_input is not None else json.dumps(list(args))
        self.heartbeat = heartbeat

    def decision(self, task_list: str) -> dict[str, Any]:
        return {
            "decisionType": "ScheduleActivityTask",
            "scheduleActivityTaskDecisionAttributes": {
                "activityType": self.type,
                "activityId": self.activity_id,
                "taskList": {"name": task_list},
                "input": self.input,
                # All four, always: moto has no defaults of its own for any of them.
                "scheduleToStartTimeout": "120",
                "scheduleToCloseTimeout": "240",
                "startToCloseTimeout": "120",
                "heartbeatTimeout": self.heartbeat,
            },
        }


@dataclass
class Flow:
    """One execution driven by hand: its decisions go through a private task list."""

    client: Client
    task_list: str
    workflow_id: str = field(default_factory=lambda: f"flow-{next(_ids)}")
    run_id: str = ""
    decision_list: str = field(default_factory=lambda: f"decisions-{next(_ids)}")

    async def start(self) -> Flow:
        with contextlib.suppress(TypeAlreadyExistsError):
            await self.client.call(
                "RegisterWorkflowType",
                **FLOW,
                defaultTaskList={"name": self.decision_list},
                defaultExecutionStartToCloseTimeout="600",
                defaultTaskStartToCloseTimeout="60",
                defaultChildPolicy="TERMINATE",
            )
        response = await self.client.call(
            "StartWorkflowExecution",
            workflowId=self.workflow_id,
            workflowType=FLOW,
            taskList={"name": self.decision_list},
            executionStartToCloseTimeout="600",
            taskStartToCloseTimeout="60",
            childPolicy="TERMINATE",
        )
        self.run_id = response["runId"]
        return self

    async def decide(self, *decisions: dict[str, Any]) -> None:
        """Take the next decision task of this execution and answer with ``decisions``."""
        for _ in range(60):
            task = await self.client.call(
                "PollForDecisionTask", taskList={"name": self.decision_list}, identity="test"
            )
            if task.get("taskToken"):
                await self.client.call(
                    "RespondDecisionTaskCompleted",
                    taskToken=task["taskToken"],
                    decisions=list(decisions),
                )
                return
        raise AssertionError("no decision task arrived")

    async def schedule(
        self,
        activity: Any,
        *args: Any,
        activity_id: str | None = None,
        count: int = 1,
        raw_input: str | None = None,
        heartbeat: str = "60",
    ) -> list[str]:
        """Schedule ``count`` tasks of ``activity`` (or of an ``{name, version}`` type)."""
        calls = [
            Call(activity, *args, activity_id=activity_id, raw_input=raw_input, heartbeat=heartbeat)
            for _ in range(count)
        ]
        return await self.schedule_all(*calls)

    async def schedule_all(self, *calls: Call) -> list[str]:
        """Schedule several activities with one decision; their ids, in order."""
        await self.decide(*(call.decision(self.task_list) for call in calls))
        return [call.activity_id for call in calls]

    async def cancel(self, activity_id: str) -> None:
        """Ask SWF to cancel an activity: a signal brings the decision task to do it with."""
        await self.client.call(
            "SignalWorkflowExecution",
            workflowId=self.workflow_id,
            signalName="cancel",
            input="{}",
        )
        await self.decide(
            {
                "decisionType": "RequestCancelActivityTask",
                "requestCancelActivityTaskDecisionAttributes": {"activityId": activity_id},
            }
        )

    async def history(self) -> list[dict[str, Any]]:
        response = await self.client.call(
            "GetWorkflowExecutionHistory",
            execution={"workflowId": self.workflow_id, "runId": self.run_id},
            maximumPageSize=1000,
        )
        events: list[dict[str, Any]] = response["events"]
        return events

    async def outcomes(self, count: int, timeout: float = 20.0) -> dict[str, Outcome]:
        """Wait until ``count`` activities have closed; their outcomes by activity id."""
        async with asyncio.timeout(timeout):
            while True:
                found = self._closed(await self.history())
                if len(found) >= count:
                    return found
                await asyncio.sleep(0.05)

    async def started_count(self) -> int:
        return sum(1 for e in await self.history() if e["eventType"] == "ActivityTaskStarted")

    @staticmethod
    def _closed(events: list[dict[str, Any]]) -> dict[str, Outcome]:
        ids = {
            e["eventId"]: e["activityTaskScheduledEventAttributes"]["activityId"]
            for e in events
            if e["eventType"] == "ActivityTaskScheduled"
        }
        found: dict[str, Outcome] = {}
        for event in events:
            key = CLOSE_EVENTS.get(event["eventType"])
            if key is not None:
                attributes = event.get(key, {})
                found[ids[attributes["scheduledEventId"]]] = Outcome(
                    event["eventType"].removeprefix("ActivityTask"), attributes
                )
        return found


class Gauge:
    """Counts activities running at once, from inside them."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.total = 0

    def __enter__(self) -> Gauge:
        self.now += 1
        self.total += 1
        self.peak = max(self.peak, self.now)
        return self

    def __exit__(self, *exc: object) -> None:
        self.now -= 1


async def until(predicate: Callable[[], bool | Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait until ``predicate`` (sync or async) holds, or fail after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            result = predicate()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)
