"""Checking that a history is one SWF could have written, before it is replayed.

A recorded history is data from outside (a file, an edited copy, another tool's output).
Rather than let a missing member, a wrong type or a value out of range surface as a
``KeyError`` deep in the decider, or as the code deciding otherwise, everything the decider
reads is checked here, in one pass:

- every event against SWF's own description of history events (botocore's service model):
  the members each event's attributes require, their types, and the ranges the model gives
  (string lengths, whole numbers that fit their type) or SWF documents (durations are whole
  seconds, ``NONE`` where optional; a task priority is a 32-bit whole number);
- event ids: 1, 2, 3, … in order, each once, and the ids events refer to name earlier events
  of the right kind;
- the payloads the decider decodes (inputs, results, side effects' values) through the
  replaying converter: a payload it cannot read would fail the code, and show as the code
  deciding otherwise.

The first problem is raised as :class:`~aioswf.exceptions.HistoryError`, naming the event
and the field.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.loaders import Loader

from aioswf._decider.versioning import SIDE_EFFECT_MARKER
from aioswf._envelope import unwrap
from aioswf.exceptions import HistoryError, PayloadConversionError, PayloadError

if TYPE_CHECKING:
    from aioswf.converter import DataConverter

_REFERENCE_KINDS = {
    "scheduledEventId": ("Scheduled",),
    "startedEventId": ("Started",),
    "initiatedEventId": ("Initiated",),
    "decisionTaskCompletedEventId": ("DecisionTaskCompleted",),
    "latestCancelRequestedEventId": ("CancelRequested",),
    "previousStartedEventId": ("Started",),
}
"""What kind of event each reference member must name (by the end of its type's name)."""

_WHOLE_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
"""The values SWF's whole-number types hold (Java's ``int`` and ``long``)."""

_SECONDS = re.compile(r"[0-9]+")
_PRIORITY = re.compile(r"[+-]?[0-9]+")
_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    # shape: (what the text must match, what to say if it does not)
    "DurationInSeconds": (_SECONDS, "must be whole seconds (0 or more)"),
    "DurationInSecondsOptional": (_SECONDS, "must be whole seconds (0 or more) or NONE"),
    "TaskPriority": (_PRIORITY, "must be a whole number"),
}
"""String shapes whose text SWF documents a format for (the model says only "string")."""

_PAYLOADS: dict[str, tuple[str, ...]] = {
    # Decoded for the code: what the run is given.
    "WorkflowExecutionStarted": ("input",),
    "WorkflowExecutionSignaled": ("input",),
    "ActivityTaskCompleted": ("result",),
    "ChildWorkflowExecutionCompleted": ("result",),
    "LambdaFunctionCompleted": ("result",),
    "MarkerRecorded": ("details",),
    # Decoded to be compared with what the code decides again.
    "ActivityTaskScheduled": ("input",),
    "StartChildWorkflowExecutionInitiated": ("input",),
    "SignalExternalWorkflowExecutionInitiated": ("input",),
    "LambdaFunctionScheduled": ("input",),
    "WorkflowExecutionCompleted": ("result",),
    "WorkflowExecutionContinuedAsNew": ("input",),
}
"""The payloads the decider reads as a converter wrote them, by event type. Failure details
are read leniently (any text is a message), so they are not checked."""


@functools.cache
def _shapes() -> dict[str, Any]:
    shapes: dict[str, Any] = Loader().load_service_model("swf", "service-2")["shapes"]
    return shapes


def event_types() -> frozenset[str]:
    """Every history event type SWF defines."""
    return frozenset(_shapes()["EventType"]["enum"])


def check_event_ids(events: Sequence[Any], history: str) -> None:
    """Check that every item is an event with a positive whole ``eventId`` SWF could give."""
    highest = _WHOLE_RANGES["long"][1]
    for index, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise HistoryError(history, f"item {index + 1} is not an event: {_short(event)}")
        event_id = event.get("eventId")
        problem = None
        if isinstance(event_id, bool) or not isinstance(event_id, int) or event_id < 1:
            problem = f"must be a positive whole number, not {_short(event_id)}"
        elif event_id > highest:
            problem = f"must be at most {highest}, not {_short(event_id)}"
        if problem is not None:
            raise HistoryError(
                history,
                problem,
                event_id=f"#{index + 1}",
                event_type=_type_of(event),
                field="eventId",
            )


