"""Activities: the ScheduleActivityTask / RequestCancelActivityTask machine and its handle.

Each attempt is one machine with its own activity id (``"3"`` for the first attempt of the
third activity, ``"3.2"`` for its second), so ids never repeat within an execution. Retries
happen in workflow code, with durable timers between attempts, so they replay like anything
else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aioswf._decider.commands import Command
from aioswf._decider.history import Event, attrs
from aioswf._decider.recorded import Recorded
from aioswf._definitions import ActivityDefinition
from aioswf._envelope import wrap
from aioswf._failure import Failure
from aioswf.converter import check_size
from aioswf.exceptions import (
    ActivityCanceledError,
    ActivityFailedError,
    ActivityTimedOutError,
    PayloadConversionError,
    ScheduleActivityFailedError,
)
from aioswf.options import ActivityOptions

if TYPE_CHECKING:
    from aioswf._decider.instance import WorkflowInstance

logger = logging.getLogger(__name__)

R = TypeVar("R")


class ActivityHandle(Generic[R]):
    """An activity started with ``workflow.start_activity``.

    Await it for the result (after any retries); :meth:`cancel` asks SWF to cancel the
    activity and makes the awaiting code see ``asyncio.CancelledError``.
    """

    def __init__(self, task: asyncio.Task[R], activity_id: str, definition: ActivityDefinition):
        self._task = task
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

    def __init__(
        self,
        activities: Activities,
        definition: ActivityDefinition,
        activity_id: str,
        attributes: dict[str, Any],
    ) -> None:
        self.activities = activities
        self.definition = definition
        self.activity_id = activity_id
        self.scheduled_id: int | None = None
        self.closed = False
        self.future: asyncio.Future[Any] = activities.host.loop.create_future()
        self.future.add_done_callback(self._future_done)
        self.command = Command("ScheduleActivityTask", attributes, self._recorded)
        activities.host.decisions.add(self.command)

    def _recorded(self, event: Event) -> None:
        if event["eventType"] == "ActivityTaskScheduled":
            self.scheduled_id = int(event["eventId"])
            self.activities.scheduled.add(self.scheduled_id, self)

    def _future_done(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled() and not self.closed:
            self._request_cancel()

    def _request_cancel(self) -> None:
        self.closed = True
        if not self.command.sent:
            # Scheduled and cancelled within one decision task: SWF never hears of it.
            self.command.dropped = True
            self.activities.forget(self)
            return
        self.activities.host.decisions.add(
            Command("RequestCancelActivityTask", {"activityId": self.activity_id})
        )

    def _settle(self, error: BaseException | None = None, result: Any = None) -> None:
        self.closed = True
        self.activities.forget(self)
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)

    def _ids(self) -> dict[str, str]:
        return {"activity_id": self.activity_id, "activity_type": self.definition.type_key}

    def completed(self, data: Any) -> None:
        try:
            value = self.activities.host.converter.decode_result(self.definition.fn, data)
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


class Activities:
    """The activity machines of one run, and the history events that concern them."""

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host
        self.by_id: dict[str, ActivityMachine] = {}
        self.scheduled: Recorded[ActivityMachine] = Recorded("scheduledEventId")

    def forget(self, machine: ActivityMachine) -> None:
        self.by_id.pop(machine.activity_id, None)
        self.scheduled.discard(machine.scheduled_id)

    def handlers(self) -> dict[str, Callable[[Event], None]]:
        """The events this kind reacts to."""
        by_scheduled = {
            "ActivityTaskCompleted": lambda m, a: m.completed(a.get("result")),
            "ActivityTaskFailed": ActivityMachine.failed,
            "ActivityTaskTimedOut": ActivityMachine.timed_out,
            "ActivityTaskCanceled": ActivityMachine.canceled,
        }
        handlers: dict[str, Callable[[Event], None]] = {
            kind: self.scheduled.routed(action) for kind, action in by_scheduled.items()
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
        """Schedule the first attempt now, and run the retries in a task."""
        merged = definition.options.merged(options)
        data = check_size(
            f"input of activity {definition.type_key}",
            wrap(self.host.converter.encode_args(list(args)), headers),
        )
        number = self.host.decisions.next_id("activity")
        current = [self._schedule(definition, data, merged, str(number))]
        task = self.host.loop.create_task(self._attempts(definition, data, merged, number, current))

        def cancel_attempt(done: asyncio.Task[Any]) -> None:
            # A handle cancelled before its task first ran never awaited the attempt.
            if done.cancelled():
                current[0].future.cancel()

        task.add_done_callback(cancel_attempt)
        return ActivityHandle(task, current[0].activity_id, definition)

    def _schedule(
        self,
        definition: ActivityDefinition,
        data: str | None,
        options: ActivityOptions,
        activity_id: str,
    ) -> ActivityMachine:
        attributes: dict[str, Any] = {
            "activityType": definition.swf_type(),
            "activityId": activity_id,
            "taskList": {"name": options.task_list or self.host.info().task_list},
            **options.swf_schedule_timeouts(definition.type_key),
        }
        if data is not None:
            attributes["input"] = data
        if options.task_priority is not None:
            attributes["taskPriority"] = str(options.task_priority)
        machine = ActivityMachine(self, definition, activity_id, attributes)
        self.by_id[activity_id] = machine
        return machine

    async def _attempts(
        self,
        definition: ActivityDefinition,
        data: str | None,
        options: ActivityOptions,
        number: int,
        current: list[ActivityMachine],
    ) -> Any:
        policy = options.retry_policy
        attempt = 1
        while True:
            try:
                return await current[0].future
            except ActivityFailedError as error:
                retry = policy is not None and policy.should_retry(
                    attempt, error.type_name, non_retryable=error.non_retryable
                )
                if not retry:
                    raise
            except ActivityTimedOutError:
                if policy is None or not policy.should_retry(attempt, "ActivityTimedOutError"):
                    raise
            assert policy is not None
            attempt += 1
            await asyncio.sleep(policy.delay_before(attempt).total_seconds())
            current[0] = self._schedule(definition, data, options, f"{number}.{attempt}")
