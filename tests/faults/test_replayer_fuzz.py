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
from aioswf.converter import DataConverter
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


# --- values mutated by type: each case is wrong by SWF's rules, so it must be named ---------


@functools.cache
def _shapes() -> dict[str, Any]:
    from botocore.loaders import Loader

    shapes: dict[str, Any] = Loader().load_service_model("swf", "service-2")["shapes"]
    return shapes


def _leaves(value: Any, shape_name: str, path: str) -> list[tuple[str, str, tuple[Any, ...]]]:
    """Every value in ``value`` that SWF's model describes: (its path for messages, its
    shape, the keys that reach it)."""
    shape = _shapes()[shape_name]
    found: list[tuple[str, str, tuple[Any, ...]]] = [(path, shape_name, ())]
    if shape["type"] == "structure" and isinstance(value, dict):
        for member, spec in shape["members"].items():
            if value.get(member) is not None:
                for inner, name, keys in _leaves(value[member], spec["shape"], f"{path}.{member}"):
                    found.append((inner, name, (member, *keys)))
    elif shape["type"] == "list" and isinstance(value, list):
        for index, item in enumerate(value):
            for inner, name, keys in _leaves(item, shape["member"]["shape"], f"{path}[{index}]"):
                found.append((inner, name, (index, *keys)))
    return found


WRONG_TYPES = {
    "string": [42, 1.5, True, [], {"a": 1}],
    "integer": ["7", 1.5, True, [4], {}],
    "long": ["7", 1.5, True, [4], {}],
    "boolean": ["yes", 1, []],
    "structure": ["x", 3, [1]],
    "list": ["x", 3, {"a": 1}],
    "timestamp": [[], {}, True],
}
DURATIONS = ["-5", "abc", "1.5", " 5", "5s", "", "²"]


def _wrong_values(shape_name: str) -> list[Any]:
    """Values SWF could not have written where ``shape_name`` belongs."""
    shape = _shapes()[shape_name]
    kind = shape["type"]
    values = list(WRONG_TYPES.get(kind, []))
    if kind == "string":
        if "max" in shape:
            values.append("x" * (shape["max"] + 1))
        if shape.get("min", 0) >= 1:
            values.append("")
        if "enum" in shape:
            values.append("NOT_ONE_OF_THEM")
        if shape_name.startswith("DurationInSeconds"):
            values += DURATIONS if shape_name == "DurationInSeconds" else DURATIONS[:-2]
        if shape_name == "TaskPriority":
            values += ["abc", str(2**31), "1e3"]
    elif kind == "integer":
        values += [2**31, -(2**31) - 1] + ([-1] if shape.get("min", -1) >= 0 else [])
    elif kind == "long":
        values += [2**63, 10**30, -(2**63) - 1]
    return values


DECODED_PAYLOADS = {
    # What the decider decodes: the code's input, signals, results, side effects' values.
    "WorkflowExecutionStarted": "input",
    "WorkflowExecutionSignaled": "input",
    "ActivityTaskCompleted": "result",
    "ChildWorkflowExecutionCompleted": "result",
    "LambdaFunctionCompleted": "result",
    "ActivityTaskScheduled": "input",
    "WorkflowExecutionCompleted": "result",
}
MALFORMED_JSON = ["{not json", "[1,", '{"a": }', "nan", "'single'", '"unterminated']


def _attributes_key(event: dict[str, Any]) -> str:
    kind: str = event["eventType"]
    return kind[0].lower() + kind[1:] + "EventAttributes"


@st.composite
def wrong_value(draw: st.DrawFn) -> tuple[Path, dict[str, Any], str, str]:
    """A recorded history with one value SWF could not have written; the field's path for
    messages; and how the event is named (``event 7`` or ``event #7`` by position)."""
    path = draw(st.sampled_from(corpus().files))
    document = copy.deepcopy(corpus().documents[path])
    events: list[dict[str, Any]] = document["events"]
    index = draw(st.integers(0, len(events) - 1))
    event = events[index]
    key = _attributes_key(event)
    member = _shapes()["HistoryEvent"]["members"][key]["shape"]
    kind = draw(st.sampled_from(["leaf", "leaf", "leaf", "payload", "event id", "execution"]))
    if kind == "event id":
        event["eventId"] = draw(st.sampled_from([10**30, 2**63, 0, -3, "5", 2.0]))
        return path, document, "eventId", f"event #{index + 1}"
    if kind == "execution":
        document["workflowExecution"] = draw(
            st.sampled_from(
                [
                    {"workflowId": 1, "runId": 2},
                    {"workflowId": "w", "runId": 2},
                    {"workflowId": "w"},
                    {"workflowId": "", "runId": "r"},
                    {"workflowId": "w", "runId": "r" * 65},
                    [],
                    "w",
                ]
            )
        )
        return path, document, "workflowExecution", ""
    payloads = [(i, e) for i, e in enumerate(events) if DECODED_PAYLOADS.get(e["eventType"])]
    if kind == "payload" and payloads:
        index, event = draw(st.sampled_from(payloads))
        field = DECODED_PAYLOADS[event["eventType"]]
        event[_attributes_key(event)][field] = draw(st.sampled_from(MALFORMED_JSON))
        return path, document, f"{_attributes_key(event)}.{field}", f"event {event['eventId']}"
    leaf_path, shape_name, keys = draw(st.sampled_from(_leaves(event[key], member, key)))
    value = draw(st.sampled_from(_wrong_values(shape_name)))
    if not keys:
        event[key] = value
    else:
        _parent(event[key], keys)[keys[-1]] = value
    return path, document, leaf_path, f"event {event['eventId']}"


