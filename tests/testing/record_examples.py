"""Record the histories of the examples' workflows into tests/histories/example_*.json.

Run `python -m tests.testing.record_examples` after changing an example's workflow on
purpose; the test suite replays these files to catch changes made by accident. Each file is
named `example_<module>__<workflow id>[__<n>].json`, so the suite knows which module's
workflows replay it.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from aioswf.local import LocalSWF
from aioswf.testing import WorkflowEnvironment, save_history
from examples import testing_replay, testing_workflows

HISTORIES = Path(__file__).parent.parent / "histories"

MAIN_EXAMPLES = (
    "quickstart",
    "client_tour",
    "workflows_basics",
    "workflows_cancellation",
    "workflows_cancellation_types",
    "workflows_children",
    "workflows_continue_as_new",
    "workflows_lambda",
    "workflows_versioning",
    "workflows_failures",
    "workers_activities",
    "workers_lifecycle",
    "workers_processes",
    "payloads_codecs",
    "payloads_s3",
    "observability_tracing",
    "observability_metrics",
    "embed_aiohttp",
    "embed_fastapi",
)
"""Examples whose `main()` runs their workflows on a LocalSWF of their own."""

SCENARIOS: tuple[Callable[[WorkflowEnvironment], Awaitable[None]], ...] = (
    testing_workflows.test_trial_expires_after_30_days,
    testing_workflows.test_subscribing_during_the_trial,
    testing_workflows.test_a_stuck_export_times_out,
)


def history_path(folder: Path, module: str, workflow_id: str, run: int) -> Path:
    suffix = f"__{run}" if run else ""
    return folder / f"example_{module}__{workflow_id}{suffix}.json"


def _closed_runs(service: LocalSWF) -> list[tuple[str, str, str]]:
    """(domain, workflow id, run id) of every closed run, oldest first."""
    runs: list[tuple[float, str, str, str]] = []
    domains = service.call("ListDomains", {"registrationStatus": "REGISTERED"})["domainInfos"]
    for domain in (d["name"] for d in domains):
        request: dict[str, Any] = {"domain": domain, "startTimeFilter": {"oldestDate": 0}}
        while True:
            page = service.call("ListClosedWorkflowExecutions", request)
            for info in page["executionInfos"]:
                execution = info["execution"]
                runs.append(
                    (info["startTimestamp"], domain, execution["workflowId"], execution["runId"])
                )
            if not page.get("nextPageToken"):
                break
            request["nextPageToken"] = page["nextPageToken"]
    return [(domain, workflow_id, run_id) for _, domain, workflow_id, run_id in sorted(runs)]


def _save_runs(service: LocalSWF, folder: Path, module: str) -> list[Path]:
    saved: list[Path] = []
    seen: dict[str, int] = {}
    for domain, workflow_id, run_id in _closed_runs(service):
        run = seen.get(workflow_id, 0)
        seen[workflow_id] = run + 1
        request = {"domain": domain, "execution": {"workflowId": workflow_id, "runId": run_id}}
        events = service.call("GetWorkflowExecutionHistory", request)["events"]
        path = history_path(folder, module, workflow_id, run)
        save_history(path, events, workflow_id=workflow_id, run_id=run_id)
        saved.append(path)
    return saved


async def record_main_example(name: str, folder: Path) -> list[Path]:
    """Run an example's `main()`, saving every run its local service closed before stopping."""
    module: ModuleType = importlib.import_module(f"examples.{name}")
    saved: list[Path] = []

    class RecordingLocalSWF(LocalSWF):
        async def stop(self) -> None:
            await super().stop()  # the engine's state outlives the HTTP front end
            saved.extend(_save_runs(self, folder, name))

    original = module.LocalSWF
    module.LocalSWF = RecordingLocalSWF  # the example's own reference: nothing else changes
    try:
        await module.main()
    finally:
        module.LocalSWF = original
    return saved


async def record_all(folder: Path) -> list[Path]:
    """Run every example and scenario, and save the history of every execution they closed."""
    saved: list[Path] = []
    for scenario in SCENARIOS:
        async with WorkflowEnvironment() as env:
            await scenario(env)
            async for info in env.client.list_closed_workflows():
                handle = env.client.get_workflow_handle(info.workflow_id, run_id=info.run_id)
                path = history_path(folder, "testing_workflows", info.workflow_id, 0)
                await handle.fetch_history(path)
                saved.append(path)
    path = history_path(folder, "testing_replay", "invoice-acme", 0)
    await testing_replay.record(path)
    saved.append(path)
    for name in MAIN_EXAMPLES:
        saved.extend(await record_main_example(name, folder))
    return saved


if __name__ == "__main__":
    for old in HISTORIES.glob("example_*.json"):
        old.unlink()
    for saved in asyncio.run(record_all(HISTORIES)):
        print(f"recorded {saved.name}")
