"""Activities: the ScheduleActivityTask / RequestCancelActivityTask machine and its handle.

Each attempt is one machine with its own activity id (``"3"`` for the first attempt of the
third activity, ``"3.2"`` for its second), so ids never repeat within an execution. Retries
happen in workflow code, with durable timers between attempts, so they replay like anything
else.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aioswf._decider.commands import Command
from aioswf._decider.history import Event, attrs
from aioswf._decider.loop import DeterministicFuture, WorkflowLoop
from aioswf._decider.recorded import Recorded
from aioswf._definitions import ActivityDefinition
from aioswf._failure import Failure
from aioswf.converter import MAX_DATA_LENGTH, check_size
from aioswf.exceptions import (
    ActivityCanceledError,
    ActivityFailedError,
    ActivityTimedOutError,
    PayloadConversionError,
    ScheduleActivityFailedError,
)
from aioswf.options import ActivityOptions, CancellationType, duration_to_swf

if TYPE_CHECKING:
    from aioswf._decider.instance import WorkflowInstance

logger = logging.getLogger(__name__)

R = TypeVar("R")

HEARTBEAT_TIMEOUT_HEADER = "aioswf-heartbeat-timeout"
"""The effective heartbeat timeout (SWF duration text) when it differs from the declared one:
SWF does not tell the activity worker a task's timeouts."""
START_TO_CLOSE_TIMEOUT_HEADER = "aioswf-start-to-close-timeout"
"""The effective start-to-close timeout when it differs from the declared one: the worker
keeps trying to deliver the task's result until it has passed."""
SCHEDULE_TO_CLOSE_TIMEOUT_HEADER = "aioswf-schedule-to-close-timeout"
"""The effective schedule-to-close timeout when it differs from the declared one."""
HEARTBEAT_DETAILS_HEADER = "aioswf-heartbeat-details"
"""The previous attempt's last heartbeat details (encoded), so a retry resumes from them."""


class ActivityHandle(Generic[R]):
    """An activity started with ``workflow.start_activity``.

    Await it for the result (after any retries); :meth:`cancel` cancels the awaiting code,
    with the activity's :class:`~aioswf.options.CancellationType`: by default SWF is asked
    to cancel the activity and the awaiting code sees ``asyncio.CancelledError`` at once.
    """

    def __init__(
        self, task: asyncio.Future[R], activity_id: str, definition: ActivityDefinition
    ) -> None:
        self._task = task
        """The retry task, or a :class:`SingleAttempt`."""
        self.activity_id = activity_id
        """The id of the first attempt; later attempts add ``.2``, ``.3``…"""
        self.definition = definition

    def __repr__(self) -> str:
        return f"ActivityHandle({self.definition.type_key}, activity_id={self.activity_id!r})"

    def __await__(self) -> Generator[Any, None, R]:
        return self._task.__await__()

    def cancel(self) -> bool:
        """Request cancellation; ``False`` if the activity already finished."""
        return self._task.cancel()

    def done(self) -> bool:
        """Whether the activity has finished (completed, failed or cancelled)."""
        return self._task.done()

    def result(self) -> R:
        """The result of a finished activity; raises what awaiting it would."""
        return self._task.result()


