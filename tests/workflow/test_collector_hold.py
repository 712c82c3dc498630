"""A worker holds full garbage collections while it decides, and only then."""

from __future__ import annotations

import gc
from datetime import timedelta

import pytest

from aioswf import Client, workflow
from aioswf._pollers.decision import DecisionWorkerOptions
from aioswf.worker import Worker


@workflow.defn
class ReadsTheCollector:
    @workflow.run
    async def run(self) -> int:
        return gc.get_threshold()[2]


@pytest.mark.parametrize("hold", [True, False])
async def test_full_collections_are_held_while_workflow_code_runs(
    client: Client, hold: bool
) -> None:
    normal = gc.get_threshold()[2]
    options = DecisionWorkerOptions(hold_full_collections=hold)
    async with Worker(
        client, task_list="gc", workflows=[ReadsTheCollector], decision_options=options
    ):
        handle = await client.start_workflow(
            ReadsTheCollector.run, workflow_id=f"gc-{hold}", task_list="gc"
        )
        seen = await handle.result(timeout=timedelta(seconds=30))
    assert gc.get_threshold()[2] == normal  # given back once no task is being decided
    assert (seen > 1_000_000) is hold
    assert (seen == normal) is not hold
