"""Checking that a history is one SWF could have written, before it is replayed.

A recorded history is data from outside (a file, an edited copy, another tool's output).
Rather than let a missing member or a wrong type surface as a ``KeyError`` deep in the
decider, every event is checked against SWF's own description of history events (botocore's
service model: the members each event's attributes require, and their types), and the ids
events refer to must name earlier events of the right kind. The first problem is raised as
:class:`~aioswf.exceptions.HistoryError`, naming the event and the field.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from botocore.loaders import Loader

from aioswf.exceptions import HistoryError

_REFERENCE_KINDS = {
    "scheduledEventId": ("Scheduled",),
    "startedEventId": ("Started",),
    "initiatedEventId": ("Initiated",),
    "decisionTaskCompletedEventId": ("DecisionTaskCompleted",),
    "latestCancelRequestedEventId": ("CancelRequested",),
    "previousStartedEventId": ("Started",),
}
"""What kind of event each reference member must name (by the end of its type's name)."""


@functools.cache
def _shapes() -> dict[str, Any]:
    shapes: dict[str, Any] = Loader().load_service_model("swf", "service-2")["shapes"]
    return shapes


def event_types() -> frozenset[str]:
    """Every history event type SWF defines."""
    return frozenset(_shapes()["EventType"]["enum"])


def check_event_ids(events: Sequence[Any], history: str) -> None:
    """Check that every item is an event with a positive whole ``eventId``."""
    for index, event in enumerate(events):
        if not isinstance(event, Mapping):
            raise HistoryError(history, f"item {index + 1} is not an event: {_short(event)}")
        event_id = event.get("eventId")
        if isinstance(event_id, bool) or not isinstance(event_id, int) or event_id < 1:
            raise HistoryError(
                history,
                f"must be a positive whole number, not {_short(event_id)}",
                event_id=f"#{index + 1}",
                event_type=_type_of(event),
                field="eventId",
            )


def check_events(events: Sequence[Mapping[str, Any]], history: str) -> None:
    """Check ``events`` (oldest first) against SWF's model of history events.

    Raises:
        HistoryError: naming the first event and field that SWF could not have written.
    """
    shapes = _shapes()
    members: dict[str, Any] = shapes["HistoryEvent"]["members"]
    known = event_types()
    seen: dict[int, str] = {}
    for event in events:
        event_id = int(event["eventId"])
        kind = event.get("eventType")
        if event_id in seen:
            raise HistoryError(history, "appears twice", event_id=event_id, field="eventId")
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
    for member, suffixes in _REFERENCE_KINDS.items():
        target = attributes.get(member)
        if not isinstance(target, int) or target == 0:
            continue  # absent, or 0: "not started"
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


def _check(shape_name: str, value: Any, path: str) -> tuple[str, str] | None:
    """The first (field, problem) of ``value`` against the model's shape, or ``None``."""
    shape = _shapes()[shape_name]
    kind = shape["type"]
    if kind == "structure":
        if not isinstance(value, Mapping):
            return path, f"must be an object, not {_short(value)}"
        for required in shape.get("required", ()):
            if value.get(required) is None:
                return f"{path}.{required}", "is missing"
        for member, spec in shape["members"].items():
            if value.get(member) is not None:
                problem = _check(spec["shape"], value[member], f"{path}.{member}")
                if problem is not None:
                    return problem
        return None
    if kind == "list":
        if not isinstance(value, list):
            return path, f"must be a list, not {_short(value)}"
        for index, item in enumerate(value):
            problem = _check(shape["member"]["shape"], item, f"{path}[{index}]")
            if problem is not None:
                return problem
        return None
    return _check_scalar(kind, shape, value, path)


def _check_scalar(
    kind: str, shape: Mapping[str, Any], value: Any, path: str
) -> tuple[str, str] | None:
    if kind == "string":
        if not isinstance(value, str):
            return path, f"must be a string, not {_short(value)}"
        if "enum" in shape and value not in shape["enum"]:
            return path, f"must be one of {', '.join(shape['enum'])}, not {_short(value)}"
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return path, f"must be a whole number, not {_short(value)}"
    elif kind == "boolean":
        if not isinstance(value, bool):
            return path, f"must be true or false, not {_short(value)}"
    elif kind == "timestamp" and not isinstance(value, (int, float, str, datetime)):
        return path, f"must be a time, not {_short(value)}"
    return None


def _type_of(event: Mapping[str, Any]) -> str | None:
    kind = event.get("eventType")
    return kind if isinstance(kind, str) else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