class ActivityMachine:
    """One attempt of one activity."""

    __slots__ = (
        "activities",
        "activity_id",
        "cancellation",
        "closed",
        "command",
        "definition",
        "future",
        "scheduled_id",
    )

    def __init__(
        self,
        activities: Activities,
        definition: ActivityDefinition,
        activity_id: str,
        attributes: dict[str, Any],
        cancellation: CancellationType,
        *,
        watch_future: bool = True,
    ) -> None:
        self.activities = activities
        self.cancellation = cancellation
        self.definition = definition
        self.activity_id = activity_id
        self.scheduled_id: int | None = None
        self.closed = False
        loop = activities.host.loop
        # `loop.create_future()`, in place: once per activity of a replay.
        future = DeterministicFuture(loop=loop)
        future._seq = next(loop._seq)
        self.future: asyncio.Future[Any] = future
        if watch_future:  # else its one waiter calls `future_done` first (see SingleAttempt)
            self.future.add_done_callback(self.future_done)
        self.command = Command("ScheduleActivityTask", attributes, self._recorded)
        activities.host.decisions.add(self.command)

    def _recorded(self, event: Event) -> None:
        if event["eventType"] == "ActivityTaskScheduled":
            self.scheduled_id = scheduled_id = int(event["eventId"])
            self.activities.scheduled.machines[scheduled_id] = self  # `Recorded.add`, in place

    def future_done(self, future: asyncio.Future[Any]) -> None:
        """The attempt's future is done: if it was cancelled, cancel the activity."""
        if future.cancelled() and not self.closed:
            if self.cancellation is CancellationType.ABANDON:
                self._abandon()
            else:
                self.request_cancel()

    def _drop_unsent(self) -> bool:
        if self.command.sent:
            return False
        # Scheduled and cancelled within one decision task: SWF never hears of it.
        self.closed = True
        self.command.dropped = True
        self.activities.forget(self)
        self.future.cancel()
        return True

    def request_cancel(self) -> None:
        """Decide ``RequestCancelActivityTask``; its outcome still settles the future."""
        if self.closed or self._drop_unsent():
            return
        self.closed = True
        self.activities.host.decisions.add(
            Command("RequestCancelActivityTask", {"activityId": self.activity_id})
        )

    def _abandon(self) -> None:
        # It runs on without us; whatever it ends with concerns nobody.
        if not self._drop_unsent():
            self.closed = True
            self.activities.forget(self)

    def _settle(self, error: BaseException | None = None, result: Any = None) -> None:
        self.closed = True
        activities = self.activities  # `forget`, in place: replay settles every activity
        activities.by_id.pop(self.activity_id, None)
        if self.scheduled_id is not None:  # `Recorded.discard`, in place
            activities.scheduled.machines.pop(self.scheduled_id, None)
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)

    def _ids(self) -> dict[str, str]:
        return {"activity_id": self.activity_id, "activity_type": self.definition.type_key}

    def completed(self, data: Mapping[str, Any]) -> None:
        """``ActivityTaskCompleted``, whose attributes are ``data``."""
        result = data.get("result")
        try:
            value = self.activities.host.converter.decode_result(self.definition.fn, result)
        except PayloadConversionError as error:
            self._settle(error)
        else:
            self._settle(result=value)

    def failed(self, data: Any) -> None:
        converter = self.activities.host.converter
        failure = Failure.decode(data.get("reason"), data.get("details"), converter)
        error = ActivityFailedError(
            **self._ids(),
            type_name=failure.type_name,
            message=failure.message,
            details=failure.details,
            traceback=failure.traceback,
            non_retryable=failure.non_retryable,
            heartbeat_details=failure.heartbeat_details,
        )
        if failure.cause is not None:  # what the activity's error was raised from
            error.__cause__ = failure.cause.to_exception()
        self._settle(error)

    def timed_out(self, data: Any) -> None:
        error = ActivityTimedOutError(
            **self._ids(),
            timeout_type=data.get("timeoutType", "UNKNOWN"),
            details=self._readable(data.get("details")),
        )
        self._settle(error)

    def _readable(self, text: str | None) -> str | None:
        """Heartbeat details as JSON: codecs undone, a stored payload read back."""
        try:
            return self.activities.host.converter.payload_json(text, what="heartbeat details")
        except PayloadConversionError as error:
            return f"<not readable here: {error}>"

    def canceled(self, data: Any) -> None:
        self._settle(ActivityCanceledError(**self._ids(), details=data.get("details")))

    def schedule_failed(self, data: Any) -> None:
        cause = str(data.get("cause", "UNKNOWN"))
        self._settle(ScheduleActivityFailedError(**self._ids(), cause=cause))


