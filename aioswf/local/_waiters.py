"""Long polls waiting for a task, woken one at a time as tasks arrive."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

logger = logging.getLogger(__name__)

WaitKey = tuple[str, str, str]  # (kind, domain, task list)


class Waiters:
    """FIFO queues of parked polls, one per task list."""

    def __init__(self) -> None:
        self._parked: dict[WaitKey, deque[asyncio.Future[None]]] = {}

    def park(self, key: WaitKey) -> asyncio.Future[None]:
        """A future that resolves when a task may be available on ``key``."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._parked.setdefault(key, deque()).append(future)
        return future

    def unpark(self, key: WaitKey, future: asyncio.Future[None]) -> None:
        """Forget a parked poll (answered, timed out, or gone)."""
        queue = self._parked.get(key)
        if queue is None:
            return
        with contextlib.suppress(ValueError):
            queue.remove(future)
        if not queue:
            del self._parked[key]

    def wake_one(self, kind: str, domain: str, task_list: str) -> None:
        """Wake the longest-waiting poll of a task list: one task, one poll."""
        queue = self._parked.get((kind, domain, task_list))
        while queue:
            future = queue.popleft()
            if not future.done():
                future.set_result(None)
                return

    def wake_domain(self, domain: str) -> int:
        """Wake every poll parked in a domain (they look again); how many."""
        woken = 0
        for (_, parked_domain, _), queue in list(self._parked.items()):
            if parked_domain != domain:
                continue
            for future in queue:
                if not future.done():
                    future.set_result(None)
                    woken += 1
        return woken

    def wake_all(self) -> None:
        """Wake every parked poll (the service is stopping: each answers with no task)."""
        parked, self._parked = self._parked, {}
        for queue in parked.values():
            for future in queue:
                if not future.done():
                    future.set_result(None)

    def count(self) -> int:
        """How many polls are parked."""
        return sum(len(q) for q in self._parked.values())
