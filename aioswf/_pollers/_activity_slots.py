"""A counting limiter for running activities that pollers can be released from at shutdown.

A poller takes a slot *before* it polls, so that no task is ever fetched without capacity to
run it; the runner of the task gives the slot back when the task is finished with.
"""

from __future__ import annotations

import asyncio
import collections


class SlotLimiter:
    """At most ``limit`` slots are held at any time; waiters are served first come, first served.

    Unlike ``asyncio.Semaphore`` it can be closed: every waiter then gets ``False`` at once,
    which is how pollers waiting for capacity learn that the worker is stopping.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"a slot limit must be at least 1, got {limit}")
        self.limit = limit
        self.in_use = 0
        self.peak = 0
        self._waiters: collections.deque[asyncio.Future[bool]] = collections.deque()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    async def acquire(self) -> bool:
        """Wait for a slot; ``True`` once it is held, ``False`` if the limiter was closed."""
        if self._closed:
            return False
        if self.in_use < self.limit and not self._waiters:
            self._take()
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            # A slot handed over just as the waiter was cancelled must not leak.
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self.release()
            raise
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def release(self) -> None:
        """Give a slot back, handing it straight to the oldest waiter if there is one."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)  # the slot changes hands; in_use stays the same
                return
        self.in_use -= 1

    def close(self) -> None:
        """Refuse every current and future waiter; held slots stay held until released."""
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(False)

    def _take(self) -> None:
        self.in_use += 1
        self.peak = max(self.peak, self.in_use)