class SingleAttempt(DeterministicFuture):
    """The outcome of an activity call that cannot be retried (no retry policy) and is not
    cancelled with ``WAIT_CANCELLATION_COMPLETED``: its one attempt's future, passed on.

    It stands for the retry task such a call would otherwise run (`Activities._attempts`),
    and acts at the same places of the loop's queue: it passes the attempt's outcome on where
    the task would wake up, and cancels as ``Task.cancel`` does, ending where the task would
    take its first step if cancelled before it. Code racing activities, timers and tasks sees
    the same order either way, while each call saves a task, two coroutines and four
    callbacks (replay makes one call per activity of the history).
    """

    __slots__ = (
        "_attempt",
        "_attempt_message",
        "_cancel_asked",
        "_machine",
        "_message",
        "_place",
        "_start_queued",
        "_started",
        "_workflow_loop",
    )

    def __init__(self, loop: WorkflowLoop, attempt: ActivityMachine) -> None:
        super().__init__(loop=loop)
        loop.number(self)  # the number the task would take: every later hash stays the same
        self._machine = attempt
        self._attempt = attempt.future
        self._started = False
        self._cancel_asked = False  # a task's `_must_cancel`
        self._message: Any = None  # and its `_cancel_message`
        self._attempt_message: Any = None  # what the attempt was cancelled with
        # The task would wait on the attempt's future from its first step, right after the
        # machine's callback; nothing else waits on it, so one callback doing both, from
        # now on, runs both at the same place of the queue.
        self._attempt.add_done_callback(self._pass_on)
        # The task's first step matters only to a cancel that comes before it: its place
        # in the queue is kept, and the step queued there only then.
        self._workflow_loop = loop
        self._place = loop.place()
        self._start_queued = self._place is None
        if self._place is None:  # nothing to follow: queued now, as the task's would be
            loop.call_soon(self._start)

    def _started_yet(self) -> bool:
        if self._start_queued:
            return self._started
        assert self._place is not None
        return self._workflow_loop.passed(self._place)

    def _start(self) -> None:
        # The task's first step. Cancelled before it, the task would end here, and its done
        # callback then cancel the attempt (not sent yet: it is dropped).
        self._started = True
        if self._cancel_asked:
            super().cancel(self._message)
            self._attempt.cancel()

    def _pass_on(self, attempt: asyncio.Future[Any]) -> None:
        if attempt.cancelled():
            self._machine.future_done(attempt)  # (which does nothing otherwise)
        # The task waking up on the attempt's outcome.
        if self.done():
            return
        if attempt.cancelled():
            super().cancel(self._attempt_message)
        elif self._cancel_asked:
            super().cancel(self._message)
        elif (error := attempt.exception()) is not None:
            self.set_exception(error)
        else:
            self.set_result(attempt.result())

    def cancel(self, msg: Any | None = None) -> bool:
        """As ``Task.cancel``: cancel the attempt it waits on, or, if it is not waiting
        (not started yet, or the outcome is on its way), end cancelled when it next acts."""
        if self.done():
            return False
        if self._started_yet():
            if self._attempt.cancel(msg):
                self._attempt_message = msg
                return True
        elif not self._start_queued:
            assert self._place is not None
            self._workflow_loop.call_at_place(self._place, self._start)
            self._start_queued = True
        self._cancel_asked = True
        self._message = msg
        return True


@dataclass(frozen=True, slots=True)
class _Resolved:
    """What an activity type's defaults and one call's options make of every attempt."""

    options: ActivityOptions
    """The defaults with the call's options on top."""
    attributes: dict[str, Any]
    """The ``ScheduleActivityTask`` attributes every attempt shares: type, timeouts, priority
    (never changed: each attempt copies them)."""
    timeout_headers: dict[str, str]
    """The timeouts the call sets apart from the declared ones (see ``_timeout_headers``)."""
    cancellation: CancellationType
    input_field: str
    """How errors name the call's input."""
    single_attempt: bool
    """Whether the call is never retried and its attempt cancelled without waiting, so its
    outcome is the attempt's (:class:`SingleAttempt`) rather than a retry task's."""


def resolve(definition: ActivityDefinition, options: ActivityOptions) -> _Resolved:
    """Merge and check the options of a call once: a loop that schedules the same activity
    thousands of times (and every replay of it) asks for the same pair again."""
    # Nearly always the very same two objects (a module's definition, the shared empty
    # options): found by identity first, by the function's plain hash, without hashing
    # every field of both (`id()` would cost an audit event).
    try:
        known = _last_resolved.get(definition.fn)
    except TypeError:  # a callable object that cannot be hashed
        known = None
    if known is not None and known[0] is definition and known[1] is options:
        return known[2]
    try:
        resolved = _resolve(definition, options)
    except TypeError:  # an option that cannot be hashed (a list of error types, say)
        return _resolve.__wrapped__(definition, options)
    if known is None and len(_last_resolved) >= _REMEMBERED:
        _last_resolved.clear()
    with contextlib.suppress(TypeError):
        _last_resolved[definition.fn] = (definition, options, resolved)
    return resolved


