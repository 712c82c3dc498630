"""Clocks for the local SWF service: the wall clock, or a virtual one tests can move.

The engine never reads time itself; it asks the clock it was given.  The background timer of
the service sleeps on the clock, so a :class:`VirtualClock` makes timeouts and timers fire the
moment the clock is advanced past them, and in *auto-skip* mode the service moves the clock
itself to the next deadline whenever nothing else could make progress.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

logger = logging.getLogger(__name__)


class Clock(Protocol):
    """What the engine and the service need from a clock."""

    def now(self) -> float:
        """The current time in epoch seconds."""
        ...

    @property
    def is_virtual(self) -> bool:
        """Whether time only moves when told to (no real sleeping)."""
        ...

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` whenever time jumps; returns a function that unsubscribes."""
        ...


class RealClock:
    """The wall clock (``time.time()``)."""

    @property
    def is_virtual(self) -> bool:
        """Always ``False``: the wall clock moves by itself."""
        return False

    def now(self) -> float:
        """The current wall-clock time in epoch seconds."""
        return time.time()

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """The wall clock never jumps, so there is nothing to subscribe to."""
        return lambda: None


class VirtualClock:
    """A clock that stands still until advanced.

    Args:
        start: The initial time in epoch seconds; defaults to the current wall-clock time so
            that timestamps in histories look ordinary.
        auto_skip: Start in auto-skip mode: whenever no task is queued or in flight, the
            service jumps the clock to its next deadline (timer, timeout, retention).
    """

    def __init__(self, start: float | None = None, *, auto_skip: bool = False) -> None:
        self._now = time.time() if start is None else float(start)
        self._listeners: list[Callable[[], None]] = []
        self.auto_skip = auto_skip

    @property
    def is_virtual(self) -> bool:
        """Always ``True``."""
        return True

    def now(self) -> float:
        """The current virtual time in epoch seconds."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward; due timers and timeouts fire right after.

        Args:
            seconds: How far to move, at least 0.
        """
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
        self._notify()

    def advance_to(self, when: float) -> None:
        """Move the clock to ``when`` if that lies in the future; otherwise do nothing."""
        if when > self._now:
            self._now = when
            self._notify()

    def subscribe(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` after every jump; returns a function that unsubscribes."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    def _notify(self) -> None:
        for callback in list(self._listeners):
            callback()
