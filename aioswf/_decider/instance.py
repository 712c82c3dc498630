"""One workflow run: its loop, its decision machines, and the activation that drives them.

An activation takes the history events the instance has not seen and the id of the decision
task being decided. It replays every completed decision task among those events (the code
runs, and what it decides must match what history recorded), then runs the code for the
current task and returns its decisions. A fresh instance is fed the whole history; a cached
one only what is new since its last task, which it continues from.
"""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import hashlib
import inspect
import logging
import operator
import random
import uuid
from collections.abc import Callable, Generator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aioswf._decider.activity import Activities, ActivityHandle
from aioswf._decider.child import Children, ChildWorkflowHandle
from aioswf._decider.closing import Closing
from aioswf._decider.commands import CLOSE_DECISIONS, Command, DecisionBook, match
from aioswf._decider.deadlock import DeadlockInterrupt
from aioswf._decider.external import Externals, ExternalWorkflowHandle
from aioswf._decider.history import Event, RunPoint, attrs, make_plan
from aioswf._decider.intercepted import WorkflowCalls, WorkflowOutboundCalls
from aioswf._decider.lambdas import Lambdas
from aioswf._decider.loop import WorkflowLoop
from aioswf._decider.marker import Markers
from aioswf._decider.outcome import (
    Activation,
    CacheMiss,
    ContinueAsNew,
    InstanceOptions,
    WorkflowEvicted,
    _TaskFailed,
)
from aioswf._decider.retrying import ExecutionContext, retry_timer
from aioswf._decider.runtime import ChildOptions, WorkflowInfo
from aioswf._decider.signals import Signals
from aioswf._decider.starting import Starting, as_failure
from aioswf._decider.timer import Timers
from aioswf._decider.versioning import Versioning, without_unasked_patches
from aioswf._definitions import ActivityDefinition, WorkflowDefinition
from aioswf._sandbox.module_state import state_watch
from aioswf.converter import DataConverter, check_size
from aioswf.exceptions import (
    NondeterminismError,
    WorkerError,
    WorkflowDeadlockError,
)
from aioswf.interceptors import (
    ContinueAsNewInput,
    StartActivityInput,
    StartChildWorkflowInput,
    WorkflowInboundInterceptor,
    WorkflowOutboundInterceptor,
)
from aioswf.options import ActivityOptions, WorkflowOptions

logger = logging.getLogger(__name__)

APPLY_CHUNK = 250
"""Events applied between two pauses of :meth:`WorkflowInstance.activate`, so that a task
with thousands of new events does not hold the host loop for all of them at once."""