_REMEMBERED = 256
_last_resolved: dict[Any, tuple[ActivityDefinition, ActivityOptions, _Resolved]] = {}
"""The last resolution of each activity function."""


@functools.lru_cache(maxsize=256)
def _resolve(definition: ActivityDefinition, options: ActivityOptions) -> _Resolved:
    merged = definition.options.merged(options)
    attributes: dict[str, Any] = {
        "activityType": definition.swf_type(),
        **merged.swf_schedule_timeouts(definition.type_key),
    }
    if merged.task_priority is not None:
        attributes["taskPriority"] = str(merged.task_priority)
    headers = _timeout_headers(definition.options, merged)
    cancellation = merged.cancellation_type or CancellationType.TRY_CANCEL
    single = merged.retry_policy is None and (
        cancellation is not CancellationType.WAIT_CANCELLATION_COMPLETED
    )
    field = f"input of activity {definition.type_key}"
    return _Resolved(merged, attributes, headers, cancellation, field, single)


@dataclass(frozen=True, slots=True)
class _Call:
    """What every attempt of one activity call schedules."""

    definition: ActivityDefinition
    data: str | None
    """The encoded arguments, without headers."""
    resolved: _Resolved
    headers: Mapping[str, str]
    """The interceptors' headers and the timeouts'; each attempt may add its own."""


