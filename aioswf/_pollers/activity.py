"""The activity poller: long polls on one task list, feeding a bounded set of running tasks.

Each poll loop takes a slot of the limiter before it polls, so a task is only ever fetched
when there is capacity to run it. When the worker stops, the loops stop taking slots, but a
poll already sent is awaited, never cut: SWF may hand it a task up to the moment it answers,
and a cut poll would leave that task started on SWF with nobody to run it until its
start-to-close timeout (hours, in production). Such a task is run like any other while the
shutdown lets work finish, and failed at once with ``WorkerShutdownError`` after
:meth:`ActivityPoller.abort`, so that its workflow can retry it elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

from aioswf._definitions import ActivityDefinition
from aioswf._pollers._activity_options import ActivityWorkerOptions
from aioswf._pollers._activity_slots import SlotLimiter
from aioswf._pollers._activity_task import ActivityCalls, RunnerEnv, TaskRunner
from aioswf._pollers._activity_types import RegisteredDefaults
from aioswf._pollers._contact import SwfContact
from aioswf._pollers._logging import PollHealth
from aioswf._wording import count
from aioswf.activity import CancelReason
from aioswf.client import Client
from aioswf.interceptors import Interceptor, chain_activity
from aioswf.metrics import OFF, WorkerMetrics

logger = logging.getLogger(__name__)


class _Backoff:
    """Exponential back-off with full jitter, reset by a success."""

    def __init__(self, first: float, most: float) -> None:
        self._first = first
        self._most = most
        self._failures = 0

    def next_delay(self) -> float:
        cap = min(self._most, self._first * 2**self._failures)
        self._failures += 1
        # Never less than a tenth of the cap, so that a storm of failures cannot spin.
        return random.uniform(cap / 10, cap)

    def reset(self) -> None:
        self._failures = 0


class ActivityPoller:
    """Polls one task list for activity tasks and runs them, within a concurrency limit.

    Args:
        client: the client whose transport and converter are used.
        task_list: the task list to poll.
        activities: the activity types this poller runs.
        options: pollers, limits, heartbeat and back-off settings.
        executor: the thread pool for sync activities.
        interceptors: wrap each activity task; the first is the outermost.
        metrics: where polls, tasks, slots and heartbeats are counted.
        contact: shared with the worker's other poll loops, which wake these (and these
            them) when SWF answers after an outage.
    """

    def __init__(
        self,
        client: Client,
        task_list: str,
        activities: Sequence[ActivityDefinition],
        options: ActivityWorkerOptions,
        executor: Executor,
        interceptors: Sequence[Interceptor] = (),
        metrics: WorkerMetrics = OFF,
        contact: SwfContact | None = None,
    ) -> None:
        self.client = client
        self.task_list = task_list
        self.options = options
        self.slots = SlotLimiter(options.max_concurrent)
        self.polling = asyncio.Event()
        self.env = RunnerEnv(
            transport=client.transport,
            converter=client.converter,
            domain=client.domain,
            task_list=task_list,
            definitions={(d.name, d.version): d for d in activities},
            options=options,
            executor=executor,
            inbound=chain_activity(interceptors, ActivityCalls(executor)),
            metrics=metrics,
            registered=RegisteredDefaults(client.transport, client.domain),
        )
        self.metrics = metrics
        self._running: dict[asyncio.Task[None], TaskRunner] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._in_poll: set[asyncio.Task[Any]] = set()
        self.health = PollHealth(
            logger,
            f"activity tasks on {task_list!r}",
            options.max_poll_backoff.total_seconds(),
            contact,
        )
        self._aborted: list[TaskRunner] = []
        self._refusing = False
        self.on_crash: Callable[[BaseException], None] | None = None
        """Called when a poll loop dies unexpectedly, so that the worker stops."""
        self.refused: list[str] = []
        """Ids of the tasks that arrived after :meth:`abort` and were failed at once."""

    @property
    def running(self) -> int:
        """How many activity tasks are being run now."""
        return len(self._running)

    def observe(self) -> dict[str, tuple[int, dict[str, str]]]:
        """Running tasks and free slots, for the metrics."""
        attributes = self.metrics.attributes("activity")
        return {
            "aioswf.activity.running": (self.running, attributes),
            "aioswf.activity.slots.free": (self.slots.limit - self.slots.in_use, attributes),
        }

    async def run(self, stopping: asyncio.Event) -> None:
        """Poll until ``stopping`` is set, then wait for every task received to finish."""
        # Read ahead, so that a task from another SWF client does not wait for it.
        self.env.registered.prefetch(self.env.definitions.values())
        closer = asyncio.create_task(self._close_on(stopping), name="activity slots closer")
        self._loops = [
            asyncio.create_task(self._poll_loop(n, stopping), name=f"activity poller {n}")
            for n in range(self.options.pollers)
        ]
        try:
            # Not gather(): a loop that dies must not keep this from waiting for the
            # activities already running, which would be left without a report.
            done, pending = await asyncio.wait(self._loops, return_when=asyncio.FIRST_EXCEPTION)
            failure = _failure_of(done)
            if failure is not None and self.on_crash is not None:
                self.on_crash(failure)
            if pending:
                await asyncio.wait(pending)
            self.slots.close()
            await self.wait_idle()
        finally:
            closer.cancel()
        failure = _failure_of(self._loops)
        if failure is not None:
            raise failure

    def abort(self) -> None:
        """The shutdown timeout: cancel running activities, refuse any task still to come.

        Polls in flight are left to return; a task one of them brings is failed at once
        with ``WorkerShutdownError`` (see :attr:`refused`).
        """
        self._refusing = True
        for runner in list(self._running.values()):
            if runner.is_refusal:
                continue
            runner.cancel(CancelReason.SHUTDOWN)
            self._aborted.append(runner)

    @property
    def cancelled(self) -> list[str]:
        """Ids of the activities that :meth:`abort` cancelled and that did end cancelled.

        An activity that swallowed the cancellation and completed (or failed) by itself is
        not among them: SWF recorded what it did.
        """
        return [r.activity_id for r in self._aborted if r.ended_by_shutdown]

    @property
    def polls_in_flight(self) -> int:
        """Polls sent and not answered yet."""
        return len(self._in_poll)

    def cut_polls(self) -> int:
        """Cancel the poll loops, abandoning their polls in flight; how many were abandoned."""
        abandoned = len(self._in_poll)
        if abandoned:
            logger.warning(
                "abandoning %s on task list %r that did not return in time; a task SWF hands "
                "to one of them will wait for its start-to-close timeout",
                count(abandoned, "long poll"),
                self.task_list,
            )
        for loop in self._loops:
            loop.cancel()
        return abandoned

    def running_activities(self) -> list[str]:
        """What is running now, e.g. ``activity 3 (charge/1) of workflow order-1``."""
        return [runner.describe for runner in self._running.values()]

    def hard_cancel(self) -> None:
        """Cancel the runners themselves (they may be stuck reporting to SWF)."""
        for task in list(self._running):
            task.cancel()

    async def wait_idle(self) -> None:
        """Wait until no activity task is running."""
        while self._running:
            await asyncio.wait(list(self._running))

    async def _close_on(self, stopping: asyncio.Event) -> None:
        await stopping.wait()
        # Pollers waiting for capacity give up at once; polls in flight are still awaited.
        self.slots.close()

    async def _poll_loop(self, number: int, stopping: asyncio.Event) -> None:
        backoff = _Backoff(
            self.options.poll_backoff.total_seconds(),
            self.options.max_poll_backoff.total_seconds(),
        )
        probe = False
        while not stopping.is_set():
            if not await self.slots.acquire():
                break
            if stopping.is_set():
                self.slots.release()
                break
            try:
                if probe:
                    await self.health.probe(self.client.transport, self.client.domain)
                    probe = False
                task = await self._poll()
            except asyncio.CancelledError:
                self.slots.release()
                raise
            except Exception as error:  # never let a poller die: log, back off, poll again
                self.slots.release()
                probe = self.health.should_probe(error)
                await self._after_failure(number, error, backoff.next_delay(), stopping)
                continue
            backoff.reset()
            self.health.succeeded()
            if task.get("taskToken"):
                self._start(task)  # the runner releases the slot
            else:
                self.slots.release()
        logger.debug("activity poller %d on %r stopped", number, self.task_list)

    async def _poll(self) -> dict[str, Any]:
        loop_task = asyncio.current_task()
        assert loop_task is not None
        self._in_poll.add(loop_task)
        # "Polling" means a request is out on every poller that can have one: pollers beyond
        # the concurrency limit wait for a slot and never poll at the same time as the rest.
        if len(self._in_poll) >= min(self.options.pollers, self.slots.limit):
            self.polling.set()
        began = time.perf_counter()
        try:
            task = await self.client.transport.call(
                "PollForActivityTask",
                {
                    "domain": self.client.domain,
                    "taskList": {"name": self.task_list},
                    "identity": self.client.identity,
                },
                retry=False,  # retried here, with a back-off that stops with the worker
            )
        except Exception:
            self.metrics.poll("activity", time.perf_counter() - began, error=True)
            raise
        finally:
            self._in_poll.discard(loop_task)
        empty = not task.get("taskToken")
        self.metrics.poll("activity", time.perf_counter() - began, empty=empty)
        return task

    async def _after_failure(
        self, number: int, error: Exception, delay: float, stopping: asyncio.Event
    ) -> None:
        self.health.failed(error, delay)
        await self.health.back_off(error, delay, stopping)

    def _start(self, task: dict[str, Any]) -> None:
        runner = TaskRunner(self.env, task, refuse=self._refusing)
        if runner.is_refusal:
            logger.warning(
                "%s arrived after the shutdown timeout; failing it at once so that its "
                "workflow can retry it",
                runner.describe,
            )
            self.refused.append(runner.activity_id)
        job = asyncio.create_task(self._run_one(runner), name=f"activity {runner.activity_id}")
        self._running[job] = runner
        job.add_done_callback(self._running.pop)

    async def _run_one(self, runner: TaskRunner) -> None:
        began = time.perf_counter()
        try:
            await runner.run()
            self.metrics.activity_task(runner.type_name, time.perf_counter() - began)
        except asyncio.CancelledError:
            runner.ended_by_shutdown = True
            logger.warning("%s abandoned without a report to SWF", runner.describe)
            raise
        except Exception:
            logger.exception("%s: unexpected error in the worker", runner.describe)
        finally:
            self.slots.release()


def _failure_of(loops: Iterable[asyncio.Task[None]]) -> BaseException | None:
    for loop in loops:
        if loop.done() and not loop.cancelled() and loop.exception() is not None:
            return loop.exception()
    return None
