"""Waiting, in tests, for a run's decision task to be reported as failing."""

from __future__ import annotations

import asyncio

from aioswf import Client, WorkflowDescription


async def wait_for_failure(
    client: Client, workflow_id: str, attempts: int = 1
) -> WorkflowDescription:
    """The run's description once ``describe().decision_failure`` counts ``attempts`` or more
    (about 5 s at most, else ``AssertionError``)."""
    handle = client.get_workflow_handle(workflow_id)
    for _ in range(250):
        described = await handle.describe()
        failure = described.decision_failure
        if failure is not None and failure.attempts >= attempts:
            return described
        await asyncio.sleep(0.02)
    raise AssertionError(f"no decision failure with {attempts} attempts: {described}")
