"""The activity poller: long polls on one task list, feeding a bounded set of running tasks.

Each poll loop takes a slot of the limiter before it polls, so a task is only ever fetched
when there is capacity to run it. When the worker stops, the loops stop taking slots, but a
poll already sent is awaited: a task it returns is run like any other, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

from aioswf import exceptions as exc
from aioswf._definitions import ActivityDefinition
from aioswf._pollers._activity_options import ActivityWorkerOptions
from aioswf._pollers._activity_slots import SlotLimiter
from aioswf._pollers._activity_task import RunnerEnv, TaskRunner
from aioswf.activity import CancelReason
from aioswf.client import Client

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
    """

    def __init__(
        self,
        client: Client,
        task_list: str,
        activities: Sequence[ActivityDefinition],
        options: ActivityWorkerOptions,
        executor: Executor,
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
        )
        self._running: dict[asyncio.Task[None], TaskRunner] = {}
        self._loops: list[asyncio.Task[None]] = []
        self._in_poll: set[asyncio.Task[Any]] = set()
        self._started_loops = 0

    @property
    def running(self) -> int:
        """How many activity tasks are being run now."""
        return len(self._running)

    async def run(self, stopping: asyncio.Event) -> None:
        """Poll until ``stopping`` is set, then wait for every task received to finish."""
        closer = asyncio.create_task(self._close_on(stopping), name="activity slots closer")
        self._loops = [
            asyncio.create_task(self._poll_loop(n, stopping), name=f"activity poller {n}")
            for n in range(self.options.pollers)
        ]
        try:
            await asyncio.gather(*self._loops)
            while self._running:
                await asyncio.wait(list(self._running))
        finally:
            closer.cancel()

    def abort(self) -> list[str]:
        """Stop now: abandon polls still in flight and cancel running activities.

        Returns:
            The ids of the activities that were cancelled.
        """
        if self._in_poll:
            logger.warning(
                "abandoning %d long poll(s) on task list %r still in flight; a task SWF hands "
                "to one of them as it closes will time out and be retried by its workflow",
                len(self._in_poll),
                self.task_list,
            )
        for loop in self._loops:
            loop.cancel()
        cancelled = []
        for runner in list(self._running.values()):
            runner.cancel(CancelReason.SHUTDOWN)
            cancelled.append(runner.activity_id)
        return cancelled

    @property
    def abandoned_polls(self) -> int:
        """Polls in flight at the moment (those :meth:`abort` abandons)."""
        return len(self._in_poll)

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
        self._started_loops += 1
        if self._started_loops == self.options.pollers:
            self.polling.set()
        while not stopping.is_set():
            if not await self.slots.acquire():
                break
            if stopping.is_set():
                self.slots.release()
                break
            try:
                task = await self._poll()
            except asyncio.CancelledError:
                self.slots.release()
                raise
            except Exception as error:  # never let a poller die: log, back off, poll again
                self.slots.release()
                await self._after_failure(number, error, backoff.next_delay(), stopping)
                continue
            backoff.reset()
            if task.get("taskToken"):
                self._start(task)  # the runner releases the slot
            else:
                self.slots.release()
        logger.debug("activity poller %d on %r stopped", number, self.task_list)

    async def _poll(self) -> dict[str, Any]:
        loop_task = asyncio.current_task()
        assert loop_task is not None
        self._in_poll.add(loop_task)
        try:
            return await self.client.transport.call(
                "PollForActivityTask",
                {
                    "domain": self.client.domain,
                    "taskList": {"name": self.task_list},
                    "identity": self.client.identity,
                },
                retry=False,  # retried here, with a back-off that stops with the worker
            )
        finally:
            self._in_poll.discard(loop_task)

    async def _after_failure(
        self, number: int, error: Exception, delay: float, stopping: asyncio.Event
    ) -> None:
        transient = isinstance(error, exc.ThrottlingError | exc.ServiceUnavailableError)
        level = logging.WARNING if transient else logging.ERROR
        logger.log(
            level,
            "activity poller %d on task list %r: poll failed, retrying in %.2fs: %s",
            number,
            self.task_list,
            delay,
            error,
            exc_info=not isinstance(error, exc.AioSWFError),
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), delay)

    def _start(self, task: dict[str, Any]) -> None:
        runner = TaskRunner(self.env, task)
        job = asyncio.create_task(self._run_one(runner), name=f"activity {runner.activity_id}")
        self._running[job] = runner
        job.add_done_callback(self._running.pop)

    async def _run_one(self, runner: TaskRunner) -> None:
        try:
            await runner.run()
        except asyncio.CancelledError:
            logger.warning("%s abandoned without a report to SWF", runner.describe)
            raise
        except Exception:
            logger.exception("%s: unexpected error in the worker", runner.describe)
        finally:
            self.slots.release()
