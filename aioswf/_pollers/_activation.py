"""Where workflow code runs: the activation executors of the decision poller.

An activation (apply a decision task's events, run the workflow code, collect decisions)
is CPU work in user code. Run on the host's event loop, a step that computes for a second
stops every poller, every heartbeat and the host service with it for that second.

- :class:`ThreadActivations` (the default) runs each activation on a dedicated thread and
  hands the result back to the host loop. The host loop keeps running meanwhile (it gets the
  interpreter at least every ``sys.getswitchinterval()``, 5 ms by default), and it watches the
  step: one that overruns the deadlock timeout is interrupted where it stands, and its
  decision task fails with a :class:`~aioswf.exceptions.WorkflowDeadlockError`.
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
from collections.abc import Sequence
from typing import Protocol

from aioswf._decider import Activation, WorkflowInstance
from aioswf._decider.deadlock import DeadlockInterrupt
from aioswf._decider.history import Event
from aioswf._pollers._activity_threads import DaemonThreadPool

logger = logging.getLogger(__name__)

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
        slice_start = time.perf_counter()
        while True:
            try:
                next(steps)
            except StopIteration as stop:
                activation: Activation = stop.value
                return activation
            if time.perf_counter() - slice_start > _SLICE_SECONDS:
                await asyncio.sleep(0)
                slice_start = time.perf_counter()

    async def close(self, instance: WorkflowInstance) -> None:
        instance.close()

    def shutdown(self) -> None:
        return None


class ThreadActivations:
    """Runs activations on dedicated daemon threads; the host loop watches for deadlocks.

    Args:
        threads: how many activations may run at once (one per decision poll loop).
        check_interval: seconds between two looks at a running step.
    """

    def __init__(self, threads: int, check_interval: float = 0.1) -> None:
        self._size = threads
        self._pool = DaemonThreadPool(threads, thread_name_prefix="aioswf-workflow")
        self._check_interval = check_interval

    async def activate(
        self, instance: WorkflowInstance, events: Sequence[Event], started: int
    ) -> Activation:
        loop = asyncio.get_running_loop()
        job = loop.run_in_executor(self._pool, _activate, instance, events, started)
        watch = instance.loop.watch
        interrupted_at: float | None = None
        while True:
            done, _ = await asyncio.wait([job], timeout=self._check_interval)
            if done:
                return job.result()
            if interrupted_at is None:
                if watch.interrupt():
                    interrupted_at = loop.time()
            elif watch.error is not None and loop.time() - interrupted_at > _grace(watch.limit):
                # Stuck in a call that an interrupt cannot reach (a C extension, a lock):
                # the thread is given up, the instance with it, and the task fails anyway.
                logger.error(
                    "%s: its code could not be interrupted; its thread is abandoned",
                    instance.describe,
                )
                self._replace_pool()
                return instance.failed_answer(watch.error, started)

    async def close(self, instance: WorkflowInstance) -> None:
        if instance.loop.is_running():
            instance.close()  # owned by an abandoned thread: only marked closed
            return
        await asyncio.get_running_loop().run_in_executor(self._pool, instance.close)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False)

    def _replace_pool(self) -> None:
        self._pool.shutdown(wait=False)
        self._pool = DaemonThreadPool(self._size, thread_name_prefix="aioswf-workflow")


def _grace(limit: float | None) -> float:
    return max(1.0, limit or 0.0)


def _activate(instance: WorkflowInstance, events: Sequence[Event], started: int) -> Activation:
    try:
        return instance.run_to_completion(events, started)
    except DeadlockInterrupt:
        # The interrupt surfaced in the runtime rather than in workflow code.
        error = instance.loop.watch.error
        assert error is not None
        return instance.failed_answer(error, started)
