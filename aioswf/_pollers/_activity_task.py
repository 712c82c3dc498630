"""Running one activity task: decode, call, heartbeat, and tell SWF how it ended."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import enum
import inspect
import logging
import re
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aioswf import exceptions as exc
from aioswf._decider.activity import HEARTBEAT_DETAILS_HEADER
from aioswf._definitions import ActivityDefinition
from aioswf._envelope import unwrap
from aioswf._failure import Failure
from aioswf._pollers._activity_heartbeat import Heartbeater
from aioswf._pollers._activity_options import ActivityWorkerOptions
from aioswf._pollers._activity_types import RegisteredDefaults, TaskTimeouts, task_timeouts
from aioswf._pollers._logging import task_fields
from aioswf._transport import Transport
from aioswf._wording import duration
from aioswf.activity import (
    ActivityContext,
    ActivityInfo,
    CancelReason,
    _CompleteAsync,
    _current,
)
from aioswf.converter import DataConverter, check_size
from aioswf.interceptors import ActivityInboundInterceptor, ExecuteActivityInput
from aioswf.metrics import OFF, WorkerMetrics

logger = logging.getLogger(__name__)

UNKNOWN_ACTIVITY_TYPE = "UnknownActivityTypeError"
"""The failure reason of a task whose activity type this worker does not run."""
WORKER_SHUTDOWN = "WorkerShutdownError"
"""The failure reason of a task cancelled because its worker shut down."""


_RUNTIME_ID = re.compile(r"^\d+(?:\.(\d+))?$")


def attempt_of(activity_id: str) -> int | None:
    """The attempt number in an activity id given by aioswf workflows (``"3"``, ``"3.2"``).

    Ids chosen by other deciders say nothing about attempts: ``None``.
    """
    match = _RUNTIME_ID.match(activity_id)
    if match is None:
        return None
    return int(match.group(1) or 1)


class ActivityCalls(ActivityInboundInterceptor):
    """The innermost of the activity interceptor chain: the activity itself.

    Sync activities run in the worker's thread pool, in a copy of the task's context (so
    ``activity.info()`` and whatever an interceptor set there are seen by the thread).
    """

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if inspect.iscoroutinefunction(input.fn):
            return await input.fn(*input.args)
        ctx = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, ctx.run, input.fn, *input.args)


@dataclass(frozen=True, slots=True)
class RunnerEnv:
    """What every task runner of one poller shares."""

    transport: Transport
    converter: DataConverter
    domain: str
    task_list: str
    definitions: Mapping[tuple[str, str], ActivityDefinition]
    options: ActivityWorkerOptions
    executor: Executor
    registered: RegisteredDefaults
    """The registered defaults of activity types, for tasks of other SWF clients."""
    metrics: WorkerMetrics = OFF
    inbound: ActivityInboundInterceptor | None = None
    """The worker's activity interceptors, around :class:`ActivityCalls` (alone if ``None``)."""


class _Outcome(enum.Enum):
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ASYNC = "completes asynchronously"


_REPORTED = {
    "RespondActivityTaskCompleted": "completed",
    "RespondActivityTaskFailed": "failed",
    "RespondActivityTaskCanceled": "canceled",
}


