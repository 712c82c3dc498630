"""The testing examples run under pytest, and their recorded histories still replay."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from aioswf import NondeterminismError
from aioswf.testing import Replayer, WorkflowEnvironment, load_history
from examples import testing_activities, testing_replay, testing_workflows

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("example_*.json"))
EXAMPLE_WORKFLOWS = [testing_workflows.Trial, testing_workflows.Export, testing_replay.Invoice]


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


def test_every_example_workflow_has_a_recorded_history() -> None:
    recorded = {
        load_history(path).events[0]["workflowExecutionStartedEventAttributes"]["workflowType"][
            "name"
        ]
        for path in HISTORIES
    }
    assert recorded == {"Trial", "Export", "Invoice"}


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.name)
def test_recorded_example_histories_replay(path: Path) -> None:
    Replayer(EXAMPLE_WORKFLOWS).replay(path)


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