def check_execution(value: Any, history: str) -> None:
    """Check a history file's ``workflowExecution`` (what seeds the run's random numbers)."""
    problem = _check("WorkflowExecution", value, "workflowExecution")
    if problem is not None:
        field, text = problem
        raise HistoryError(history, text, field=field)


def check_events(events: Sequence[Mapping[str, Any]], history: str) -> None:
    """Check ``events`` (oldest first) against SWF's model of history events.

    Raises:
        HistoryError: naming the first event and field that SWF could not have written.
    """
    shapes = _shapes()
    members: dict[str, Any] = shapes["HistoryEvent"]["members"]
    known = event_types()
    seen: dict[int, str] = {}
    expected = 1
    for event in events:
        event_id = int(event["eventId"])
        kind = event.get("eventType")
        if event_id in seen:
            raise HistoryError(history, "appears twice", event_id=event_id, field="eventId")
        if event_id != expected:
            # SWF numbers a run's events 1, 2, 3, … : a gap is an event left out, and the
            # events after it would be read as happening in other decision tasks.
            raise HistoryError(
                history,
                f"follows event {expected - 1}: events are numbered 1, 2, 3, … without gaps "
                f"(event {expected} is missing)",
                event_id=event_id,
                event_type=kind if isinstance(kind, str) else None,
                field="eventId",
            )
        expected += 1
        if not isinstance(kind, str) or kind not in known:
            raise HistoryError(
                history,
                f"is not an SWF event type: {_short(kind)}",
                event_id=event_id,
                field="eventType",
            )
        key = kind[0].lower() + kind[1:] + "EventAttributes"
        attributes = event.get(key)
        if attributes is None:
            raise HistoryError(history, "is missing", event_id=event_id, event_type=kind, field=key)
        problem = _check(members[key]["shape"], attributes, key)
        if problem is not None:
            field, text = problem
            raise HistoryError(history, text, event_id=event_id, event_type=kind, field=field)
        _check_references(attributes, key, event_id, kind, seen, history)
        seen[event_id] = kind


def _check_references(
    attributes: Mapping[str, Any],
    key: str,
    event_id: int,
    kind: str,
    seen: Mapping[int, str],
    history: str,
) -> None:
    for member, target in attributes.items():
        suffixes = _REFERENCE_KINDS.get(member)
        if suffixes is None or not isinstance(target, int) or target == 0:
            continue  # no reference, or 0: "not started"
        named = seen.get(target)
        if named is None:
            raise HistoryError(
                history,
                f"names event {target}, which is not an earlier event of this history",
                event_id=event_id,
                event_type=kind,
                field=f"{key}.{member}",
            )
        if not named.endswith(suffixes):
            raise HistoryError(
                history,
                f"names event {target}, a {named}, where a *{suffixes[0]} event belongs",
                event_id=event_id,
                event_type=kind,
                field=f"{key}.{member}",
            )


Problem = tuple[str, str]
"""Where in the value checked (``""``: itself, ``.member``, ``[2].member``…) and what is wrong."""
Checker = Callable[[Any], Problem | None]


def _check(shape_name: str, value: Any, path: str) -> tuple[str, str] | None:
    """The first (field, problem) of ``value`` against the model's shape, or ``None``."""
    problem = _checker(shape_name)(value)
    return None if problem is None else (path + problem[0], problem[1])


@functools.cache
def _checker(shape_name: str) -> Checker:
    """The check of one shape of the model, built once: a replay checks every event, and
    reading the model's dictionaries again for each value would cost more than the replay's
    own reading of them. Paths are only spelt out for the problem found."""
    shape = _shapes()[shape_name]
    kind = shape["type"]
    if kind == "structure":
        return _structure_checker(shape)
    if kind == "list":
        return _list_checker(shape)
    if kind == "string":
        return _string_checker(shape_name, shape)
    if kind in _WHOLE_RANGES:
        return _whole_checker(kind, shape)
    if kind == "boolean":
        return lambda value: (
            None if isinstance(value, bool) else ("", f"must be true or false, not {_short(value)}")
        )
    if kind == "timestamp":
        return lambda value: (
            None
            if isinstance(value, int | float | str | datetime)
            else ("", f"must be a time, not {_short(value)}")
        )
    return lambda value: None


