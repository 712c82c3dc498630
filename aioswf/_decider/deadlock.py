"""Noticing workflow code that does not yield, and saying where it is stuck.

A workflow step is the code that runs between two waits on history. A step that runs for
seconds (a busy loop, a huge computation, a blocking call) holds its decision task past any
reasonable time, and on replay holds it again. The :class:`StepWatch` of a run records when
its current step started and on which thread; two things read it:

- the workflow loop itself, between two callbacks, which catches code that keeps yielding
  to the loop without ever waiting on history (``while not done: await asyncio.sleep(0)``);
- the activation executor, from the host loop, which catches code that never yields at all
  (it runs on a dedicated thread, so the host can look): it takes the stack of that thread,
  then interrupts the code there by raising :class:`DeadlockInterrupt` in it.

Either way the decision task fails with :class:`~aioswf.exceptions.WorkflowDeadlockError`,
naming the run, the limit and the stack of the workflow code, and is retried like a
non-deterministic one; the execution itself is not failed.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from aioswf._wording import duration
from aioswf.exceptions import WorkflowDeadlockError

DEFAULT_DEADLOCK_TIMEOUT = 2.0
"""Seconds a workflow step may run without yielding."""

_clock = time.monotonic  # bound before the sandbox guards the module's attribute
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ASYNCIO = os.path.dirname(os.path.abspath(asyncio.__file__ or ""))
_THREADING = os.path.abspath(threading.__file__)


class DeadlockInterrupt(BaseException):
    """Raised inside workflow code that overran its step, to stop it.

    A ``BaseException``, so that ``except Exception`` in workflow code does not swallow it.
    """


class StepWatch:
    """When the current step of one run started, on which thread, and what stopped it.

    Args:
        describe: names the run in the error.
        limit: seconds a step may run; ``None`` watches nothing.
    """

    def __init__(self, describe: str, limit: float | None) -> None:
        self.describe = describe
        self.limit = limit
        self.started: float | None = None
        """When the step running now started (monotonic seconds), or ``None``."""
        self.thread: int | None = None
        self.error: WorkflowDeadlockError | None = None
        """Set once a step overran: the error the decision task fails with."""
        self.lock = threading.Lock()
        """Held while a step ends and while the step is interrupted: an interrupt is only
        ever sent while the step runs."""

    @contextmanager
    def step(self) -> Iterator[None]:
        """Time the workflow code run inside this block as one step."""
        self.begin()
        try:
            yield
        finally:
            self.end()

    def begin(self) -> None:
        """A step starts on this thread (:meth:`step` without a ``with`` block)."""
        self.thread = threading.get_ident()
        self.started = _clock()

    def end(self) -> None:
        """The step that :meth:`begin` started is over."""
        with self.lock:
            self.started = None

    def overran(self) -> bool:
        """Whether the step running now has run longer than the limit."""
        started = self.started
        return self.limit is not None and started is not None and _clock() - started > self.limit

    def trip(self, stack: list[str]) -> WorkflowDeadlockError:
        """Record the deadlock of the step running now, with the workflow code's ``stack``."""
        if self.error is None:
            self.error = deadlock_error(self.describe, self.limit or 0.0, stack)
        return self.error

    def interrupt(self) -> bool:
        """Stop the step running on its thread: take its stack, raise into it.

        Returns:
            Whether a step was running (and is now being interrupted).
        """
        with self.lock:
            thread = self.thread
            if self.started is None or thread is None or not self.overran():
                return False
            frame = sys._current_frames().get(thread)
            self.trip(workflow_stack(frame))
            # The interrupt surfaces at the thread's next bytecode: in the workflow code, or
            # in the runtime around it, which turns it into the failed decision task.
            ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(thread), ctypes.py_object(DeadlockInterrupt)
            )
            return True


def workflow_stack(frame: FrameType | None) -> list[str]:
    """The formatted frames of ``frame``'s stack that belong to workflow code, outermost first.

    aioswf's runtime, asyncio and threading frames are left out: they are the same for every
    workflow and say nothing about where the code is stuck.
    """
    frames = traceback.StackSummary.extract(traceback.walk_stack(frame), capture_locals=False)
    frames.reverse()
    kept = [f for f in frames if _is_workflow_code(f.filename)]
    return traceback.StackSummary.from_list(kept).format()


def coroutine_stack(coro: object) -> list[str]:
    """The formatted frames of a suspended coroutine and those it awaits, outermost first."""
    frames: list[tuple[FrameType, int]] = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is not None:
            frames.append((frame, frame.f_lineno))
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    summary = traceback.StackSummary.extract(iter(frames))
    kept = [f for f in summary if _is_workflow_code(f.filename)]
    return traceback.StackSummary.from_list(kept).format()


def _is_workflow_code(filename: str) -> bool:
    path = os.path.abspath(filename)
    return not (
        path.startswith((_PACKAGE + os.sep, _ASYNCIO + os.sep))
        or path == _THREADING
        or filename.startswith("<frozen")
    )


def deadlock_error(describe: str, limit: float, stack: list[str]) -> WorkflowDeadlockError:
    """The error of a run whose step did not yield within ``limit`` seconds."""
    where = "".join(stack).rstrip() or "  (no workflow frame: it was inside a library call)"
    return WorkflowDeadlockError(
        f"{describe}: potential deadlock: the workflow code did not yield within "
        f"{duration(limit)}; "
        f"it was at:\n{where}\n"
        "A workflow step must not compute or block for long: move the work into an activity. "
        "The decision task is tried again after a back-off (see describe()); the worker's "
        "debug_mode turns this detector off (for stepping through code in a debugger).",
        limit=limit,
        stack=stack,
    )
