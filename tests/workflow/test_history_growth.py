"""A long history gets a hint in ``workflow.info()`` and one warning from the worker."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from aioswf import workflow
from aioswf._decider.runtime import CONTINUE_AS_NEW_SUGGESTED_AT, WorkflowInfo
from aioswf._pollers.decision import warn_of_history_growth
from aioswf.testing import WorkflowEnvironment
from aioswf.worker import Worker


def info(length: int) -> WorkflowInfo:
    return WorkflowInfo("d", "w", "r", ("W", "1"), "t", datetime.now(UTC), history_length=length)


def test_continue_as_new_is_suggested_from_ten_thousand_events() -> None:
    assert not info(CONTINUE_AS_NEW_SUGGESTED_AT - 1).is_continue_as_new_suggested()
    assert info(CONTINUE_AS_NEW_SUGGESTED_AT).is_continue_as_new_suggested()


@pytest.mark.parametrize(
    ("previous", "started", "warnings"),
    [(0, 3, 0), (9_990, 10_010, 1), (10_010, 10_020, 0), (19_990, 20_001, 1), (0, 20_000, 2)],
)
def test_the_worker_warns_once_when_a_history_passes_a_mark(
    caplog: pytest.LogCaptureFixture, previous: int, started: int, warnings: int
) -> None:
    page = {
        "startedEventId": started,
        "previousStartedEventId": previous,
        "workflowExecution": {"workflowId": "long", "runId": "r1"},
    }
    with caplog.at_level(logging.WARNING, logger="aioswf._pollers.decision"):
        warn_of_history_growth(page)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == warnings
    for line in lines:
        assert "workflow_id='long'" in line
        assert "is_continue_as_new_suggested()" in line


@workflow.defn
class Grows:
    @workflow.run
    async def run(self, per_task: int) -> int:
        while not workflow.info().is_continue_as_new_suggested():
            for _ in range(per_task):
                workflow.side_effect(lambda: 1)
            await asyncio.sleep(1)  # a decision task boundary
        return workflow.info().history_length


async def test_a_long_running_workflow_sees_the_hint_and_the_worker_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with (
        WorkflowEnvironment() as env,
        Worker(env.client, task_list="grows", workflows=[Grows]),
    ):
        handle = await env.client.start_workflow(
            Grows.run, 2_000, workflow_id="grows", task_list="grows"
        )
        length = await handle.result(timeout=timedelta(minutes=5))
    assert CONTINUE_AS_NEW_SUGGESTED_AT <= length < CONTINUE_AS_NEW_SUGGESTED_AT + 2_100
    warned = [r for r in caplog.records if "continuing as new is suggested" in r.getMessage()]
    assert len(warned) == 1
