"""The deterministic event loop that one workflow run executes on.

It runs nothing by itself: the instance applies history events (which resolve futures and
fire durable timers), then asks the loop to :meth:`WorkflowLoop.run_ready` until nothing is
ready. Time is the current decision task's timestamp, timers are SWF timers, and everything
that would reach outside the process (threads, sockets, subprocesses) raises.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import functools
import itertools
import logging
import math
import sys
import threading
import weakref
from asyncio import events, format_helpers
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
from typing import Any, Protocol, TypeVar

from aioswf._decider.deadlock import StepWatch, coroutine_stack
from aioswf._decider.deadlock import _clock as _step_clock
from aioswf._sandbox.core import install, running_steps, thread_state
from aioswf._sandbox.module_state import StateWatch
from aioswf.exceptions import NondeterminismError

logger = logging.getLogger(__name__)

T = TypeVar("T")

_DUE = 1e-6
"""A delay this small is float error in ``when - now``: the callback is due now."""

_CHECK_EVERY = 256
"""Callbacks run between two looks at the clock for a step that overran its time."""


class TimerScheduler(Protocol):
    """Where the loop sends its timers: the timer decision machines."""

    def start_timer(self, handle: DurableTimerHandle, delay: float) -> None:
        """Start an SWF timer that runs ``handle`` when it fires."""

    def cancel_timer(self, handle: DurableTimerHandle) -> None:
        """Cancel the SWF timer behind ``handle``, if it has not fired."""


class DurableTimerHandle(asyncio.TimerHandle):
    """What ``call_later``/``call_at`` return: cancelling it cancels the SWF timer."""

    __slots__ = ("pending", "timer")

    pending: bool
    """Whether an SWF timer stands behind it that has neither fired nor been cancelled."""
    timer: object | None


class DeterministicFuture(asyncio.Future[Any]):
    """A future hashed by creation order, so that sets of futures iterate the same way in
    every replay (``asyncio.wait``, ``TaskGroup`` and friends keep sets); numbered by
    :meth:`WorkflowLoop.number`. No ``__dict__``, as asyncio's own futures."""

    __slots__ = ("_seq",)

    _seq: int

    def __hash__(self) -> int:
        return self._seq


class _DeterministicTask(asyncio.Task[Any]):
    """A task hashed by creation order; see :class:`DeterministicFuture`."""

    def __init__(
        self,
        coro: Any,
        *,
        loop: WorkflowLoop,
        seq: int,
        name: str | None,
        context: contextvars.Context | None,
    ) -> None:
        self._seq = seq  # before the base class puts the task in asyncio's set of tasks
        super().__init__(coro, loop=loop, name=name, context=context)

    def __hash__(self) -> int:
        return self._seq


def _creation_order(task: asyncio.Task[Any]) -> int:
    return getattr(task, "_seq", 0)


def _task_step_type() -> type:
    """The type of the callback that a task's constructor hands its loop's ``call_soon``
    (the task's first step): asyncio's C tasks use a type of their own, which it does not
    export; a task of the pure Python implementation, a bound method."""

    class Probe:
        step_type: type = object

        def get_debug(self) -> bool:
            return False

        def call_soon(self, callback: object, *args: object, context: object = None) -> None:
            Probe.step_type = type(callback)

    async def nothing() -> None:
        return None

    coro = nothing()
    task = asyncio.Task(coro, loop=Probe())  # type: ignore[arg-type]
    task._log_destroy_pending = False  # type: ignore[attr-defined]  # never run, by design
    coro.close()
    return Probe.step_type


_TASK_STEP = _task_step_type()


class _Ready(asyncio.Handle):
    """What ``call_soon`` queues: asyncio's handle, made without asking the loop whether it
    is in debug mode (a method call for each of the few callbacks of every replayed task)."""

    __slots__ = ()

    def __init__(
        self,
        callback: Callable[..., object],
        args: tuple[Any, ...],
        loop: WorkflowLoop,
        context: contextvars.Context | None,
    ) -> None:
        self._context = context if context is not None else contextvars.copy_context()
        self._loop = loop
        self._callback = callback
        self._args = args
        self._cancelled = False
        self._repr = None
        self._source_traceback = (
            format_helpers.extract_stack(sys._getframe(1)) if loop._debug else None
        )


