"""The options of the activity half of a worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aioswf.exceptions import WorkerError


@dataclass(frozen=True, slots=True)
class ActivityWorkerOptions:
    """How a worker polls for and runs activity tasks.

    Attributes:
        pollers: concurrent ``PollForActivityTask`` long polls on the task list. Each holds an
            HTTP connection for up to a minute, so the client's connection pool must be larger
            than all the worker's pollers together.
        max_concurrent: activities running at once, at most. A poller takes a slot before it
            polls, so a task is never fetched without capacity to run it.
        max_threads: threads for sync (non-``async``) activities; ``None`` means as many as
            ``max_concurrent``. Threads are started only when needed.
        heartbeat_ratio: heartbeats are sent at most once per this fraction of the activity's
            heartbeat timeout; the calls in between are coalesced.
        heartbeat_interval: the interval for activities that declare no heartbeat timeout.
        poll_backoff: the first delay after a failed poll; it doubles after each failure in a
            row, with full jitter, up to ``max_poll_backoff``.
        max_poll_backoff: the longest delay between failed polls.
        cancel_report_timeout: at the end of a shutdown, how long activities that were
            cancelled get to report to SWF before they are abandoned.
    """

    pollers: int = 4
    max_concurrent: int = 100
    max_threads: int | None = None
    heartbeat_ratio: float = 1 / 3
    heartbeat_interval: timedelta = timedelta(seconds=10)
    poll_backoff: timedelta = timedelta(seconds=1)
    max_poll_backoff: timedelta = timedelta(seconds=60)
    cancel_report_timeout: timedelta = timedelta(seconds=5)

    def __post_init__(self) -> None:
        if self.pollers < 1:
            raise WorkerError(f"ActivityWorkerOptions.pollers must be >= 1, got {self.pollers}")
        if self.max_concurrent < 1:
            raise WorkerError(
                f"ActivityWorkerOptions.max_concurrent must be >= 1, got {self.max_concurrent}"
            )
        if self.max_threads is not None and self.max_threads < 1:
            raise WorkerError(
                f"ActivityWorkerOptions.max_threads must be >= 1, got {self.max_threads}"
            )
        if not 0 < self.heartbeat_ratio < 1:
            raise WorkerError(
                "ActivityWorkerOptions.heartbeat_ratio must be between 0 and 1, "
                f"got {self.heartbeat_ratio}"
            )
        for name in ("heartbeat_interval", "poll_backoff", "max_poll_backoff"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value <= timedelta(0):
                raise WorkerError(
                    f"ActivityWorkerOptions.{name} must be a positive timedelta, got {value!r}"
                )

    @property
    def threads(self) -> int:
        """The size of the thread pool for sync activities."""
        return self.max_threads or self.max_concurrent
