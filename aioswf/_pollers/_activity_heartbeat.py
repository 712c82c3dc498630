"""The background heartbeat of one running activity.

``activity.heartbeat()`` only records the latest details and wakes this task; the task sends
them, at most once per interval (a fraction of the heartbeat timeout), so a tight loop of
heartbeats costs one call per interval. The answer of SWF carries ``cancelRequested``, and a
refusal (``UnknownResourceFault``) means the task timed out or was closed elsewhere: either
way the activity is cancelled and nothing more is sent for it.

Through an outage a heartbeat keeps trying until the heartbeat timeout, counted from the last
one that got through, has passed. Then SWF has timed the task out: the activity is cancelled
as lost (one line says so), and nothing is sent for it, its result included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
from collections.abc import Callable

from aioswf import exceptions as exc
from aioswf._transport import Transport
from aioswf._wording import duration
from aioswf.activity import CancelReason
from aioswf.converter import DataConverter
from aioswf.metrics import OFF, WorkerMetrics

logger = logging.getLogger(__name__)

HANGING_GRACE = 5.0
"""Seconds past the heartbeat timeout (at least) that an attempt in flight may still take
before it is taken for lost: a slow answer may still be a heartbeat SWF took in time."""


class Heartbeater:
    """Sends the heartbeats of one activity task until stopped or cancelled.

    Args:
        transport: where to send ``RecordActivityTaskHeartbeat``.
        task_token: the task's token.
        interval: seconds between two heartbeats at most once.
        timeout: the task's heartbeat timeout in seconds (``None``: none): SWF times the task
            out when no heartbeat got through for that long.
        started: the loop time the task started, when SWF's heartbeat clock starts
            (default: now).
        auto: heartbeat every ``interval`` even when the activity does not ask.
        on_cancel: called once, on the event loop, when SWF asks for cancellation or refuses
            the heartbeat.
        describe: how logs name the activity.
        converter: stores the heartbeat details that go to its payload store.
        metrics: where heartbeats sent and refused are counted.
    """

    def __init__(
        self,
        transport: Transport,
        task_token: str,
        *,
        interval: float,
        timeout: float | None = None,
        started: float | None = None,
        auto: bool,
        on_cancel: Callable[[CancelReason], None],
        describe: str,
        converter: DataConverter | None = None,
        metrics: WorkerMetrics = OFF,
    ) -> None:
        self._transport = transport
        self._token = task_token
        self._interval = interval
        self._timeout = timeout
        self._auto = auto
        self._on_cancel = on_cancel
        self._describe = describe
        self._converter = converter
        self._metrics = metrics
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._wake = asyncio.Event()
        self._details: str | None = None
        self._pending = False
        self._started = self._loop.time() if started is None else started
        self._last_through = self._started
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self.sent = 0
        self._failing = 0
        self.error: Exception | None = None
        """What stopped the heartbeats, if an unexpected error did (a bug, not a fault)."""
        if auto:
            self._ensure_running()

    def record(self, details: str | None) -> None:
        """Remember ``details`` (``None`` keeps the last) and wake the sender; thread-safe.

        After :meth:`close` it does nothing: a sync activity abandoned at shutdown may go on
        heartbeating from its thread after the worker (and even its loop) is gone.
        """
        if self._closed:
            return
        if details is not None:
            self._details = details
        self._pending = True
        if threading.get_ident() == self._loop_thread:
            self._ensure_running()
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            self._loop.call_soon_threadsafe(self._ensure_running)

    @property
    def last_details(self) -> str | None:
        """The latest details the activity gave (encoded), sent or not."""
        return self._details

    def lapses_at(self) -> float:
        """The loop time at which SWF times the task out unless a heartbeat gets through
        first (``math.inf`` with no heartbeat timeout)."""
        if self._timeout is None:
            return math.inf
        return self._last_through + self._timeout

    async def close(self) -> None:
        """Stop sending; nothing is sent after this returns."""
        self._closed = True
        # Nothing can cancel the activity any more; dropping the callback (a method of the
        # task's runner, which holds this) leaves no reference cycle for the garbage
        # collector to find, one per task.
        self._on_cancel = _ignore
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _ensure_running(self) -> None:
        # The sending task starts with the first heartbeat: most activities never send one.
        if self._task is None and not self._closed:
            self._task = self._loop.create_task(self._run(), name=f"heartbeat: {self._describe}")
        self._wake.set()

    async def _run(self) -> None:
        """Send heartbeats until cancelled, or until SWF asks to cancel or refuses one."""
        # The task's start resets SWF's heartbeat clock, so the first interval counts from it.
        last_sent = self._started
        while True:
            if not (self._pending or self._auto):
                await self._wake.wait()
                self._wake.clear()
                continue
            delay = last_sent + self._interval - self._loop.time()
            if delay > 0:
                # Waiting here is what coalesces the calls made in the meantime.
                await asyncio.sleep(delay)
            self._pending = False
            last_sent = self._loop.time()
            try:
                reason = await self._send()
            except Exception as error:  # not a fault of SWF's: a bug, or bad parameters
                logger.exception("%s: heartbeats stopped by an unexpected error", self._describe)
                self.error = error
                return
            if reason is not None:
                self._on_cancel(reason)
                return

    async def _send(self) -> CancelReason | None:
        params = {"taskToken": self._token}
        if self._details is not None:
            params["details"] = self._details
        lapses_at = self.lapses_at()
        try:
            if self._converter is not None:
                await self._converter.upload(params.get("details"))  # a stored payload's
            # Through an outage, it keeps trying for as long as the task can live without it.
            # An attempt still in flight then may have reached SWF in time (a busy host is
            # slow, not down): only one left hanging well past that is cut. (Already past it,
            # when the activity was silent that long: one try, and SWF's answer decides.)
            bound = None
            if self._loop.time() < lapses_at < math.inf:
                assert self._timeout is not None
                bound = lapses_at + max(self._timeout, HANGING_GRACE)
            async with asyncio.timeout_at(bound):
                response = await self._transport.call(
                    "RecordActivityTaskHeartbeat", params, until=lapses_at
                )
        except exc.UnknownResourceError:
            self._metrics.heartbeat(refused=True)
            logger.warning(
                "%s: SWF refused its heartbeat (the task timed out or was closed elsewhere); "
                "cancelling it locally, nothing more will be sent for it",
                self._describe,
            )
            return CancelReason.LOST
        except (exc.AioSWFError, TimeoutError) as error:
            if self._loop.time() >= lapses_at:
                return self._lapsed(error)
            # Not a transient fault (those were retried by the transport): send again after
            # the next interval, even if the activity does not call heartbeat() again.
            # One line for a whole outage, not one per interval.
            self._pending = True
            self._failing += 1
            log = logger.warning if self._failing == 1 else logger.debug
            log("%s: heartbeat failed, will retry every interval: %s", self._describe, error)
            return None
        self._last_through = self._loop.time()
        if self._failing:
            logger.info(
                "%s: heartbeats go through again after %d failed", self._describe, self._failing
            )
            self._failing = 0
        self.sent += 1
        self._metrics.heartbeat()
        if response.get("cancelRequested"):
            logger.info("%s: cancellation requested by the workflow", self._describe)
            return CancelReason.REQUESTED
        return None

    def _lapsed(self, error: BaseException) -> CancelReason:
        """Give the task up: no heartbeat got through within its heartbeat timeout."""
        reason = error if isinstance(error, exc.AioSWFError) else "an attempt still hanging"
        assert self._timeout is not None  # only a task with a heartbeat timeout lapses
        logger.error(
            "%s: no heartbeat got through for its heartbeat timeout (%s), so SWF has timed the "
            "task out; cancelling it locally, its result will not be sent (last fault: %s)",
            self._describe,
            duration(self._timeout),
            reason,
        )
        return CancelReason.LOST


def _ignore(_reason: CancelReason) -> None:
    """What a closed heartbeater calls instead of the runner's ``cancel``: nothing."""
