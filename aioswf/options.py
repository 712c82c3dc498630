"""Frozen option objects shared by the client, the worker and the workflow API.

Public APIs take :class:`~datetime.timedelta` for every duration; the conversion to SWF's
whole-second strings happens here, in one place.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Self, TypedDict

from aioswf.exceptions import DefinitionError


class ChildPolicy(enum.StrEnum):
    """What happens to open children when their parent closes by terminate or timeout."""

    TERMINATE = "TERMINATE"
    REQUEST_CANCEL = "REQUEST_CANCEL"
    ABANDON = "ABANDON"


class HandlerUnfinishedPolicy(enum.StrEnum):
    """What happens when ``run()`` returns while a signal handler is still running.

    ``WARN_AND_ABANDON`` (the default) logs a warning naming the handlers and closes the
    run; ``WAIT`` holds the close until they finish; ``FAIL`` fails the execution with an
    ``UnfinishedHandlers`` error instead. ``workflow.all_handlers_finished()`` lets ``run()``
    wait for them itself: ``await workflow.wait_condition(workflow.all_handlers_finished)``.
    """

    WARN_AND_ABANDON = "WARN_AND_ABANDON"
    WAIT = "WAIT"
    FAIL = "FAIL"


class CancellationType(enum.StrEnum):
    """What cancelling the code that waits on an activity or a child workflow does.

    The meanings are Temporal's.
    """

    TRY_CANCEL = "TRY_CANCEL"
    """Ask SWF to cancel it, and raise ``asyncio.CancelledError`` in the waiting code at once,
    without waiting for the activity or child to acknowledge (the default)."""
    WAIT_CANCELLATION_COMPLETED = "WAIT_CANCELLATION_COMPLETED"
    """Ask SWF to cancel it, and wait until it has closed: the waiting code then gets
    ``ActivityCanceledError`` / ``ChildWorkflowCanceledError`` (with the details it sent),
    or its result or failure if it finished otherwise."""
    ABANDON = "ABANDON"
    """Ask nothing: it runs on, its outcome is ignored, and the waiting code gets
    ``asyncio.CancelledError`` at once."""


def seconds_of(value: timedelta, what: str) -> float:
    """The seconds of ``value``, a public API's ``timedelta`` parameter named ``what``.

    Raises:
        TypeError: ``value`` is not a timedelta (a number of seconds, say): the message names
            the parameter, so the mistake is found where it was made.
    """
    if not isinstance(value, timedelta):
        raise TypeError(
            f"{what} takes a datetime.timedelta, got {type(value).__name__} {value!r}; "
            f"e.g. timedelta(seconds={value!r})"
            if isinstance(value, int | float) and not isinstance(value, bool)
            else f"{what} takes a datetime.timedelta, got {type(value).__name__} {value!r}"
        )
    return value.total_seconds()


_NAME_MAX = 256
_FORBIDDEN_IN_NAME = re.compile(r"[:/|\x00-\x1f\x7f-\x9f]")


def name_problem(name: str) -> str | None:
    """Why SWF would refuse ``name`` as a task list (or domain, type) name, or ``None``.

    SWF's rule for names: 1 to 256 characters, no whitespace at either end, no ``:``, ``/``,
    ``|`` or control characters, and not the literal ``arn``.
    """
    if not name:
        return "it is empty"
    if len(name) > _NAME_MAX:
        return f"it is {len(name)} characters long; SWF takes {_NAME_MAX} at most"
    if name != name.strip():
        return "it starts or ends with whitespace"
    forbidden = _FORBIDDEN_IN_NAME.search(name)
    if forbidden is not None:
        found = forbidden.group()
        if found in ":/|":
            return f"it contains {found!r}"
        return f"it contains control characters (U+{ord(found):04X})"
    if name == "arn":
        return "SWF reserves the name 'arn'"
    return None


def duration_to_swf(value: timedelta | None, *, what: str) -> str | None:
    """SWF's duration string for ``value``: whole seconds, rounded up.

    Rounding up keeps a sub-second timer from becoming a zero-length one.

    Raises:
        DefinitionError: if the value is negative or not a timedelta.
    """
    if value is None:
        return None
    if not isinstance(value, timedelta):
        raise DefinitionError(f"{what} must be a datetime.timedelta, got {value!r}")
    seconds = value.total_seconds()
    if seconds < 0:
        raise DefinitionError(f"{what} must not be negative, got {value}")
    return str(math.ceil(seconds))


def duration_from_swf(value: str | None) -> timedelta | None:
    """The timedelta of an SWF duration string; ``None`` for absent or ``"NONE"``."""
    if value is None or value == "NONE":
        return None
    return timedelta(seconds=int(value))


class _Mergeable:
    """Options where ``None`` means "not set": in ``a.merged(b)``, b's set fields win."""

    def merged(self, override: Self | None) -> Self:
        if override is None:
            return self
        changes = {
            f.name: getattr(override, f.name)
            for f in dataclasses.fields(override)  # type: ignore[arg-type]
            if getattr(override, f.name) is not None
        }
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the workflow retries a failed activity or child workflow, with durable timers.

    Attributes:
        initial_interval: the delay before the first retry.
        backoff_coefficient: each delay is the previous one times this.
        maximum_interval: the cap on a delay; defaults to 100 times ``initial_interval``.
        maximum_attempts: attempts in all, the first included; 0 means no limit.
        non_retryable_error_types: type names of exceptions that are never retried.
    """

    initial_interval: timedelta = timedelta(seconds=1)
    backoff_coefficient: float = 2.0
    maximum_interval: timedelta | None = None
    maximum_attempts: int = 0
    non_retryable_error_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.initial_interval <= timedelta(0):
            raise DefinitionError(
                f"RetryPolicy.initial_interval must be > 0, got {self.initial_interval}"
            )
        if self.backoff_coefficient < 1:
            raise DefinitionError(
                f"RetryPolicy.backoff_coefficient must be >= 1, got {self.backoff_coefficient}"
            )
        if self.maximum_interval is not None and self.maximum_interval < self.initial_interval:
            raise DefinitionError("RetryPolicy.maximum_interval must be >= initial_interval")
        if self.maximum_attempts < 0:
            raise DefinitionError(
                f"RetryPolicy.maximum_attempts must be >= 0, got {self.maximum_attempts}"
            )

    def delay_before(self, attempt: int) -> timedelta:
        """The delay before ``attempt`` (2 for the first retry, 3 for the next…)."""
        cap = self.maximum_interval or self.initial_interval * 100
        try:
            factor = self.backoff_coefficient ** max(attempt - 2, 0)
            seconds = self.initial_interval.total_seconds() * factor
        except OverflowError:  # so many attempts that only the cap is left
            return cap
        if seconds >= cap.total_seconds():
            return cap
        return timedelta(seconds=seconds)

    def should_retry(self, attempt: int, error_type: str, *, non_retryable: bool = False) -> bool:
        """Whether a failure of ``error_type`` on ``attempt`` (1-based) is retried."""
        if non_retryable or error_type in self.non_retryable_error_types:
            return False
        return self.maximum_attempts == 0 or attempt < self.maximum_attempts


@dataclass(frozen=True, slots=True)
class ActivityOptions(_Mergeable):
    """Defaults of an activity type, and per-call overrides; ``None`` means "not set".

    Attributes:
        task_list: where the activity's tasks are queued; by default the scheduling
            workflow's task list.
        schedule_to_start_timeout: how long a task may wait in the task list.
        start_to_close_timeout: how long one attempt may run on a worker.
        schedule_to_close_timeout: how long one attempt may take from scheduling to close.
        heartbeat_timeout: how long the activity may go without a heartbeat.
        task_priority: higher runs first, within a task list.
        retry_policy: retries carried out by the workflow.
        description: the registered type's description.
        cancellation_type: what cancelling the waiting code does; ``TRY_CANCEL`` by default.
    """

    task_list: str | None = None
    schedule_to_start_timeout: timedelta | None = None
    start_to_close_timeout: timedelta | None = None
    schedule_to_close_timeout: timedelta | None = None
    heartbeat_timeout: timedelta | None = None
    task_priority: int | None = None
    retry_policy: RetryPolicy | None = None
    description: str | None = None
    cancellation_type: CancellationType | None = None

    def swf_timeouts(self) -> dict[str, str]:
        """The timeouts as SWF's ``ScheduleActivityTask``/registration keys, set ones only."""
        pairs = {
            "scheduleToStartTimeout": self.schedule_to_start_timeout,
            "startToCloseTimeout": self.start_to_close_timeout,
            "scheduleToCloseTimeout": self.schedule_to_close_timeout,
            "heartbeatTimeout": self.heartbeat_timeout,
        }
        return _durations(pairs)

    def swf_schedule_timeouts(self, activity: str) -> dict[str, str]:
        """All four timeouts for a ``ScheduleActivityTask`` decision; unset ones are unlimited.

        SWF refuses to schedule an activity with a timeout defined neither in the decision nor
        as a default of its registered type, and registered defaults are fixed when the type
        is first registered; so the decision states every timeout, and the code stays the
        single source of truth.

        Raises:
            DefinitionError: if neither ``start_to_close_timeout`` nor
                ``schedule_to_close_timeout`` is set: nothing would bound the activity's run.
        """
        if self.start_to_close_timeout is None and self.schedule_to_close_timeout is None:
            raise DefinitionError(
                f"activity {activity} has no start_to_close_timeout or schedule_to_close_timeout:"
                " set one on @activity.defn or in the call, so that a lost worker cannot hold"
                " the activity forever"
            )
        timeouts = dict.fromkeys(
            (
                "scheduleToStartTimeout",
                "startToCloseTimeout",
                "scheduleToCloseTimeout",
                "heartbeatTimeout",
            ),
            "NONE",
        )
        return timeouts | self.swf_timeouts()


