"""Replayer and history files: a replay that passes, one that fails after a code change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aioswf.cli import main
from aioswf.exceptions import HistoryError, NondeterminismError, WorkerError
from aioswf.testing import (
    History,
    Replayer,
    WorkflowEnvironment,
    load_history,
    save_history,
)
from aioswf.worker import Worker
from tests.testing.apps import Greeting, Nap, greet
from tests.testing.replay_changed import GreetingWaitsFirst
from tests.testing.replay_compatible import GreetingWithLog

_recording: list[History] = []


@pytest.fixture
async def recorded(tmp_path: Path) -> Path:
    """A finished Greeting's history, saved as a file (recorded once per session)."""
    if not _recording:
        async with WorkflowEnvironment() as env:
            worker = Worker(env.client, task_list="t", workflows=[Greeting], activities=[greet])
            async with worker:
                handle = await env.client.start_workflow(
                    Greeting.run, "ann", workflow_id="greeting", task_list="t"
                )
                assert await handle.result() == ["hello ann", "hello ann again"]
            _recording.append(await handle.fetch_history(tmp_path / "first.json"))
    path = tmp_path / "greeting.json"
    history = _recording[0]
    save_history(path, history.events, workflow_id=history.workflow_id, run_id=history.run_id)
    return path


async def test_the_recorded_history_replays(recorded: Path) -> None:
    Replayer([Greeting]).replay(recorded)
    Replayer([GreetingWithLog]).replay(recorded)  # a compatible change


async def test_an_incompatible_change_fails_naming_the_event(recorded: Path) -> None:
    with pytest.raises(NondeterminismError) as caught:
        Replayer([GreetingWaitsFirst]).replay(recorded)
    message = str(caught.value)
    assert message.startswith(f"{recorded}: ")
    assert "ActivityTaskScheduled" in message
    assert "StartTimer" in message


async def test_the_file_is_what_the_aws_cli_prints(recorded: Path) -> None:
    document = _read_json(recorded)
    first = document["events"][0]
    assert first["eventType"] == "WorkflowExecutionStarted"
    assert isinstance(first["eventTimestamp"], float)  # epoch seconds, as SWF sends them
    assert document["workflowExecution"]["workflowId"] == "greeting"
    # The AWS CLI writes only "events"; such a file replays as well.
    cli_style = recorded.with_name("cli.json")
    _write_json(cli_style, {"events": document["events"]})
    Replayer([Greeting]).replay(cli_style)


async def test_histories_as_handle_history_yields_them(env: WorkflowEnvironment) -> None:
    async with Worker(env.client, task_list="t", workflows=[Greeting], activities=[greet]):
        handle = await env.client.start_workflow(
            Greeting.run, "bo", workflow_id="g2", task_list="t"
        )
        await handle.result()
    events = [event async for event in handle.history()]
    Replayer([Greeting]).replay(events, run_id=handle.first_run_id)
    with pytest.raises(NondeterminismError, match=r"^history: "):
        Replayer([GreetingWaitsFirst]).replay({"events": events})


async def test_replay_all_reports_each_history(recorded: Path, tmp_path: Path) -> None:
    history = load_history(recorded)
    assert history.workflow_id == "greeting"
    copy = tmp_path / "copy.json"
    save_history(copy, history.events, workflow_id="greeting", run_id=history.run_id)
    results = Replayer([GreetingWaitsFirst]).replay_all([copy, history])
    assert [r.ok for r in results] == [False, False]
    assert results[0].name == str(copy)
    assert results[0].workflow_type == "Greeting/1"
    assert [r.ok for r in Replayer([Greeting]).replay_all([copy, history])] == [True, True]


def test_timestamps_load_from_epoch_iso_and_datetime() -> None:
    task_list = {"taskList": {"name": "t"}}
    events: list[dict[str, Any]] = [
        {
            "eventId": 2,
            "eventType": "DecisionTaskScheduled",
            "eventTimestamp": "1700000000.5",
            "decisionTaskScheduledEventAttributes": task_list,
        },
        {
            "eventId": 1,
            "eventType": "WorkflowExecutionStarted",
            "eventTimestamp": 1700000000,
            "workflowExecutionStartedEventAttributes": {
                **task_list,
                "childPolicy": "TERMINATE",
                "workflowType": {"name": "w", "version": "1"},
            },
        },
        {
            "eventId": 3,
            "eventType": "DecisionTaskStarted",
            "eventTimestamp": "2023-11-14T22:13:21Z",
            "decisionTaskStartedEventAttributes": {"scheduledEventId": 2},
        },
    ]
    loaded = load_history(events)
    assert [e["eventId"] for e in loaded.events] == [1, 2, 3]
    assert [e["eventTimestamp"].timestamp() for e in loaded.events] == [
        1700000000.0,
        1700000000.5,
        1700000001.0,
    ]


def test_bad_input_is_named() -> None:
    with pytest.raises(
        HistoryError, match=r"event #1 \(x\): eventId must be a positive whole number, not None"
    ):
        load_history([{"eventType": "x"}])
    with pytest.raises(ValueError, match="expected a list of events"):
        load_history({"nothing": 1})
    with pytest.raises(HistoryError, match="starts with WorkflowExecutionStarted"):
        Replayer([Greeting]).replay([])


async def test_an_unknown_workflow_type_is_named(recorded: Path) -> None:
    with pytest.raises(WorkerError, match="Greeting/1, which the replayer was not given"):
        Replayer([Nap]).replay(recorded)


async def test_the_replay_command(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(recorded), "--workflows", "tests.testing.apps"]) == 0
    assert f"ok   {recorded} (Greeting/1)" in capsys.readouterr().out
    status = main(["replay", str(recorded), "--workflows", "tests.testing.replay_changed"])
    out = capsys.readouterr().out
    assert status == 1
    assert f"FAIL {recorded} (Greeting/1): NondeterminismError" in out
    assert "0 of 1 histories replayed" in out


def test_the_replay_command_with_a_missing_module(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "x.json", "--workflows", "tests.testing.no_such_module"]) == 2
    assert "No module named" in capsys.readouterr().err


def test_the_replay_command_with_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.json"
    assert main(["replay", str(missing), "--workflows", "tests.testing.apps"]) == 1
    out = capsys.readouterr().out
    assert f"FAIL {missing} (?): HistoryError: {missing}: cannot be read as JSON" in out


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value))
