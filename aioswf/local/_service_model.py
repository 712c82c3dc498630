"""The SWF service model from botocore, and request validation derived from it.

The constraints (required members, lengths, ranges, enums) are read from botocore's own model
so they cannot drift from what clients are generated from.  A few rules the model states only
in prose are applied too: identifiers whose documentation forbids ``:``, ``/``, ``|``, control
characters and the literal ``arn``, and the syntax of durations and task priorities.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from botocore.loaders import Loader

from aioswf.local.faults import ValidationError

logger = logging.getLogger(__name__)

_FORBIDDEN_ID = re.compile(r"[:/|\x00-\x1f\x7f-\x9f]")
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
        found: set[tuple[str, str]] = set()
        for shape_name, shape in self.shapes.items():
            for member, spec in shape.get("members", {}).items():
                if "literal string" in spec.get("documentation", ""):
                    found.add((shape_name, member))
        return found

    def _check(self, shape_name: str, value: Any, path: str, errors: list[str]) -> None:
        shape = self.shapes[shape_name]
        kind = shape["type"]
        if kind == "structure":
            if not isinstance(value, dict):
                errors.append(f"Value at '{path}' failed to satisfy constraint: must be an object")
                return
            self._check_structure(shape_name, value, path, errors)
        elif kind == "list":
            self._check_list(shape, value, path, errors)
        elif kind == "string":
            self._check_string(shape_name, shape, value, path, errors)
        elif kind in ("integer", "long"):
            self._check_number(shape, value, path, errors)
        elif kind == "boolean":
            if not isinstance(value, bool):
                errors.append(
                    f"Value '{value}' at '{path}' failed to satisfy constraint: "
                    "Member must be a boolean"
                )
        elif kind == "timestamp" and (
            isinstance(value, bool) or not isinstance(value, (int, float))
        ):
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                "Member must be a timestamp"
            )

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
                _check_identifier(member_value, member_path, errors)

    def _check_list(self, shape: dict[str, Any], value: Any, path: str, errors: list[str]) -> None:
        if not isinstance(value, list):
            errors.append(f"Value at '{path}' failed to satisfy constraint: must be a list")
            return
        _check_bounds(len(value), shape, path, "length", errors)
        for index, item in enumerate(value):
            self._check(shape["member"]["shape"], item, f"{path}.{index + 1}.member", errors)

    def _check_string(
        self, shape_name: str, shape: dict[str, Any], value: Any, path: str, errors: list[str]
    ) -> None:
        if not isinstance(value, str):
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must be a string"
            )
            return
        _check_bounds(len(value), shape, path, "length", errors)
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
            errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: "
                "Member must be an integer"
            )
            return
        _check_bounds(value, shape, path, "value", errors)


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def _check_bounds(
    amount: int, shape: dict[str, Any], path: str, what: str, errors: list[str]
) -> None:
    low, high = shape.get("min"), shape.get("max")
    if low is not None and amount < low:
        errors.append(
            f"Value at '{path}' failed to satisfy constraint: "
            f"Member must have {what} greater than or equal to {low}"
        )
    if high is not None and amount > high:
        errors.append(
            f"Value at '{path}' failed to satisfy constraint: "
            f"Member must have {what} less than or equal to {high}"
        )


def _check_identifier(value: Any, path: str, errors: list[str]) -> None:
    text = value.get("name") if isinstance(value, dict) else value
    if not isinstance(text, str):
        return
    if _FORBIDDEN_ID.search(text) or text == "arn":
        errors.append(
            f"Value '{text}' at '{path}' failed to satisfy constraint: must not contain "
            "':', '/', '|', control characters, or be the literal string 'arn'"
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
