"""The Replayer over mutated recorded histories: every outcome is a typed error, never a crash.

Each case takes a history of ``tests/histories``, breaks it the way hand edits, other tools and
truncated files do (a member deleted, a value of the wrong type, an id out of range, a time
past year 9999, an event dropped or repeated) and replays it: the result must be a
``ReplayResult`` whose error, if any, is one of aioswf's (a ``HistoryError`` naming the event
and field, a ``NondeterminismError``, ...), and ``replay_all`` must report every history.
"""

from __future__ import annotations

import copy
import functools
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioswf import AioSWFError, HistoryError
from aioswf.exceptions import DefinitionError
from aioswf.testing import Replayer, ReplayResult

from .conftest import cases

HISTORIES = Path(__file__).parent.parent / "histories"


IDS: dict[Path, dict[str, str]] = {}


def replay(path: Path, document: Any) -> ReplayResult:
    return corpus().replayers[path].replay_result(document, **IDS.get(path, {}))


def _replayer_for(path: Path) -> Replayer | None:
    if path.stem.startswith("orchestration_"):
        from tests.workflow.test_orchestration_recorded import RECORDED

        recorded = RECORDED.get(path.stem.removeprefix("orchestration_"))
        if recorded is None:
            return None
        cls, workflow_id = recorded
        IDS[path] = {"workflow_id": workflow_id, "run_id": f"{workflow_id}-recorded"}
        return Replayer([cls])
    module = path.stem.removeprefix("example_").split("__")[0]
    try:
        return Replayer([importlib.import_module(f"examples.{module}")])
    except DefinitionError:  # an example showing two versions of one workflow
        return None


def _replays_as_recorded(path: Path, replayer: Replayer | None) -> bool:
    # Histories whose example needs more than its workflows (a payload codec, say) are left
    # to that example's own test.
    if replayer is None:
        return False
    document = json.loads(path.read_text())
    return replayer.replay_result(document, **IDS.get(path, {})).error is None


@dataclass
class Corpus:
    """The recorded histories to mutate, and their replayers."""

    candidates: int
    replayers: dict[Path, Replayer]
    documents: dict[Path, dict[str, Any]]

    @property
    def files(self) -> list[Path]:
        return sorted(self.replayers)


@functools.cache
def corpus() -> Corpus:
    # Built on first use, not at import: replaying installs the workflow sandbox's guards,
    # which other test modules must not see bound at their own import.
    found = {p: _replayer_for(p) for p in sorted(HISTORIES.glob("*_*.json"))}
    replayers = {p: r for p, r in found.items() if r is not None and _replays_as_recorded(p, r)}
    documents = {p: json.loads(p.read_text()) for p in replayers}
    return Corpus(len(found), replayers, documents)


ODD_VALUES = [None, [], {}, [1], 1e20, -1, 0, 2**63, "x", "", True, 1.5, "\ud800", {"a": [1]}]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((*prefix, key))
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.append((*prefix, index))
            found.extend(_paths(item, (*prefix, index)))
    return found


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Path, dict[str, Any]]:
    path = draw(st.sampled_from(corpus().files))
    document = copy.deepcopy(corpus().documents[path])
    events: list[dict[str, Any]] = document["events"]
    for _ in range(draw(st.integers(1, 3))):
        if not events:
            break
        action = draw(st.sampled_from(["delete", "replace", "replace", "drop", "repeat"]))
        index = draw(st.integers(0, len(events) - 1))
        if action == "drop":
            del events[index]
            continue
        if action == "repeat":
            events.insert(index, copy.deepcopy(events[index]))
            continue
        target = draw(st.sampled_from(_paths(events[index])))
        parent = _parent(events[index], target)
        if action == "delete" and isinstance(parent, dict):
            del parent[target[-1]]
        else:
            parent[target[-1]] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
    return path, document


@settings(settings.get_profile("aioswf-faults"), max_examples=cases(150, 10_000))
@given(mutated())
def test_a_mutated_history_replays_to_a_typed_result(case: tuple[Path, dict[str, Any]]) -> None:
    path, document = case
    result = replay(path, document)
    if result.error is not None:
        assert isinstance(result.error, AioSWFError), repr(result.error)
        if isinstance(result.error, HistoryError):
            assert "history" in str(result.error)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (
            lambda e: e["decisionTaskCompletedEventAttributes"].pop("startedEventId"),
            "decisionTaskCompletedEventAttributes.startedEventId is missing",
        ),
        (lambda e: e.update(eventId=[4]), "eventId must be a positive whole number, not [4]"),
        (lambda e: e.update(eventId=None), "eventId must be a positive whole number, not None"),
        (lambda e: e.update(eventTimestamp=1e20), "eventTimestamp is not a time"),
        (
            lambda e: e["decisionTaskCompletedEventAttributes"].update(scheduledEventId="2"),
            "scheduledEventId must be a whole number, not '2'",
        ),
    ],
)
def test_the_issues_mutations_name_the_event_and_field(mutate: Any, field: str) -> None:
    path = HISTORIES / "example_quickstart__order-o-1.json"
    document = copy.deepcopy(corpus().documents[path])
    event = next(e for e in document["events"] if e["eventType"] == "DecisionTaskCompleted")
    mutate(event)
    result = replay(path, document)
    assert isinstance(result.error, HistoryError)
    assert field in str(result.error)
    assert "DecisionTaskCompleted" in str(result.error) or "#" in str(result.error)


def test_a_number_as_a_result_is_named() -> None:
    path = HISTORIES / "example_quickstart__order-o-1.json"
    document = copy.deepcopy(corpus().documents[path])
    event = next(e for e in document["events"] if e["eventType"] == "ActivityTaskCompleted")
    event["activityTaskCompletedEventAttributes"]["result"] = 42
    result = replay(path, document)
    assert isinstance(result.error, HistoryError)
    assert f"event {event['eventId']} (ActivityTaskCompleted)" in str(result.error)
    assert "activityTaskCompletedEventAttributes.result must be a string, not 42" in str(
        result.error
    )


def test_replay_all_reports_every_history(tmp_path: Path) -> None:
    good = HISTORIES / "example_quickstart__order-o-1.json"
    broken = tmp_path / "broken.json"
    document = copy.deepcopy(corpus().documents[good])
    del document["events"][3]["eventType"]
    broken.write_text(json.dumps(document))
    truncated = tmp_path / "truncated.json"
    truncated.write_text(good.read_text()[:500])
    results = (
        corpus().replayers[good].replay_all([broken, good, truncated, tmp_path / "missing.json"])
    )
    assert [r.ok for r in results] == [False, True, False, False]
    assert all(isinstance(r.error, HistoryError) for r in results if not r.ok)


def test_the_fuzz_draws_from_most_recorded_histories() -> None:
    assert len(corpus().files) >= 20
    assert len(corpus().files) >= corpus().candidates * 3 // 4


def test_the_replay_command_prints_the_event_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aioswf.cli import main

    good = HISTORIES / "example_quickstart__order-o-1.json"
    document = copy.deepcopy(corpus().documents[good])
    event = next(e for e in document["events"] if e["eventType"] == "DecisionTaskCompleted")
    del event["decisionTaskCompletedEventAttributes"]["startedEventId"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    assert main(["replay", str(broken), str(good), "--workflows", "examples.quickstart"]) == 1
    out = capsys.readouterr().out
    assert (
        f"FAIL {broken} (?): HistoryError: {broken}: event {event['eventId']} "
        "(DecisionTaskCompleted): decisionTaskCompletedEventAttributes.startedEventId is missing"
    ) in out
    assert f"ok   {good}" in out
    assert "1 of 2 histories replayed" in out