class TaskRunner:
    """Runs one activity task from the poll answer to the response sent to SWF.

    ``run`` never raises for what the activity does; only cancelling ``run`` itself (the
    worker abandoning the task) ends it early.
    """

    def __init__(self, env: RunnerEnv, task: Mapping[str, Any], *, refuse: bool = False) -> None:
        self.env = env
        self.is_refusal = refuse
        """Whether the task is failed at once, unrun (it arrived after the shutdown timeout)."""
        self.ended_by_shutdown = False
        """Whether the shutdown ended the task: reported ``WorkerShutdownError``, or cut."""
        self.task = task
        self.token: str = task["taskToken"]
        self.activity_id: str = task.get("activityId", "?")
        type_ = task.get("activityType", {})
        self.type_key = (str(type_.get("name", "?")), str(type_.get("version", "?")))
        self.type_name = "/".join(self.type_key)
        execution = task.get("workflowExecution", {})
        self.describe = (
            f"activity {self.activity_id} ({self.type_key[0]}/{self.type_key[1]}) of "
            f"workflow {execution.get('workflowId', '?')}"
        )
        self.received = asyncio.get_running_loop().time()
        """When the task arrived (the loop's clock): its start-to-close timeout runs from here."""
        self._context: ActivityContext | None = None
        self._heartbeater: Heartbeater | None = None
        # The runner's own task while it is in the activity, which runs there (no task of its
        # own): cancelling it is how the activity is cancelled where it awaits.
        self._in_activity: asyncio.Task[Any] | None = None
        self._cancel_sent = False
        self._definition: ActivityDefinition | None = None
        self.headers: dict[str, str] = {}
        self.timeouts = TaskTimeouts()
        """The task's timeouts, once its input is read (until then: none known)."""

    def cancel(self, reason: CancelReason) -> None:
        """Cancel the activity: async ones at their next await; sync ones see the flag.

        A sync activity cancelled because the worker shuts down is abandoned at once: its
        thread runs on, but its result is ignored and the task is reported as failed.
        """
        context = self._context
        if context is None or not context.mark_cancelled(reason):
            return
        task, definition = self._in_activity, self._definition
        if task is None or definition is None:
            return  # not started yet (it sees the flag), or finished: nothing to interrupt
        if reason is CancelReason.SHUTDOWN or definition.is_async:
            self._cancel_sent = True
            task.cancel()

    async def run(self) -> None:
        """Run the task and report its outcome to SWF."""
        if self.is_refusal:
            self.ended_by_shutdown = True
            message = f"the worker was shutting down when SWF handed it {self.describe}"
            await self._fail(Failure(type_name=WORKER_SHUTDOWN, message=message))
            return
        definition = self.env.definitions.get(self.type_key)
        if definition is None:
            known = ", ".join(sorted(f"{n}/{v}" for n, v in self.env.definitions)) or "none"
            message = (
                f"{self.describe}: this worker (task list {self.env.task_list!r}) does not run "
                f"activity type {self.type_key[0]}/{self.type_key[1]}; it runs: {known}"
            )
            logger.error("%s", message)
            await self._fail(Failure(type_name=UNKNOWN_ACTIVITY_TYPE, message=message))
            return
        data, self.headers = unwrap(self.task.get("input"))
        self.timeouts = await task_timeouts(
            definition,
            self.headers,
            from_aioswf=attempt_of(self.activity_id) is not None,
            registered=self.env.registered,
            describe=self.describe,
        )
        try:
            await self.env.converter.download(data)
            args = self.env.converter.decode_args(definition.fn, data)
        except exc.PayloadStoreError as error:
            # The payload is fine, the store is not (an outage, throttling): a retryable
            # failure, so the retry policy tries again.
            logger.warning("%s: cannot read its input: %s", self.describe, error)
            await self._fail(Failure.from_exception(error))
            return
        except exc.PayloadConversionError as error:
            logger.error("%s: cannot decode its input: %s", self.describe, error)
            failure = Failure.from_exception(error)
            await self._fail(Failure(failure.type_name, str(error), non_retryable=True))
            return
        outcome, value = await self._execute(definition, args)
        await self._report(outcome, value)

    def _previous_progress(self) -> Any:
        text = self.headers.get(HEARTBEAT_DETAILS_HEADER)
        if text is None:
            return None
        try:
            return self.env.converter.decode(text, what="previous heartbeat details")
        except exc.PayloadConversionError as error:
            logger.warning("%s: %s", self.describe, error)
            return None

    def _make_context(
        self, definition: ActivityDefinition, heartbeater: Heartbeater, timeout: timedelta | None
    ) -> None:
        execution = self.task.get("workflowExecution", {})
        info = ActivityInfo(
            task_token=self.token,
            activity_id=self.activity_id,
            activity_type=definition.name,
            activity_version=definition.version,
            workflow_id=str(execution.get("workflowId", "")),
            run_id=str(execution.get("runId", "")),
            started_event_id=int(self.task.get("startedEventId", 0) or 0),
            domain=self.env.domain,
            task_list=self.env.task_list,
            heartbeat_timeout=timeout,
            attempt=attempt_of(self.activity_id),
            heartbeat_details=self._previous_progress(),
            start_to_close_timeout=self.timeouts.start_to_close,
            schedule_to_close_timeout=self.timeouts.schedule_to_close,
        )
        self._context = ActivityContext(info, self.env.converter, heartbeater.record)

    def _heartbeat_interval(self, timeout: timedelta | None) -> float:
        if timeout is None or timeout.total_seconds() <= 0:
            return self.env.options.heartbeat_interval.total_seconds()
        return timeout.total_seconds() * self.env.options.heartbeat_ratio

    async def _execute(
        self, definition: ActivityDefinition, args: list[Any]
    ) -> tuple[_Outcome, Any]:
        timeout = self.timeouts.heartbeat
        heartbeater = self._heartbeater = Heartbeater(
            self.env.transport,
            self.token,
            interval=self._heartbeat_interval(timeout),
            timeout=timeout.total_seconds() if timeout else None,
            started=self.received,
            auto=definition.auto_heartbeat,
            on_cancel=self.cancel,
            describe=self.describe,
            converter=self.env.converter,
            metrics=self.env.metrics,
        )
        self._make_context(definition, heartbeater, timeout)
        try:
            outcome, value = await self._call(definition, args)
        finally:
            await heartbeater.close()
        if heartbeater.error is not None and outcome is not _Outcome.FAILED:
            # Its heartbeats (and with them any cancellation request) were lost: SWF would
            # time the task out anyway, so say why now rather than report a success.
            return _Outcome.FAILED, heartbeater.error
        return outcome, value

    async def _call(self, definition: ActivityDefinition, args: list[Any]) -> tuple[_Outcome, Any]:
        """Run the activity in this task, in its context; how it ended.

        The runner's task is a copy of its poller's context, so the activity context set here
        is the runner's alone; it is reset when the activity ends.
        """
        assert self._context is not None
        self._definition = definition
        request = ExecuteActivityInput(definition.fn, args, self.headers, self._context.info)
        inbound = self.env.inbound or ActivityCalls(self.env.executor)
        current = asyncio.current_task()
        assert current is not None
        token = _current.set(self._context)
        self._in_activity = current
        try:
            return _Outcome.COMPLETED, await inbound.execute_activity(request)
        except _CompleteAsync:
            return _Outcome.ASYNC, None
        except asyncio.CancelledError as error:
            self._take_back_cancel(current)
            if current.cancelling():
                raise  # the worker abandons this task: nothing more to do
            if self._context.cancel_reason is None:
                return _Outcome.FAILED, error  # the activity cancelled itself
            return _Outcome.CANCELLED, error
        except Exception as error:
            return _Outcome.FAILED, error
        finally:
            # Nothing suspends between the activity's end and here: a cancellation that
            # comes later finds no activity to interrupt (and leaves the report alone).
            self._in_activity = None
            self._take_back_cancel(current)
            _current.reset(token)

    def _take_back_cancel(self, task: asyncio.Task[Any]) -> None:
        """Withdraw the cancellation :meth:`cancel` sent, once the activity has seen it (or
        ended without letting it out), so that only the worker's own cancellation of the
        runner counts as abandoning it."""
        if self._cancel_sent:
            self._cancel_sent = False
            task.uncancel()

    async def _report(self, outcome: _Outcome, value: Any) -> None:
        assert self._context is not None
        reason = self._context.cancel_reason
        if reason is CancelReason.LOST:
            logger.info("%s ended (%s) after SWF dropped the task", self.describe, outcome.value)
            return
        if outcome is _Outcome.ASYNC:
            logger.debug("%s will be completed asynchronously", self.describe)
        elif outcome is _Outcome.COMPLETED:
            await self._complete(value)
        elif outcome is _Outcome.FAILED:
            logger.debug("%s failed: %r", self.describe, value)
            failure = Failure.from_exception(value)
            if self._heartbeater is not None:
                progress = self._heartbeater.last_details
                failure = dataclasses.replace(failure, heartbeat_details=progress)
            await self._fail(failure)
        elif reason is CancelReason.REQUESTED:
            # The details the workflow sees: the progress it had reported when it stopped.
            progress = self._heartbeater.last_details if self._heartbeater else None
            await self._respond(
                "RespondActivityTaskCanceled", {} if progress is None else {"details": progress}
            )
        else:
            self.ended_by_shutdown = True
            message = f"the worker shut down before {self.describe} finished"
            await self._fail(Failure(type_name=WORKER_SHUTDOWN, message=message))

    async def _complete(self, value: Any) -> None:
        try:
            result = check_size("activity result", self.env.converter.encode_result(value))
            await self.env.converter.upload(result)
        except exc.PayloadError as error:
            logger.error("%s: its result cannot be sent: %s", self.describe, error)
            await self._fail(Failure.from_exception(error))
            return
        await self._respond(
            "RespondActivityTaskCompleted", {} if result is None else {"result": result}
        )

    async def _fail(self, failure: Failure) -> None:
        reason, details = failure.encode(self.env.converter)
        try:
            await self.env.converter.upload(details)
        except exc.PayloadError as error:
            logger.error("%s: its failure details cannot be stored: %s", self.describe, error)
            # Said without the store, in short: the workflow still learns how it ended.
            short = Failure(failure.type_name, f"{failure.message[:1000]} ({error})")
            reason, details = short.encode(DataConverter())
        await self._respond("RespondActivityTaskFailed", {"reason": reason, "details": details})

    def deadline(self) -> float:
        """The loop time past which SWF can no longer accept this task's answer.

        The earlier of its start-to-close and schedule-to-close timeouts, and of its heartbeat
        timeout counted from the last heartbeat that got through (SWF times the task out when
        none came in time, finished or not); ``math.inf`` when none is known: the answer is
        then tried until SWF, once reachable again, accepts it or says the task is gone.
        """
        deadline = self.timeouts.answer_deadline(self.received)
        if self._heartbeater is not None:
            deadline = min(deadline, self._heartbeater.lapses_at())
        return deadline

    def _log_outcome(self, operation: str, params: Mapping[str, Any]) -> None:
        """One INFO line per finished task, its context also as structured fields."""
        if not logger.isEnabledFor(logging.INFO):
            return  # without building the line and its fields
        execution = self.task.get("workflowExecution", {})
        outcome = _REPORTED.get(operation, operation)
        if "reason" in params:
            outcome += f" ({params['reason']})"
        logger.info(
            "%s, run %s: %s after %s",
            self.describe,
            execution.get("runId", "?"),
            outcome,
            duration(asyncio.get_running_loop().time() - self.received),
            extra=task_fields(
                execution,
                activity_id=self.activity_id,
                activity_type=f"{self.type_key[0]}/{self.type_key[1]}",
            ),
        )

    async def _respond(self, operation: str, params: dict[str, Any]) -> None:
        # The answer carries finished work: an outage must not throw it away while the
        # task could still be accepted (a dropped answer would run the activity again).
        try:
            await self.env.transport.call(
                operation, {"taskToken": self.token, **params}, until=self.deadline()
            )
            self._log_outcome(operation, params)
        except exc.UnknownResourceError as error:
            if error.after_lost_answer:
                # The refusal is most likely SWF's answer to a repeat of what it recorded.
                logger.warning(
                    "%s: SWF no longer knows the task after an earlier %s whose answer was "
                    "lost; that one was most likely recorded (else the task timed out)",
                    self.describe,
                    operation,
                )
            else:
                logger.warning(
                    "%s: SWF no longer knows the task (it timed out or was closed elsewhere); "
                    "%s was not recorded",
                    self.describe,
                    operation,
                )
        except (exc.ServiceUnavailableError, exc.ThrottlingError) as error:
            logger.error(
                "%s: gave up sending %s at the task's deadline; SWF times it out and its "
                "workflow decides whether to retry: %s",
                self.describe,
                operation,
                error,
            )
        except exc.AioSWFError as error:
            logger.error("%s: %s failed: %s", self.describe, operation, error)
