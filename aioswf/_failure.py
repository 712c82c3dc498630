"""The wire form of a failure: how an exception travels through SWF's reason and details.

SWF gives a failed activity, workflow or child a ``reason`` (256 characters) and ``details``
(32,768). aioswf puts the exception's type name in the reason and a small JSON object in the
details, so the other side can rebuild the type name, message, details, traceback and the
chain of causes. An aioswf outcome error (an activity or child failure, a timeout…) keeps its
class and fields, so it comes back typed. Failures written by other tools (plain strings) are
read as a message.
"""

from __future__ import annotations

import inspect
import json
import traceback as tb
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aioswf import exceptions
from aioswf.converter import MAX_DATA_LENGTH, MAX_REASON_LENGTH, DataConverter, truncate
from aioswf.exceptions import AioSWFError, ApplicationError, PayloadError

_MARK = "aioswf.failure"
_MAX_CAUSES = 8
"""How deep a cause chain is kept; deeper causes are rarely news and cost space."""
_MAX_MEMBERS = 16
"""How many members of an exception group are kept."""


@dataclass(frozen=True, slots=True)
class Failure:
    """What is known of an exception once it has crossed SWF.

    Attributes:
        type_name: the exception's type name (or ``ApplicationError.type``).
        message: its message.
        details: the values an ``ApplicationError`` carried.
        traceback: the formatted traceback where it was raised.
        non_retryable: whether it asked not to be retried.
        error_class: the aioswf exception class it can be rebuilt as, if any.
        fields: that class's constructor arguments.
        cause: the failure that caused this one (``__cause__``, or the implicit context).
    """

    type_name: str
    message: str
    details: tuple[Any, ...] = ()
    traceback: str = ""
    non_retryable: bool = False
    error_class: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)
    cause: Failure | None = None
    members: tuple[Failure, ...] = ()
    """The failures an exception group held (``BaseExceptionGroup.exceptions``)."""
    heartbeat_details: str | None = None
    """An activity's last heartbeat details (encoded), for the next attempt."""

    @classmethod
    def from_exception(cls, exc: BaseException, *, _depth: int = 0) -> Failure:
        """The failure that ``exc`` and its causes become.

        Never raises: an exception whose ``__str__`` fails is described by its ``repr``, or
        as unprintable.
        """
        trace = _traceback(exc)
        below = _cause_of(exc)
        deeper = _depth < _MAX_CAUSES
        cause = (
            cls.from_exception(below, _depth=_depth + 1) if below is not None and deeper else None
        )
        members: tuple[Failure, ...] = ()
        if isinstance(exc, BaseExceptionGroup) and deeper:
            members = tuple(
                cls.from_exception(member, _depth=_depth + 1)
                for member in exc.exceptions[:_MAX_MEMBERS]
            )
        if isinstance(exc, ApplicationError):
            return cls(
                type_name=str(exc.type or type(exc).__name__),
                message=exc.message if isinstance(exc.message, str) else error_text(exc),
                details=exc.details,
                traceback=trace,
                non_retryable=exc.non_retryable,
                cause=cause,
                members=members,
            )
        error_class, fields = _rebuildable(exc)
        return cls(
            type_name=type(exc).__name__,
            message=exc.message if isinstance(exc, BaseExceptionGroup) else error_text(exc),
            traceback=trace,
            error_class=error_class,
            fields=fields,
            cause=cause,
            members=members,
        )

    def to_exception(self) -> BaseException:
        """The exception this failure stands for, with its cause chain.

        aioswf outcome errors come back as their own class; anything else as an
        :class:`~aioswf.exceptions.ApplicationError` whose ``type`` is the original type name
        (an exception group's members, likewise rebuilt, in its ``exceptions``).
        """
        error = _rebuild(self.error_class, self.fields)
        if error is None:
            error = ApplicationError(
                self.message, *self.details, type=self.type_name, non_retryable=self.non_retryable
            )
            error.exceptions = tuple(member.to_exception() for member in self.members)
        if self.cause is not None:
            error.__cause__ = self.cause.to_exception()
        return error

    def encode(self, converter: DataConverter) -> tuple[str, str]:
        """``(reason, details)`` within SWF's limits: tracebacks are cut first, then the rest.

        The details pass through the converter's codecs and payload store like any payload;
        with a store, nothing needs cutting. Sizes are measured on the text sent, as SWF
        counts it (UTF-16 code units). Never raises: details that cannot be encoded (a codec
        fails) are replaced by a plain note saying so, without the message (the codec may be
        there to keep it private).
        """
        reason = fit(self.type_name, MAX_REASON_LENGTH)
        try:
            return reason, self._details(converter)
        except Exception as error:
            note = (
                f"the details of this {self.type_name} failure could not be encoded: "
                f"{type(error).__name__}: {error_text(error)}"
            )
            return reason, fit(note, MAX_DATA_LENGTH)

    def _details(self, converter: DataConverter) -> str:
        body = {_MARK: 1, **self._body(converter)}

        def wire() -> str:
            return converter.wire.to_wire(json.dumps(body), MAX_DATA_LENGTH)

        text = wire()
        if wire_length(text) > MAX_DATA_LENGTH:
            _drop_nested_tracebacks(body)
            text = wire()
        if wire_length(text) > MAX_DATA_LENGTH:
            overflow = wire_length(text) - MAX_DATA_LENGTH
            body["traceback"] = truncate(
                self.traceback, max(len(self.traceback) - overflow - 64, 200)
            )
            text = wire()
        keep = MAX_DATA_LENGTH // 3  # room for codecs that grow the text (base64: a third)
        while wire_length(text) > MAX_DATA_LENGTH and keep >= 64:
            # Escaped (a non-ASCII character takes up to 12), the message may still not fit:
            # keep less of it until it does.
            body.update(details=[], fields={}, cause=None, exceptions=[])
            body["message"] = truncate(self.message, keep)
            body["traceback"] = truncate(self.traceback, keep // 2)
            text = wire()
            keep //= 2
        if wire_length(text) > MAX_DATA_LENGTH:
            raise PayloadError(f"{wire_length(text)} characters even cut down")
        return text

    def _body(self, converter: DataConverter) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_name,
            "message": self.message,
            "details": _json_values(converter, list(self.details)),
            "traceback": self.traceback,
            "non_retryable": self.non_retryable,
        }
        if self.error_class:
            fields = _json_values(converter, dict(self.fields))
            if isinstance(fields, dict):
                body["class"] = self.error_class
                body["fields"] = fields
        if self.cause is not None:
            body["cause"] = self.cause._body(converter)
        if self.members:
            body["exceptions"] = [member._body(converter) for member in self.members]
        if self.heartbeat_details is not None:
            body["heartbeat_details"] = self.heartbeat_details
        return body

    @classmethod
    def decode(
        cls, reason: str | None, details: str | None, converter: DataConverter | None = None
    ) -> Failure:
        """The failure behind SWF's ``reason`` and ``details``, whoever wrote them.

        ``converter`` undoes the codecs and store of details written through one; details it
        cannot read become a message saying so.
        """
        type_name = reason or "UnknownFailure"
        if not details:
            return cls(type_name=type_name, message="")
        if converter is not None:
            try:
                details = converter.payload_json(details, what="failure details") or ""
            except PayloadError as error:
                return cls(type_name=type_name, message=f"<not readable here: {error}>")
        try:
            body = json.loads(details)
        except json.JSONDecodeError:
            return cls(type_name=type_name, message=details)
        if not isinstance(body, dict) or _MARK not in body:
            return cls(type_name=type_name, message=details)
        return cls._from_body(body, type_name)

    @classmethod
    def _from_body(cls, body: Mapping[str, Any], type_name: str) -> Failure:
        cause = body.get("cause")
        fields = body.get("fields")
        members = body.get("exceptions")
        return cls(
            type_name=str(body.get("type") or type_name),
            message=str(body.get("message", "")),
            details=tuple(body.get("details") or ()),
            traceback=str(body.get("traceback", "")),
            non_retryable=bool(body.get("non_retryable", False)),
            error_class=str(body.get("class") or ""),
            fields=fields if isinstance(fields, dict) else {},
            cause=cls._from_body(cause, "UnknownFailure") if isinstance(cause, dict) else None,
            members=tuple(
                cls._from_body(member, "UnknownFailure")
                for member in (members if isinstance(members, list) else [])
                if isinstance(member, dict)
            ),
            heartbeat_details=body.get("heartbeat_details"),
        )


