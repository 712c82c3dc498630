"""Run a worker in several processes, to use more than one core.

One Python process decides and runs activities on one core. :func:`run_in_processes` starts
``N`` copies of the same worker, each a process of its own with its own event loop, all
polling the same task lists. With sticky decision task lists (on by default) each run's next
decision tasks go to the process that has it cached, so the cache still hits; a process that
dies hands its runs back to the others within the sticky schedule-to-start timeout.

One SIGINT or SIGTERM to the parent stops them all cleanly: each copy is told to stop
(SIGTERM), stops polling and lets its received tasks finish, and the parent returns once the
last has exited. A copy that exits on its own before that is started again. A terminal's
Ctrl-C reaches every process of the group, so a copy takes any number of SIGINT and SIGTERM
as the one request to stop cleanly; only the parent counts signals, and on its second tells
the copies to stop at once (``SIGUSR1``).

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
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from types import FrameType
from typing import Any

logger = logging.getLogger(__name__)

Target = Callable[[asyncio.Event], Coroutine[Any, Any, int | None]]
"""A worker's main: runs until the event is set, returns an exit status (``None`` is 0)."""

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_STOP_NOW = signal.SIGUSR1
"""Sent by the parent to its children on its second stop signal: stop without waiting."""


def run_in_processes(
    target: Target,
    processes: int,
    *,
    restart_delay: timedelta = timedelta(seconds=1),
) -> int:
    """Run ``target(stop)`` in ``processes`` child processes until SIGINT or SIGTERM.

    Blocks, like :func:`asyncio.run`; call it from the main thread of the main program.
    Children are started with ``spawn``, so ``target`` must be importable (a module-level
    function, or a :func:`functools.partial` of one with picklable arguments).

    Args:
        target: the async function each child runs; ``stop`` is set when the child is told to
            stop (SIGTERM or SIGINT), and it should then shut its worker down and return. A
            target that clears ``stop`` after it is set sees it set again if the parent gets
            a second signal (stop at once); a target that does not is ended at once then.
        processes: how many children, at least 1.
        restart_delay: how long after a child exits unasked another takes its place.

    Returns:
        The highest exit status of the children's last runs (0 when all stopped cleanly).

    Raises:
        ValueError: ``processes`` is less than 1.
    """
    if processes < 1:
        raise ValueError(f"processes must be >= 1, got {processes}")
    group = _Group(target, processes, restart_delay.total_seconds())
    return group.run()


class _Group:
    def __init__(self, target: Target, processes: int, restart_delay: float) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._target = target
        self._count = processes
        self._restart_delay = restart_delay
        self._children: dict[int, multiprocessing.process.BaseProcess] = {}
        self._restarts: dict[int, float] = {}
        self._stopping = False
        self._status = 0

    def run(self) -> int:
        previous = {signum: signal.signal(signum, self._on_signal) for signum in _SIGNALS}
        try:
            for index in range(self._count):
                self._start(index)
            while self._children or (self._restarts and not self._stopping):
                self._supervise()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self._status

    def _start(self, index: int) -> None:
        child = self._context.Process(
            target=_child_main, args=(self._target,), name=f"aioswf worker {index + 1}"
        )
        child.start()
        self._children[index] = child
        logger.info("started worker process %d (pid %s)", index + 1, child.pid)

    def _supervise(self) -> None:
        sentinels = [child.sentinel for child in self._children.values()]
        multiprocessing.connection.wait(sentinels, timeout=0.2)
        for index, child in list(self._children.items()):
            if child.exitcode is None:
                continue
            child.join()
            del self._children[index]
            status = _status(child.exitcode)
            if self._stopping:
                self._status = max(self._status, status)
                continue
            logger.error(
                "worker process %d (pid %s) exited unasked with status %s; another starts in %.1fs",
                index + 1,
                child.pid,
                child.exitcode,
                self._restart_delay,
            )
            self._restarts[index] = time.monotonic() + self._restart_delay
        now = time.monotonic()
        for index, due in list(self._restarts.items()):
            if self._stopping:
                self._restarts.clear()
            elif due <= now:
                del self._restarts[index]
                self._start(index)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        # One signal here is one request, however many of the children also received it.
        if self._stopping:
            logger.info("stopping %d worker processes at once", len(self._children))
            self._tell_children(_STOP_NOW)
            return
        logger.info("stopping %d worker processes", len(self._children))
        self._stopping = True
        self._tell_children(signal.SIGTERM)

    def _tell_children(self, signum: int) -> None:
        for child in self._children.values():
            if child.pid is not None and child.exitcode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signum)


def _status(exitcode: int) -> int:
    # A child killed by a signal has a negative exit code; report it as a failure.
    return exitcode if exitcode >= 0 else 1


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