_new_ready = object.__new__


def _report(loop: WorkflowLoop, handle: asyncio.Handle, error: BaseException) -> None:
    """What ``Handle._run`` does with a callback's error (see :meth:`WorkflowLoop.run_ready`,
    which runs the callbacks itself)."""
    source = format_helpers._format_callback_source(
        handle._callback,  # type: ignore[attr-defined]
        handle._args,
    )
    context: dict[str, Any] = {
        "message": f"Exception in callback {source}",
        "exception": error,
        "handle": handle,
    }
    if handle._source_traceback:  # type: ignore[attr-defined]
        context["source_traceback"] = handle._source_traceback  # type: ignore[attr-defined]
    loop.call_exception_handler(context)


def _stack_of(handle: asyncio.Handle) -> list[str]:
    """Where the task that ``handle`` last stepped is suspended, as workflow code."""
    task = getattr(getattr(handle, "_callback", None), "__self__", None)
    if not isinstance(task, asyncio.Task):
        return []
    return coroutine_stack(task.get_coro())


_GUARDS = thread_state()
_GUARDED_STEPS = running_steps()


class _Step:
    """The ``with`` block of :meth:`WorkflowLoop.stepping`: the loop running, its hooks, the
    step watch and the sandbox's guards in place.

    A plain class rather than a generator-based context manager, whose two methods do the
    work of the sandbox's and the step watch's in place (each names what it stands for):
    replay enters one for every decision task of a history, and the calls were a sizeable
    part of a replayed task's cost.
    """

    __slots__ = ("_guarded_before", "_host", "_host_hooks", "_loop", "_state")

    _host_hooks: tuple[Any, Any] | None

    def __init__(self, loop: WorkflowLoop, evicting: bool) -> None:
        self._loop = loop
        self._state = loop._state_watching if not evicting else None

    def __enter__(self) -> None:
        loop = self._loop
        if loop._sandboxed:
            # `start_guarding`, in place (the loop installed the guards).
            self._guarded_before = _GUARDS.active
            _GUARDED_STEPS.append(None)
            _GUARDS.active = loop._describe
        state = self._state
        if state is not None and not state.window_open:  # else left open by a replayed step
            state.__enter__()
        self._host = events._get_running_loop()
        # Lent already by the previous step of this activation, most often.
        lent = sys.get_asyncgen_hooks()[0] is loop._hooks[0]
        self._host_hooks = None if lent else loop._lend_hooks()
        events._set_running_loop(loop)
        loop._stepping = True
        watch = loop.watch  # `StepWatch.begin`, in place
        watch.thread = threading.get_ident()
        watch.started = _step_clock()

    def __exit__(self, kind: type[BaseException] | None, *exc_info: object) -> None:
        loop = self._loop
        if loop._sandboxed:
            _GUARDS.active = self._guarded_before  # `stop_guarding`, in place
            _GUARDED_STEPS.pop()
        watch = loop.watch
        with watch.lock:  # `StepWatch.end`, in place
            watch.started = None
        loop._stepping = False
        if self._host_hooks is not None:
            sys.set_asyncgen_hooks(*self._host_hooks)
        events._set_running_loop(self._host)
        if self._state is not None:
            # Last: it raises if the step changed module state (a replayed step may leave
            # part of the check to a later one: see `module_state.steps_in_a_row`).
            self._state.step_ended(kind, replayed=loop.replaying)


def _forbid(name: str, what: str) -> Any:
    def method(self: WorkflowLoop, *args: Any, **kwargs: Any) -> Any:
        raise self._forbidden(what)

    method.__name__ = name
    return method