class Activities:
    """The activity machines of one run, and the history events that concern them."""

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host
        self.by_id: dict[str, ActivityMachine] = {}
        self.scheduled: Recorded[ActivityMachine] = Recorded("scheduledEventId")
        self._run_task_list: str | None = None
        self._last_call: tuple[ActivityDefinition, ActivityOptions, _Resolved] | None = None
        """The last call's definition and options, and their resolution: a run's code calls
        the same activity in a loop more often than not."""

    def _task_list(self) -> str:
        if self._run_task_list is None:
            self._run_task_list = self.host.task_list  # the run's: it never changes
        return self._run_task_list

    def forget(self, machine: ActivityMachine) -> None:
        self.by_id.pop(machine.activity_id, None)
        self.scheduled.discard(machine.scheduled_id)

    def handlers(self) -> dict[str, Callable[[Event], None]]:
        """The events this kind reacts to."""
        by_scheduled = {
            "ActivityTaskCompleted": ActivityMachine.completed,
            "ActivityTaskFailed": ActivityMachine.failed,
            "ActivityTaskTimedOut": ActivityMachine.timed_out,
            "ActivityTaskCanceled": ActivityMachine.canceled,
        }
        handlers: dict[str, Callable[[Event], None]] = {
            kind: self.scheduled.routed(action, kind) for kind, action in by_scheduled.items()
        }
        handlers["ScheduleActivityTaskFailed"] = self._schedule_failed
        return handlers

    def _schedule_failed(self, event: Event) -> None:
        data = attrs(event)
        machine = self.by_id.get(str(data.get("activityId")))
        if machine is not None:
            machine.schedule_failed(data)

    def start(
        self,
        definition: ActivityDefinition,
        args: Sequence[Any],
        options: ActivityOptions,
        headers: Mapping[str, str],
    ) -> ActivityHandle[Any]:
        """Schedule the first attempt now; a call that may be retried runs its retries in a
        task."""
        host = self.host
        if host.loop._closed:  # `check_open`'s test, in place
            host.loop.check_open()  # before anything is decided or a coroutine made
        last = self._last_call
        if last is not None and last[0] is definition and last[1] is options:
            resolved = last[2]  # `resolve`, without the call
        else:
            resolved = resolve(definition, options)
            self._last_call = (definition, options, resolved)
        data = host.converter.encode_args(args)
        if data is not None and len(data) > MAX_DATA_LENGTH:
            check_size(resolved.input_field, data)  # which raises
        # The timeouts' headers join the interceptors' once for every attempt (a copy: the
        # interceptors may change theirs later, before a retry reads them; a single attempt
        # reads them now, and needs none when there is nothing to join).
        if resolved.timeout_headers or not resolved.single_attempt:
            headers = {**headers, **resolved.timeout_headers}
        number = self.host.decisions.next_id("activity")
        first = self._schedule(definition, resolved, data, headers, str(number))
        if resolved.single_attempt:
            outcome = SingleAttempt(self.host.loop, first)
            return ActivityHandle(outcome, first.activity_id, definition)
        call = _Call(definition, data, resolved, headers)
        current = [first]
        task = self.host.loop.create_task(self._attempts(call, number, current))

        def cancel_attempt(done: asyncio.Task[Any]) -> None:
            # A handle cancelled before its task first ran never awaited the attempt.
            if done.cancelled():
                current[0].future.cancel()

        task.add_done_callback(cancel_attempt)
        return ActivityHandle(task, current[0].activity_id, definition)

    def _schedule(
        self,
        definition: ActivityDefinition,
        resolved: _Resolved,
        data: str | None,
        headers: Mapping[str, str],
        activity_id: str,
    ) -> ActivityMachine:
        if headers:  # else the input is as `start` checked it
            data = self.host.converter.fit_input(resolved.input_field, data, headers)
        attributes: dict[str, Any] = {
            **resolved.attributes,
            "activityId": activity_id,
            "taskList": {
                "name": resolved.options.task_list or self._run_task_list or self._task_list()
            },
        }
        if data is not None:
            attributes["input"] = data
        machine = ActivityMachine(
            self,
            definition,
            activity_id,
            attributes,
            resolved.cancellation,
            watch_future=not resolved.single_attempt,
        )
        self.by_id[activity_id] = machine
        return machine

    async def _attempts(self, call: _Call, number: int, current: list[ActivityMachine]) -> Any:
        policy = call.resolved.options.retry_policy
        attempt = 1
        progress: str | None = None
        while True:
            try:
                return await _outcome(current[0])
            except ActivityFailedError as error:
                retry = policy is not None and policy.should_retry(
                    attempt, error.type_name, non_retryable=error.non_retryable
                )
                if not retry:
                    raise
                progress = error.heartbeat_details or progress
            except ActivityTimedOutError as error:
                if policy is None or not policy.should_retry(attempt, "ActivityTimedOutError"):
                    raise
                progress = error.details or progress
            assert policy is not None
            attempt += 1
            await asyncio.sleep(policy.delay_before(attempt).total_seconds())
            activity_id = f"{number}.{attempt}"
            headers = call.headers
            if progress is not None:
                headers = {**headers, HEARTBEAT_DETAILS_HEADER: progress}
            current[0] = self._schedule(
                call.definition, call.resolved, call.data, headers, activity_id
            )


def _timeout_headers(declared: ActivityOptions, effective: ActivityOptions) -> dict[str, str]:
    """Headers for the timeouts a call sets apart from the declared ones: SWF does not tell
    the worker a task's timeouts, and it needs them to pace heartbeats and to know how long
    its answer can still be delivered."""
    headers: dict[str, str] = {}
    for header, name in (
        (HEARTBEAT_TIMEOUT_HEADER, "heartbeat_timeout"),
        (START_TO_CLOSE_TIMEOUT_HEADER, "start_to_close_timeout"),
        (SCHEDULE_TO_CLOSE_TIMEOUT_HEADER, "schedule_to_close_timeout"),
    ):
        timeout = getattr(effective, name)
        if timeout != getattr(declared, name):
            headers[header] = duration_to_swf(timeout, what=name) or "NONE"
    return headers


async def _outcome(machine: ActivityMachine) -> Any:
    """The attempt's result, waiting as its cancellation type says when the waiter is
    cancelled."""
    if machine.cancellation is not CancellationType.WAIT_CANCELLATION_COMPLETED:
        return await machine.future  # cancelling this await cancels the future
    try:
        return await asyncio.shield(machine.future)
    except asyncio.CancelledError:
        if machine.future.done():
            raise
        machine.request_cancel()
    while True:
        # Until the activity closes: ActivityCanceledError (with its details) if it
        # acknowledged the request, or its result or failure if it finished otherwise.
        try:
            return await asyncio.shield(machine.future)
        except asyncio.CancelledError:
            if machine.future.done():
                raise
