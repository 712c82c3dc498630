"""Run a worker in child processes: to use more than one core, or to protect a host's loop.

One Python process decides and runs activities on one core, and a workflow step that calls a
long C function (a big sort, a backtracking regular expression) holds the whole interpreter,
whatever thread it runs on. Both are answered by running workers in processes of their own,
each with its own event loop, all polling the same task lists:

* :func:`run_in_processes` is a program's main: it blocks, owns the process's SIGINT and
  SIGTERM, and runs ``N`` copies of a worker until told to stop.
* :class:`WorkerProcesses` embeds in a running asyncio service: it starts the children and
  watches them from the service's loop without blocking it, and stops them when the service
  leaves its ``async with``. It never touches the service's signal handlers.

Both are thin layers over one supervisor: a child that exits unasked is started again after
``restart_delay``, and one that keeps failing soon after it starts (a setting it refuses,
credentials SWF refuses) ever later, up to a minute apart. A clean stop tells each child to
stop (SIGTERM), and each stops polling and lets its received tasks finish. With sticky decision
task lists (on by default) each run's next decision tasks go to the process that has it
cached, so the cache still hits; a process that dies hands its runs back to the others within
the sticky schedule-to-start timeout.

A terminal's Ctrl-C reaches every process of the group, so a child takes any number of SIGINT
and SIGTERM as the one request to stop cleanly; only its parent escalates, with ``SIGUSR1``:
stop at once.

Example::

    async def serve(stop: asyncio.Event) -> None:
        async with Client("shop") as client:
            async with Worker(client, task_list="orders", workflows=[Order]):
                await stop.wait()

    if __name__ == "__main__":
        sys.exit(run_in_processes(serve, processes=4))
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from types import FrameType, TracebackType
from typing import Any

from aioswf._wording import duration

logger = logging.getLogger(__name__)

Target = Callable[[asyncio.Event], Coroutine[Any, Any, int | None]]
"""A worker's main: runs until the event is set, returns an exit status (``None`` is 0)."""

_STEADY = 10.0
"""A child that ran this long (seconds) before it exited was working: its restart is not
delayed for its predecessors' failures."""
_MAX_RESTART_DELAY = 60.0
"""The longest wait between the starts of a child that fails at every start, unless
``restart_delay`` itself is longer."""

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_STOP_NOW = signal.SIGUSR1
"""Sent by the parent to its children when a clean stop is not enough: stop without waiting."""


def run_in_processes(
    target: Target,
    processes: int,
    *,
    restart_delay: timedelta = timedelta(seconds=1),
) -> int:
    """Run ``target(stop)`` in ``processes`` child processes until SIGINT or SIGTERM.

    Blocks, like :func:`asyncio.run`; call it from the main thread of the main program.
    Children are started with ``spawn``, so ``target`` must be importable (a module-level
    function, or a :func:`functools.partial` of one with picklable arguments). The first
    SIGINT or SIGTERM stops the children cleanly; a second one stops them at once.

    Args:
        target: the async function each child runs; ``stop`` is set when the child is told to
            stop (SIGTERM or SIGINT), and it should then shut its worker down and return. A
            target that clears ``stop`` after it is set sees it set again if the parent gets
            a second signal (stop at once); a target that does not is ended at once then.
        processes: how many children, at least 1.
        restart_delay: how long after a child exits unasked another takes its place; a child
            that exits within 10 seconds of its start again and again waits twice as long
            each time (from 1 second, up to a minute or ``restart_delay``).

    Returns:
        The highest exit status of the children's last runs (0 when all stopped cleanly).

    Raises:
        ValueError: ``processes`` is less than 1, or ``restart_delay`` is negative.
        TypeError: ``target`` cannot be sent to a child (a lambda, a nested function, a
            function of a main module read from stdin), or is no async function.
    """
    group = _Supervisor(target, processes, restart_delay)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # One signal here is one request, however many of the children also received it.
        if group.stopping:
            group.stop_now()
        else:
            group.stop()

    previous = {signum: signal.signal(signum, on_signal) for signum in _SIGNALS}
    try:
        for index in range(processes):
            group.start(index)
        while group.active:
            multiprocessing.connection.wait(group.sentinels(), timeout=0.2)
            for index in group.exited():
                group.reap(index)
            for index in group.due(time.monotonic()):
                group.start(index)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return group.last_status()