def _cause_of(exc: BaseException) -> BaseException | None:
    if exc.__cause__ is not None:
        return exc.__cause__
    typed = getattr(exc, "cause", None)  # a child's failure carries the child's own error
    if isinstance(typed, BaseException):
        return typed
    if exc.__suppress_context__:
        return None
    return exc.__context__


def _rebuildable(exc: BaseException) -> tuple[str, dict[str, Any]]:
    """The aioswf class name and constructor arguments of ``exc``, if it can be rebuilt."""
    kind = type(exc)
    if not isinstance(exc, AioSWFError) or getattr(exceptions, kind.__name__, None) is not kind:
        return "", {}
    try:
        parameters = inspect.signature(kind.__init__).parameters.values()
    except (TypeError, ValueError):
        return "", {}
    fields: dict[str, Any] = {}
    for parameter in parameters:
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            if parameter.name == "self":
                continue
            return "", {}  # positional arguments are not kept as attributes
        if not hasattr(exc, parameter.name):
            return "", {}
        fields[parameter.name] = getattr(exc, parameter.name)
    return kind.__name__, fields


def _rebuild(class_name: str, fields: Mapping[str, Any]) -> BaseException | None:
    kind = getattr(exceptions, class_name, None) if class_name else None
    if not (isinstance(kind, type) and issubclass(kind, AioSWFError)):
        return None
    try:
        error: BaseException = kind(**fields)
    except Exception:  # written by another version: fall back to the generic form
        return None
    return error


