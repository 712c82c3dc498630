"""Faults the local SWF service returns, named as botocore expects them.

Every fault carries the SWF fault name (the last part of the wire ``__type``), a message and
the HTTP status.  Client faults are 400, as on AWS.
"""

from __future__ import annotations

_SWF_PREFIX = "com.amazonaws.swf.base.model#"
_VALIDATION_PREFIX = "com.amazon.coral.validate#"
_COERCION_PREFIX = "com.amazon.coral.service#"


class SWFFault(Exception):
    """A fault answered to the client instead of a result.

    Attributes:
        name: The fault name, e.g. ``UnknownResourceFault``.
        message: The human-readable message.
        status: The HTTP status code.
    """

    prefix = _SWF_PREFIX

    def __init__(self, name: str, message: str, status: int = 400) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message
        self.status = status

    @property
    def wire_type(self) -> str:
        """The ``__type`` member of the JSON error body."""
        return self.prefix + self.name

    def to_body(self) -> dict[str, str]:
        """The JSON error body as AWS sends it."""
        return {"__type": self.wire_type, "message": self.message}


class InternalFailure(SWFFault):
    """The service's own fault, not the client's: HTTP 500, which clients retry.

    Attributes:
        logged: whether the service has said so in its log already (one line for a run of
            the same fault, not one per request).
    """

    def __init__(self, message: str, *, logged: bool = False) -> None:
        super().__init__("InternalFailure", message, status=500)
        self.logged = logged


class ValidationError(SWFFault):
    """A request that breaks the service model's constraints; nothing of it is applied."""

    prefix = _VALIDATION_PREFIX

    def __init__(self, message: str) -> None:
        super().__init__("ValidationException", message)


class SerializationError(SWFFault):
    """A request body that is not a JSON object."""

    prefix = _COERCION_PREFIX

    def __init__(self, message: str) -> None:
        super().__init__("SerializationException", message)


class RequestTooLargeError(SWFFault):
    """A request body over SWF's 1 MB limit: HTTP 413 (the fault name is unverified)."""

    prefix = _COERCION_PREFIX

    def __init__(self, message: str) -> None:
        super().__init__("RequestEntityTooLargeException", message, status=413)


class UnknownOperationError(SWFFault):
    """An ``X-Amz-Target`` that names no SWF operation."""

    prefix = _COERCION_PREFIX

    def __init__(self, message: str) -> None:
        super().__init__("UnknownOperationException", message)


def unknown_resource(message: str) -> SWFFault:
    """The fault for anything that does not exist, or a task token that is no longer valid."""
    return SWFFault("UnknownResourceFault", message)


def domain_deprecated(message: str) -> SWFFault:
    """The fault for a domain that is deprecated when the operation needs it registered."""
    return SWFFault("DomainDeprecatedFault", message)


def domain_exists(message: str) -> SWFFault:
    """The fault for registering or undeprecating a domain that already is registered."""
    return SWFFault("DomainAlreadyExistsFault", message)


def type_exists(message: str) -> SWFFault:
    """The fault for registering or undeprecating a type that already is registered."""
    return SWFFault("TypeAlreadyExistsFault", message)


def type_deprecated(message: str) -> SWFFault:
    """The fault for using or deprecating a type that is deprecated."""
    return SWFFault("TypeDeprecatedFault", message)


def type_not_deprecated(message: str) -> SWFFault:
    """The fault for deleting a type that was not deprecated first."""
    return SWFFault("TypeNotDeprecatedFault", message)


def limit_exceeded(message: str) -> SWFFault:
    """The fault for a quota that the request would exceed."""
    return SWFFault("LimitExceededFault", message)


def too_many_tags(message: str) -> SWFFault:
    """The fault for a resource that would carry more than 50 tags."""
    return SWFFault("TooManyTagsFault", message)


def already_started(message: str) -> SWFFault:
    """The fault for starting a workflowId that has an open execution."""
    return SWFFault("WorkflowExecutionAlreadyStartedFault", message)


def default_undefined(message: str) -> SWFFault:
    """The fault for a start request lacking a value that the type has no default for."""
    return SWFFault("DefaultUndefinedFault", message)


def not_permitted(message: str) -> SWFFault:
    """The fault for an operation the caller may not perform."""
    return SWFFault("OperationNotPermittedFault", message)
