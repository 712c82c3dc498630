"""Where workflow code runs: the activation executors of the decision poller.

An activation (apply a decision task's events, run the workflow code, collect decisions)
is CPU work in user code. Run on the host's event loop, a step that computes for a second
stops every poller, every heartbeat and the host service with it for that second.

- :class:`ThreadActivations` (the default) runs each activation on a dedicated thread and
  hands the result back to the host loop. The host loop keeps running meanwhile (it gets the
  interpreter at least every ``sys.getswitchinterval()``, 5 ms by default), and it watches the
  step: one that overruns the deadlock timeout is interrupted where it stands, and its
  decision task fails with a :class:`~aioswf.exceptions.WorkflowDeadlockError`. Code that
  cannot be interrupted keeps its thread; :class:`GivenUpThreads` bounds how many such
  threads a worker lets run on.
- :class:`InlineActivations` runs activations on the host loop, handing it back between
  replayed tasks and every few milliseconds; a step that computes still holds the host. It
  serves measurement (``benchmarks/bench_decider.py`` compares both).

Each run's instance is used by one activation at a time (the poller holds a per-run lock),
so the instance needs no locking of its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Protocol

from aioswf._decider import Activation, WorkflowInstance
from aioswf._decider.deadlock import DeadlockInterrupt
from aioswf._decider.history import Event, timestamp
from aioswf._decider.retrying import ExecutionContext, retry_timer
from aioswf._pollers._activity_threads import DaemonThreadPool
from aioswf._sandbox.module_state import steps_in_a_row
from aioswf._wording import duration
from aioswf.exceptions import WorkerError, WorkflowDeadlockError

logger = logging.getLogger(__name__)

MAX_GIVEN_UP_THREADS = 2
"""Threads given up and still running, per worker, at which no more workflow code runs: each
takes its share of the interpreter from the host loop."""

_SLICE_SECONDS = 0.01
"""The longest the host loop waits on an inline replay before it gets a turn."""


class ActivationExecutor(Protocol):
    """Runs activations and evictions of workflow instances for the decision poller."""

    async def activate(
        self, instance: WorkflowInstance, events: Sequence[Event], started: int
    ) -> Activation:
        """Apply ``events`` to ``instance`` and decide the task ``started``."""

    async def close(self, instance: WorkflowInstance) -> None:
        """Close ``instance`` (its ``finally`` blocks are workflow code too)."""

    def shutdown(self) -> None:
        """Release the executor's threads, if any."""


class InlineActivations:
    """Runs activations on the host loop, pausing between slices of a long replay."""

    async def activate(
        self, instance: WorkflowInstance, events: Sequence[Event], started: int
    ) -> Activation:
        steps = instance.activate(events, started)
        while True:
            # The host's code runs between two slices: each slice is a batch of steps.
            with steps_in_a_row():
                activation = _run_slice(steps)
            if activation is not None:
                return activation
            await asyncio.sleep(0)

    async def close(self, instance: WorkflowInstance) -> None:
        instance.close()

    def shutdown(self) -> None:
        return None


class ThreadActivations:
    """Runs activations on dedicated daemon threads; the host loop watches for deadlocks.

    Args:
        threads: how many activations may run at once (one per decision poll loop).
        check_interval: seconds between two looks at a running step.
        max_given_up: threads given up (still running code that could not be interrupted)
            at which no more workflow code runs on this executor until one of them stops.
    """

    def __init__(
        self,
        threads: int,
        check_interval: float = 0.1,
        max_given_up: int = MAX_GIVEN_UP_THREADS,
    ) -> None:
        self._size = threads
        self._pool = DaemonThreadPool(threads, thread_name_prefix="aioswf-workflow")
        self._check_interval = check_interval
        self.given_up = GivenUpThreads(max_given_up)
        """The threads this executor gave up that still run workflow code."""

    async def activate(
        self, instance: WorkflowInstance, events: Sequence[Event], started: int
    ) -> Activation:
        refusal = self.given_up.refusal(instance)
        if refusal is not None:
            if instance.starting.info is None:  # a fresh instance: its answer names the
                instance.starting.read_info(events)  # run's task list (sticky routing)
            return refused_answer(events, started, refusal)
        loop = asyncio.get_running_loop()
        job = self._pool.run_soon(loop, _activate, instance, events, started)
        watch = instance.loop.watch
        interrupted_at: float | None = None
        while True:
            if await _done_within(job, self._check_interval):
                return job.result()
            if interrupted_at is None:
                if watch.interrupt():
                    interrupted_at = loop.time()
            elif watch.error is not None and loop.time() - interrupted_at > _grace(watch.limit):
                # Stuck in a call that an interrupt cannot reach (a C extension, a lock), or
                # in code that catches the interrupt: the thread is given up, the instance
                # with it, and the task fails anyway.
                self.given_up.add(instance, job)
                self._replace_pool()
                return instance.failed_answer(watch.error, started)
            else:
                watch.interrupt()  # again: code that caught the first one may not catch this

    async def close(self, instance: WorkflowInstance) -> None:
        if instance.loop.is_running():
            instance.close()  # owned by an abandoned thread: only marked closed
            return
        if not instance.loop.pending_tasks():
            # No coroutine left to end (a run that returned): no workflow code runs, and a
            # trip to a thread and back would cost more than the close itself.
            instance.close()
            return
        await self._pool.run_soon(asyncio.get_running_loop(), instance.close)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False)

    def _replace_pool(self) -> None:
        self._pool.shutdown(wait=False)
        self._pool = DaemonThreadPool(self._size, thread_name_prefix="aioswf-workflow")


