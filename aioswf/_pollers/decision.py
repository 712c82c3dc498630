"""The decision poller: long-polls a task list for decision tasks and answers them.

Each task goes to the :class:`~aioswf._decider.WorkflowInstance` of its run: the cached one
when SWF's ``previousStartedEventId`` says it decided the previous task (then only the new
events are read, newest first, stopping at what it knows), a fresh one replaying the whole
history otherwise. The workflow code runs on the poller's activation executor: a dedicated
thread by default, so it never holds the host loop, and a step that does not yield is caught
by the deadlock detector.

Sticky task lists keep a run's tasks with the worker that has it cached: answering a task,
the worker asks SWF to schedule the run's next decision task on a task list only it polls
(``RespondDecisionTaskCompleted.taskList``), for a short ``taskListScheduleToStartTimeout``
after which SWF puts it back on the shared task list, so a worker that stopped or died
holds nothing up for longer than that.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import random
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aioswf import _sandbox as sandbox
from aioswf._decider import (
    Activation,
    CacheMiss,
    InstanceCache,
    InstanceOptions,
    WorkflowInstance,
)
from aioswf._decider.deadlock import DEFAULT_DEADLOCK_TIMEOUT
from aioswf._decider.history import Event
from aioswf._decider.retrying import ExecutionContext, retry_timer
from aioswf._decider.runtime import CONTINUE_AS_NEW_SUGGESTED_AT, HISTORY_EVENT_LIMIT
from aioswf._definitions import WorkflowDefinition
from aioswf._pollers._activation import ActivationExecutor, InlineActivations, ThreadActivations
from aioswf._pollers._collector import COLLECTOR_HOLD
from aioswf._pollers._contact import SwfContact
from aioswf._pollers._decision_metrics import DecisionMeasures
from aioswf._pollers._logging import PollHealth, decision_summary, task_fields
from aioswf._pollers.history_pages import PageSource, TaskHistory
from aioswf.exceptions import (
    PayloadError,
    ServiceError,
    ValidationError,
    WorkflowDeadlockError,
)
from aioswf.interceptors import Interceptor
from aioswf.metrics import OFF, WorkerMetrics

if TYPE_CHECKING:
    from aioswf.client import Client

logger = logging.getLogger(__name__)

_BACKOFF_FIRST = 0.2
_BACKOFF_MAX = 30.0


@dataclass(frozen=True, slots=True)
class DecisionWorkerOptions:
    """How a worker decides.

    Attributes:
        pollers: concurrent long polls for decision tasks.
        max_cached_workflows: live runs kept between their tasks; 0 replays every task from
            the start (same decisions, more work).
        retry_decision_task_on: exception types that, escaping workflow code, retry the
            decision task instead of failing the execution (by default every exception fails
            it). The run stays open, with back-off between attempts, and
            ``handle.describe().decision_failure`` says since when, how many attempts and
            why, until a fixed deployment decides it. ``ApplicationError``, payload errors,
            ``TimeoutError`` and the outcomes of activities, children, timers, external
            workflows and Lambda functions always fail the execution.
        fail_on_nondeterminism: fail the execution when its code no longer matches its
            history; by default the decision task is retried, visibly, like the types of
            ``retry_decision_task_on``, so that a fixed deployment can resume the run.
        deadlock_timeout: how long one workflow step (the code between two waits) may run
            before its decision task fails with ``WorkflowDeadlockError``, naming where the
            code was; ``None`` for no limit.
        debug_mode: turn the deadlock detector off, to step through workflow code in a
            debugger; also on when the ``AIOSWF_DEBUG`` environment variable is ``1``.
        workflow_threads: run workflow code on dedicated threads, so that a step that
            computes never holds the host's event loop (and a step that never yields can be
            interrupted); ``False`` runs it on the host loop, as a measurement baseline.
        hold_full_collections: postpone the garbage collector's full collections while
            decision tasks are being decided (at most 10 s at a time; young collections
            still run). A full collection walks every object of the process while holding
            the GIL, and replaying a long history keeps enough objects alive to trigger
            several, each stalling the host loop for tens of milliseconds; once no task is
            being decided those objects are gone. ``False`` leaves the collector's
            thresholds alone (for a service that manages its collector itself).
        sticky_schedule_to_start: how long the next decision task of a cached run waits on
            this worker's own (sticky) task list before SWF moves it back to the shared
            one (``taskListScheduleToStartTimeout``, whole seconds); ``None`` turns sticky
            task lists off. With it on, ``pollers`` more long polls watch the sticky list.
    """

    pollers: int = 2
    max_cached_workflows: int = 1000
    retry_decision_task_on: tuple[type[BaseException], ...] = ()
    fail_on_nondeterminism: bool = False
    deadlock_timeout: timedelta | None = timedelta(seconds=DEFAULT_DEADLOCK_TIMEOUT)
    debug_mode: bool = False
    workflow_threads: bool = True
    hold_full_collections: bool = True
    sandbox_pass_through: tuple[str, ...] = ()
    sticky_schedule_to_start: timedelta | None = timedelta(seconds=5)

    def __post_init__(self) -> None:
        if self.pollers < 1:
            raise ValueError(f"pollers must be >= 1, got {self.pollers}")
        if self.max_cached_workflows < 0:
            raise ValueError(f"max_cached_workflows must be >= 0, got {self.max_cached_workflows}")
        if self.deadlock_timeout is not None and self.deadlock_timeout <= timedelta(0):
            raise ValueError(f"deadlock_timeout must be > 0 or None, got {self.deadlock_timeout}")
        sticky = self.sticky_schedule_to_start
        if sticky is not None and (sticky.total_seconds() < 1 or sticky.microseconds):
            raise ValueError(
                f"sticky_schedule_to_start must be whole seconds, at least 1, got {sticky}"
            )

    @property
    def sticky(self) -> bool:
        """Whether cached runs get their decision tasks on a sticky task list."""
        return self.sticky_schedule_to_start is not None and self.max_cached_workflows > 0

    @property
    def long_polls(self) -> int:
        """The decision long polls a worker keeps open with these options."""
        return self.pollers * (2 if self.sticky else 1)

    def deadlock_seconds(self) -> float | None:
        """The deadlock timeout in seconds; ``None`` when off (no limit, or debug mode)."""
        if self.debug_mode or os.environ.get("AIOSWF_DEBUG") == "1":
            return None
        return None if self.deadlock_timeout is None else self.deadlock_timeout.total_seconds()

    def activation_executor(self) -> ActivationExecutor:
        """Where the poller runs workflow code."""
        if self.workflow_threads:
            return ThreadActivations(self.long_polls)
        return InlineActivations()


def warn_of_history_growth(page: dict[str, Any]) -> None:
    """Log once per run when its history passes the suggested length, and near the limit.

    "Once": on the decision task whose history first reaches the mark (the previous task
    started below it), whichever worker decides it, cached or not.
    """
    started = int(page.get("startedEventId") or 0)
    previous = int(page.get("previousStartedEventId") or 0)
    for mark, advice in _HISTORY_MARKS:
        if previous < mark <= started:
            execution = page.get("workflowExecution", {})
            logger.warning(
                "workflow_id=%r run_id=%r: its history has %d events; %s (SWF terminates a run "
                "at %d; workflow.info().is_continue_as_new_suggested() tells the code)",
                execution.get("workflowId"),
                execution.get("runId"),
                started,
                advice,
                HISTORY_EVENT_LIMIT,
            )


_HISTORY_MARKS = (
    (CONTINUE_AS_NEW_SUGGESTED_AT, "continuing as new is suggested"),
    (HISTORY_EVENT_LIMIT * 4 // 5, "it nears the limit: continue as new"),
)


def task_deadline(page: dict[str, Any], received: float) -> float:
    """The loop time at which a decision task times out: its start-to-close from ``received``.

    The timeout is on the task's ``DecisionTaskScheduled`` event, among the newest events of
    the first page; ``NONE`` (or an event not found) leaves the answer no deadline of its own.
    """
    for event in page.get("events", ()):
        if event.get("eventType") == "DecisionTaskScheduled":
            attrs = event.get("decisionTaskScheduledEventAttributes") or {}
            timeout = str(attrs.get("startToCloseTimeout", "NONE"))
            return received + float(timeout) if timeout.isdigit() else math.inf
    return math.inf


@dataclass(slots=True)
class DecisionCounters:
    """What a decision poller has done so far, for metrics.

    Attributes:
        tasks: decision tasks received.
        cache_hits: tasks decided by a cached instance from the new events alone.
        cache_misses: tasks whose run was replayed from the start of its history.
        sticky_tasks: tasks received on the worker's sticky task list.
        sticky_misses: of those, tasks whose run was no longer cached (replayed in full).
        history_pages: poll pages read (poll answers and their continuations).
        history_events: history events received for decision tasks, however read.
    """

    tasks: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    sticky_tasks: int = 0
    sticky_misses: int = 0
    history_pages: int = 0
    history_events: int = 0


class DecisionPoller:
    """Polls ``task_list`` for decision tasks of ``workflows`` and answers them.

    Args:
        client: the connection to SWF and the converter.
        task_list: the decision task list to poll.
        workflows: the workflow types this worker can decide.
        options: pollers, cache size and error policy.
        interceptors: wrap each workflow run; the first is the outermost.
        metrics: where polls, tasks, the cache and failures are counted.
        contact: shared with the worker's other poll loops, which wake these (and these
            them) when SWF answers after an outage.
    """

    def __init__(
        self,
        client: Client,
        task_list: str,
        workflows: Sequence[WorkflowDefinition],
        options: DecisionWorkerOptions,
        interceptors: Sequence[Interceptor] = (),
        metrics: WorkerMetrics = OFF,
        contact: SwfContact | None = None,
    ) -> None:
        self.client = client
        self.contact = contact or SwfContact()
        self.task_list = task_list
        self.options = options
        self._definitions = {(w.name, w.version): w for w in workflows}
        self._cache = InstanceCache(options.max_cached_workflows)
        self._instance_options = InstanceOptions(
            retry_decision_task_on=options.retry_decision_task_on,
            fail_on_nondeterminism=options.fail_on_nondeterminism,
            deadlock_timeout=options.deadlock_seconds(),
            interceptors=tuple(interceptors),
        )
        sandbox.pass_through(options.sandbox_pass_through)
        for definition in workflows:
            if definition.sandboxed:  # its module is fully imported by now
                sandbox.rebind_module_of(definition.cls)
        self.executor = options.activation_executor()
        """Runs workflow code, off the host loop by default."""
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self.deciding: dict[str, str] = {}
        """The runs whose decision tasks are being decided now: run id to workflow id."""
        self._healths: dict[str, PollHealth] = {}
        self._in_poll = 0
        self.polling = asyncio.Event()
        """Set once every poll loop has had a poll request out."""
        self.pages = PageSource(client)
        """Sends the polls and reads the rest of each task's history."""
        self.counters = DecisionCounters()
        self.metrics = metrics
        self.measures = DecisionMeasures(metrics)
        self.sticky_task_list = sticky_task_list_name(task_list) if options.sticky else None
        self._stopping: asyncio.Event | None = None
        """This worker's own task list for the runs it has cached, or ``None``."""

    @property
    def polls_in_flight(self) -> int:
        """Polls sent and not answered yet."""
        return self._in_poll

    async def run(self, stopping: asyncio.Event) -> None:
        """Run ``options.pollers`` poll loops until ``stopping`` is set.

        Polls in flight when ``stopping`` is set are awaited, not cut: SWF may hand one a
        task up to the moment it answers, and a cut poll would leave that task started with
        nobody to decide it until its start-to-close timeout. Such a task is decided and
        answered like any other (deciding takes milliseconds, and it moves the workflow on
        instead of stalling it). Then every cached instance is evicted and closed.
        """
        self._stopping = stopping
        task_lists = [self.task_list]
        if self.sticky_task_list is not None:
            task_lists.append(self.sticky_task_list)
        loops = [
            asyncio.create_task(self._poll_loop(stopping, name), name=f"decision poller {i + 1}")
            for name in task_lists
            for i in range(self.options.pollers)
        ]
        try:
            await asyncio.gather(*loops)
        finally:
            for task in loops:
                task.cancel()
            await asyncio.wait(loops)
            self._cache.clear()
            self.executor.shutdown()

    # --- polling ---------------------------------------------------------------------------

    def _page_size(self, task_list: str) -> int:
        # Tasks on the sticky list are a cached run's: the newest few events are enough.
        if task_list == self.sticky_task_list:
            return self.pages.small_page()
        return self.pages.full_page()

    async def _poll_loop(self, stopping: asyncio.Event, task_list: str) -> None:
        failures = 0
        probe = False
        health = self._health(task_list)
        while not stopping.is_set():
            page_size = self._page_size(task_list)
            try:
                if probe:
                    await health.probe(self.client.transport, self.client.domain)
                    probe = False
                page = await self._poll_once(task_list, page_size)
            except Exception as error:
                failures += 1
                delay = random.uniform(0, min(_BACKOFF_MAX, _BACKOFF_FIRST * 2**failures))
                probe = health.should_probe(error)
                health.failed(error, delay)
                await health.back_off(error, delay, stopping)
                continue
            failures = 0
            health.succeeded()
            if page.get("taskToken"):
                with self._collections_held():
                    await self._handle_safely(self.pages.history(page, task_list, page_size))

    def _collections_held(self) -> contextlib.AbstractContextManager[None]:
        if self.options.hold_full_collections:
            return COLLECTOR_HOLD.held()
        return contextlib.nullcontext()

    def _health(self, task_list: str) -> PollHealth:
        if task_list not in self._healths:
            what = f"decision tasks on {task_list!r}"
            self._healths[task_list] = PollHealth(logger, what, _BACKOFF_MAX, self.contact)
        return self._healths[task_list]

    async def _poll_once(self, task_list: str, page_size: int) -> dict[str, Any]:
        self._in_poll += 1
        if self._in_poll >= self.options.long_polls:
            self.polling.set()
        began = time.perf_counter()
        try:
            page = await self.pages.poll(task_list, page_size)
        except Exception:
            self.metrics.poll("decision", time.perf_counter() - began, error=True)
            raise
        finally:
            self._in_poll -= 1
        empty = not page.get("taskToken")
        self.metrics.poll("decision", time.perf_counter() - began, empty=empty)
        return page

    def observe(self) -> dict[str, tuple[int, dict[str, str]]]:
        """The cache's size and counts, for the metrics."""
        attributes = self.metrics.attributes()
        counters = self.counters
        return {
            "aioswf.cache.size": (len(self._cache), attributes),
            "aioswf.cache.hits": (counters.cache_hits, attributes),
            "aioswf.cache.misses": (counters.cache_misses, attributes),
            "aioswf.cache.evictions": (self._cache.evictions, attributes),
            "aioswf.sticky.hits": (counters.sticky_tasks - counters.sticky_misses, attributes),
        }

    # --- deciding --------------------------------------------------------------------------

    async def _handle_safely(self, history: TaskHistory) -> None:
        try:
            await self._handle(history)
        except Exception as error:
            execution = history.first_page.get("workflowExecution", {})
            logger.exception(
                "decision task of workflow_id=%r run_id=%r failed in the worker; it is retried "
                "after a back-off",
                execution.get("workflowId"),
                execution.get("runId"),
            )
            await self._answer_with_retry(history.first_page, error)

    async def _answer_with_retry(self, page: dict[str, Any], error: Exception) -> None:
        """Answer a task the worker could not decide with a back-off timer and a failure
        report, as for a workflow's own error: never left to time out unseen."""
        context = ExecutionContext()
        # The poll's first page holds the newest events, newest first.
        context.seen(sorted(page.get("events") or [], key=lambda event: int(event["eventId"])))
        failure, text = context.report(error, time.time())
        params = {
            "taskToken": page["taskToken"],
            "decisions": [retry_timer(int(page["startedEventId"]), failure).to_swf()],
            "executionContext": text,
        }
        try:
            await self.client.transport.call("RespondDecisionTaskCompleted", params)
        except Exception as answer_error:  # the task timed out meanwhile, say: it comes back
            logger.warning("answering the failed decision task failed too: %s", answer_error)

    async def _handle(self, history: TaskHistory) -> None:
        page = history.first_page
        self.counters.tasks += 1
        if history.task_list == self.sticky_task_list:
            self.counters.sticky_tasks += 1
        execution = page["workflowExecution"]
        workflow_type = page["workflowType"]
        definition = self._definitions.get((workflow_type["name"], workflow_type["version"]))
        if definition is None:
            logger.error(
                "decision task of workflow_id=%r run_id=%r is for workflow type %s/%s, which "
                "this worker does not know; it is left for a worker that does",
                execution["workflowId"],
                execution["runId"],
                workflow_type["name"],
                workflow_type["version"],
            )
            return
        warn_of_history_growth(page)
        deadline = task_deadline(page, asyncio.get_running_loop().time())
        began = time.perf_counter()
        self.measures.task(page)
        async with self._run_lock(execution["runId"]), self._deciding(execution):
            # Under the run's lock: after the answer of the run's previous task.
            self.client.close_watcher.deciding(page)
            # Sent here although no longer cached: pinning the run again would only bring
            # its next task back to a cache too small for it, while other workers idle.
            cached = execution["runId"] in self._cache
            unkept = history.task_list == self.sticky_task_list and not cached
            instance, activation = await self._decide(definition, history)
            failed = activation.failure
            if failed and activation.decision_failure is None and not activation.closing:
                # A failed task is never answered with nothing: that leaves the run waiting,
                # unseen, for its timeout.
                activation = instance.failed_answer(failed, int(page["startedEventId"]))
            self.measures.answered(definition.type_key, activation)
            await self._answer(page["taskToken"], instance, activation, deadline, unkept)
        self.metrics.decision_task(time.perf_counter() - began)

    async def _decide(
        self, definition: WorkflowDefinition, history: TaskHistory
    ) -> tuple[WorkflowInstance, Activation]:
        page = history.first_page
        started = int(page["startedEventId"])
        previous = int(page.get("previousStartedEventId") or 0)
        cached = self._cache.take(page["workflowExecution"]["runId"])
        instance = cached
        try:
            if cached is not None:
                if previous and previous == cached.last_started_id:
                    try:
                        new_events = await history.after(previous)
                        await self._prepare(page, new_events)
                        activation = await self.executor.activate(cached, new_events, started)
                    except CacheMiss as miss:
                        logger.debug("full replay: %s", miss)
                    else:
                        self.counters.cache_hits += 1
                        self.pages.saw_new_events(len(new_events))
                        return cached, activation
                instance = None
                await self.executor.close(cached)
            self.counters.cache_misses += 1
            if history.task_list == self.sticky_task_list:
                self.counters.sticky_misses += 1
            instance = self._new_instance(definition, page["workflowExecution"])
            events = await history.after(0)
            await self._prepare(page, events)
            return instance, await self.executor.activate(instance, events, started)
        except Exception:
            # Deciding failed outside the workflow code (history pages that could not be
            # read, say): the instance may be half-way through the task, so it is closed,
            # never cached again, and the retry replays on a fresh one.
            if instance is not None:
                await self.executor.close(instance)
            raise
        finally:
            self.counters.history_pages += history.pages
            self.counters.history_events += history.events_read

    async def _prepare(self, page: dict[str, Any], events: list[Event]) -> None:
        """Measure what the events say; read the payloads the code may decode, before it runs."""
        run_id = page["workflowExecution"]["runId"]
        self.measures.events(run_id, events, int(page.get("previousStartedEventId") or 0))
        converter = self.client.converter
        if converter.wire.store is not None:
            # Decided payloads too: replay compares them by content (read once, then cached).
            await converter.download(*events)

    def _new_instance(
        self, definition: WorkflowDefinition, execution: dict[str, Any]
    ) -> WorkflowInstance:
        return WorkflowInstance(
            definition,
            domain=self.client.domain,
            workflow_id=execution["workflowId"],
            run_id=execution["runId"],
            converter=self.client.converter,
            options=self._instance_options,
        )

    async def _answer(
        self,
        token: str,
        instance: WorkflowInstance,
        activation: Activation,
        deadline: float,
        unkept: bool = False,
    ) -> None:
        failed = activation.decision_failure
        if failed is not None:
            error = activation.failure
            logger.error(
                "%s: decision task failed (attempt %d, failing since %s); retrying in %s: %s: %s",
                instance.describe,
                failed.attempts,
                failed.since.isoformat(),
                failed.retry_in,
                failed.error_type,
                failed.message,
                # A deadlock's message carries the stack that matters: the workflow code's.
                exc_info=None
                if error is None or isinstance(error, WorkflowDeadlockError)
                else (type(error), error, error.__traceback__),
            )
        params: dict[str, Any] = {"taskToken": token, "decisions": activation.decisions}
        if activation.execution_context is not None:
            params["executionContext"] = activation.execution_context
        routed = self._route(params, instance, activation, unkept)
        try:
            await instance.converter.upload(activation.decisions)
        except PayloadError as error:
            # The decisions cannot be sent as decided (the payload store refused them): the
            # task is retried, visibly, like any other task that could not be decided.
            if activation.failure is not None:  # already a retry: nothing to upload failed
                raise
            await self._answer(token, instance, instance.retry_answer(error), deadline, unkept)
            return
        finally:
            # What is still held was replayed (stored long ago) or waits for the next task.
            instance.converter.wire.release(keep=instance.decisions.carried())
        if activation.closing:
            self.client.close_watcher.closing(instance.run_id)
        try:
            # Kept trying through an outage until the task's own timeout: a dropped answer
            # costs a decision timeout and a replay.
            await self.client.transport.call("RespondDecisionTaskCompleted", params, until=deadline)
        except ValidationError as error:
            if activation.failure is not None:
                raise
            # SWF refused the decisions themselves (a value it does not accept): another
            # answer with the same decisions would be refused too, so the task is retried,
            # visibly, saying why.
            await self._answer(token, instance, instance.retry_answer(error), deadline, unkept)
            return
        except ServiceError as error:
            # The task may have timed out meanwhile; the next task replays from history.
            logger.warning("%s: answering the decision task failed: %s", instance.describe, error)
            await self.executor.close(instance)
            return
        if logger.isEnabledFor(logging.INFO):  # the line and its fields only for a reader
            logger.info(
                "%s: decided %s",
                instance.describe,
                decision_summary(activation.decisions),
                extra=task_fields(
                    {"workflowId": instance.workflow_id, "runId": instance.run_id},
                    workflow_type=instance.definition.type_key,
                ),
            )
        if activation.closing:
            # A result() of this process waiting for the run hears of it now.
            watcher = self.client.close_watcher
            watcher.saw_close(instance.run_id, activation.decisions[-1], sticky_seconds=routed)
        if activation.closing or activation.failure is not None:
            await self.executor.close(instance)
        else:
            self._cache.put(instance)

    def _route(
        self,
        params: dict[str, Any],
        instance: WorkflowInstance,
        activation: Activation,
        unkept: bool,
    ) -> int | None:
        """Say in the answer ``params`` where the run's next decision task goes; if to this
        worker's sticky task list, for how long (seconds) no other worker can decide the run:
        the sticky schedule-to-start timeout, or the run's decision task start-to-close
        timeout if shorter.

        To the sticky list while this worker keeps the run: a closing run is not kept, but its
        next task, if SWF refuses the close, still comes here first (the result watcher counts
        on it to deliver the close unread). Otherwise back to the run's own task list, named
        (an answer that names none may leave an earlier override in place): for a run whose
        task is retried, one that came here no longer cached (``unkept``), and every run once
        this worker is stopping, so that no run waits out the sticky timeout for it.
        """
        sticky = self.options.sticky_schedule_to_start
        if self.sticky_task_list is None or sticky is None:
            return None
        stopping = self._stopping is not None and self._stopping.is_set()
        if activation.failure is not None or unkept or stopping:
            params["taskList"] = {"name": instance.task_list}
            return None
        routed = int(sticky.total_seconds())
        params["taskList"] = {"name": self.sticky_task_list}
        params["taskListScheduleToStartTimeout"] = str(routed)
        # A task started on the sticky list whose answer never reaches this worker (a lost
        # poll answer, a crash) goes back to the shared list at its start-to-close timeout:
        # the run is this worker's alone for the shorter of the two.
        info = instance.starting.info
        limit = info.task_start_to_close_timeout if info is not None else None
        return routed if limit is None else min(routed, int(limit.total_seconds()))

    @contextlib.asynccontextmanager
    async def _deciding(self, execution: dict[str, Any]) -> AsyncIterator[None]:
        self.deciding[execution["runId"]] = execution["workflowId"]
        try:
            yield
        finally:
            self.deciding.pop(execution["runId"], None)

    @contextlib.asynccontextmanager
    async def _run_lock(self, run_id: str) -> AsyncIterator[None]:
        # A task that timed out while we worked on it can be handed to another poller of
        # ours; the run's instance must not be used by both at once.
        lock, users = self._locks.get(run_id, (asyncio.Lock(), 0))
        self._locks[run_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[run_id]
            if users == 1:
                del self._locks[run_id]
            else:
                self._locks[run_id] = (lock, users - 1)


_MAX_TASK_LIST_NAME = 256


def sticky_task_list_name(task_list: str) -> str:
    """A task list name for one worker's cached runs, unique to this process and poller.

    SWF task list names are at most 256 characters, without ``:``, ``/``, ``|``, control
    characters or the text ``arn``; the suffix keeps to that, and a long shared name is cut.
    """
    suffix = f"-sticky-{uuid.uuid4().hex}"
    return task_list[: _MAX_TASK_LIST_NAME - len(suffix)] + suffix
