"""Keeping the garbage collector's full passes out of the decision tasks being decided.

CPython's cyclic garbage collector holds the GIL for the whole of a collection, whichever
thread triggers it, and a full collection (of the oldest generation) walks every tracked
object of the process: tens of milliseconds per hundred thousand objects. Running workflow
code on its own thread does not protect the host's event loop from that.

Deciding a task is exactly what triggers such passes at the worst moment. Replaying a long
history keeps many objects alive at once (the events, and the futures, tasks and handles of
the work they resolve: about 300,000 objects for 25,000 signals); they outlive the young
generations and are promoted, and each time the promoted objects reach a quarter of the old
generation the collector walks all of them. A 25,000-event replay triggered four full passes
of 40 to 80 ms each, all of them pure waste: every object walked was alive, and freed by
reference counting once the replay was over.

So while decision tasks are being decided, :class:`CollectorHold` raises the third
generation's threshold out of reach: young collections still run (they are quick and
reclaim the short-lived cycles), full ones wait until no task is being decided, when the
replay's objects are gone and the pass walks only what lives on (measured in
``benchmarks/bench_host_loop.py``). A hold that has lasted :data:`LONGEST_HOLD` seconds
lets one full collection through before it resumes, so a worker that is never idle still
gets its full collections, and the garbage they find waits at most that long. The
collector's settings are the process's, so the hold is one for the process: counted across
every worker, and given back exactly as found; a process that disabled the collector, or
changes its thresholds meanwhile, keeps its own settings.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

LONGEST_HOLD = 10.0
"""Seconds full collections may be held without a break."""

_OUT_OF_REACH = 1 << 30
"""A third-generation threshold the collector never reaches: young passes never number it."""


class CollectorHold:
    """Postpones full garbage collections while any holder holds.

    Args:
        longest: seconds a hold may last; past that, full collections run again until one
            has run (or no holder is left), then the hold resumes.
        clock: monotonic seconds.
    """

    def __init__(
        self, longest: float = LONGEST_HOLD, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.longest = longest
        self._clock = clock
        self._lock = threading.Lock()
        self._holders = 0
        self._saved: tuple[int, int, int] | None = None
        """The thresholds found when the hold began, while it lasts."""
        self._since = 0.0
        self._spent_at: int | None = None
        """The number of full collections when the hold lasted its longest: until one more
        has run, full collections are not held."""
        self._watches: dict[asyncio.AbstractEventLoop, _Watch] = {}
        """The loops with holders; each entry only ever changed on its loop's thread."""

    @property
    def holding(self) -> bool:
        """Whether full collections are held now."""
        return self._saved is not None

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold full collections for the duration of the block (shared with other holders).

        Must be used on a running event loop, which checks the hold's length.
        """
        loop = asyncio.get_running_loop()
        self._enter()
        self._watch(loop)
        try:
            yield
        finally:
            self._unwatch(loop)
            self._exit()

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        # One timer per loop that has holders, not one per holder: a worker holds once per
        # decision task, and a timer per task would be made and cancelled with each.
        watch = self._watches.get(loop)
        if watch is None:
            self._watches[loop] = _Watch(loop.call_later(self.longest, self._tick, loop))
        else:
            watch.holders += 1

    def _unwatch(self, loop: asyncio.AbstractEventLoop) -> None:
        watch = self._watches[loop]
        watch.holders -= 1
        if watch.holders == 0:
            del self._watches[loop]
            watch.timer.cancel()

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self.check()
        watch = self._watches.get(loop)
        if watch is None:
            return
        # Next, when the hold in progress reaches its longest (it may have begun after this
        # timer was set), or a whole length from now if none is in progress.
        with self._lock:
            due = self._since + self.longest - self._clock() if self._saved is not None else 0.0
        watch.timer = loop.call_later(due if due > 0 else self.longest, self._tick, loop)

    def check(self) -> None:
        """Let full collections run again if the hold has lasted its longest."""
        with self._lock:
            if self._saved is not None and self._clock() - self._since >= self.longest:
                self._spent_at = _full_collections()
                self._release()

    def _enter(self) -> None:
        with self._lock:
            self._holders += 1
            self._hold()

    def _exit(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0:
                self._spent_at = None
                self._release()

    def _hold(self) -> None:
        # Only ever on entering, whose timer then checks this hold's length.
        if self._saved is not None or not gc.isenabled():
            return
        if self._spent_at is not None:
            if _full_collections() == self._spent_at:
                return
            self._spent_at = None
        young, middle, old = gc.get_threshold()
        if young == 0:  # automatic collection is off: nothing to hold
            return
        self._saved = (young, middle, old)
        self._since = self._clock()
        gc.set_threshold(young, middle, _OUT_OF_REACH)

    def _release(self) -> None:
        saved, self._saved = self._saved, None
        if saved is None:
            return
        if gc.get_threshold() == (saved[0], saved[1], _OUT_OF_REACH):
            gc.set_threshold(*saved)
        # Otherwise the process set thresholds of its own meanwhile: they stand.

    def forget(self) -> None:
        """Give the thresholds back and forget every holder: in a forked child, whose copy
        of the holders' tasks never runs to release them."""
        self._lock = threading.Lock()  # the parent's may have been held at the fork
        self._holders = 0
        self._watches = {}
        self._spent_at = None
        self._release()


class _Watch:
    """A loop's holders: the timer that checks the hold's length there, and how many."""

    __slots__ = ("holders", "timer")

    def __init__(self, timer: asyncio.TimerHandle) -> None:
        self.timer = timer
        self.holders = 1


def _full_collections() -> int:
    return int(gc.get_stats()[-1]["collections"])


COLLECTOR_HOLD = CollectorHold()
"""The process's one hold: the collector's settings are the process's."""

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=COLLECTOR_HOLD.forget)