def _json_values(converter: DataConverter, value: Any) -> Any:
    try:
        return json.loads(converter.encode(value))
    except (PayloadError, TypeError, ValueError):
        if isinstance(value, dict):
            return {key: repr(item) for key, item in value.items()}
        return [repr(item) for item in value]


def _drop_nested_tracebacks(body: dict[str, Any]) -> None:
    """Empty the tracebacks of the causes and group members below ``body``."""
    below = [body.get("cause"), *(body.get("exceptions") or [])]
    for nested in below:
        if isinstance(nested, dict):
            nested["traceback"] = ""
            _drop_nested_tracebacks(nested)


def error_text(exc: BaseException) -> str:
    """``str(exc)``, or when that raises or is not text, its ``repr``, or a note saying so.

    Never raises: a failure must be reported whatever its exception does.
    """
    try:
        text = str(exc)
        if isinstance(text, str):
            return text
    except Exception:
        pass
    try:
        shown = repr(exc)
        if isinstance(shown, str):
            return shown
    except Exception:
        pass
    return f"<unprintable {type(exc).__name__} object>"


def _traceback(exc: BaseException) -> str:
    try:
        return "".join(tb.format_exception(exc, chain=False))
    except Exception:
        return f"{type(exc).__name__}: {error_text(exc)} (its traceback could not be formatted)\n"


def wire_length(text: str) -> int:
    """The length of ``text`` as SWF counts it: UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int) -> str:
    """``text`` cut (with a visible mark) to at most ``limit`` UTF-16 code units."""
    if wire_length(text) <= limit:
        return text
    keep = limit
    while keep > 0:
        cut = truncate(text, keep)
        if wire_length(cut) <= limit:
            return cut
        keep -= max(1, (wire_length(cut) - limit + 1) // 2)
    return ""
