"""Retried decision tasks: visible in describe() with the workflow's state kept, counted in
info(), and for non-determinism by default."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from aioswf import Client, DecisionFailure, DecisionWorkerOptions
from aioswf._decider import InstanceOptions
from aioswf.local import VirtualClock
from aioswf.testing import WorkflowEnvironment
from aioswf.worker import Worker
from tests.failures import workflows as wf
from tests.failures.waiting import wait_for_failure
from tests.workflow.histories import Simulation

RESULT_TIMEOUT = timedelta(seconds=10)


async def test_nondeterminism_retries_by_default_and_shows_it(client: Client) -> None:
    async with Worker(client, task_list="n", workflows=[wf.ReadsTheClock]):
        await client.start_workflow(wf.ReadsTheClock.run, workflow_id="clock", task_list="n")
        described = await wait_for_failure(client, "clock", 1)
    failure = described.decision_failure
    assert failure is not None
    assert failure.error_type == "NondeterminismError"
    assert "time.time" in failure.message
    assert described.info.close_status is None


def test_the_report_keeps_the_published_state() -> None:
    sim = Simulation(wf.BreaksLater, options=InstanceOptions(retry_decision_task_on=(KeyError,)))
    wf.BROKEN["on"] = True
    sim.decide()
    sim.history.signal("proceed")
    sim.decide()
    context = sim.activations[-1].execution_context
    failure, state = DecisionFailure.from_context(context)
    assert failure is not None
    assert failure.attempts == 1
    assert state == '{"stage":"waiting"}'
    sim.close()


async def test_the_state_survives_and_info_counts_the_attempts(
    client: Client, clock: VirtualClock
) -> None:
    wf.BROKEN["on"] = True
    options = DecisionWorkerOptions(retry_decision_task_on=(KeyError,))
    try:
        async with Worker(
            client, task_list="n", workflows=[wf.BreaksLater], decision_options=options
        ):
            handle = await client.start_workflow(wf.BreaksLater.run, workflow_id="b", task_list="n")
            for _ in range(250):
                if (await handle.describe()).state == {"stage": "waiting"}:
                    break
                await asyncio.sleep(0.02)
            await handle.signal(wf.BreaksLater.proceed)
            described = await wait_for_failure(client, "b", 1)
            assert described.state == {"stage": "waiting"}
            clock.advance(1)
            await wait_for_failure(client, "b", 2)
            wf.BROKEN["on"] = False
            clock.advance(2)
            assert await handle.result(timeout=RESULT_TIMEOUT) == "attempt 3"
            final = await handle.describe()
        assert final.decision_failure is None
    finally:
        wf.BROKEN["on"] = True


@pytest.mark.parametrize("context", [None, "", '"plain"', '{"aioswf.decision_failure": 1}'])
def test_a_context_without_a_report_is_state(context: str | None) -> None:
    failure, state = DecisionFailure.from_context(context)
    assert failure is None
    assert state == context


async def test_a_test_waiting_on_a_retrying_run_times_out_saying_why() -> None:
    async with (
        WorkflowEnvironment() as env,
        Worker(env.client, task_list="n", workflows=[wf.ReadsTheClock]),
    ):
        handle = await env.client.start_workflow(
            wf.ReadsTheClock.run, workflow_id="clock", task_list="n"
        )
        with pytest.raises(TimeoutError) as caught:
            await handle.result(timeout=timedelta(seconds=2))
    message = str(caught.value)
    assert "did not close within 2 seconds" in message
    assert "its decision tasks are failing since" in message
    assert "NondeterminismError" in message
    assert "time.time" in message