@dataclass(slots=True)
class _GivenUp:
    instance: WorkflowInstance
    since: float
    """When it was given up (monotonic seconds)."""


class GivenUpThreads:
    """The workflow threads an executor gave up, for as long as they run on.

    Python cannot stop a thread: code that blocks where an interrupt cannot reach it, or
    catches the interrupt and computes on, keeps its thread, and takes its share of the
    interpreter from the host loop and every other thread (nine such threads stalled a host
    loop for almost a second at a time). So a run whose thread was given up runs no code
    again until that thread has stopped, and with ``limit`` such threads the executor runs
    no workflow code at all: each of those tasks is answered at once with a retry whose
    report says why, and the runs wait, visibly, for the threads to stop (or the worker to
    be restarted). Each refused attempt interrupts the given-up code again.

    Args:
        limit: threads given up and still running at which nothing more runs.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        self.limit = limit
        self._threads: dict[str, _GivenUp] = {}

    def __len__(self) -> int:
        return len(self._threads)

    def add(self, instance: WorkflowInstance, job: asyncio.Future[Activation]) -> None:
        """Give up the thread running ``job`` for ``instance``; forget it once it ends."""
        run_id = instance.run_id
        self._threads[run_id] = _GivenUp(instance, time.monotonic())
        job.add_done_callback(lambda done: self._ended(run_id, done))
        logger.error(
            "%s: its code could not be interrupted; its thread is given up (%d of at most %d "
            "still running), and the run's next attempts wait until it stops",
            instance.describe,
            len(self._threads),
            self.limit,
        )
        if len(self._threads) >= self.limit:
            logger.error(
                "%d workflow threads given up are still running (%s): this worker runs no "
                "workflow code until one of them stops; restart it if they never do",
                len(self._threads),
                ", ".join(given.instance.describe for given in self._threads.values()),
            )

    def refusal(self, instance: WorkflowInstance) -> BaseException | None:
        """Why ``instance`` may not run now, or ``None`` if it may."""
        for given in self._threads.values():
            given.instance.loop.watch.interrupt()  # another chance to stop it
        mine = self._threads.get(instance.run_id)
        if mine is not None:
            error = mine.instance.loop.watch.error
            return WorkflowDeadlockError(
                f"{instance.describe}: not run: the code of an earlier attempt still runs on "
                f"a thread the worker gave up {_ago(mine.since)} (it could not be "
                "interrupted: it blocks where an interrupt cannot reach, or catches it); this "
                "run's tasks are retried once that thread stops. A workflow step must not "
                "block or catch BaseException; the step was at:\n"
                + ("".join(error.stack).rstrip() if error is not None else "  (unknown)"),
                limit=error.limit if error is not None else 0.0,
                stack=error.stack if error is not None else [],
            )
        if len(self._threads) >= self.limit:
            runs = ", ".join(
                f"{given.instance.describe}, given up {_ago(given.since)}"
                for given in self._threads.values()
            )
            return WorkerError(
                f"{instance.describe}: not run: this worker has {len(self._threads)} workflow "
                f"threads it gave up still running ({runs}), the most it lets run; it runs no "
                "workflow code until one of them stops. Restart the worker if they never do."
            )
        return None

    def _ended(self, run_id: str, job: asyncio.Future[Activation]) -> None:
        given = self._threads.pop(run_id, None)
        if not job.cancelled():
            job.exception()  # whatever it was, its task was answered long ago
        if given is not None:
            logger.warning(
                "%s: the thread given up %s has stopped; its run is decided again",
                given.instance.describe,
                _ago(given.since),
            )


def refused_answer(events: Sequence[Event], started: int, error: BaseException) -> Activation:
    """The answer that retries task ``started`` without running any code: a back-off timer
    and the failure report, continuing the streak the newest of ``events`` record."""
    context = ExecutionContext()
    context.seen(events)
    now = timestamp(events[-1]) if events else time.time()
    failure, text = context.report(error, now)
    return Activation(
        [retry_timer(started, failure).to_swf()], text, failure=error, decision_failure=failure
    )


async def _done_within(job: asyncio.Future[Activation], seconds: float) -> bool:
    """Whether ``job`` is done, waited for up to ``seconds`` (it is never cancelled here).

    ``asyncio.wait([job], timeout=seconds)`` without its sets and their callbacks: the poller
    waits so for every decision task.
    """
    if job.done():
        return True
    waiter = job.get_loop().create_future()

    def wake(_: object = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    timer = job.get_loop().call_later(seconds, wake)
    job.add_done_callback(wake)
    try:
        await waiter
    finally:
        timer.cancel()
        job.remove_done_callback(wake)
    return job.done()


def _ago(since: float) -> str:
    return f"{duration(round(time.monotonic() - since))} ago"


def _grace(limit: float | None) -> float:
    return max(1.0, limit or 0.0)


def _run_slice(steps: Generator[None, None, Activation]) -> Activation | None:
    """Run ``steps`` for up to :data:`_SLICE_SECONDS`; their result if they ended."""
    slice_start = time.perf_counter()
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            activation: Activation = stop.value
            return activation
        if time.perf_counter() - slice_start > _SLICE_SECONDS:
            return None


def _activate(instance: WorkflowInstance, events: Sequence[Event], started: int) -> Activation:
    try:
        with steps_in_a_row():  # nothing else runs on this thread meanwhile
            return instance.run_to_completion(events, started)
    except DeadlockInterrupt:
        # The interrupt surfaced in the runtime rather than in workflow code.
        error = instance.loop.watch.error
        assert error is not None
        return instance.failed_answer(error, started)