class WorkflowLoop(asyncio.AbstractEventLoop):
    """An event loop whose only inputs are history events.

    Args:
        timers: receives the durable timers that ``call_later``/``call_at`` create.
        describe: names the run in error messages.
        deadlock_timeout: seconds a step may run without waiting on history; ``None`` for
            no limit.
        sandboxed: run the code with the sandbox's guards.
        state: the module state the code names, refused if a step changes it (sandboxed
            runs only).
    """

    def __init__(
        self,
        timers: TimerScheduler,
        describe: str,
        deadlock_timeout: float | None = None,
        *,
        sandboxed: bool = True,
        state: StateWatch | None = None,
    ) -> None:
        self._sandboxed = sandboxed
        if sandboxed:
            install()  # once per process: each step then guards its thread in place
        # One per loop, entered by each step in turn (a run's steps never overlap).
        self._state_watching = state.watching(describe) if state and sandboxed else None
        self._ready: collections.deque[asyncio.Handle] = collections.deque()
        self._asyncgens: weakref.WeakSet[AsyncGenerator[Any, Any]] = weakref.WeakSet()
        self._tasks: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
        # Bound once, so that a thread's hooks can be recognised as this loop's.
        self._hooks = (self._asyncgen_firstiter, self._finalize)
        self._now = 0.0
        self._timers = timers
        self._describe = describe
        self._seq = itertools.count(1)
        self._closed = False
        self._stepping = False
        self._debug = False
        self._answer_debug()
        self._exception_handler: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], Any] | None
        self._exception_handler = None
        self.watch = StepWatch(describe, deadlock_timeout)
        """Times each step, for the deadlock detector."""
        self._step_block = _Step(self, evicting=False)
        self._running: asyncio.Handle | None = None
        """The callback :meth:`run_ready` is running, if any."""
        self.silent = False
        """While true (replay, eviction), errors reported to the loop are not logged."""
        self.replaying = False
        """Whether the step running now re-runs a decision task that history records (see
        :meth:`step_at`)."""
        self.runtime: Any = None
        """The :class:`~aioswf._decider.runtime.WorkflowRuntime` of the run."""

    # --- driving -------------------------------------------------------------------------

    def step_at(self, now: float, *, replaying: bool) -> _Step:
        """A step of the run at ``now`` (the decision task's timestamp; the clock never goes
        back), as :meth:`stepping`: one that re-runs a decision task history records
        (``replaying``: errors it reports are not logged, and the sandbox may leave part of
        its check to a later step) or decides a new one."""
        if now > self._now:
            self._now = now
        self.silent = self.replaying = replaying
        return self.stepping()

    def stepping(self, *, evicting: bool = False) -> _Step:
        """Make this loop the running one while workflow code runs, then restore the host's.

        Raises:
            NondeterminismError: as the block ends, if the step changed module state (not
                checked while ``evicting``: nothing the code does then is kept).
        """
        if evicting or self._stepping:
            return _Step(self, evicting)
        return self._step_block  # one for all the steps of the run (they never overlap)

    def _lend_hooks(self) -> tuple[Any, Any] | None:
        """Install this loop's async generator hooks on this thread for a step; returns the
        hooks to put back after it, ``None`` for none.

        Async generators first iterated by workflow code are finalised on this loop, in
        workflow time, not on whatever loop runs when the garbage collector finds them. A
        thread with hooks of its own (a host loop's, for inline activations) gets them back
        after each step. A thread without (a workflow thread) keeps this loop's from one step
        to the next, until :meth:`release_thread` (the end of an activation) or another
        loop's step: setting hooks costs two audited calls, and replay takes a step per
        decision task.
        """
        hooks = sys.get_asyncgen_hooks()
        if hooks[0] is self._hooks[0]:
            return None  # lent by the previous step of this activation
        sys.set_asyncgen_hooks(*self._hooks)
        owner = getattr(hooks[0], "__self__", None)
        if isinstance(owner, WorkflowLoop) and not owner._stepping:
            return None  # another run's, left by its activation's steps: not the thread's own
        if hooks[0] is None and hooks[1] is None:
            return None
        return (hooks[0], hooks[1])

    def release_thread(self) -> None:
        """Take this loop's async generator hooks off this thread, if a step left them
        there (see :meth:`_lend_hooks`)."""
        if sys.get_asyncgen_hooks()[0] is self._hooks[0]:
            sys.set_asyncgen_hooks(None, None)

    def _asyncgen_firstiter(self, agen: AsyncGenerator[Any, Any]) -> None:
        self._asyncgens.add(agen)

    def _finalize(self, agen: AsyncGenerator[Any, Any]) -> None:
        self._asyncgens.discard(agen)
        if not self._closed:
            self.create_task(agen.aclose(), name=f"finalizing {agen!r}")

    def run_ready(self) -> int:
        """Run ready callbacks in FIFO order until none is left; returns how many ran.

        Raises:
            WorkflowDeadlockError: the step ran past the deadlock timeout (a busy loop that
                keeps yielding to the loop, or code interrupted by the activation executor).
        """
        ran = 0
        ready = self._ready
        watch = self.watch
        try:
            while ready:
                handle = ready.popleft()
                if handle._cancelled:
                    continue
                self._running = handle
                try:
                    # `Handle._run` inlined: a frame less for every callback of a replay.
                    handle._context.run(handle._callback, *handle._args)  # type: ignore[attr-defined]
                except (SystemExit, KeyboardInterrupt) as error:
                    # asyncio re-raises these out of the loop, to stop the process; here they
                    # are the run's failure, never the worker's (its task holds them too).
                    self.runtime.fail_run(error)
                except BaseException as error:
                    _report(self, handle, error)
                ran += 1
                if watch.error is not None:
                    raise watch.error
                if ran % _CHECK_EVERY == 0 and watch.overran():
                    raise watch.trip(_stack_of(handle))
        finally:
            self._running = None
        return ran

    def place(self) -> weakref.ref[asyncio.Handle] | None:
        """Where a callback queued now would run: right after the last callback queued, or
        after the one running if none is (``None`` if neither: nothing to follow).

        For a callback that need not be queued unless something happens before it would
        have run (see :meth:`passed` and :meth:`call_at_place`). A weak reference: knowing
        the place keeps nothing alive.
        """
        behind = self._ready[-1] if self._ready else self._running
        return weakref.ref(behind) if behind is not None else None

    def passed(self, place: weakref.ref[asyncio.Handle]) -> bool:
        """Whether a callback queued at ``place`` (see :meth:`place`) would have run by now."""
        behind = place()
        return behind is None or (behind is not self._running and self._index(behind) is None)

    def call_at_place(
        self, place: weakref.ref[asyncio.Handle], callback: Callable[[], object]
    ) -> None:
        """Queue ``callback`` at ``place``, which has not been passed (see :meth:`passed`)."""
        handle = _Ready(callback, (), self, None)
        behind = place()
        index = self._index(behind) if behind is not None else None
        if index is not None:
            self._ready.insert(index + 1, handle)
        else:  # right after the callback running now
            self._ready.appendleft(handle)

    def _index(self, handle: asyncio.Handle) -> int | None:
        # By identity: timer handles compare equal by their time and callback.
        return next((i for i, queued in enumerate(self._ready) if queued is handle), None)

    def has_ready(self) -> bool:
        """Whether any callback is waiting to run."""
        return bool(self._ready)

    def fire(self, handle: DurableTimerHandle) -> None:
        """Queue the callback of a timer that fired."""
        if not handle._cancelled:
            handle.pending = False
            self._ready.append(handle)

    # --- scheduling ----------------------------------------------------------------------

    def time(self) -> float:
        return self._now

    def call_soon(  # type: ignore[override]
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        # `_Ready(callback, args, self, context)`, in place: futures call this for each of
        # their callbacks, two or more per activity of a replay.
        handle = _new_ready(_Ready)
        handle._context = context if context is not None else contextvars.copy_context()
        handle._loop = self
        handle._callback = callback
        handle._args = args
        handle._cancelled = False
        handle._repr = None
        handle._source_traceback = (
            format_helpers.extract_stack(sys._getframe(0)) if self._debug else None
        )
        self._ready.append(handle)
        if type(callback) is _TASK_STEP:  # a task's step: its first, made as the task is
            self._adopt(callback)
        return handle

    def _adopt(self, step: Any) -> None:
        """Keep the task of ``step`` among this loop's (see :meth:`pending_tasks`) if workflow
        code made it without :meth:`create_task` (``asyncio.Task(coro)``): closing the run
        ends it too."""
        task = getattr(step, "__self__", None)
        if type(task) is not _DeterministicTask and isinstance(task, asyncio.Task):
            self._tasks.add(task)

    def call_later(  # type: ignore[override]
        self,
        delay: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        if math.isnan(delay) or delay < 0:
            raise ValueError(f"{self._describe}: a timer cannot wait {delay!r} seconds")
        return self.call_at(self._now + delay, callback, *args, context=context)

    def call_at(  # type: ignore[override]
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        if math.isnan(when):
            raise ValueError(f"{self._describe}: a timer cannot wait until NaN")
        handle = DurableTimerHandle(when, callback, args, self, context)
        handle.timer = None
        handle.pending = False
        delay = when - self._now
        if math.isinf(delay) and delay > 0:
            # Forever (``wait_for(x, timeout=math.inf)``): no timer at all; it never fires.
            return handle
        if delay <= _DUE:
            # Already due: no SWF timer, exactly like sleep(0).
            self._ready.append(handle)
        else:
            handle.pending = True
            self._timers.start_timer(handle, delay)
        return handle

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        if isinstance(handle, DurableTimerHandle) and handle.pending:
            handle.pending = False
            self._timers.cancel_timer(handle)

    def call_soon_threadsafe(  # type: ignore[override]
        self,
        callback: Callable[..., object],
        *args: Any,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        raise self._forbidden("call_soon_threadsafe (threads)")

    def create_future(self) -> asyncio.Future[Any]:
        future = DeterministicFuture(loop=self)
        future._seq = next(self._seq)
        return future

    def check_open(self) -> None:
        """Refuse new work once the loop is closed (code still running on a thread that was
        given up, say).

        Raises:
            RuntimeError: the loop is closed.
        """
        if self._closed:
            raise RuntimeError(f"{self._describe}: the workflow's loop is closed")

    def number(self, future: DeterministicFuture) -> None:
        """Give ``future`` (of a subclass, made by its owner) its creation number."""
        future._seq = next(self._seq)

    def create_task(
        self,
        coro: Coroutine[Any, Any, T] | Generator[Any, None, T],
        *,
        name: str | None = None,
        context: contextvars.Context | None = None,
    ) -> asyncio.Task[T]:
        self.check_open()
        task = _DeterministicTask(coro, loop=self, seq=next(self._seq), name=name, context=context)
        self._tasks.add(task)
        return task

    def pending_tasks(self) -> list[asyncio.Task[Any]]:
        """This loop's tasks not done yet, oldest first.

        ``asyncio.all_tasks(loop)`` would say the same (``asyncio.create_task``, ``gather``,
        ``TaskGroup`` and ``wait_for`` call :meth:`create_task`; a task made as
        ``asyncio.Task(coro)`` is kept as its first step is queued), but it walks every task
        of the process, the host's included: thousands in a busy service, at each run closed.
        """
        return sorted((t for t in self._tasks if not t.done()), key=_creation_order)

    def set_task_factory(self, factory: Any) -> None:
        raise self._forbidden("set_task_factory")

    def get_task_factory(self) -> None:
        return None

    # --- state ---------------------------------------------------------------------------

    def is_running(self) -> bool:
        return self._stepping

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._ready.clear()
        self.release_thread()

    def get_debug(self) -> bool:
        return self._debug

    def set_debug(self, enabled: bool) -> None:
        self._debug = enabled
        self._answer_debug()

    def _answer_debug(self) -> None:
        # Every future asks its loop, from C, whether it is in debug mode: a C callable
        # answers without the frame this class's method costs (two futures per activity).
        self.get_debug = functools.partial(bool, self._debug)  # type: ignore[method-assign]

    def run_forever(self) -> None:
        raise self._forbidden("run_forever")

    def run_until_complete(self, future: Any) -> Any:
        raise self._forbidden("run_until_complete")

    def stop(self) -> None:
        raise self._forbidden("stop")

    async def shutdown_asyncgens(self) -> None:
        """Close the async generators of the workflow code that are still open."""
        generators = list(self._asyncgens)
        self._asyncgens.clear()
        for agen in generators:
            with contextlib.suppress(Exception):
                await agen.aclose()

    async def shutdown_default_executor(self, timeout: float | None = None) -> None:
        return None

    # --- errors --------------------------------------------------------------------------

    def get_exception_handler(self) -> Any:
        return self._exception_handler

    def set_exception_handler(self, handler: Any) -> None:
        self._exception_handler = handler

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        if self.silent:
            return
        error = context.get("exception")
        logger.error(
            "%s: %s",
            self._describe,
            context.get("message", "unhandled error in workflow code"),
            exc_info=(type(error), error, error.__traceback__) if error is not None else None,
        )

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        if self._exception_handler is not None:
            self._exception_handler(self, context)
        else:
            self.default_exception_handler(context)

    # --- what a workflow must not do -----------------------------------------------------

    def _forbidden(self, what: str) -> NondeterminismError:
        return NondeterminismError(
            f"{self._describe}: {what} is not available inside a workflow, because it cannot "
            "be replayed; do it in an activity instead"
        )

    def set_default_executor(self, executor: Any) -> None:
        raise self._forbidden("set_default_executor (threads)")

    # --- what a workflow must not do (continued) --------------------------------------

    run_in_executor = _forbid("run_in_executor", "run_in_executor (threads)")
    getaddrinfo = _forbid("getaddrinfo", "DNS resolution")
    getnameinfo = _forbid("getnameinfo", "DNS resolution")
    create_connection = _forbid("create_connection", "network connections")
    create_server = _forbid("create_server", "network servers")
    create_unix_connection = _forbid("create_unix_connection", "network connections")
    create_unix_server = _forbid("create_unix_server", "network servers")
    create_datagram_endpoint = _forbid("create_datagram_endpoint", "network connections")
    connect_accepted_socket = _forbid("connect_accepted_socket", "sockets")
    start_tls = _forbid("start_tls", "sockets")
    sendfile = _forbid("sendfile", "sockets")
    sock_recv = _forbid("sock_recv", "sockets")
    sock_recv_into = _forbid("sock_recv_into", "sockets")
    sock_recvfrom = _forbid("sock_recvfrom", "sockets")
    sock_recvfrom_into = _forbid("sock_recvfrom_into", "sockets")
    sock_sendall = _forbid("sock_sendall", "sockets")
    sock_sendto = _forbid("sock_sendto", "sockets")
    sock_connect = _forbid("sock_connect", "sockets")
    sock_accept = _forbid("sock_accept", "sockets")
    sock_sendfile = _forbid("sock_sendfile", "sockets")
    add_reader = _forbid("add_reader", "file descriptors")
    remove_reader = _forbid("remove_reader", "file descriptors")
    add_writer = _forbid("add_writer", "file descriptors")
    remove_writer = _forbid("remove_writer", "file descriptors")
    connect_read_pipe = _forbid("connect_read_pipe", "pipes")
    connect_write_pipe = _forbid("connect_write_pipe", "pipes")
    subprocess_exec = _forbid("subprocess_exec", "subprocesses")
    subprocess_shell = _forbid("subprocess_shell", "subprocesses")
    add_signal_handler = _forbid("add_signal_handler", "OS signal handlers")
    remove_signal_handler = _forbid("remove_signal_handler", "OS signal handlers")
