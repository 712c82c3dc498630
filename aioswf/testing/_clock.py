"""The clock of a test environment: the wall clock's pace, plus jumps forward."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class SkippingClock:
    """Time that passes at the wall clock's rate and can also jump ahead.

    Between jumps it behaves like the real clock, so the local service sleeps until its next
    deadline as it would in production, and an activity that really runs for two seconds
    sees two seconds pass. Jumps (:meth:`advance`, :meth:`advance_to`) add to an offset and
    wake the service, which then fires whatever came due.

    Args:
        start: the time to begin at, in epoch seconds; the wall-clock time if ``None``.
    """

    def __init__(self, start: float | None = None) -> None:
        self._origin = time.monotonic()
        self._base = time.time() if start is None else float(start)
        self._listeners: list[Callable[[], None]] = []
        self.skipped = 0.0
        """Seconds added by jumps so far."""

    @property
    def is_virtual(self) -> bool:
        """``False``: time moves by itself, so the service must sleep until deadlines."""
        return False

    def now(self) -> float:
        """The current time in epoch seconds."""
        return self._base + self.skipped + (time.monotonic() - self._origin)

    def advance(self, seconds: float) -> None:
        """Jump forward by ``seconds`` (at least 0); deadlines due by then fire at once."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        if seconds == 0:
            return
        self.skipped += seconds
        logger.debug("time jumps %.3fs ahead", seconds)
        for callback in list(self._listeners):
            callback()

    def advance_to(self, when: float) -> None:
        """Jump to ``when`` if that lies ahead; otherwise do nothing."""
        ahead = when - self.now()
        if ahead > 0:
            self.advance(ahead)

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` after every jump; returns a function that unsubscribes."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe
