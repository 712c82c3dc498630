"""Activities scheduled from workflow code."""

from __future__ import annotations

from asyncio import events
from collections.abc import Awaitable, Callable
from types import MethodType
from typing import Any, TypeVar, Unpack, overload

from aioswf._decider.activity import ActivityHandle
from aioswf._decider.loop import WorkflowLoop
from aioswf._definitions import ACTIVITY_ATTR, ActivityDefinition, activity_definition
from aioswf.options import (
    NO_ACTIVITY_OPTIONS,
    ActivityOptions,
    ActivityOverrides,
    with_activity_overrides,
)
from aioswf.workflow._core import _runtime

R = TypeVar("R")


@overload
def start_activity(
    activity: Callable[..., Awaitable[R]],
    *args: Any,
    options: ActivityOptions | None = None,
    **overrides: Unpack[ActivityOverrides],
) -> ActivityHandle[R]: ...


@overload
def start_activity(
    activity: Callable[..., R],
    *args: Any,
    options: ActivityOptions | None = None,
    **overrides: Unpack[ActivityOverrides],
) -> ActivityHandle[R]: ...


def start_activity(
    activity: Callable[..., Any],
    *args: Any,
    options: ActivityOptions | None = None,
    **overrides: Unpack[ActivityOverrides],
) -> ActivityHandle[Any]:
    """Schedule an activity and return its handle at once.

    The activity's own defaults (from ``@activity.defn``) apply, overridden by ``options``,
    then by the keyword arguments. Without a task list the activity runs on this workflow's.

    Args:
        activity: an ``@activity.defn`` function or method.
        *args: its arguments, encoded by the converter.
        options: overrides of the activity's defaults in one object.
        **overrides: the same, as keywords (:class:`~aioswf.options.ActivityOverrides`):
            ``task_list`` (where its tasks go), ``schedule_to_start_timeout`` (how long a
            task may wait for a worker), ``start_to_close_timeout`` (how long one attempt
            may run), ``schedule_to_close_timeout`` (how long one attempt may take in all),
            ``heartbeat_timeout`` (how long it may go without a heartbeat),
            ``task_priority`` (higher runs first within the task list),
            ``retry_policy`` (retry failed or timed-out attempts after durable delays) and
            ``cancellation_type`` (:class:`~aioswf.options.CancellationType`: what
            cancelling the awaiting code does: ``TRY_CANCEL``, ``WAIT_CANCELLATION_COMPLETED``
            or ``ABANDON``).

    Returns:
        A handle: ``await`` it for the result; ``cancel()`` cancels it, by its type.

    Raises:
        PayloadTooLargeError: the encoded arguments are over SWF's limit.
    """
    merged = with_activity_overrides(options, overrides)
    return _runtime().start_activity(activity_definition(activity), args, merged)


@overload
async def execute_activity(
    activity: Callable[..., Awaitable[R]],
    *args: Any,
    options: ActivityOptions | None = None,
    **overrides: Unpack[ActivityOverrides],
) -> R: ...


@overload
async def execute_activity(
    activity: Callable[..., R],
    *args: Any,
    options: ActivityOptions | None = None,
    **overrides: Unpack[ActivityOverrides],
) -> R: ...


async def execute_activity(
    activity: Callable[..., Any],
    *args: Any,
    options: ActivityOptions | None = None,
    **overrides: Unpack[ActivityOverrides],
) -> Any:
    """Run an activity and return its result; see :func:`start_activity` for the arguments.

    Raises:
        ActivityFailedError: the activity raised (type name, message and details kept).
        ActivityTimedOutError: it ran out of time (``timeout_type`` says which).
        ActivityCanceledError: it acknowledged a cancellation: one it was not asked for
            here, or, with ``WAIT_CANCELLATION_COMPLETED``, the one this code asked for
            (``details`` holds what it reported).
        ScheduleActivityFailedError: SWF refused to schedule it (``cause`` says why).
    """
    # `start_activity`'s body, with the common case of each call it makes in place: a call
    # less for each, and each activity of a replay makes them.
    if overrides:
        merged = with_activity_overrides(options, overrides)
    else:
        merged = options if options is not None else NO_ACTIVITY_OPTIONS
    definition = getattr(activity, ACTIVITY_ATTR, None)
    if type(definition) is not ActivityDefinition or isinstance(activity, MethodType):
        definition = activity_definition(activity)
    loop = events._get_running_loop()
    runtime = loop.runtime if isinstance(loop, WorkflowLoop) else _runtime()
    handle = runtime.start_activity(definition, args, merged)
    if type(handle) is ActivityHandle:  # what its `__await__` would wait on, a call less
        return await handle._task
    return await handle