def _structure_checker(shape: Mapping[str, Any]) -> Checker:
    required = tuple(shape.get("required", ()))
    members = {name: spec["shape"] for name, spec in shape["members"].items()}

    def check(value: Any) -> Problem | None:
        if not isinstance(value, Mapping):
            return "", f"must be an object, not {_short(value)}"
        for name in required:
            if value.get(name) is None:
                return f".{name}", "is missing"
        for name, item in value.items():
            inner = members.get(name)
            if inner is not None and item is not None:
                problem = _checker(inner)(item)
                if problem is not None:
                    return f".{name}{problem[0]}", problem[1]
        return None

    return check


def _list_checker(shape: Mapping[str, Any]) -> Checker:
    member = shape["member"]["shape"]

    def check(value: Any) -> Problem | None:
        if not isinstance(value, list):
            return "", f"must be a list, not {_short(value)}"
        item_check = _checker(member)
        for index, item in enumerate(value):
            problem = item_check(item)
            if problem is not None:
                return f"[{index}]{problem[0]}", problem[1]
        return None

    return check


def _string_checker(shape_name: str, shape: Mapping[str, Any]) -> Checker:
    choices = tuple(shape.get("enum", ()))
    allowed = frozenset(choices)
    longest: int | None = shape.get("max")
    shortest: int = shape.get("min", 0)
    form = _FORMATS.get(shape_name)

    def check(value: Any) -> Problem | None:
        if not isinstance(value, str):
            return "", f"must be a string, not {_short(value)}"
        if allowed and value not in allowed:
            return "", f"must be one of {', '.join(choices)}, not {_short(value)}"
        if longest is not None and len(value) > longest:
            return "", f"is {len(value)} characters long; SWF allows at most {longest}"
        if len(value) < shortest:
            return "", "must not be empty"
        if form is None or (value == "NONE" and shape_name == "DurationInSecondsOptional"):
            return None
        pattern, rule = form
        if pattern.fullmatch(value) is None:
            return "", f"{rule}, not {_short(value)}"
        if shape_name == "TaskPriority" and not -(2**31) <= int(value) < 2**31:
            return "", f"must be from {-(2**31)} to {2**31 - 1}, not {_short(value)}"
        return None

    return check


def _whole_checker(kind: str, shape: Mapping[str, Any]) -> Checker:
    low, high = _WHOLE_RANGES[kind]
    low = max(low, shape.get("min", low))

    def check(value: Any) -> Problem | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "", f"must be a whole number, not {_short(value)}"
        if not low <= value <= high:
            return "", f"must be from {low} to {high}, not {_short(value)}"
        return None

    return check


def check_payloads(
    events: Sequence[Mapping[str, Any]], history: str, converter: DataConverter
) -> None:
    """Check that ``converter`` can read every payload the decider will decode.

    A payload it cannot read at all (a codec it lacks, a store it cannot reach) is left to
    the replayer's own message; this is for payloads that are not what a converter writes
    (``{not json``).

    Raises:
        HistoryError: naming the first event and field whose payload cannot be read.
    """
    for event in events:
        kind = event["eventType"]
        members = _PAYLOADS.get(kind)
        if members is None:
            continue
        key = kind[0].lower() + kind[1:] + "EventAttributes"
        attributes = event.get(key) or {}
        if kind == "MarkerRecorded" and not str(attributes.get("markerName", "")).startswith(
            SIDE_EFFECT_MARKER
        ):
            continue  # the details of other markers are the application's, not decoded
        for member in members:
            field = f"{key}.{member}"
            problem = _payload_problem(attributes.get(member), converter, field)
            if problem is not None:
                raise HistoryError(
                    history, problem, event_id=event["eventId"], event_type=kind, field=field
                )


def _payload_problem(value: Any, converter: DataConverter, field: str) -> str | None:
    if not isinstance(value, str):
        return None
    text, _ = unwrap(value)
    try:
        json_text = converter.payload_json(text)
    except PayloadError:
        return None
    try:
        converter.decode(json_text, what=field)
    except PayloadConversionError as error:
        message = str(error)
        return message.removeprefix(f"{field} ") if message.startswith(field) else message
    except Exception as error:  # a converter of the application's, failing its own way
        return f"cannot be decoded by the converter: {type(error).__name__}: {error}"
    return None


def _type_of(event: Mapping[str, Any]) -> str | None:
    kind = event.get("eventType")
    return kind if isinstance(kind, str) else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
