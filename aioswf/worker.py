"""The worker: polls one task list for decision and activity tasks, inside your event loop.

Example:
    >>> async with Client(domain="shop") as client:  # doctest: +SKIP
    ...     async with Worker(client, task_list="orders", workflows=[Order],
    ...                       activities=[charge, render_invoice],
    ...                       max_concurrent_activities=200) as worker:
    ...         await worker.run()   # until worker.shutdown() is called elsewhere

The library installs no signal handlers: call :meth:`Worker.shutdown` from yours.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aioswf._discovery import activity_definitions, workflow_definitions
from aioswf._pollers._activity_options import ActivityWorkerOptions
from aioswf._pollers._activity_threads import DaemonThreadPool
from aioswf._pollers._contact import SwfContact
from aioswf._pollers.activity import ActivityPoller
from aioswf._pollers.decision import DecisionPoller, DecisionWorkerOptions
from aioswf._transport.connection import POOL_HEADROOM
from aioswf._wording import count, duration
from aioswf.client import Client
from aioswf.exceptions import (
    ServiceUnavailableError,
    ThrottlingError,
    UnknownResourceError,
    WorkerError,
)
from aioswf.interceptors import Interceptor
from aioswf.metrics import WorkerMetrics, default_meter
from aioswf.options import name_problem, seconds_of

__all__ = (
    "POOL_HEADROOM",
    "ActivityWorkerOptions",
    "DecisionWorkerOptions",
    "ShutdownReport",
    "Worker",
)

logger = logging.getLogger(__name__)

_REGISTER_BACKOFF_MAX = 30.0
# While start-up waits out an outage, a short reminder this often (seconds), not a line a try.
_REGISTER_REMINDER_EVERY = 60.0
"""The longest wait between two registration attempts while SWF is out of reach."""

_GLOBAL_METER: Any = object()
"""The default of ``Worker(meter=...)``: OpenTelemetry's global meter, if installed."""

_POLL_MARGIN = 5.0
"""Seconds a poll may outlast the transport's read timeout before a shutdown cuts it."""
_PROGRESS_SECONDS = 10.0
"""How often a shutdown that is still waiting says what for."""


@dataclass(frozen=True, slots=True)
class ShutdownReport:
    """How a worker's shutdown went.

    Long polls that were still waiting when the shutdown began are waited for (up to one long
    poll, 60 s on AWS) but do not make it unclean: only work that could not be finished does.

    Attributes:
        clean: every task received was finished, and every poll returned.
        cancelled_activities: ids of the activities cancelled at the timeout that ended
            cancelled; they were reported to SWF as failed with ``WorkerShutdownError``.
        refused_activities: ids of the tasks that polls in flight brought after the timeout;
            they were failed at once with ``WorkerShutdownError``, unrun.
        abandoned_polls: activity polls that had not returned one long poll (plus a margin)
            into the shutdown, and were cut.
        abandoned_decision_polls: decision polls cut for the same reason.
        abandoned_decisions: the workflows (``workflow_id (run run_id)``) whose code was
            still running at the timeout (a step that never yields, with the deadlock
            detector off in debug mode); their threads are given up and their tasks time out
            and are decided again.
    """

    clean: bool
    cancelled_activities: tuple[str, ...] = ()
    refused_activities: tuple[str, ...] = ()
    abandoned_polls: int = 0
    abandoned_decision_polls: int = 0
    abandoned_decisions: tuple[str, ...] = ()


