"""The SWF service model from botocore, and request validation derived from it.

The constraints (required members, lengths, ranges, enums) are read from botocore's own model
so they cannot drift from what clients are generated from.  A few rules the model states only
in prose are applied too: names whose documentation forbids ``:``, ``/``, ``|``, control
characters and the literal ``arn`` (and, where it says so, leading or trailing whitespace),
and the syntax of durations and task priorities.

Ids chosen at run time (``workflowId``, ``activityId``, ``timerId``) carry the same wording in
the model, but AWS accepts ``:`` in them: its own Flow framework names child executions
``"<runId>:<n>"``. They keep every other rule.

A member of the wrong JSON type fails deserialization before any constraint is checked, so it
is answered with ``SerializationException``, as AWS's JSON services do; validation errors are
worded as AWS words them, each with the offending value, after the ``"N validation error(s)
detected: "`` prefix.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from botocore.loaders import Loader

from aioswf.local.faults import SerializationError, ValidationError

logger = logging.getLogger(__name__)

_FORBIDDEN_IN_NAME = re.compile(r"[:/|\x00-\x1f\x7f-\x9f]")
_FORBIDDEN_IN_ID = re.compile(r"[/|\x00-\x1f\x7f-\x9f]")
_DURATION_SHAPES = {"DurationInSeconds", "DurationInSecondsOptional", "DurationInDays"}
# SWF's hard limit on any duration in seconds (timeouts, timers): one year.  The model only
# says "an integer greater than or equal to 0"; the quotas page says timeouts "can be set up
# to 31,536,000 seconds", so a larger value is refused like any other constraint violation.
MAX_SECONDS = 31_536_000
_MAX_ERRORS = 10  # AWS reports "N validation errors detected" and lists a handful of them
_JAVA_INT = 2**31


class ServiceModel:
    """The SWF model as loaded from botocore, with a validator for each operation's input."""

    def __init__(self) -> None:
        model: dict[str, Any] = Loader().load_service_model("swf", "service-2")
        self.metadata: dict[str, Any] = model["metadata"]
        self.operations: dict[str, Any] = model["operations"]
        self.shapes: dict[str, Any] = model["shapes"]
        self._id_members = self._find_identifier_members()
        self._trimmed_members = self._find_members("must not start or end with whitespace")

    @property
    def target_prefix(self) -> str:
        """The ``X-Amz-Target`` prefix, ``SimpleWorkflowService``."""
        return str(self.metadata["targetPrefix"])

    def input_shape(self, operation: str) -> str:
        """The name of the input shape of ``operation``."""
        return str(self.operations[operation]["input"]["shape"])

    def enum(self, shape: str) -> list[str]:
        """The allowed values of an enum shape."""
        return list(self.shapes[shape]["enum"])

    def validate(self, operation: str, params: dict[str, Any]) -> None:
        """Check a request against the model.

        Raises:
            ValidationError: listing what is wrong, worded as AWS words it.
        """
        errors: list[str] = []
        self._check_structure(self.input_shape(operation), params, "", errors)
        if errors:
            raise ValidationError(_summarise(errors))

    def _find_identifier_members(self) -> set[tuple[str, str]]:
        return self._find_members("literal string")

    def _find_members(self, wording: str) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for shape_name, shape in self.shapes.items():
            for member, spec in shape.get("members", {}).items():
                if wording in spec.get("documentation", ""):
                    found.add((shape_name, member))
        return found

    def _check(self, shape_name: str, value: Any, path: str, errors: list[str]) -> None:
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            if not isinstance(value, dict):
                raise _wrong_type(value, "a structure", path)
            self._check_structure(shape_name, value, path, errors)
        elif kind == "list":
            self._check_list(shape, value, path, errors)
        elif kind == "string":
            self._check_string(shape_name, shape, value, path, errors)
        elif kind in ("integer", "long"):
            self._check_number(shape, value, path, errors)
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise _wrong_type(value, "a Boolean", path)
        elif kind == "timestamp" and (
            isinstance(value, bool) or not isinstance(value, (int, float))
        ):
            raise _wrong_type(value, "a Date", path)

    def _check_structure(
        self, shape_name: str, value: dict[str, Any], path: str, errors: list[str]
    ) -> None:
        shape = self.shapes[shape_name]
        members: dict[str, Any] = shape.get("members", {})
        for required in shape.get("required", []):
            if value.get(required) is None:
                errors.append(
                    f"Value null at '{_join(path, required)}' failed to satisfy "
                    "constraint: Member must not be null"
                )
        for member, member_value in value.items():
            spec = members.get(member)
            if spec is None or member_value is None:
                continue  # unknown members are ignored, as the JSON protocol does
            member_path = _join(path, member)
            self._check(spec["shape"], member_value, member_path, errors)
            if (shape_name, member) in self._id_members:
                _check_identifier(member_value, member_path, member.endswith("Id"), errors)
            if (shape_name, member) in self._trimmed_members:
                _check_trimmed(member_value, member_path, errors)

    def _check_list(self, shape: dict[str, Any], value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, list):
            raise _wrong_type(value, "a list", path)
        _check_bounds(len(value), value, shape, path, "length", errors)
        for index, item in enumerate(value):
            self._check(shape["member"]["shape"], item, f"{path}.{index + 1}.member", errors)

    def _check_string(
        self, shape_name: str, shape: dict[str, Any], value: Any, path: str, errors: list[str]
    ) -> None:
        if not isinstance(value, str):
            raise _wrong_type(value, "a String", path)
        _check_bounds(len(value), value, shape, path, "length", errors)
        allowed = shape.get("enum")
        if allowed is not None and value not in allowed:
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(allowed)}]"
            )
        if shape_name in _DURATION_SHAPES:
            _check_duration(shape_name, value, path, errors)
        elif shape_name == "TaskPriority":
            _check_priority(value, path, errors)

    def _check_number(
        self, shape: dict[str, Any], value: Any, path: str, errors: list[str]
    ) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(value, "an Integer", path)
        _check_bounds(value, value, shape, path, "value", errors)


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _show(value: Any) -> str:
    """A value as AWS's messages print it (Java's ``toString`` of lists and numbers)."""
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_token(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN_VALUE"
    if isinstance(value, (int, float)):
        return "NUMBER_VALUE"
    return "STRING_VALUE"


def _wrong_type(value: Any, expected: str, path: str) -> SerializationError:
    """The deserialization fault for ``value`` where the model wants ``expected``.

    Worded as AWS's JSON deserializer words it (unverified against SWF itself), with the
    member's path added so that the mistake can be found.
    """
    if isinstance(value, dict):
        found = "Start of structure or map found where not expected"
    elif isinstance(value, list):
        found = "Start of list found where not expected"
    else:
        found = f"{_json_token(value)} can not be converted to {expected}"
    return SerializationError(f"{found} (at '{path}')")


def _check_bounds(
    amount: int, value: Any, shape: dict[str, Any], path: str, what: str, errors: list[str]
) -> None:
    low, high = shape.get("min"), shape.get("max")
    if low is not None and amount < low:
        errors.append(
            f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
            f"Member must have {what} greater than or equal to {low}"
        )
    if high is not None and amount > high:
        errors.append(
            f"Value '{_show(value)}' at '{path}' failed to satisfy constraint: "
            f"Member must have {what} less than or equal to {high}"
        )


def _check_identifier(value: Any, path: str, is_id: bool, errors: list[str]) -> None:
    text, path = _named(value, path)
    if not isinstance(text, str):
        return
    forbidden = _FORBIDDEN_IN_ID if is_id else _FORBIDDEN_IN_NAME
    if forbidden.search(text) or text == "arn":
        what = "'/', '|'" if is_id else "':', '/', '|'"
        errors.append(
            f"Value '{text}' at '{path}' failed to satisfy constraint: Member must not "
            f"contain {what} or control characters, or be the literal string 'arn'"
        )


def _named(value: Any, path: str) -> tuple[Any, str]:
    """The text a name rule applies to: the value, or the ``name`` of a TaskList."""
    if isinstance(value, dict):
        return value.get("name"), f"{path}.name"
    return value, path


def _check_trimmed(value: Any, path: str, errors: list[str]) -> None:
    text, path = _named(value, path)
    if isinstance(text, str) and text != text.strip():
        errors.append(
            f"Value '{text}' at '{path}' failed to satisfy constraint: "
            "Member must not start or end with whitespace"
        )


def _check_duration(shape_name: str, value: str, path: str, errors: list[str]) -> None:
    if value == "NONE" and shape_name != "DurationInSeconds":
        return
    if not value.isdigit():
        errors.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            "Member must be a whole number of seconds"
            + ("" if shape_name == "DurationInSeconds" else " or NONE")
        )
    elif shape_name != "DurationInDays" and int(value) > MAX_SECONDS:
        errors.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            f"Member must be at most {MAX_SECONDS} seconds (one year)"
        )


def _check_priority(value: str, path: str, errors: list[str]) -> None:
    try:
        number = int(value)
    except ValueError:
        number = _JAVA_INT
    if not -_JAVA_INT <= number < _JAVA_INT:
        errors.append(
            f"Value '{value}' at '{path}' failed to satisfy constraint: "
            "Member must be an integer between -2147483648 and 2147483647"
        )


def _summarise(errors: list[str]) -> str:
    shown = errors[:_MAX_ERRORS]
    noun = "error" if len(errors) == 1 else "errors"
    return f"{len(errors)} validation {noun} detected: " + "; ".join(shown)


@functools.cache
def service_model() -> ServiceModel:
    """The process-wide, lazily loaded service model."""
    return ServiceModel()
