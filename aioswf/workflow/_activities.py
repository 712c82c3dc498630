"""Activities scheduled from workflow code."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar, overload

from aioswf._decider.activity import ActivityHandle
from aioswf._definitions import activity_definition
from aioswf.options import ActivityOptions, RetryPolicy
from aioswf.workflow._core import _runtime

R = TypeVar("R")


def _options(
    options: ActivityOptions | None,
    task_list: str | None,
    schedule_to_start_timeout: timedelta | None,
    start_to_close_timeout: timedelta | None,
    schedule_to_close_timeout: timedelta | None,
    heartbeat_timeout: timedelta | None,
    task_priority: int | None,
    retry_policy: RetryPolicy | None,
) -> ActivityOptions:
    call = ActivityOptions(
        task_list=task_list,
        schedule_to_start_timeout=schedule_to_start_timeout,
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        task_priority=task_priority,
        retry_policy=retry_policy,
    )
    call.swf_timeouts()  # reject a bad duration here, in the caller's code
    return (options or ActivityOptions()).merged(call)


@overload
def start_activity(
    activity: Callable[..., Awaitable[R]],
    *args: Any,
    task_list: str | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    task_priority: int | None = None,
    retry_policy: RetryPolicy | None = None,
    options: ActivityOptions | None = None,
) -> ActivityHandle[R]: ...


@overload
def start_activity(
    activity: Callable[..., R],
    *args: Any,
    task_list: str | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    task_priority: int | None = None,
    retry_policy: RetryPolicy | None = None,
    options: ActivityOptions | None = None,
) -> ActivityHandle[R]: ...


def start_activity(
    activity: Callable[..., Any],
    *args: Any,
    task_list: str | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    task_priority: int | None = None,
    retry_policy: RetryPolicy | None = None,
    options: ActivityOptions | None = None,
) -> ActivityHandle[Any]:
    """Schedule an activity and return its handle at once.

    The activity's own defaults (from ``@activity.defn``) apply, overridden by ``options``,
    then by the keyword arguments. Without a task list the activity runs on this workflow's.

    Args:
        activity: an ``@activity.defn`` function or method.
        *args: its arguments, encoded by the converter.
        task_list: where its tasks go.
        schedule_to_start_timeout: how long a task may wait for a worker.
        start_to_close_timeout: how long one attempt may run.
        schedule_to_close_timeout: how long one attempt may take in all.
        heartbeat_timeout: how long the activity may go without a heartbeat.
        task_priority: higher runs first within the task list.
        retry_policy: retry failed or timed-out attempts after durable delays.
        options: all of the above in one object.

    Returns:
        A handle: ``await`` it for the result; ``cancel()`` requests cancellation.

    Raises:
        PayloadTooLargeError: the encoded arguments are over SWF's limit.
    """
    merged = _options(
        options,
        task_list,
        schedule_to_start_timeout,
        start_to_close_timeout,
        schedule_to_close_timeout,
        heartbeat_timeout,
        task_priority,
        retry_policy,
    )
    return _runtime().start_activity(activity_definition(activity), args, merged)


@overload
async def execute_activity(
    activity: Callable[..., Awaitable[R]],
    *args: Any,
    task_list: str | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    task_priority: int | None = None,
    retry_policy: RetryPolicy | None = None,
    options: ActivityOptions | None = None,
) -> R: ...


@overload
async def execute_activity(
    activity: Callable[..., R],
    *args: Any,
    task_list: str | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    task_priority: int | None = None,
    retry_policy: RetryPolicy | None = None,
    options: ActivityOptions | None = None,
) -> R: ...


async def execute_activity(
    activity: Callable[..., Any],
    *args: Any,
    task_list: str | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    task_priority: int | None = None,
    retry_policy: RetryPolicy | None = None,
    options: ActivityOptions | None = None,
) -> Any:
    """Run an activity and return its result; see :func:`start_activity` for the arguments.

    Raises:
        ActivityFailedError: the activity raised (type name, message and details kept).
        ActivityTimedOutError: it ran out of time (``timeout_type`` says which).
        ActivityCanceledError: it acknowledged a cancellation it was not asked for here.
        ScheduleActivityFailedError: SWF refused to schedule it (``cause`` says why).
    """
    handle = start_activity(
        activity,
        *args,
        task_list=task_list,
        schedule_to_start_timeout=schedule_to_start_timeout,
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        task_priority=task_priority,
        retry_policy=retry_policy,
        options=options,
    )
    return await handle