@dataclass(frozen=True, slots=True)
class WorkflowOptions(_Mergeable):
    """Defaults of a workflow type, and per-start overrides; ``None`` means "not set".

    Attributes:
        task_list: where the execution's decision tasks are queued.
        execution_start_to_close_timeout: how long the whole execution may run.
        task_start_to_close_timeout: how long one decision task may take.
        child_policy: what happens to children when this execution is terminated or times out.
        task_priority: higher runs first, within a task list.
        lambda_role: the IAM role that Lambda tasks run with.
        description: the registered type's description.
    """

    task_list: str | None = None
    execution_start_to_close_timeout: timedelta | None = None
    task_start_to_close_timeout: timedelta | None = None
    child_policy: ChildPolicy | None = None
    task_priority: int | None = None
    lambda_role: str | None = None
    description: str | None = None

    def swf_timeouts(self) -> dict[str, str]:
        """The timeouts as SWF's start/registration keys, set ones only."""
        pairs = {
            "executionStartToCloseTimeout": self.execution_start_to_close_timeout,
            "taskStartToCloseTimeout": self.task_start_to_close_timeout,
        }
        return _durations(pairs)


def _durations(pairs: dict[str, timedelta | None]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in pairs.items():
        text = duration_to_swf(value, what=key)
        if text is not None:
            out[key] = text
    return out


def swf_task_list(name: str | None) -> dict[str, Any] | None:
    """SWF's task list structure for a name, or ``None``."""
    return None if name is None else {"name": name}


class ActivityOverrides(TypedDict, total=False):
    """Keyword overrides of :class:`ActivityOptions` for one call; same names and meanings."""

    task_list: str | None
    schedule_to_start_timeout: timedelta | None
    start_to_close_timeout: timedelta | None
    schedule_to_close_timeout: timedelta | None
    heartbeat_timeout: timedelta | None
    task_priority: int | None
    retry_policy: RetryPolicy | None
    cancellation_type: CancellationType | None


class WorkflowOverrides(TypedDict, total=False):
    """Keyword overrides of :class:`WorkflowOptions` for one start; same names and meanings."""

    task_list: str | None
    execution_start_to_close_timeout: timedelta | None
    task_start_to_close_timeout: timedelta | None
    child_policy: ChildPolicy | str | None
    task_priority: int | None
    lambda_role: str | None


NO_ACTIVITY_OPTIONS = ActivityOptions()
"""The options of a call that sets none (shared: options are frozen)."""


def with_activity_overrides(
    options: ActivityOptions | None, overrides: ActivityOverrides
) -> ActivityOptions:
    """``options`` (or none) with the call's keyword overrides on top.

    Raises:
        DefinitionError: a duration is not a non-negative timedelta.
    """
    if not overrides:  # the common call: nothing to check or merge
        return options if options is not None else NO_ACTIVITY_OPTIONS
    _check_keys(overrides, ActivityOverrides.__optional_keys__)
    call = ActivityOptions(**overrides)
    call.swf_timeouts()  # reject a bad duration here, in the caller's code
    return (options or ActivityOptions()).merged(call)


def with_workflow_overrides(
    options: WorkflowOptions | None, overrides: WorkflowOverrides
) -> WorkflowOptions:
    """``options`` (or none) with the start's keyword overrides on top.

    Raises:
        DefinitionError: a duration is not a non-negative timedelta.
        ValueError: ``child_policy`` is not one of SWF's.
    """
    _check_keys(overrides, WorkflowOverrides.__optional_keys__)
    policy = overrides.get("child_policy")
    call = WorkflowOptions(
        task_list=overrides.get("task_list"),
        execution_start_to_close_timeout=overrides.get("execution_start_to_close_timeout"),
        task_start_to_close_timeout=overrides.get("task_start_to_close_timeout"),
        child_policy=ChildPolicy(policy) if policy is not None else None,
        task_priority=overrides.get("task_priority"),
        lambda_role=overrides.get("lambda_role"),
    )
    call.swf_timeouts()
    return (options or WorkflowOptions()).merged(call)


def _check_keys(overrides: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        noun = "argument" if len(unknown) == 1 else "arguments"
        raise TypeError(f"unexpected keyword {noun} {unknown}; accepted: {sorted(allowed)}")