class WorkerProcesses:
    """``target(stop)`` run in child processes, supervised from a running event loop.

    For a service that keeps its client and activity workers on its own loop and runs its
    workflow code (decision pollers) in a child, so that no workflow step, however long it
    holds the interpreter, stalls the service::

        async with WorkerProcesses(functools.partial(serve_workflows, endpoint)):
            ...  # the service runs; the children decide its workflows

    Children are started with ``spawn`` (from a thread of the loop's default executor, so
    starting one never blocks the loop), so ``target`` must be importable: a module-level
    function, or a :func:`functools.partial` of one with picklable arguments. The loop
    watches each child's exit (its sentinel), and starts a child that exits unasked again after
    ``restart_delay``, logging why. The service's own signal handlers are left alone: the
    children stop when the service stops them, and ignore none of their own signals.

    Stopping (:meth:`stop`, or leaving ``async with``) tells every child to stop cleanly
    (SIGTERM: it stops polling and lets its received tasks finish), waits up to
    ``shutdown_timeout``, then tells those still running to stop at once (``SIGUSR1``), waits
    up to ``stop_now_timeout``, then kills the rest (SIGKILL); each step past the first is
    logged. A stop that is cancelled midway kills the children left before it re-raises: no
    child process is left behind.

    Args:
        target: the async function each child runs, as for :func:`run_in_processes`.
        processes: how many children, at least 1.
        restart_delay: how long after a child exits unasked another takes its place; one
            that keeps failing soon after it starts waits ever longer, as for
            :func:`run_in_processes`.
        shutdown_timeout: how long a clean stop may take before the children are told to
            stop at once; give it at least the worker's own ``shutdown_timeout``.
        stop_now_timeout: how long children told to stop at once have before they are killed.

    Raises:
        ValueError: ``processes`` is less than 1, or a duration is negative.
        TypeError: ``target`` cannot be sent to a child (a lambda, a nested function, a
            function of a main module read from stdin), or is no async function.
    """

    def __init__(
        self,
        target: Target,
        processes: int = 1,
        *,
        restart_delay: timedelta = timedelta(seconds=1),
        shutdown_timeout: timedelta = timedelta(seconds=30),
        stop_now_timeout: timedelta = timedelta(seconds=5),
    ) -> None:
        for name, value in (
            ("shutdown_timeout", shutdown_timeout),
            ("stop_now_timeout", stop_now_timeout),
        ):
            if value < timedelta(0):
                raise ValueError(f"{name} must not be negative, got {value}")
        self._group = _Supervisor(target, processes, restart_delay)
        self._processes = processes
        self._shutdown_timeout = shutdown_timeout.total_seconds()
        self._stop_now_timeout = stop_now_timeout.total_seconds()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._restarts: set[asyncio.Task[None]] = set()
        self._starting: set[asyncio.Future[int]] = set()
        self._stop_requested = asyncio.Event()
        self._all_exited = asyncio.Event()

    @property
    def pids(self) -> list[int]:
        """The process ids of the children running now, in the order they were numbered."""
        return [pid for _, pid in sorted(self._group.pids().items())]

    async def start(self) -> None:
        """Start the children; returns once each has been started (not once each polls).

        Raises:
            RuntimeError: already started, or stopped (a group runs once, like a worker).
        """
        if self._stop_requested.is_set():
            raise RuntimeError("WorkerProcesses was stopped; create a new one to start again")
        if self._loop is not None:
            raise RuntimeError("WorkerProcesses already started")
        self._loop = asyncio.get_running_loop()
        try:
            for index in range(self._processes):
                await self._start(index)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop the children (SIGTERM, then ``SIGUSR1``, then SIGKILL, as the timeouts run
        out); returns once none is left. Safe to call more than once."""
        if self._loop is None:
            return
        if self._stop_requested.is_set():  # stopping already: wait for that stop
            await self._all_exited.wait()
            return
        self._stop_requested.set()
        try:
            await self._stop()
        except asyncio.CancelledError:
            # Nothing would watch the children after this: none may outlive its stop.
            logger.error("stopping worker processes cancelled; killing %s", self.pids)
            for sentinel in self._group.kill_and_reap():
                self._loop.remove_reader(sentinel)
            self._all_exited.set()
            raise

    async def _stop(self) -> None:
        # A child being started now is among those told to stop.
        await asyncio.gather(*self._restarts, *self._starting, return_exceptions=True)
        if not self._group.active:
            self._all_exited.set()
            return
        self._group.stop()
        if await self._exited_within(self._shutdown_timeout):
            return
        logger.warning(
            "worker processes %s still running after %s; telling them to stop at once",
            self.pids,
            duration(self._shutdown_timeout),
        )
        self._group.stop_now()
        if await self._exited_within(self._stop_now_timeout):
            return
        logger.error("killing worker processes %s", self.pids)
        self._group.kill()
        await self._all_exited.wait()

    async def __aenter__(self) -> WorkerProcesses:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _exited_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._all_exited.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _start(self, index: int) -> None:
        assert self._loop is not None
        started = self._loop.run_in_executor(None, self._group.start, index)
        # The child is watched once started even if the caller is cancelled meanwhile: no
        # child may run unseen, and stop() waits for starts in progress.
        self._starting.add(started)
        started.add_done_callback(functools.partial(self._watch, index))
        await asyncio.shield(started)

    def _watch(self, index: int, started: asyncio.Future[int]) -> None:
        assert self._loop is not None
        self._starting.discard(started)
        if started.exception() is None:
            sentinel = started.result()
            self._loop.add_reader(sentinel, self._on_exit, index, sentinel)

    def _on_exit(self, index: int, sentinel: int) -> None:
        assert self._loop is not None
        self._loop.remove_reader(sentinel)
        if self._group.reap(index):
            task = self._loop.create_task(self._restart(index))
            self._restarts.add(task)
            task.add_done_callback(self._restarts.discard)
        if not self._group.active:
            self._all_exited.set()

    async def _restart(self, index: int) -> None:
        delay = self._group.restart_in(index, time.monotonic())
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_requested.wait(), delay)
            if self._stop_requested.is_set():
                self._group.forget_restart(index)
                return
            try:
                await self._start(index)
                return
            except Exception:  # the machine is out of processes or memory: try again later
                delay = max(self._group.restart_delay, 1.0)
                logger.exception(
                    "could not start worker process %d; trying again in %s",
                    index + 1,
                    duration(delay),
                )


class _Supervisor:
    """The children of one group: starts them, reaps them, and knows which to start again.

    It owns no loop and no signals: :func:`run_in_processes` drives it from a blocking loop,
    :class:`WorkerProcesses` from an event loop.
    """

    def __init__(self, target: Target, processes: int, restart_delay: timedelta) -> None:
        if processes < 1:
            raise ValueError(f"processes must be >= 1, got {processes}")
        if restart_delay < timedelta(0):
            raise ValueError(f"restart_delay must not be negative, got {restart_delay}")
        _check_target(target)
        self._context = multiprocessing.get_context("spawn")
        self._target = target
        self.restart_delay = restart_delay.total_seconds()
        self._children: dict[int, multiprocessing.process.BaseProcess] = {}
        self._started_at: dict[int, float] = {}  # index -> when (monotonic) it was started
        self._quick_exits: dict[int, int] = {}  # index -> exits in a row soon after its start
        self._restarts: dict[int, float] = {}  # index -> when (monotonic) to start it again
        self._failed: dict[int, int] = {}  # index -> its last run's status, until it restarts
        self.stopping = False
        self.status = 0

    @property
    def active(self) -> bool:
        """Whether a child runs, or one that exited unasked is still to be started again."""
        return bool(self._children) or (bool(self._restarts) and not self.stopping)

    def start(self, index: int) -> int:
        """Start child ``index``; returns its sentinel (readable once it has exited)."""
        child = self._context.Process(
            target=_child_main, args=(self._target,), name=f"aioswf worker {index + 1}"
        )
        child.start()
        self._children[index] = child
        self._started_at[index] = time.monotonic()
        self._restarts.pop(index, None)
        self._failed.pop(index, None)
        if self.stopping:  # asked to stop while it was starting
            self._tell(child, signal.SIGTERM)
        logger.info("started worker process %d (pid %s)", index + 1, child.pid)
        return child.sentinel

    def sentinels(self) -> list[int]:
        return [child.sentinel for child in self._children.values()]

    def pids(self) -> dict[int, int]:
        return {i: c.pid for i, c in self._children.items() if c.pid is not None}

    def exited(self) -> list[int]:
        return [index for index, child in self._children.items() if child.exitcode is not None]

    def reap(self, index: int) -> bool:
        """Collect child ``index``, which has exited; returns whether to start it again."""
        child = self._children.pop(index)
        child.join()
        assert child.exitcode is not None
        status = child.exitcode if child.exitcode >= 0 else 1  # killed by a signal: failed
        if self.stopping:
            self.status = max(self.status, status)
            return False
        now = time.monotonic()
        ran = now - self._started_at.pop(index, now)
        quick = self._quick_exits.get(index, 0) + 1 if ran < _STEADY else 0
        self._quick_exits[index] = quick
        delay = self._restart_delay(quick)
        self._restarts[index] = now + delay
        self._failed[index] = status
        logger.error(
            "worker process %d (pid %s) exited unasked with status %s after %s%s; "
            "another starts in %s",
            index + 1,
            child.pid,
            child.exitcode,
            duration(ran),
            f", {quick} times in a row" if quick > 1 else "",
            duration(delay),
        )
        return True

    def _restart_delay(self, quick_exits: int) -> float:
        """How long to wait before starting again a child that exited unasked, after
        ``quick_exits`` exits in a row soon after its start (0: it had been working).

        One failure is waited out for ``restart_delay``; a child that fails at every start
        (it cannot work until someone changes something) is started ever later, so that it
        neither spins nor floods the log."""
        if quick_exits <= 1:
            return self.restart_delay
        longest = max(_MAX_RESTART_DELAY, self.restart_delay)
        return float(min(longest, max(self.restart_delay, 1.0) * 2 ** (quick_exits - 2)))

    def last_status(self) -> int:
        """The highest exit status of the children's last runs: a child that exited unasked
        and was not started again before the stop failed last."""
        return max(self.status, *self._failed.values(), 0)

    def restart_in(self, index: int, now: float) -> float:
        """How long from ``now`` until child ``index``, which exited unasked, is due again."""
        return max(0.0, self._restarts.get(index, now) - now)

    def due(self, now: float) -> list[int]:
        """The children to start again now (none once stopping)."""
        if self.stopping:
            self._restarts.clear()
        return [index for index, when in self._restarts.items() if when <= now]

    def forget_restart(self, index: int) -> None:
        self._restarts.pop(index, None)

    def stop(self) -> None:
        """Tell every child to stop cleanly (SIGTERM); none is started again."""
        logger.info("stopping %d worker processes", len(self._children))
        self.stopping = True
        self._restarts.clear()
        for child in list(self._children.values()):
            self._tell(child, signal.SIGTERM)

    def stop_now(self) -> None:
        """Tell every child to stop at once (``SIGUSR1``, after a SIGTERM)."""
        logger.info("stopping %d worker processes at once", len(self._children))
        for child in list(self._children.values()):
            self._tell(child, _STOP_NOW)

    def kill(self) -> None:
        for child in list(self._children.values()):
            self._tell(child, signal.SIGKILL)

    def kill_and_reap(self) -> list[int]:
        """Kill every child and collect it now; returns the sentinels of those collected."""
        self.stopping = True
        self.kill()
        sentinels = self.sentinels()
        for index in list(self._children):
            self.reap(index)
        return sentinels

    @staticmethod
    def _tell(child: multiprocessing.process.BaseProcess, signum: int) -> None:
        if child.pid is not None and child.exitcode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signum)


def _check_target(target: Target) -> None:
    """Refuse, before any child starts, a target that a ``spawn`` child could not import or
    run: it would fail at each start, again after each restart delay, and never run."""
    function: Any = target
    while isinstance(function, functools.partial):
        function = function.func
    main = sys.modules.get("__main__")
    fix = (
        "give a module-level async function, or a functools.partial of one with picklable arguments"
    )
    main_file = getattr(main, "__file__", None)
    if getattr(function, "__module__", None) == "__main__" and not (
        main_file and os.path.isfile(main_file)  # ``<stdin>`` is no file
    ):
        raise TypeError(
            f"worker process target {target!r} is defined in a main module that a child process "
            f"cannot import (an interactive session, or a program read from stdin): {fix}, "
            "in a module or a script file"
        )
    try:
        pickle.dumps(target)
    except Exception as error:
        raise TypeError(
            f"worker process target {target!r} cannot be sent to a child process ({error}): {fix}"
        ) from None
    # A plain function's result cannot be awaited: each child would fail as it starts.
    body = inspect.unwrap(function)
    if not (
        inspect.iscoroutinefunction(body)
        or inspect.iscoroutinefunction(getattr(body, "__call__", None))  # noqa: B004
    ):
        raise TypeError(
            f"worker process target {target!r} must be an async function (async def "
            f"{getattr(body, '__name__', 'serve')}(stop): ...), the main each child runs"
        )


def _child_main(target: Target) -> None:
    """The body of each child process."""
    sys.exit(asyncio.run(_serve(target)) or 0)


async def _serve(target: Target) -> int | None:
    stop = asyncio.Event()
    requested = False

    def request() -> None:
        # SIGINT from a terminal reaches the whole process group and the parent forwards a
        # SIGTERM as well: all of them together are one request to stop cleanly.
        nonlocal requested
        if not requested:
            requested = True
            stop.set()

    def stop_now() -> None:
        nonlocal requested
        if not requested:  # came before the parent's SIGTERM was handled: a clean stop, then
            requested = True
        elif stop.is_set():  # the target is not listening for a second request
            logging.shutdown()
            os._exit(130)
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in _SIGNALS:
        loop.add_signal_handler(signum, request)
    loop.add_signal_handler(_STOP_NOW, stop_now)
    return await target(stop)
