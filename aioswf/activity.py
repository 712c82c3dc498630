"""The API used to declare activities and, inside them, to talk to SWF.

Declare an activity with :func:`defn` (and shared defaults for a class's methods with
:func:`defaults`). While an activity runs on a worker, the functions below reach the task it
is running: they work in ``async`` activities and in sync ones (which run in a thread pool).

Example:
    >>> @activity.defn(heartbeat_timeout=timedelta(seconds=30))  # doctest: +SKIP
    ... async def copy_files(paths: list[str]) -> int:
    ...     for done, path in enumerate(paths):
    ...         activity.heartbeat(done)   # sent in the background, throttled
    ...         await copy(path)           # cancelled here if the workflow cancels us
    ...     return len(paths)
"""

from __future__ import annotations

import contextvars
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from aioswf._definitions import ActivityDefinition
from aioswf._definitions import activity_defaults as defaults
from aioswf._definitions import activity_defn as defn
from aioswf.converter import MAX_HEARTBEAT_DETAILS_LENGTH, DataConverter, check_size
from aioswf.exceptions import WorkerError

__all__ = (
    "ActivityDefinition",
    "ActivityInfo",
    "CancelReason",
    "cancel_reason",
    "defaults",
    "defn",
    "heartbeat",
    "in_activity",
    "info",
    "is_cancelled",
    "raise_complete_async",
)


@dataclass(frozen=True, slots=True)
class ActivityInfo:
    """What SWF said about the activity task being run.

    Attributes:
        task_token: the task's token, for ``client.get_async_activity_handle``.
        activity_id: the id the workflow gave this activity.
        activity_type: the activity type's name.
        activity_version: the activity type's version.
        workflow_id: the workflow id of the execution that scheduled it.
        run_id: the run id of that execution.
        started_event_id: the id of the ``ActivityTaskStarted`` event of this task.
        domain: the SWF domain.
        task_list: the task list the task was polled from.
        heartbeat_timeout: the heartbeat timeout of this task, if any: the per-call value
            when an aioswf workflow set one, else the declared one; for tasks scheduled by
            other SWF clients, the registered type's default, else the declared one.
            Heartbeats are paced to it.
        attempt: the attempt number (1 for the first) when an aioswf workflow scheduled the
            activity, else ``None``: SWF itself does not count attempts.
        heartbeat_details: the last details the previous attempt passed to
            :func:`heartbeat` (decoded JSON), when an aioswf workflow retries it; ``None``
            for a first attempt. Resume from them.
        start_to_close_timeout: how long this task may run, found like
            ``heartbeat_timeout``; ``None`` for no limit (or none known).
        schedule_to_close_timeout: how long the task may take from being scheduled to
            being finished, found the same way.
    """

    task_token: str
    activity_id: str
    activity_type: str
    activity_version: str
    workflow_id: str
    run_id: str
    started_event_id: int
    domain: str
    task_list: str
    heartbeat_timeout: timedelta | None = None
    attempt: int | None = None
    heartbeat_details: Any = None
    start_to_close_timeout: timedelta | None = None
    schedule_to_close_timeout: timedelta | None = None


class CancelReason(enum.StrEnum):
    """Why a running activity was cancelled."""

    REQUESTED = "requested"
    """The workflow asked for it (``cancelRequested`` on a heartbeat); SWF is told it was."""
    LOST = "lost"
    """SWF no longer knows the task (it timed out, or was closed elsewhere); nothing is sent."""
    SHUTDOWN = "shutdown"
    """The worker shut down before the activity finished; the task is failed."""


class _CompleteAsync(BaseException):
    """Raised by :func:`raise_complete_async`; the worker catches it and sends nothing.

    It derives from ``BaseException`` so that a user's ``except Exception`` lets it through.
    """


class ActivityContext:
    """The worker's view of one running activity: its info and its link to the heartbeater.

    Workers create one per task; user code reaches it through the module functions.
    """

    def __init__(
        self,
        info: ActivityInfo,
        converter: DataConverter,
        on_heartbeat: Callable[[str | None], None],
    ) -> None:
        self.info = info
        self.converter = converter
        self._on_heartbeat = on_heartbeat
        # Set once, on the event loop (or the test environment's caller); sync activities
        # read it from their worker thread, which a plain attribute allows.
        self.cancel_reason: CancelReason | None = None

    def heartbeat(self, details: Any = None) -> None:
        """Encode ``details`` now (so errors surface here) and hand them to the heartbeater."""
        text = None
        if details is not None:
            text = check_size(
                "heartbeat details",
                self.converter.encode_payload(details, limit=MAX_HEARTBEAT_DETAILS_LENGTH),
                MAX_HEARTBEAT_DETAILS_LENGTH,
            )
        self._on_heartbeat(text)

    @property
    def is_cancelled(self) -> bool:
        """Whether the activity was cancelled, for whatever reason."""
        return self.cancel_reason is not None

    def mark_cancelled(self, reason: CancelReason) -> bool:
        """Record a cancellation; ``False`` if one was already recorded (the first one wins)."""
        if self.cancel_reason is not None:
            return False
        self.cancel_reason = reason
        return True


_current: contextvars.ContextVar[ActivityContext] = contextvars.ContextVar("aioswf_activity")


def _context(what: str) -> ActivityContext:
    try:
        return _current.get()
    except LookupError:
        raise WorkerError(
            f"activity.{what}() was called outside an activity; it only works in code run by "
            "a worker as an @activity.defn function or method"
        ) from None


def in_activity() -> bool:
    """Whether the calling code runs inside an activity task."""
    return _current.get(None) is not None


def info() -> ActivityInfo:
    """What SWF said about the task being run.

    Raises:
        WorkerError: if called outside an activity.
    """
    return _context("info").info


def heartbeat(details: Any = None) -> None:
    """Tell SWF the activity is alive, with optional progress ``details``; never blocks.

    The latest details are sent by a background task, at most once per a fraction of the
    heartbeat timeout; calls in between are coalesced. ``None`` keeps the previous details.
    The answer of SWF is how the activity learns it was cancelled.

    Raises:
        WorkerError: if called outside an activity.
        PayloadTooLargeError: if the encoded details are over SWF's 2,048 characters.
        PayloadConversionError: if the details cannot be encoded.
    """
    _context("heartbeat").heartbeat(details)


def is_cancelled() -> bool:
    """Whether the activity was cancelled; sync activities check it between steps.

    ``async`` activities are cancelled with ``asyncio.CancelledError`` where they await.
    A sync activity that sees this should stop, and raise ``asyncio.CancelledError`` to have
    the task reported as canceled (returning normally completes it anyway).

    Raises:
        WorkerError: if called outside an activity.
    """
    return _context("is_cancelled").is_cancelled


def cancel_reason() -> CancelReason | None:
    """Why the activity was cancelled, or ``None`` while it is not.

    Raises:
        WorkerError: if called outside an activity.
    """
    return _context("cancel_reason").cancel_reason


def raise_complete_async() -> NoReturn:
    """End this function without finishing the task: someone else will, later, by its token.

    The worker frees the slot and sends nothing; complete the task with
    ``client.get_async_activity_handle(activity.info().task_token)`` before its timeouts.

    Raises:
        WorkerError: if called outside an activity.
    """
    _context("raise_complete_async")
    raise _CompleteAsync()
