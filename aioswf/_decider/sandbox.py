"""Refusing, inside workflow code, what replay cannot reproduce: real time, threads, I/O.

The workflow loop already refuses threads, sockets and subprocesses asked for through asyncio
(``run_in_executor``, ``open_connection``…). Workflow code can also reach for the standard
library directly; these guards catch that while a workflow step runs on the current thread:

- an audit hook refuses sockets, DNS look-ups, subprocesses, ``os.system``, ``exec``,
  ``spawn`` and ``fork``;
- ``threading.Thread.start`` is refused (Python raises no audit event for it);
- ``time.time``, ``time.monotonic``, ``time.perf_counter`` (and their ``_ns`` forms) and
  ``time.sleep`` are refused, pointing at ``workflow.now()`` and ``asyncio.sleep``. Calls made
  by the ``logging`` module (record timestamps) and by aioswf itself are let through;
- ``asyncio.wait`` and ``asyncio.as_completed`` are refused, pointing at ``workflow.wait`` and
  ``workflow.as_completed``: they put what they are given in a set, whose order depends on
  object ids, so the same code would schedule things in another order on replay.

Outside workflow steps each guard costs one thread-local read. The guards are installed once
per process, by the first workflow loop, so programs that only use the client are untouched.
``datetime.datetime.now()`` cannot be intercepted (it is a built-in type); the docs say to
use ``workflow.now()``. Names bound with ``from time import time`` before the guards were
installed keep the unguarded function.
"""

from __future__ import annotations

import asyncio
import asyncio.tasks
import functools
import inspect
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aioswf.exceptions import NondeterminismError

_state = threading.local()
_install_lock = threading.Lock()
_installed = False

_AUDITED = {
    "socket.__new__": "sockets",
    "socket.connect": "network connections",
    "socket.getaddrinfo": "DNS resolution",
    "socket.gethostbyname": "DNS resolution",
    "subprocess.Popen": "subprocesses",
    "os.system": "subprocesses",
    "os.exec": "subprocesses",
    "os.spawn": "subprocesses",
    "os.posix_spawn": "subprocesses",
    "os.fork": "fork",
}

_ASYNCIO_FUNCTIONS = {
    "wait": "workflow.wait()",
    "as_completed": "workflow.as_completed()",
}

_TIME_FUNCTIONS = {
    "time": "workflow.now()",
    "time_ns": "workflow.now()",
    "monotonic": "workflow.now()",
    "monotonic_ns": "workflow.now()",
    "perf_counter": "workflow.now()",
    "perf_counter_ns": "workflow.now()",
    "sleep": "await asyncio.sleep(), a durable timer",
}

# Modules whose use of the clock does not reach workflow logic: log record timestamps, and
# aioswf's own bookkeeping.
_TRUSTED_MODULES = frozenset({"logging"})
_TRUSTED_PACKAGES = ("logging.", "aioswf.")


def running_workflow() -> str | None:
    """The run whose code is executing on this thread, if any."""
    active: str | None = getattr(_state, "active", None)
    return active


@contextmanager
def guarding(describe: str) -> Iterator[None]:
    """Refuse non-deterministic calls on this thread while workflow code of ``describe`` runs."""
    install()
    outer = running_workflow()
    _state.active = describe
    try:
        yield
    finally:
        _state.active = outer


@contextmanager
def unguarded() -> Iterator[None]:
    """Lift the guards on this thread, for aioswf's own work on a workflow's behalf that
    replay does not see (exporting a span that is only emitted the first time)."""
    outer = running_workflow()
    _state.active = None
    try:
        yield
    finally:
        _state.active = outer


def install() -> None:
    """Install the guards in this process; later calls do nothing."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if _installed:
            return
        sys.addaudithook(_audit)
        _guard_thread_start()
        for name, instead in _TIME_FUNCTIONS.items():
            setattr(time, name, _guarded(getattr(time, name), f"time.{name}()", instead))
        for name, instead in _ASYNCIO_FUNCTIONS.items():
            guarded = _guarded(getattr(asyncio, name), f"asyncio.{name}()", instead)
            setattr(asyncio, name, guarded)
            setattr(asyncio.tasks, name, guarded)
        _installed = True


def _refusal(describe: str, what: str, instead: str = "an activity") -> NondeterminismError:
    return NondeterminismError(
        f"{describe}: {what} cannot be used inside a workflow, because a replay would not see "
        f"the same thing; use {instead} instead"
    )


def _audit(event: str, args: tuple[Any, ...]) -> None:
    describe = getattr(_state, "active", None)
    if describe is None:
        return
    what = _AUDITED.get(event)
    if what is not None:
        raise _refusal(describe, what)


def _guard_thread_start() -> None:
    start = threading.Thread.start

    @functools.wraps(start)
    def guarded_start(self: threading.Thread) -> None:
        describe = getattr(_state, "active", None)
        if describe is not None:
            raise _refusal(describe, "starting a thread")
        start(self)

    threading.Thread.start = guarded_start  # type: ignore[method-assign]


def _guarded(function: Callable[..., Any], what: str, instead: str) -> Callable[..., Any]:
    if getattr(function, "__aioswf_guarded__", False):
        return function

    def check() -> None:
        describe = getattr(_state, "active", None)
        if describe is not None and not _trusted_caller(depth=3):
            raise _refusal(describe, what, instead)

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def guarded_coroutine(*args: Any, **kwargs: Any) -> Any:
            check()
            return await function(*args, **kwargs)

        guarded_coroutine.__aioswf_guarded__ = True  # type: ignore[attr-defined]
        return guarded_coroutine

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        check()
        return function(*args, **kwargs)

    guarded.__aioswf_guarded__ = True  # type: ignore[attr-defined]
    return guarded


def _trusted_caller(depth: int) -> bool:
    """Whether the code ``depth`` frames up is logging's or aioswf's own."""
    caller = sys._getframe(depth).f_globals.get("__name__", "")
    return caller in _TRUSTED_MODULES or str(caller).startswith(_TRUSTED_PACKAGES)
