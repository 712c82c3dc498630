"""SWF driven by hand in tests: a scripted endpoint, a decider that answers one task, and
hand-written endpoints served on a free loopback port."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from aioswf import Client


@dataclass
class ScriptedSWF:
    """A real HTTP endpoint that answers each SWF operation from a script, and records calls."""

    url: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)

    def answer(self, operation: str, *responses: tuple[int, dict[str, Any]]) -> None:
        """Queue responses for ``operation``; the last one repeats."""
        self.script[operation] = list(responses)

    def operations(self) -> list[str]:
        return [name for name, _ in self.calls]

    async def handle(self, request: web.Request) -> web.Response:
        operation = request.headers["X-Amz-Target"].split(".", 1)[1]
        self.calls.append((operation, json.loads(await request.text() or "{}")))
        queue = self.script.get(operation) or [(200, {})]
        status, body = queue.pop(0) if len(queue) > 1 else queue[0]
        return web.json_response(body, status=status, content_type="application/x-amz-json-1.0")


THROTTLED = (
    400,
    {"__type": "com.amazon.coral.availability#ThrottlingException", "message": "Rate exceeded"},
)


@contextlib.asynccontextmanager
async def serving(
    handle: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    """Serve ``handle`` for POSTs to ``/`` on a free loopback port; yields the URL."""
    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def decide(client: Client, task_list: str, *decisions: dict[str, Any]) -> dict[str, Any]:
    """Take the next decision task on ``task_list`` and answer it with ``decisions``."""
    for _ in range(30):
        task = await client.call(
            "PollForDecisionTask", taskList={"name": task_list}, identity="test"
        )
        if task.get("taskToken"):
            await client.call(
                "RespondDecisionTaskCompleted",
                taskToken=task["taskToken"],
                decisions=list(decisions),
            )
            return task
    raise AssertionError(f"no decision task arrived on {task_list!r}")


def schedule(
    activity_id: str, name: str, version: str = "1", task_list: str = "work"
) -> dict[str, Any]:
    """A ScheduleActivityTask decision with every timeout given (moto needs all four)."""
    return {
        "decisionType": "ScheduleActivityTask",
        "scheduleActivityTaskDecisionAttributes": {
            "activityId": activity_id,
            "activityType": {"name": name, "version": version},
            "taskList": {"name": task_list},
            "scheduleToStartTimeout": "60",
            "scheduleToCloseTimeout": "120",
            "startToCloseTimeout": "60",
            "heartbeatTimeout": "60",
        },
    }


async def take_activity_task(client: Client, task_list: str = "work") -> dict[str, Any]:
    """Poll until an activity task arrives on ``task_list``."""
    for _ in range(30):
        task = await client.call(
            "PollForActivityTask", taskList={"name": task_list}, identity="test"
        )
        if task.get("taskToken"):
            return task
    raise AssertionError(f"no activity task arrived on {task_list!r}")
