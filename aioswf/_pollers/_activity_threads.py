"""A thread pool for sync activities whose threads never keep the process alive.

``concurrent.futures.ThreadPoolExecutor`` joins its threads at interpreter exit, even after
``shutdown(wait=False)``: one sync activity that ignores ``activity.is_cancelled()`` would
keep a stopped worker's process alive until the function returns, possibly for hours. The
threads here are daemon threads that nothing joins, so the process exits once the event loop
is done; an abandoned activity is cut off wherever it is, which is what the worker's shutdown
report (and SWF's ``WorkerShutdownError`` failure) already announced.

:meth:`DaemonThreadPool.run_soon` hands a result straight to an event loop's future (one
``call_soon_threadsafe``), without the ``concurrent.futures.Future`` that ``run_in_executor``
chains to it: the decision poller runs every activation so.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

_LoopFuture = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]"]
"""Where :meth:`DaemonThreadPool.run_soon` hands a result: a loop and its future."""
_WorkItem = tuple[Future[Any] | _LoopFuture, Callable[..., Any], tuple[Any, ...], dict[str, Any]]
_pools = itertools.count(1)


class DaemonThreadPool(Executor):
    """At most ``max_workers`` daemon threads, started on demand and reused when idle.

    Args:
        max_workers: the most threads running at once; further calls wait in a queue.
        thread_name_prefix: how the threads are named (``prefix-N_M``).
    """

    def __init__(self, max_workers: int, thread_name_prefix: str = "aioswf-activity") -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        self.max_workers = max_workers
        self._prefix = f"{thread_name_prefix}-{next(_pools)}"
        self._queue: queue.SimpleQueue[_WorkItem | None] = queue.SimpleQueue()
        # Counts threads waiting for work, so a call reuses one before starting another.
        self._idle = threading.Semaphore(0)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._shut_down = False

    @property
    def threads(self) -> int:
        """How many threads were started so far."""
        return len(self._threads)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` on a pool thread; its future."""
        with self._lock:
            if self._shut_down:
                raise RuntimeError("cannot schedule new work after shutdown")
            future: Future[T] = Future()
            self._put((future, fn, args, kwargs))
            return future

    def run_soon(
        self, loop: asyncio.AbstractEventLoop, fn: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        """Run ``fn(*args)`` on a pool thread; its outcome comes to the returned future of
        ``loop`` (which must be the running loop). Cancelling that future does not stop a
        call that started.

        Raises:
            RuntimeError: the pool was shut down.
        """
        with self._lock:
            if self._shut_down:
                raise RuntimeError("cannot schedule new work after shutdown")
            future: asyncio.Future[T] = loop.create_future()
            self._put(((loop, future), fn, args, {}))
            return future

    def _put(self, item: _WorkItem) -> None:
        """Queue ``item``, starting a thread if none is idle (under ``_lock``)."""
        self._queue.put(item)
        if not self._idle.acquire(blocking=False) and len(self._threads) < self.max_workers:
            thread = threading.Thread(
                target=self._work,
                name=f"{self._prefix}_{len(self._threads)}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new work; optionally cancel queued calls and wait for running ones."""
        with self._lock:
            self._shut_down = True
            if cancel_futures:
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not None:
                        _cancel(item[0])
            for _ in self._threads:
                self._queue.put(None)  # one stop mark per thread, after the queued work
        if wait:
            for thread in self._threads:
                thread.join()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            del item  # drop references to the arguments once the call is over
            if isinstance(future, tuple):
                self._run_for_loop(future, fn, args)
                del future, fn, args, kwargs
                continue
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as error:
                    future.set_exception(error)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs
            self._idle.release()

    def _run_for_loop(
        self, target: _LoopFuture, fn: Callable[..., Any], args: tuple[Any, ...]
    ) -> None:
        loop, future = target
        if future.cancelled():  # before it started (a read across threads, but it only
            self._idle.release()  # ever goes from pending to cancelled): nothing to run
            return
        try:
            outcome: Any = fn(*args)
            failed = False
        except BaseException as error:
            outcome, failed = error, True
        # Idle before the hand-back, not after: the loop's thread, woken by it, then finds
        # the interpreter free sooner (this thread only goes back to the queue).
        self._idle.release()
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
            loop.call_soon_threadsafe(_settle, future, outcome, failed)


def _settle(future: asyncio.Future[Any], outcome: Any, failed: bool) -> None:
    if future.done():  # cancelled meanwhile
        return
    if failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _cancel(target: Future[Any] | _LoopFuture) -> None:
    """Cancel a queued call's future, on its loop's thread for a loop's."""
    if isinstance(target, tuple):
        loop, future = target
        with contextlib.suppress(RuntimeError):  # the loop closed: nothing waits on it
            loop.call_soon_threadsafe(future.cancel)
    else:
        target.cancel()
