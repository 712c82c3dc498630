"""Durable timers: what ``call_later``/``call_at`` become (StartTimer, CancelTimer).

``asyncio.sleep``, ``asyncio.wait_for`` and ``asyncio.timeout`` all go through the loop's
``call_at``, so each of them is an SWF timer and survives worker restarts. SWF counts whole
seconds: a delay is rounded up, and never to zero. SWF refuses timers longer than a year: a
longer delay is a chain of timers of at most a year each, started one after the other, which
the code sees as one.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from aioswf._decider.commands import Command
from aioswf._decider.history import Event, attrs
from aioswf._decider.loop import DurableTimerHandle
from aioswf.exceptions import StartTimerFailedError
from aioswf.interceptors import StartTimerInput

if TYPE_CHECKING:
    from aioswf._decider.instance import WorkflowInstance

logger = logging.getLogger(__name__)

_ROUNDING_SLACK = 1e-6
"""Float error in ``when - now``: 60 seconds must stay 60, not become 61."""


MAX_TIMER_SECONDS = 31_536_000
"""SWF's longest ``startToFireTimeout``: one year (365 days)."""


def swf_seconds(delay: float) -> int:
    """The whole seconds SWF is asked to wait for ``delay``."""
    return max(1, math.ceil(delay - _ROUNDING_SLACK))


class TimerMachine:
    """The SWF timers behind one loop timer handle: one, or a chain past SWF's limit."""

    def __init__(self, timers: Timers, handle: DurableTimerHandle, delay: float) -> None:
        self.timers = timers
        self.handle = handle
        self.state = "created"
        self.remaining = swf_seconds(delay)
        """Seconds still to wait after the timer now running, when it is one of a chain."""
        self.timer_id = ""
        self.command = self._start_next()

    def _start_next(self) -> Command:
        host = self.timers.host
        self.timer_id = str(host.decisions.next_id("timer"))
        seconds = min(self.remaining, MAX_TIMER_SECONDS)
        self.remaining -= seconds
        command = Command(
            "StartTimer", {"timerId": self.timer_id, "startToFireTimeout": str(seconds)}
        )
        host.decisions.add(command)
        self.timers.by_id[self.timer_id] = self
        return command

    def cancel(self) -> None:
        if self.state != "created":
            return
        self.state = "canceled"
        if not self.command.sent:
            # Started and cancelled in the same decision task (a `timeout` block that ended
            # quickly): SWF never hears of it.
            self.command.dropped = True
            self.timers.by_id.pop(self.timer_id, None)
            return
        self.timers.host.decisions.add(Command("CancelTimer", {"timerId": self.timer_id}))

    def fired(self) -> None:
        self.timers.by_id.pop(self.timer_id, None)
        if self.state == "created" and self.remaining > 0:
            self.command = self._start_next()  # the next link of a chain past a year
            return
        if self.state == "created":
            self.state = "fired"
            self.timers.host.loop.fire(self.handle)
            # Nothing asks a fired timer's machine anything: the handle and the machine,
            # which refer to each other, are freed at once, without the garbage collector.
            self.handle.timer = None

    def failed(self, cause: str) -> None:
        self.timers.by_id.pop(self.timer_id, None)
        if self.state != "created":
            return
        self.state = "failed"
        error = StartTimerFailedError(timer_id=self.timer_id, cause=cause)
        # `sleep` and `wait_for` pass the future they wake as the callback's first argument;
        # failing that future raises where the code waits. Anything else fails the run.
        args = self.handle._args or ()
        target = args[0] if args else None
        if isinstance(target, asyncio.Future) and not target.done():
            target.set_exception(error)
        else:
            self.timers.host.fail_run(error)


class Timers:
    """The timer machines of one run; the loop's :class:`TimerScheduler`."""

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host
        self.by_id: dict[str, TimerMachine] = {}

    def start_timer(self, handle: DurableTimerHandle, delay: float) -> None:
        def start(duration: timedelta) -> None:
            handle.timer = TimerMachine(self, handle, duration.total_seconds())

        self.host.outbound.start_timer(StartTimerInput(timedelta(seconds=delay), start))

    def cancel_timer(self, handle: DurableTimerHandle) -> None:
        if isinstance(handle.timer, TimerMachine):
            handle.timer.cancel()

    def handlers(self) -> dict[str, Callable[[Event], None]]:
        """The events this kind reacts to."""
        return {
            "TimerFired": self._fired,
            "TimerCanceled": self._canceled,
            "StartTimerFailed": self._failed,
        }

    def _fired(self, event: Event) -> None:
        machine = self.by_id.get(str(attrs(event).get("timerId")))
        if machine is not None:
            machine.fired()

    def _canceled(self, event: Event) -> None:
        self.by_id.pop(str(attrs(event).get("timerId")), None)

    def _failed(self, event: Event) -> None:
        data = attrs(event)
        machine = self.by_id.get(str(data.get("timerId")))
        if machine is not None:
            machine.failed(str(data.get("cause", "UNKNOWN")))
