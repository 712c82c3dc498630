"""Mapping of every SWF fault to the aioswf exception tree, in one function."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import aiohttp
import botocore.exceptions

from aioswf import exceptions as exc

_FAULTS: dict[str, type[exc.ServiceError]] = {
    "UnknownResourceFault": exc.UnknownResourceError,
    "DomainAlreadyExistsFault": exc.DomainAlreadyExistsError,
    "DomainDeprecatedFault": exc.DomainDeprecatedError,
    "TypeAlreadyExistsFault": exc.TypeAlreadyExistsError,
    "TypeDeprecatedFault": exc.TypeDeprecatedError,
    "TypeNotDeprecatedFault": exc.TypeNotDeprecatedError,
    "WorkflowExecutionAlreadyStartedFault": exc.WorkflowAlreadyStartedError,
    "DefaultUndefinedFault": exc.DefaultUndefinedError,
    "LimitExceededFault": exc.LimitExceededError,
    "TooManyTagsFault": exc.TooManyTagsError,
    "OperationNotPermittedFault": exc.OperationNotPermittedError,
    "AccessDeniedException": exc.OperationNotPermittedError,
    "UnrecognizedClientException": exc.OperationNotPermittedError,
    "InvalidSignatureException": exc.OperationNotPermittedError,
    "ValidationException": exc.ValidationError,
    "SerializationException": exc.ValidationError,
    "RequestEntityTooLargeException": exc.ValidationError,
    "ThrottlingException": exc.ThrottlingError,
    "Throttling": exc.ThrottlingError,
    "RequestLimitExceeded": exc.ThrottlingError,
    "ServiceUnavailable": exc.ServiceUnavailableError,
    "ServiceUnavailableException": exc.ServiceUnavailableError,
    "InternalFailure": exc.ServiceUnavailableError,
    "InternalServerError": exc.ServiceUnavailableError,
}

# Requests that fail before they reach SWF: sending them again cannot apply them twice.
_NOT_SENT = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectTimeoutError,
    aiohttp.ClientConnectorError,
)

NOT_REPEATABLE = frozenset(
    {
        "StartWorkflowExecution",
        "SignalWorkflowExecution",
        "RequestCancelWorkflowExecution",
        "TerminateWorkflowExecution",
    }
)
"""Operations not sent again after an answer was lost: SWF may have applied the first one,
and a second would signal twice, or report a start or termination that worked as a failure.
Responses to tasks are sent again: a second answer to the same task is refused by SWF as
unknown, which the worker reports as such."""


def may_retry(error: BaseException, mapped: exc.ServiceError, operation: str) -> bool:
    """Whether ``operation`` may be sent again after ``error`` (mapped to ``mapped``).

    Throttled requests were refused, and requests that never left were not seen; both are
    safe to repeat. Other transient faults (a lost answer, a server error) are repeated only
    for operations whose repetition cannot do harm.
    """
    if isinstance(mapped, exc.ThrottlingError) or isinstance(error, _NOT_SENT):
        return True
    return isinstance(mapped, exc.ServiceUnavailableError) and operation not in NOT_REPEATABLE


def may_have_applied(error: BaseException, mapped: exc.ServiceError) -> bool:
    """Whether SWF may have applied a request that failed with ``error``: it was sent, and
    its answer was lost or was a server error (a refusal to throttle applies nothing)."""
    return not (isinstance(mapped, exc.ThrottlingError) or isinstance(error, _NOT_SENT))


_NETWORK_ERRORS = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.ConnectTimeoutError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    ConnectionError,
)


def map_error(
    error: BaseException, operation: str, params: Mapping[str, Any]
) -> exc.AioSWFError | None:
    """The aioswf exception for an error raised by an SWF call, or ``None`` if it is not one.

    The message names the operation and what it was about (domain, workflow id, type), so
    that a log line alone says what failed and where.
    """
    if isinstance(error, botocore.exceptions.ClientError):
        return _from_client_error(error, operation, params)
    if isinstance(error, _NETWORK_ERRORS):
        return exc.ServiceUnavailableError(
            f"{operation}{_context(params)}: SWF could not be reached: {error!r}",
            operation=operation,
            code=type(error).__name__,
            service_message=str(error),
        )
    if isinstance(error, botocore.exceptions.NoRegionError):
        return exc.OperationNotPermittedError(
            f"{operation}: no AWS region is configured; pass region_name= or set AWS_REGION",
            operation=operation,
            code="NoRegionError",
        )
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return exc.OperationNotPermittedError(
            f"{operation}: no AWS credentials were found in the usual chain "
            "(environment, shared config, instance role)",
            operation=operation,
            code="NoCredentialsError",
        )
    return None


def _from_client_error(
    error: botocore.exceptions.ClientError, operation: str, params: Mapping[str, Any]
) -> exc.ServiceError:
    info = error.response.get("Error", {})
    code = str(info.get("Code", "")) or "Unknown"
    service_message = str(info.get("Message", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    cls = _FAULTS.get(code)
    if cls is None:
        cls = exc.ServiceUnavailableError if status >= 500 else exc.ServiceError
    message = f"{operation}{_context(params)}: {code}: {service_message or 'no message'}"
    if cls is exc.WorkflowAlreadyStartedError:
        workflow_id = str(params.get("workflowId", ""))
        return exc.WorkflowAlreadyStartedError(
            f"{operation}: an execution with workflow id {workflow_id!r} is already open in "
            f"domain {params.get('domain')!r}; use another id, or get_workflow_handle() to "
            "follow the open one",
            operation=operation,
            code=code,
            service_message=service_message,
            workflow_id=workflow_id,
        )
    return cls(message, operation=operation, code=code, service_message=service_message)


def _context(params: Mapping[str, Any]) -> str:
    parts: list[str] = []
    if "domain" in params:
        parts.append(f"domain {params['domain']!r}")
    elif "name" in params and "workflowExecutionRetentionPeriodInDays" in params:
        parts.append(f"domain {params['name']!r}")
    execution = params.get("execution")
    workflow_id = params.get("workflowId") or (execution or {}).get("workflowId")
    if workflow_id:
        parts.append(f"workflow id {workflow_id!r}")
    for key in ("workflowType", "activityType"):
        type_ = params.get(key)
        if isinstance(type_, Mapping):
            parts.append(f"{key} {type_.get('name')}/{type_.get('version')}")
    if "name" in params and "version" in params:
        parts.append(f"type {params['name']}/{params['version']}")
    if "taskList" in params and isinstance(params["taskList"], Mapping):
        parts.append(f"task list {params['taskList'].get('name')!r}")
    return f" ({', '.join(parts)})" if parts else ""