class WorkflowInstance:
    """A live workflow run; implements :class:`~aioswf._decider.runtime.WorkflowRuntime`."""

    def __init__(
        self,
        definition: WorkflowDefinition,
        *,
        domain: str,
        workflow_id: str,
        run_id: str,
        converter: DataConverter,
        options: InstanceOptions | None = None,
    ) -> None:
        self.definition = definition
        self.domain = domain
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.converter = converter.scoped()  # holds this run's payloads until sent
        self.options = options or InstanceOptions()
        self.describe = (
            f"workflow {definition.type_key} (workflow_id={workflow_id!r}, run_id={run_id!r})"
        )
        self.decisions = DecisionBook()
        self.activities = Activities(self)
        self.timers = Timers(self)
        self.markers = Markers(self)
        self.children = Children(self)
        self.externals = Externals(self)
        self.lambdas = Lambdas(self)
        self.versioning = Versioning(self)
        self.signals = Signals(self)
        self.closing = Closing(self)
        self.starting = Starting(self)
        self.context = ExecutionContext()
        self.loop = WorkflowLoop(
            self.timers,
            self.describe,
            self.options.deadlock_timeout,
            sandboxed=definition.sandboxed,
            state=state_watch(definition.cls) if definition.sandboxed else None,
        )
        self.inbound: WorkflowInboundInterceptor = WorkflowCalls(self)
        """Calls into the run (its run method, its signal handlers), through interceptors."""
        self.outbound: WorkflowOutboundInterceptor = WorkflowOutboundCalls(self)
        """What the run's code asks of SWF, through interceptors."""
        self.loop.runtime = self
        self.last_started_id = 0
        """The ``DecisionTaskStarted`` id of the last task this instance decided."""
        self._replaying = False
        self._closed = False
        self._random: random.Random | None = None
        """Seeded from the run id when the code first asks (most runs never do)."""
        self._conditions: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._fatal: BaseException | None = None
        self._task_time = 0.0
        self._tasks_run = 0
        self._task_attempt = 1
        self._point: RunPoint | None = None
        self.current_echoes: Sequence[Event] = ()
        """The events that recorded the decisions of the task being replayed (none when
        deciding a new task): what patches and side effects decided then."""
        self._awaiting_echo: list[Command] = []
        self.current_event: Event | None = None
        """The event being applied, for messages about a history that does not fit together."""
        self._handlers: dict[str, Callable[[Event], None]] = {
            **self.starting.handlers(),
            "DecisionTaskCompleted": self._on_decision_completed,
            "CompleteWorkflowExecutionFailed": self._on_close_failed,
            "FailWorkflowExecutionFailed": self._on_close_failed,
            "CancelWorkflowExecutionFailed": self._on_close_failed,
            "ContinueAsNewWorkflowExecutionFailed": self._on_close_failed,
            "DecisionTaskTimedOut": self._on_decision_timed_out,
            **self.activities.handlers(),
            **self.timers.handlers(),
            **self.markers.handlers(),
            **self.children.handlers(),
            **self.externals.handlers(),
            **self.lambdas.handlers(),
        }

    # --- activation ----------------------------------------------------------------------

    def activate(
        self, events: Sequence[Event], started_id: int | None, *, pausing: bool = True
    ) -> Generator[None, None, Activation]:
        """Apply ``events`` and decide the task ``started_id`` (``None``: replay only).

        A generator, so the caller can hand the host loop back between replayed tasks and
        every :data:`APPLY_CHUNK` events; its return value is the :class:`Activation`.
        Without ``pausing`` (a caller that would not hand anything back) it pauses only
        where the rare paths do.

        Raises:
            CacheMiss: the instance cannot continue from these events.
        """
        try:
            return (yield from self._activate(events, started_id, pausing))
        finally:
            # The steps left the loop's async generator hooks on a thread without hooks
            # of its own; the activation ends here.
            self.loop.release_thread()

    def _activate(
        self, events: Sequence[Event], started_id: int | None, pausing: bool
    ) -> Generator[None, None, Activation]:
        if self._closed:
            raise CacheMiss(f"{self.describe}: the instance was closed")
        if self.closing.active and not self.decisions.close_waiting():
            # Its close was sent and refused (else no task would come): the code must run
            # again from the start, with the news before the close (see
            # `RunPoint.refused_batch`). A close still waiting in the tail of a split batch
            # was not sent yet: this task sends it.
            raise CacheMiss(f"{self.describe}: its close decision was refused")
        plan = make_plan(events, self.last_started_id, started_id)
        self.context.seen_newest(plan.context)
        try:
            if plan.points:
                self._task_time = plan.points[-1].time
            if self.last_started_id:
                self._match_previous(plan.completed_by_started, plan.echoes)
            cursor = 0
            events = plan.events
            canonical = self.converter.canonical
            for point in plan.points:
                # Before the point's events are applied: what they do (an unknown signal is
                # logged, say) happens once, when their task is first decided.
                completed = point.completed_id
                self._replaying = completed is not None
                echoes = plan.echoes.get(completed, ()) if completed else ()
                self.current_echoes = echoes
                if point.refused_until:
                    cursor = yield from self._decide_again(events, cursor, point)
                end = point.end
                if end is None or end < cursor:
                    end = _batch_end(events, cursor, point.started_id)
                signals = not point.refused_until  # else delivered already
                if pausing and end - cursor > APPLY_CHUNK:
                    yield from self._apply_pausing(events[cursor:end], signals=signals)
                else:
                    self._apply(events[cursor:end], signals=signals)
                cursor = end
                self._step(point)
                self._task_attempt = 1
                if completed is None:
                    commands = self.decisions.take(point.started_id)
                    self.last_started_id = point.started_id
                    self._awaiting_echo = commands
                    return self._result(commands)
                if self.decisions.take_replayed(echoes, canonical) is None:
                    self._take_replayed(point, echoes)  # the long way, which words mismatches
                self.last_started_id = point.started_id
                if pausing:
                    yield
            self._replaying = False
            return Activation()
        except NondeterminismError as error:
            if self.options.fail_on_nondeterminism:
                return self.closing.on_nondeterminism(error)
            return self._retry(error, started_id)
        except (WorkflowDeadlockError, DeadlockInterrupt) as error:
            # Like non-determinism, a retry (after a fix, or on a quieter machine) may pass.
            return self._retry(self.loop.watch.error or error, started_id)
        except _TaskFailed as failed:
            return self._retry(failed.error, started_id)

    def _retry(self, error: BaseException, started_id: int | None) -> Activation:
        """The answer that retries the task: a failure report and a back-off timer."""
        self.decisions.discard()
        if started_id is None:  # replaying only: there is no task to answer
            return Activation(failure=error)
        failure, context = self.context.report(error, self._task_time)
        return Activation(
            [retry_timer(started_id, failure).to_swf()],
            context,
            failure=error,
            decision_failure=failure,
        )

    def failed_answer(self, error: BaseException, started_id: int) -> Activation:
        """The answer that retries task ``started_id``, whose code failed where no retry
        answer was built: interrupted outside of workflow code, or still running on a
        thread that was given up.

        Only what was settled before the code ran is read (the context SWF holds, the task's
        time): the rest of the instance may belong to that thread. The answer has a failure,
        so the poller closes the instance and the next attempt replays on a fresh one.
        """
        failure, context = self.context.report(error, self._task_time)
        return Activation(
            [retry_timer(started_id, failure).to_swf()],
            context,
            failure=error,
            decision_failure=failure,
        )

    def retry_answer(self, error: BaseException) -> Activation:
        """The answer that retries the task just decided, whose decisions could not be sent
        as decided (``error``: a payload store refused them)."""
        return self._retry(error, self.last_started_id)

    def run_to_completion(self, events: Sequence[Event], started_id: int | None) -> Activation:
        """:meth:`activate` without pauses, for replayers and tests."""
        steps = self.activate(events, started_id, pausing=False)
        while True:
            try:
                next(steps)
            except StopIteration as stop:
                result: Activation = stop.value
                return result

    def _take_replayed(self, point: RunPoint, echoes: Sequence[Event]) -> None:
        """Take the decisions of the replayed task ``point`` and match them with the
        ``echoes`` that recorded them, whatever they are (see ``DecisionBook.take_replayed``
        for the common case).

        Raises:
            NondeterminismError: naming the first event and decision that differ.
        """
        where = f"decision task {point.started_id} (completed in event {point.completed_id})"
        pending = self.decisions.pending()
        recorded = without_unasked_patches(pending, echoes)
        commands = self.decisions.take(point.started_id, recorded, pending)
        match(commands, recorded, where, self.describe, self.converter.canonical)

    def _match_previous(self, completed: dict[int, int], echoes: dict[int, list[Event]]) -> None:
        completed_id = completed.get(self.last_started_id)
        if completed_id is None:
            # Our answer never made it (the task timed out): what we think we decided is not
            # what happened.
            raise CacheMiss(f"{self.describe}: decision task {self.last_started_id} not completed")
        where = f"decision task {self.last_started_id} (completed in event {completed_id})"
        awaiting = self._awaiting_echo
        recorded = without_unasked_patches(awaiting, echoes.get(completed_id, []))
        match(awaiting, recorded, where, self.describe, self.converter.canonical)
        self._awaiting_echo = []

    def _decide_again(
        self, events: Sequence[Event], cursor: int, point: RunPoint
    ) -> Generator[None, None, int]:
        """Run the code of tasks whose close SWF refused for news, knowing the news.

        Every signal up to ``point`` is delivered first, with the events up to the last
        refused task; the code then decides its close again. The other decisions of the
        refused tasks were applied by SWF: found again among what the code decides, they
        are not sent twice. Returns the new cursor.
        """
        end = _batch_end(events, cursor, point.refused_until + 1)
        everything = _batch_end(events, cursor, point.started_id)
        yield from self._apply_pausing(events[cursor:end], signal_events=events[cursor:everything])
        self._step(point)
        where = (
            f"decision task {point.started_id}, deciding again the close refused in the task "
            f"completed in event {point.refused_until}"
        )
        self.decisions.remove_recorded(
            point.refused_batch, where, self.describe, self.converter.canonical
        )
        return end

    def _apply(
        self,
        batch: Sequence[Event],
        *,
        signals: bool = True,
        signal_events: Sequence[Event] | None = None,
    ) -> None:
        """Apply the events of one run point (see :meth:`_apply_pausing` for many events).

        Only handlers run here (they resolve futures and queue callbacks; no workflow code
        runs until the step). Signals are taken from ``signal_events`` when given, and
        skipped if not ``signals``.
        """
        if self.starting.obj is None:
            self.starting.construct_once(batch)
        kinds = list(map(_EVENT_TYPE, batch))  # in C: most events of a replay have no handler
        if signal_events is None and _SIGNALED not in kinds:
            signals = False
        # Signals first, in history order, so that handlers see them before the code sees
        # the other news of the same task.
        for event in (signal_events if signal_events is not None else batch) if signals else ():
            obj = self.starting.obj
            if event["eventType"] == "WorkflowExecutionSignaled" and obj is not None:
                self.current_event = event
                self.signals.deliver(event, obj)
        for event, handler in zip(batch, map(self._handlers.get, kinds), strict=True):
            if handler is not None:
                self.current_event = event
                handler(event)

    def _apply_pausing(
        self,
        batch: Sequence[Event],
        *,
        signals: bool = True,
        signal_events: Sequence[Event] | None = None,
    ) -> Generator[None, None, None]:
        """:meth:`_apply`, pausing every :data:`APPLY_CHUNK` events: signals first, then
        the others, as ``_apply`` orders them. A pause between two events changes nothing
        the code sees."""
        if self.starting.obj is None:
            self.starting.construct_once(batch)  # from the first events, not from a chunk
        signaled = signal_events if signal_events is not None else batch
        for start in range(0, len(signaled) if signals else 0, APPLY_CHUNK):
            self._apply((), signal_events=signaled[start : start + APPLY_CHUNK])
            yield
        for start in range(0, len(batch), APPLY_CHUNK):
            self._apply(batch[start : start + APPLY_CHUNK], signals=False)
            yield

    def _step(self, point: RunPoint) -> None:
        self._point = point
        self._tasks_run += 1
        loop = self.loop
        with loop.step_at(point.time, replaying=self._replaying):
            while True:
                loop.run_ready()
                if not self._conditions or not self._check_conditions():
                    break
        task = self.starting.run_task
        if self._fatal is not None or (task is not None and task.done()):
            self._after_step()  # else nothing to do, as in most replayed steps

    def _check_conditions(self) -> bool:
        changed = False
        for entry in list(self._conditions):
            predicate, future = entry
            if not future.done():
                try:
                    if not predicate():
                        continue
                    future.set_result(None)
                except BaseException as error:
                    future.set_exception(as_failure(error))
                changed = True
            self._conditions.remove(entry)
        return changed

    def _after_step(self) -> None:
        if self.closing.active:
            return
        if self._fatal is not None:
            self.closing.close_with_error(self._fatal)
        elif (task := self.starting.run_task) is not None and task.done():
            self.closing.close_with_outcome(task)

    def _result(self, commands: list[Command]) -> Activation:
        context = self.context.to_send()
        closing = any(c.decision_type in CLOSE_DECISIONS for c in commands)
        return Activation([c.to_swf() for c in commands], context, closing=closing)

    # --- errors --------------------------------------------------------------------------

    def fail_run(self, error: BaseException, *, replace: bool = False) -> None:
        """Fail the run with ``error`` at the end of this step (first error wins, unless
        ``replace``)."""
        if self._fatal is None or replace:
            self._fatal = error

    # --- events --------------------------------------------------------------------------

    def _on_decision_completed(self, event: Event) -> None:
        data = event.get("decisionTaskCompletedEventAttributes") or {}  # `attrs`, in place
        context = data.get("executionContext")
        if context is not None:
            self.context.recorded(context)
        if self.context.failure is not None:
            self._task_attempt = self.context.failure.attempts + 1

    def _on_close_failed(self, event: Event) -> None:
        cause = str(attrs(event).get("cause", "UNKNOWN"))
        if cause == "UNHANDLED_DECISION":
            return  # news arrived while we closed: the plan runs the code again with it
        self.closing.refused(event["eventType"], cause)

    def _on_decision_timed_out(self, event: Event) -> None:
        self._task_attempt += 1

    # --- the runtime protocol --------------------------------------------------------------

    @property
    def cancel_requested(self) -> bool:
        """Whether SWF recorded a request to cancel this execution."""
        return self.starting.cancel_requested

    @property
    def is_replaying(self) -> bool:
        """Whether the code is re-running a decision task that history already records."""
        return self._replaying

    def info(self) -> WorkflowInfo:
        """The run's identity and settings, and where it stands."""
        if self.starting.info is None:
            raise WorkerError(f"{self.describe}: the run has not started")
        point = self._point
        return dataclasses.replace(
            self.starting.info,
            decision_task_count=self._tasks_run,
            decision_task_attempt=self._task_attempt,
            history_length=point.started_id if point is not None else 0,
        )

    @property
    def task_list(self) -> str:
        """The run's decision task list: where its activities go by default."""
        if self.starting.info is None:
            raise WorkerError(f"{self.describe}: the run has not started")
        return self.starting.info.task_list

    def now(self) -> datetime:
        """The current decision task's time."""
        return datetime.fromtimestamp(self.loop.time(), UTC)

    def random(self) -> random.Random:
        """The run's seeded random generator."""
        if self._random is None:
            self._random = random.Random(_seed(self.run_id))
        return self._random

    def uuid4(self) -> uuid.UUID:
        """A version-4 UUID from the run's random generator."""
        return uuid.UUID(int=self.random().getrandbits(128), version=4)

    def start_activity(
        self, definition: ActivityDefinition, args: Sequence[Any], options: ActivityOptions
    ) -> ActivityHandle[Any]:
        """Schedule an activity now; its retries, if any, run in a task."""
        outbound = self.outbound
        if type(outbound) is WorkflowOutboundCalls:
            # No interceptor to show the call to: straight to the machines (replay makes
            # one call per activity of the history).
            return self.activities.start(definition, args, options, {})
        return outbound.start_activity(StartActivityInput(definition, args, options))

    async def wait_condition(self, predicate: Callable[[], bool], timeout: float | None) -> None:
        """Wait until ``predicate()`` is true; ``TimeoutError`` after ``timeout`` seconds."""
        if predicate():
            return
        future: asyncio.Future[None] = self.loop.create_future()
        entry = (predicate, future)
        self._conditions.append(entry)
        try:
            if timeout is None:
                await future
            else:
                async with asyncio.timeout(timeout):
                    await future
        finally:
            if entry in self._conditions:
                self._conditions.remove(entry)

    def set_state(self, value: Any) -> None:
        """Keep ``value`` (as JSON) as the execution context to send when it changes."""
        text = self.converter.encode(value)
        self.context.state = check_size("workflow state (execution context)", text)

    def record_marker(self, name: str, details: str | None) -> None:
        """Decide ``RecordMarker``."""
        self.markers.record(name, details)

    async def start_child_workflow(
        self, definition: WorkflowDefinition, args: Sequence[Any], options: ChildOptions
    ) -> ChildWorkflowHandle[Any]:
        """Start a child workflow; its handle once SWF has started it."""
        request = StartChildWorkflowInput(definition, args, options)
        return await self.outbound.start_child_workflow(request)

    def external_workflow(self, workflow_id: str, run_id: str | None) -> ExternalWorkflowHandle:
        """A handle to signal or cancel another execution."""
        return self.externals.handle(workflow_id, run_id)

    async def execute_lambda(
        self, name: str, payload: Any, timeout: timedelta | None, result_type: Any
    ) -> Any:
        """Run a Lambda function as a task of this run; its decoded result."""
        return await self.lambdas.execute(name, payload, timeout, result_type)

    def continue_as_new(
        self, args: Sequence[Any], options: WorkflowOptions, tags: Sequence[str] | None
    ) -> ContinueAsNew:
        """The exception that closes this run and starts the next with ``args``."""
        return self.outbound.continue_as_new(ContinueAsNewInput(args, options, tags))

    def patched(self, patch_id: str) -> bool:
        """Whether this run takes the new branch of ``patch_id``."""
        return self.versioning.patched(patch_id)

    def deprecate_patch(self, patch_id: str) -> None:
        """Take the new branch of ``patch_id`` without recording its marker."""
        self.versioning.deprecate_patch(patch_id)

    def all_handlers_finished(self) -> bool:
        """Whether no signal handler of the run is still running."""
        return not self.signals.running

    def side_effect(self, fn: Callable[[], Any]) -> Any:
        """``fn()`` once, recorded; read back on replay."""
        return self.versioning.side_effect(fn)

    # --- the end ---------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    def close(self) -> None:
        """Discard the run: end every coroutine it owns now, with :class:`WorkflowEvicted`.

        Nothing they decide on the way out is sent, and nothing is logged.
        """
        if self._closed:
            return
        self._closed = True
        self.loop.silent = True
        if self.loop.is_running():
            # Its code is still running on another thread (a step stuck in a call that
            # cannot be interrupted): that thread owns it; it is dropped, never resumed.
            return
        self._replaying = True
        evicted: set[asyncio.Task[Any]] = set()
        with self.loop.stepping(evicting=True):
            # A `finally` block may start new work on its way out (an activity in a cleanup
            # handler): those tasks are ended too, until none is left.
            while pending := [t for t in self.loop.pending_tasks() if t not in evicted]:
                for task in pending:
                    evicted.add(task)
                    _evict(task)
        self.decisions.discard()
        self._conditions.clear()
        self.loop.close()


def _evict(task: asyncio.Task[Any]) -> None:
    task._log_destroy_pending = False  # type: ignore[attr-defined]
    coro = task.get_coro()
    if not inspect.iscoroutine(coro):
        return
    # Whatever the coroutine does on its way out stays inside it: it is being discarded.
    try:
        coro.throw(WorkflowEvicted())
    except BaseException:
        return
    try:
        coro.close()
    except BaseException:
        return


def _batch_end(events: Sequence[Event], cursor: int, limit: int) -> int:
    """The index of the first event from ``cursor`` on whose id is not below ``limit``.

    The events are in ascending id order (:func:`make_plan` refuses them otherwise), so a
    search in C does it: replay asks once per decision task.
    """
    return bisect.bisect_left(events, limit, lo=cursor, key=_EVENT_ID)


_EVENT_ID = operator.itemgetter("eventId")
_EVENT_TYPE = operator.itemgetter("eventType")
_SIGNALED = "WorkflowExecutionSignaled"


def _seed(run_id: str) -> int:
    return int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:8], "big")
