"""Record the histories of the examples' workflows into tests/histories/example_*.json.

Run `python -m tests.testing.record_examples` after changing an example's workflow on
purpose; the test suite replays these files to catch changes made by accident.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from aioswf.testing import WorkflowEnvironment
from examples import testing_replay, testing_workflows

HISTORIES = Path(__file__).parent.parent / "histories"

SCENARIOS = (
    testing_workflows.test_trial_expires_after_30_days,
    testing_workflows.test_subscribing_during_the_trial,
    testing_workflows.test_a_stuck_export_times_out,
)


async def record_all(folder: Path) -> list[Path]:
    """Run every scenario and save the history of every execution it closed."""
    saved: list[Path] = []
    for scenario in SCENARIOS:
        async with WorkflowEnvironment() as env:
            await scenario(env)
            async for info in env.client.list_closed_workflows():
                handle = env.client.get_workflow_handle(info.workflow_id, run_id=info.run_id)
                path = folder / f"example_{info.workflow_id}.json"
                await handle.fetch_history(path)
                saved.append(path)
    path = folder / "example_invoice-acme.json"
    await testing_replay.record(path)
    saved.append(path)
    return saved


if __name__ == "__main__":
    for saved in asyncio.run(record_all(HISTORIES)):
        print(f"recorded {saved}")