@settings(settings.get_profile("aioswf-faults"), max_examples=cases(300, 10_000))
@given(wrong_value())
def test_a_value_swf_could_not_have_written_is_named(
    case: tuple[Path, dict[str, Any], str, str],
) -> None:
    path, document, field, event = case
    result = replay(path, document)
    assert isinstance(result.error, HistoryError), repr(result.error)
    message = str(result.error)
    assert field in message, message
    assert event in message, message
    assert f"{field} {field}" not in message, message


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


@pytest.mark.parametrize("stamp", [True, [1], {"t": 1}, "yesterday"])
def test_a_timestamp_that_is_no_time_names_the_history_once(stamp: Any) -> None:
    path = HISTORIES / "example_quickstart__order-o-1.json"
    document = copy.deepcopy(corpus().documents[path])
    document["events"][2]["eventTimestamp"] = stamp
    result = replay(path, document)
    assert isinstance(result.error, HistoryError)
    message = str(result.error)
    assert "eventTimestamp is not a time" in message, message
    label = message.split(": ", 1)[0]
    assert message.count(label + ": ") == 1, message


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


REMINDER = HISTORIES / "example_workflows_basics__reminder.json"
ORDER = HISTORIES / "example_quickstart__order-o-1.json"


def _first(document: dict[str, Any], kind: str) -> dict[str, Any]:
    event: dict[str, Any] = next(e for e in document["events"] if e["eventType"] == kind)
    return event


@pytest.mark.parametrize(
    ("history", "kind", "member", "value", "expected"),
    [
        (ORDER, "ActivityTaskCompleted", "result", "{not json", "result is not valid JSON"),
        (
            REMINDER,
            "TimerStarted",
            "startToFireTimeout",
            "-5",
            "startToFireTimeout must be whole seconds (0 or more), not '-5'",
        ),
        (
            REMINDER,
            "TimerStarted",
            "startToFireTimeout",
            "abc",
            "startToFireTimeout must be whole seconds (0 or more), not 'abc'",
        ),
    ],
)
def test_the_issues_malformed_values_are_history_errors(
    history: Path, kind: str, member: str, value: str, expected: str
) -> None:
    document = copy.deepcopy(corpus().documents[history])
    event = _first(document, kind)
    event[_attributes_key(event)][member] = value
    result = replay(history, document)
    assert isinstance(result.error, HistoryError), repr(result.error)
    assert f"event {event['eventId']} ({kind}): {_attributes_key(event)}.{expected}" in str(
        result.error
    )


def test_an_event_id_past_swf_range_is_a_history_error() -> None:
    document = copy.deepcopy(corpus().documents[ORDER])
    _first(document, "ActivityTaskCompleted")["eventId"] = 10**30
    result = replay(ORDER, document)
    assert isinstance(result.error, HistoryError), repr(result.error)
    assert "eventId must be at most 9223372036854775807, not 1000000000" in str(result.error)


@pytest.mark.parametrize(
    ("execution", "expected"),
    [
        ({"workflowId": 1, "runId": 2}, "workflowExecution.workflowId must be a string, not 1"),
        ([1], "workflowExecution must be an object, not [1]"),
        ({"workflowId": "w"}, "workflowExecution.runId is missing"),
    ],
)
def test_a_wrong_workflow_execution_is_refused_once_named(execution: Any, expected: str) -> None:
    document = copy.deepcopy(corpus().documents[ORDER])
    document["workflowExecution"] = execution
    result = replay(ORDER, document)
    assert isinstance(result.error, HistoryError), repr(result.error)
    assert str(result.error) == f"history: {expected}"


def test_the_replay_command_prints_the_replayers_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from aioswf.cli import main

    document = copy.deepcopy(corpus().documents[REMINDER])
    event = _first(document, "TimerStarted")
    event["timerStartedEventAttributes"]["startToFireTimeout"] = "-5"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    result = corpus().replayers[REMINDER].replay_result(broken)
    assert main(["replay", str(broken), "--workflows", "examples.workflows_basics"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert f"FAIL {broken} ({result.workflow_type}): HistoryError: {result.error}" in lines


class _Strict(DataConverter):
    """An application's converter that refuses some JSON in its own way."""

    def decode(self, data: str | None, hint: Any = Any, *, what: str = "payload") -> Any:
        value = super().decode(data, hint, what=what)
        if value == "refused":
            raise ValueError("this application never writes 'refused'")
        return value


def test_a_converter_failing_its_own_way_is_named_and_replay_all_goes_on() -> None:
    document = copy.deepcopy(corpus().documents[ORDER])
    event = _first(document, "ActivityTaskCompleted")
    event["activityTaskCompletedEventAttributes"]["result"] = '"refused"'
    replayer = Replayer([importlib.import_module("examples.quickstart")], converter=_Strict())
    broken, good = replayer.replay_all([document, corpus().documents[ORDER]])
    assert isinstance(broken.error, HistoryError), repr(broken.error)
    assert (
        f"event {event['eventId']} (ActivityTaskCompleted): activityTaskCompletedEventAttributes"
        ".result cannot be decoded by the converter: ValueError: this application never writes"
    ) in str(broken.error)
    assert good.ok, good.error
