"""The testing examples run under pytest, and every example's recorded histories still replay.

Re-record them with `python -m tests.testing.record_examples` after changing an example's
workflow on purpose.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from aioswf import NondeterminismError
from aioswf.testing import Replayer, WorkflowEnvironment
from examples import (
    testing_activities,
    testing_replay,
    testing_workflows,
    workflows_failures,
    workflows_versioning,
)

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("example_*.json"))
STORED = {"example_payloads_s3"}
"""Examples whose payloads live in their own S3 server, gone once they end: their replay
through S3 is tested in tests/workflow/test_large_payloads.py."""
EXAMPLES = Path(__file__).parent.parent.parent / "examples"


@pytest.mark.parametrize(
    "example",
    [
        testing_workflows.test_trial_expires_after_30_days,
        testing_workflows.test_subscribing_during_the_trial,
        testing_workflows.test_a_stuck_export_times_out,
    ],
    ids=lambda test: test.__name__,
)
async def test_workflow_examples(
    env: WorkflowEnvironment, example: Callable[[WorkflowEnvironment], Awaitable[None]]
) -> None:
    await example(env)


async def test_activity_examples() -> None:
    await testing_activities.main()


async def test_replay_example() -> None:
    await testing_replay.main()


def _module_of(path: Path) -> ModuleType:
    """The example module whose workflows recorded ``path`` (``example_<module>__<id>.json``)."""
    return importlib.import_module(f"examples.{path.stem.removeprefix('example_').split('__')[0]}")


def test_every_example_with_workflows_has_recorded_histories() -> None:
    recorded = {_module_of(path).__name__ for path in HISTORIES}
    with_workflows = {
        f"examples.{path.stem}"
        for path in EXAMPLES.glob("*.py")
        if "@workflow.defn" in path.read_text(encoding="utf-8")
    }
    assert with_workflows <= recorded, f"record them: {sorted(with_workflows - recorded)}"


# Examples that show one workflow in two versions replay with the version in use today.
TODAYS_VERSION: dict[str, list[Any]] = {
    "examples.testing_replay": [testing_replay.Invoice],
    "examples.workflows_versioning": [workflows_versioning.SignupV2],
    "examples.workflows_failures": [workflows_failures.Checkout, workflows_failures.QuoteFixed],
}


@pytest.mark.parametrize(
    "path",
    [path for path in HISTORIES if path.stem.split("__")[0] not in STORED],
    ids=lambda path: path.name,
)
def test_recorded_example_histories_replay(path: Path) -> None:
    module = _module_of(path)
    # Examples whose payloads are encoded say with which converter.
    converter = module.converter() if hasattr(module, "converter") else None
    Replayer(TODAYS_VERSION.get(module.__name__, [module]), converter=converter).replay(path)


def test_the_changed_invoice_does_not_replay() -> None:
    changed = Replayer([testing_replay.InvoiceWithEarlyReminder])
    [result] = changed.replay_all([p for p in HISTORIES if "invoice" in p.name])
    assert not result.ok


def test_an_invoice_sleeping_its_14_days_does_not_replay_on_the_changed_code() -> None:
    # What the example's comment claims: an execution cut while its 14-day timer runs.
    history = json.loads(next(p for p in HISTORIES if "invoice" in p.name).read_text())
    events = history["events"]
    cut = next(i for i, e in enumerate(events) if e["eventType"] == "TimerStarted")
    history["events"] = events[: cut + 1]
    Replayer([testing_replay.Invoice]).replay(history)  # the original code is fine
    changed = Replayer([testing_replay.InvoiceWithEarlyReminder])
    with pytest.raises(NondeterminismError, match=r"TimerStarted \(timerId='1'\).*1209600"):
        changed.replay(history)
