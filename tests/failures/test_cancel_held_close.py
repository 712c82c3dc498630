"""A cancel request reaches a run whose close waits for its signal handlers."""

from __future__ import annotations

import asyncio

import pytest

from aioswf import workflow
from tests.workflow.histories import Simulation, kinds


@workflow.defn
class HeldByAHandler:
    def __init__(self) -> None:
        self.started = False

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: self.started)
        return "returned"

    @workflow.signal(unfinished_policy=workflow.HandlerUnfinishedPolicy.WAIT)
    async def go(self) -> None:
        self.started = True
        await asyncio.Event().wait()


@pytest.mark.parametrize("cache", [True, False], ids=["cache", "no-cache"])
def test_a_cancel_request_ends_the_handlers_a_close_waits_for(cache: bool) -> None:
    sim = Simulation(HeldByAHandler, cache=cache)
    sim.decide()
    sim.history.signal("go")
    assert sim.decide() == []  # run() returned; the close waits for the handler
    sim.history.cancel_requested()
    assert kinds(sim.decide()) == ["CompleteWorkflowExecution"]
    assert sim.replay().failure is None
    sim.close()
