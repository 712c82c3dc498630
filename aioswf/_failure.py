"""The wire form of a failure: how an exception travels through SWF's reason and details.

SWF gives a failed activity, workflow or child a ``reason`` (256 characters) and ``details``
(32,768). aioswf puts the exception's type name in the reason and a small JSON object in the
details, so the other side can rebuild the type name, message, details and traceback. Failures
written by other tools (plain strings) are read as a message.
"""

from __future__ import annotations

import json
import traceback as tb
from dataclasses import dataclass
from typing import Any

from aioswf.converter import MAX_DATA_LENGTH, MAX_REASON_LENGTH, DataConverter, truncate
from aioswf.exceptions import ApplicationError, PayloadError

_MARK = "aioswf.failure"


@dataclass(frozen=True, slots=True)
class Failure:
    """What is known of an exception once it has crossed SWF."""

    type_name: str
    message: str
    details: tuple[Any, ...] = ()
    traceback: str = ""
    non_retryable: bool = False

    @classmethod
    def from_exception(cls, exc: BaseException) -> Failure:
        """The failure that ``exc`` becomes; ``ApplicationError`` keeps its type and details."""
        trace = "".join(tb.format_exception(exc))
        if isinstance(exc, ApplicationError):
            return cls(
                type_name=exc.type or type(exc).__name__,
                message=exc.message,
                details=exc.details,
                traceback=trace,
                non_retryable=exc.non_retryable,
            )
        return cls(type_name=type(exc).__name__, message=str(exc), traceback=trace)

    def encode(self, converter: DataConverter) -> tuple[str, str]:
        """``(reason, details)`` within SWF's limits: the traceback is cut first, then the rest."""
        reason = truncate(self.type_name, MAX_REASON_LENGTH)
        try:
            details_value = json.loads(converter.encode(list(self.details)))
        except PayloadError:
            details_value = [repr(d) for d in self.details]
        body: dict[str, Any] = {
            _MARK: 1,
            "message": self.message,
            "details": details_value,
            "traceback": self.traceback,
            "non_retryable": self.non_retryable,
        }
        text = json.dumps(body)
        if len(text) > MAX_DATA_LENGTH:
            overflow = len(text) - MAX_DATA_LENGTH
            body["traceback"] = truncate(
                self.traceback, max(len(self.traceback) - overflow - 64, 200)
            )
            text = json.dumps(body)
        if len(text) > MAX_DATA_LENGTH:
            body["details"] = []
            body["message"] = truncate(self.message, MAX_DATA_LENGTH // 2)
            body["traceback"] = truncate(self.traceback, MAX_DATA_LENGTH // 4)
            text = json.dumps(body)
        return reason, text

    @classmethod
    def decode(cls, reason: str | None, details: str | None) -> Failure:
        """The failure behind SWF's ``reason`` and ``details``, whoever wrote them."""
        type_name = reason or "UnknownFailure"
        if not details:
            return cls(type_name=type_name, message="")
        try:
            body = json.loads(details)
        except json.JSONDecodeError:
            return cls(type_name=type_name, message=details)
        if not isinstance(body, dict) or _MARK not in body:
            return cls(type_name=type_name, message=details)
        return cls(
            type_name=type_name,
            message=str(body.get("message", "")),
            details=tuple(body.get("details") or ()),
            traceback=str(body.get("traceback", "")),
            non_retryable=bool(body.get("non_retryable", False)),
        )