class Worker:
    """Runs workflows and activities from one task list, as tasks of the running event loop.

    Args:
        client: an open client; the worker uses its domain, connection and converter.
        task_list: the task list to poll, and the default task list of the types it
            registers.
        workflows: ``@workflow.defn`` classes, or modules and packages whose workflows to run.
        activities: ``@activity.defn`` functions, bound methods of instances, or modules and
            packages whose activities to run.
        max_concurrent_activities: shortcut for ``activity_options.max_concurrent``.
        activity_options: pollers, limits and heartbeats of the activity side.
        decision_options: pollers and cache of the workflow side.
        shutdown_timeout: how long :meth:`shutdown` lets received tasks finish by default.
        interceptors: wrap the workflows and activities this worker runs, after (inside)
            the client's interceptors, which apply too.
        meter: the OpenTelemetry ``Meter`` to record the worker's metrics on
            (:mod:`aioswf.metrics` lists them); by default the global one when
            ``opentelemetry-api`` is installed; ``None`` records nothing.

    Raises:
        WorkerError: nothing to run, a task list name SWF would refuse, or a connection pool
            too small for the pollers.
        ValueError: a negative ``shutdown_timeout``.
        DefinitionError: something given is not a workflow or activity, or two are
            registered under the same name and version.
    """

    def __init__(
        self,
        client: Client,
        *,
        task_list: str,
        workflows: Sequence[Any] = (),
        activities: Sequence[Any] = (),
        max_concurrent_activities: int | None = None,
        activity_options: ActivityWorkerOptions | None = None,
        decision_options: DecisionWorkerOptions | None = None,
        shutdown_timeout: timedelta = timedelta(seconds=30),
        interceptors: Sequence[Interceptor] = (),
        meter: Any = _GLOBAL_METER,
    ) -> None:
        options = activity_options or ActivityWorkerOptions()
        if max_concurrent_activities is not None:
            options = dataclasses.replace(options, max_concurrent=max_concurrent_activities)
        problem = name_problem(task_list)
        if problem is not None:
            # Every poll would be refused: say so here, not in a log line per back-off.
            raise WorkerError(
                f"Worker(task_list={task_list!r}) is no task list SWF accepts: {problem}"
            )
        self.client = client
        self.task_list = task_list
        self.activity_options = options
        self.decision_options = decision_options or DecisionWorkerOptions()
        if seconds_of(shutdown_timeout, "Worker(shutdown_timeout=...)") < 0:
            raise ValueError(
                f"Worker(shutdown_timeout=...) must not be negative, got {shutdown_timeout}"
            )
        self.shutdown_timeout = shutdown_timeout
        self.interceptors: tuple[Interceptor, ...] = (*client.interceptors, *interceptors)
        chosen = default_meter() if meter is _GLOBAL_METER else meter
        self.metrics = WorkerMetrics(chosen, task_list)
        """What the worker records; :mod:`aioswf.metrics` lists the metrics."""
        self.workflows = workflow_definitions(workflows)
        self.activities = activity_definitions(activities)
        if not self.workflows and not self.activities:
            raise WorkerError(f"Worker(task_list={task_list!r}) was given nothing to run")
        client.check_long_polls(self._long_polls())
        self.polling = asyncio.Event()
        """Set once every poller of the worker has a poll request out (each poller that can:
        activity pollers beyond ``max_concurrent`` wait for a slot)."""
        self._stopping = asyncio.Event()
        self._finished = asyncio.Event()
        self._activity_poller: ActivityPoller | None = None
        self._contact = SwfContact()
        """Wakes the worker's poll loops at once when one of them reaches SWF after an outage."""
        self._components: dict[asyncio.Task[None], str] = {}
        self._executor: DaemonThreadPool | None = None
        self._decision_poller: DecisionPoller | None = None
        self._started = False
        self._shutdown: asyncio.Task[ShutdownReport] | None = None
        self._crash: BaseException | None = None

    def __repr__(self) -> str:
        return (
            f"Worker(task_list={self.task_list!r}, workflows={len(self.workflows)}, "
            f"activities={len(self.activities)})"
        )

    @property
    def running_activities(self) -> int:
        """How many activity tasks are being run now."""
        poller = self._activity_poller
        return poller.running if poller is not None else 0

    def running_activity_names(self) -> list[str]:
        """The activity tasks running now, each as ``activity ID (TYPE) of workflow ID``."""
        poller = self._activity_poller
        return poller.running_activities() if poller is not None else []

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Register the domain and types (once per client), then start polling.

        While SWF is out of reach, start-up waits with back-off (logged once) rather than
        fail: a worker deployed during an outage starts when SWF comes back.

        Raises:
            WorkerError: if the worker was already shut down, or its domain is not registered
                and the client's ``auto_register`` is off.
            OperationNotPermittedError: SWF refused the credentials or the operation.
            ValidationError: SWF refused a registration as malformed.
        """
        if self._shutdown is not None:
            raise WorkerError(f"{self!r} was shut down; create a new worker")
        if self._started:
            return
        self._started = True
        try:
            await self._register()
        except BaseException:
            self._started = False  # nothing runs yet: a later start() may try again
            raise
        try:
            self.client.check_long_polls(self._long_polls(), reserve=True)
        except WorkerError:
            self._started = False
            raise
        waits: list[asyncio.Event] = []
        if self.activities:
            waits.append(self._start_activities())
        if self.workflows:
            waits.append(self._start_workflows())
        self._components[asyncio.create_task(self._set_polling(waits))] = "polling watch"
        logger.info(
            "worker polling task list %r of domain %r (%s, %s)",
            self.task_list,
            self.client.domain,
            count(len(self.workflows), "workflow type"),
            count(len(self.activities), "activity type"),
        )
        self._report_unbounded_activities()

    def _report_unbounded_activities(self) -> None:
        # Said once, at start: a call that sets no timeout of its own fails its execution.
        for definition in self.activities:
            options = definition.options
            if options.start_to_close_timeout is None and options.schedule_to_close_timeout is None:
                logger.warning(
                    "activity %s has no start_to_close_timeout or schedule_to_close_timeout: "
                    "a workflow that schedules it without one in the call fails; set one on "
                    "@activity.defn, so that a lost worker cannot hold the activity forever",
                    definition.type_key,
                )

    async def wait_until_polling(self) -> None:
        """Return once every poller of the worker is polling."""
        await self.polling.wait()

    async def run(self) -> None:
        """Start if needed, then run until :meth:`shutdown` completes.

        Cancelling ``run`` shuts the worker down before the cancellation goes on.

        Raises:
            WorkerError: if a poller failed unexpectedly (the worker is then shut down).
        """
        await self.start()
        try:
            await self._finished.wait()
        except asyncio.CancelledError:
            await self.shutdown()
            raise
        if self._crash is not None:
            raise WorkerError(f"{self!r} stopped: a poller failed: {self._crash!r}") from (
                self._crash
            )

    async def shutdown(self, timeout: timedelta | None = None) -> ShutdownReport:
        """Stop polling, let received tasks finish, then cancel what is left. Idempotent.

        A task that a poll in flight returns after the shutdown began is still run. At the
        timeout, running activities are cancelled and reported to SWF as failed with
        ``WorkerShutdownError``, so their workflows can retry them at once.

        Args:
            timeout: how long to wait for received tasks; the worker's ``shutdown_timeout``
                by default.

        Returns:
            What had to be cancelled, if anything.
        """
        return await asyncio.shield(self._begin_shutdown(timeout))

    def _begin_shutdown(self, timeout: timedelta | None) -> asyncio.Task[ShutdownReport]:
        if self._shutdown is None:
            grace = (
                seconds_of(self.shutdown_timeout, "shutdown_timeout")
                if timeout is None
                else seconds_of(timeout, "shutdown(timeout=...)")
            )
            self._shutdown = asyncio.create_task(self._shut_down(grace), name="worker shutdown")
        return self._shutdown

    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.shutdown()

    # --- internals ---------------------------------------------------------------------------

    async def _register(self) -> None:
        """Register (or check) the domain and types, riding out an outage of SWF.

        A worker started while SWF is briefly out of reach keeps trying with back-off, as its
        poll loops would; only faults that will not heal by waiting are raised: an unknown
        domain with auto-registration off, refused credentials, a malformed request.
        """
        failures = 0
        loop = asyncio.get_running_loop()
        since = reminded = 0.0
        while True:
            try:
                if self.client.auto_register:
                    await self.client.ensure_registered(
                        workflows=self.workflows,
                        activities=self.activities,
                        task_list=self.task_list,
                    )
                else:
                    await self.client.transport.call("DescribeDomain", {"name": self.client.domain})
                if failures:
                    logger.info("worker on task list %r: SWF reachable again", self.task_list)
                return
            except UnknownResourceError as error:
                raise WorkerError(
                    f"domain {self.client.domain!r} is not registered and auto-registration "
                    "is off: register it first, or create the Client with auto_register=True"
                ) from error
            except (ServiceUnavailableError, ThrottlingError) as error:
                failures += 1
                delay = random.uniform(0, min(_REGISTER_BACKOFF_MAX, 0.5 * 2**failures))
                now = loop.time()
                if failures == 1:
                    since = reminded = now
                    logger.warning(
                        "worker on task list %r cannot register yet; it keeps trying: %s",
                        self.task_list,
                        error,
                    )
                elif now - reminded >= _REGISTER_REMINDER_EVERY:
                    reminded = now
                    logger.warning(
                        "worker on task list %r still cannot reach SWF at %s after %s; retrying",
                        self.task_list,
                        self.client.transport.options.effective_endpoint() or "the AWS default",
                        duration(round(now - since)),
                    )
                await asyncio.sleep(delay)

    def _long_polls(self) -> int:
        polls = self.activity_options.pollers if self.activities else 0
        return polls + (self.decision_options.long_polls if self.workflows else 0)

    def _start_activities(self) -> asyncio.Event:
        # Daemon threads: a sync activity that ignores its cancellation must not keep the
        # process from exiting once the worker has shut down.
        self._executor = DaemonThreadPool(
            self.activity_options.threads, thread_name_prefix="aioswf-activity"
        )
        poller = ActivityPoller(
            self.client,
            self.task_list,
            self.activities,
            self.activity_options,
            self._executor,
            self.interceptors,
            self.metrics,
            self._contact,
        )
        self.metrics.watch(poller)
        poller.on_crash = self._poll_loop_died
        self._activity_poller = poller
        self._spawn(poller.run(self._stopping), "activity poller")
        return poller.polling

    def _start_workflows(self) -> asyncio.Event:
        poller = DecisionPoller(
            self.client,
            self.task_list,
            self.workflows,
            self.decision_options,
            self.interceptors,
            self.metrics,
            self._contact,
        )
        self.metrics.watch(poller)
        self._decision_poller = poller
        self._spawn(poller.run(self._stopping), "decision poller")
        return poller.polling

    def _poll_loop_died(self, error: BaseException) -> None:
        if self._stopping.is_set():
            return
        self._crash = error
        logger.error("a poll loop of %r failed; shutting the worker down", self, exc_info=error)
        self._begin_shutdown(None)

    def _spawn(self, coro: Any, name: str) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro, name=name)
        self._components[task] = name
        task.add_done_callback(self._component_done)

    def _component_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        if self._crash is None:
            self._crash = task.exception()  # even during a shutdown: it is not clean then
        if self._stopping.is_set():
            logger.error(
                "%s of %r failed while shutting down",
                self._components.get(task),
                self,
                exc_info=task.exception(),
            )
            return
        logger.error(
            "%s of %r failed; shutting the worker down",
            self._components.get(task),
            self,
            exc_info=self._crash,
        )
        self._begin_shutdown(None)

    async def _set_polling(self, waits: list[asyncio.Event]) -> None:
        for event in waits:
            await event.wait()
        self.polling.set()

    async def _shut_down(self, grace: float) -> ShutdownReport:
        loop = asyncio.get_running_loop()
        begun = loop.time()
        self._stopping.set()
        pollers = [t for t, name in self._components.items() if name != "polling watch"]
        for task, name in self._components.items():
            if name == "polling watch":
                task.cancel()
        progress = asyncio.create_task(self._log_progress(begun), name="shutdown progress")
        await self._end_idle_polls()
        poller = self._activity_poller
        pending: set[asyncio.Task[None]] = set()
        if pollers:
            _, pending = await asyncio.wait(pollers, timeout=grace)
        stuck = self._abandon_decisions(pending, grace)
        if pending and poller is not None:
            poller.abort()
            await self._await_reports(poller)
        if pending:
            # Polls sent before the shutdown began end within one long poll: the transport's
            # read timeout bounds them. Only then are they cut (and a task they get is lost).
            limit = begun + self.client.transport.options.read_timeout + _POLL_MARGIN
            _, pending = await asyncio.wait(pending, timeout=max(0.0, limit - loop.time()))
        abandoned = poller.cut_polls() if pending and poller is not None else 0
        deciding = self._decision_poller
        abandoned_decisions = deciding.polls_in_flight if pending and deciding else 0
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._components, return_exceptions=True)
        progress.cancel()
        if self._executor is not None:
            # Threads of abandoned sync activities run on, as daemons; nothing waits for them.
            self._executor.shutdown(wait=False, cancel_futures=True)
        if self._started:
            self.client.release_long_polls(self._long_polls())
        cancelled = tuple(poller.cancelled) if poller is not None else ()
        refused = tuple(poller.refused) if poller is not None else ()
        report = ShutdownReport(
            clean=not (
                cancelled or refused or abandoned or abandoned_decisions or stuck or self._crash
            ),
            cancelled_activities=cancelled,
            refused_activities=refused,
            abandoned_polls=abandoned,
            abandoned_decision_polls=abandoned_decisions,
            abandoned_decisions=stuck,
        )
        self._log_report(report)
        for part in (self._activity_poller, self._decision_poller):
            if part is not None:
                self.metrics.unwatch(part)
        self._finished.set()
        return report

    def _abandon_decisions(self, pending: set[asyncio.Task[None]], grace: float) -> tuple[str, ...]:
        """Stop waiting, at the timeout, for workflow code that still runs: no long poll's
        end will end it (a step that never yields, in debug mode, runs on forever)."""
        deciding = self._decision_poller
        if not pending or deciding is None or not deciding.deciding:
            return ()
        stuck = tuple(f"{wid} (run {rid})" for rid, wid in deciding.deciding.items())
        logger.warning(
            "worker on task list %r: workflow code still running %s into the shutdown is "
            "abandoned (its decision task times out and is decided again): %s",
            self.task_list,
            duration(grace),
            ", ".join(stuck),
        )
        for task in pending:
            if self._components.get(task) == "decision poller":
                task.cancel()
        return stuck

    async def _end_idle_polls(self) -> None:
        """Have the polls in flight answered now where the service can; else say the wait."""
        pollers = [p for p in (self._activity_poller, self._decision_poller) if p is not None]
        polls = sum(p.polls_in_flight for p in pollers)
        if not polls:
            return
        transport = self.client.transport
        if await transport.release_polls(self.client.domain, self.client.identity):
            logger.debug("asked the local service to answer %s now", count(polls, "idle poll"))
        else:
            logger.info(
                "waiting up to %s for %s in flight: SWF answers a poll when a task comes or "
                "after 60 seconds, and a cut poll could lose the task SWF hands it",
                duration(round(self.client.transport.options.read_timeout)),
                count(polls, "long poll"),
            )

    async def _log_progress(self, begun: float) -> None:
        """Say what the shutdown waits for, now and then: it may take a long poll (60 s)."""
        loop = asyncio.get_running_loop()
        while True:
            # Said only once time has passed: at the moment of stopping there is no news.
            await asyncio.sleep(_PROGRESS_SECONDS)
            activities = self.running_activities
            polls = sum(
                p.polls_in_flight
                for p in (self._activity_poller, self._decision_poller)
                if p is not None
            )
            waits = []
            if activities:
                waits.append(count(activities, "running activity", "running activities"))
            if polls:
                waits.append(count(polls, "long poll") + " in flight")
            if waits:
                logger.info(
                    "worker on task list %r still shutting down after %s: waiting for %s",
                    self.task_list,
                    duration(round(loop.time() - begun)),
                    " and ".join(waits),
                )

    async def _await_reports(self, poller: ActivityPoller) -> None:
        limit = self.activity_options.cancel_report_timeout.total_seconds()
        try:
            await asyncio.wait_for(poller.wait_idle(), limit)
        except TimeoutError:
            logger.warning(
                "activities did not report their cancellation within %s", duration(limit)
            )
            poller.hard_cancel()

    def _log_report(self, report: ShutdownReport) -> None:
        if report.clean:
            logger.info("worker on task list %r shut down cleanly", self.task_list)
            return
        logger.warning(
            "worker on task list %r shut down with unfinished work: %s cancelled (%s), "
            "%d refused (%s), %s and %s abandoned%s",
            self.task_list,
            count(len(report.cancelled_activities), "activity", "activities"),
            ", ".join(report.cancelled_activities) or "none",
            len(report.refused_activities),
            ", ".join(report.refused_activities) or "none",
            count(report.abandoned_polls, "activity poll"),
            count(report.abandoned_decision_polls, "decision poll"),
            "; a poller failed" if self._crash is not None else "",
        )
