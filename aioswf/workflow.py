"""The API used inside workflow code.

Declare a workflow with :func:`defn` on a class, :func:`run` on its entry point and
:func:`signal` on its signal handlers. Inside it, ordinary asyncio works and is durable
(``asyncio.sleep``, ``wait_for``, ``timeout``, ``gather``, ``TaskGroup``, ``Event``, ``Lock``,
``Queue``, ``shield``); this module adds activities, conditions, deterministic time, random
numbers and ids, the execution's visible state, and a logger that is quiet during replay.

Example:
    >>> @workflow.defn
    ... class Greet:
    ...     @workflow.run
    ...     async def run(self, name: str) -> str:
    ...         await asyncio.sleep(60)                  # a durable SWF timer
    ...         return await workflow.execute_activity(say_hello, name)
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
import uuid as _uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from aioswf._decider.activity import ActivityHandle
from aioswf._decider.runtime import WorkflowInfo, WorkflowRuntime, current_runtime
from aioswf._definitions import WorkflowDefinition, activity_definition
from aioswf._definitions import workflow_defn as defn
from aioswf._definitions import workflow_run as run
from aioswf._definitions import workflow_signal as signal
from aioswf.exceptions import WorkerError
from aioswf.options import ActivityOptions, RetryPolicy

__all__ = (
    "ActivityHandle",
    "WorkflowDefinition",
    "WorkflowInfo",
    "as_completed",
    "defn",
    "execute_activity",
    "info",
    "is_replaying",
    "logger",
    "now",
    "random",
    "run",
    "set_state",
    "signal",
    "start_activity",
    "uuid4",
    "wait",
    "wait_condition",
)

T = TypeVar("T")
R = TypeVar("R")

FIRST_COMPLETED = asyncio.FIRST_COMPLETED
FIRST_EXCEPTION = asyncio.FIRST_EXCEPTION
ALL_COMPLETED = asyncio.ALL_COMPLETED


def _runtime() -> WorkflowRuntime:
    runtime = current_runtime()
    if runtime is None:
        raise WorkerError("this function is only available inside workflow code")
    return runtime


def _seconds(value: timedelta | None, what: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, timedelta):
        raise TypeError(f"{what} must be a datetime.timedelta, got {value!r}")
    return value.total_seconds()


# --- the run -------------------------------------------------------------------------------


def info() -> WorkflowInfo:
    """The run this code belongs to: ids, type, task list, start time, timeouts."""
    return _runtime().info()


def now() -> datetime:
    """The current time of the workflow (UTC): the timestamp of the decision task.

    Use it instead of ``datetime.now()``, which would differ on replay.
    """
    return _runtime().now()


def random() -> _random.Random:
    """A random generator seeded from the run id: the same numbers on every replay."""
    return _runtime().random()


def uuid4() -> _uuid.UUID:
    """A random UUID that is the same on every replay."""
    return _runtime().uuid4()


def is_replaying() -> bool:
    """Whether the code is re-running a decision task that history already records."""
    return _runtime().is_replaying


def set_state(value: Any) -> None:
    """Publish ``value`` (anything the converter encodes as JSON) as the execution context.

    ``DescribeWorkflowExecution`` (``handle.describe().state``) shows the latest one. It is
    sent with the decision task's answer, only when it changed.

    Raises:
        PayloadTooLargeError: the JSON is over SWF's 32,768 characters.
    """
    _runtime().set_state(value)


# --- activities ----------------------------------------------------------------------------


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


# --- waiting -------------------------------------------------------------------------------


async def wait_condition(
    predicate: Callable[[], bool], *, timeout: timedelta | None = None
) -> None:
    """Wait until ``predicate()`` is true.

    The predicate is checked whenever the workflow has nothing else to run (after signals,
    activity results, timers), so it should be cheap and free of side effects.

    Raises:
        TimeoutError: ``timeout`` passed first (a durable timer).
    """
    await _runtime().wait_condition(predicate, _seconds(timeout, "timeout"))


async def wait(
    aws: Iterable[Awaitable[T]],
    *,
    timeout: timedelta | None = None,
    return_when: str = ALL_COMPLETED,
) -> tuple[list[asyncio.Future[T]], list[asyncio.Future[T]]]:
    """``asyncio.wait`` with lists in the order given, so that the code replays the same way.

    Returns:
        ``(done, pending)``, each in the order of ``aws``. Nothing is cancelled on timeout.
    """
    _runtime()
    futures = [asyncio.ensure_future(aw) for aw in aws]
    if not futures:
        raise ValueError("workflow.wait() needs at least one awaitable")
    if not _wait_over(futures, return_when):
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake(_: asyncio.Future[T]) -> None:
            if not waiter.done() and _wait_over(futures, return_when):
                waiter.set_result(None)

        for future in futures:
            future.add_done_callback(wake)
        try:
            async with asyncio.timeout(_seconds(timeout, "timeout")):
                await waiter
        except TimeoutError:
            pass
        finally:
            for future in futures:
                future.remove_done_callback(wake)
    return [f for f in futures if f.done()], [f for f in futures if not f.done()]


def _wait_over(futures: Sequence[asyncio.Future[T]], return_when: str) -> bool:
    done = [f for f in futures if f.done()]
    if return_when == FIRST_COMPLETED:
        return bool(done)
    if return_when == FIRST_EXCEPTION and any(
        not f.cancelled() and f.exception() is not None for f in done
    ):
        return True
    return len(done) == len(futures)


def as_completed(
    aws: Iterable[Awaitable[T]], *, timeout: timedelta | None = None
) -> Iterator[Awaitable[T]]:
    """``asyncio.as_completed`` in the order things complete in history.

    Yields awaitables; each gives the next result (or raises the next error, or
    ``TimeoutError`` once ``timeout`` has passed).
    """
    _runtime()
    futures = [asyncio.ensure_future(aw) for aw in aws]
    loop = asyncio.get_running_loop()
    finished: asyncio.Queue[asyncio.Future[T] | None] = asyncio.Queue()
    remaining = len(futures)
    deadline: asyncio.TimerHandle | None = None

    def on_done(future: asyncio.Future[T]) -> None:
        nonlocal remaining
        remaining -= 1
        finished.put_nowait(future)
        if remaining == 0 and deadline is not None:
            deadline.cancel()

    def on_timeout() -> None:
        for future in futures:
            future.remove_done_callback(on_done)
        for _ in range(remaining):
            finished.put_nowait(None)

    seconds = _seconds(timeout, "timeout")
    if seconds is not None and futures:
        deadline = loop.call_later(seconds, on_timeout)
    for future in futures:
        future.add_done_callback(on_done)

    async def next_done() -> T:
        future = await finished.get()
        if future is None:
            raise TimeoutError
        return await future

    for _ in futures:
        yield next_done()


# --- logging -------------------------------------------------------------------------------


class _WorkflowLogger(logging.LoggerAdapter[logging.Logger]):
    """Quiet while replaying (a message is logged once, when its code first runs), and
    tagged with the run's ids."""

    def isEnabledFor(self, level: int) -> bool:
        runtime = current_runtime()
        if runtime is not None and runtime.is_replaying:
            return False
        return self.logger.isEnabledFor(level)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        runtime = current_runtime()
        if runtime is not None:
            try:
                run_info = runtime.info()
            except WorkerError:  # logging from the constructor, before the run started
                return msg, kwargs
            ids = {"workflow_id": run_info.workflow_id, "run_id": run_info.run_id}
            kwargs["extra"] = {**ids, **(kwargs.get("extra") or {})}
        return msg, kwargs


logger: logging.LoggerAdapter[logging.Logger] = _WorkflowLogger(
    logging.getLogger("aioswf.workflow"), {}
)
"""The workflow's logger: records carry ``workflow_id`` and ``run_id``; nothing is logged
while a decision task is being replayed."""
