"""Waiting in workflow code: conditions, and deterministic ``wait``/``as_completed``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from typing import TypeVar

from aioswf.workflow._core import _runtime, _seconds

T = TypeVar("T")

FIRST_COMPLETED = asyncio.FIRST_COMPLETED
FIRST_EXCEPTION = asyncio.FIRST_EXCEPTION
ALL_COMPLETED = asyncio.ALL_COMPLETED


async def wait_condition(
    predicate: Callable[[], bool], *, timeout: timedelta | None = None
) -> None:
    """Wait until ``predicate()`` is true.

    The predicate is checked whenever the workflow has nothing else to run (after signals,
    activity results, timers), so it should be cheap and free of side effects.

    Raises:
        TimeoutError: ``timeout`` passed first (a durable timer).
    """
    await _runtime().wait_condition(predicate, _seconds(timeout, "timeout"))


async def wait(
    aws: Iterable[Awaitable[T]],
    *,
    timeout: timedelta | None = None,
    return_when: str = ALL_COMPLETED,
) -> tuple[list[asyncio.Future[T]], list[asyncio.Future[T]]]:
    """``asyncio.wait`` with lists in the order given, so that the code replays the same way.

    Returns:
        ``(done, pending)``, each in the order of ``aws``. Nothing is cancelled on timeout.
    """
    _runtime()
    futures = [asyncio.ensure_future(aw) for aw in aws]
    if not futures:
        raise ValueError("workflow.wait() needs at least one awaitable")
    if not _wait_over(futures, return_when):
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake(_: asyncio.Future[T]) -> None:
            if not waiter.done() and _wait_over(futures, return_when):
                waiter.set_result(None)

        for future in futures:
            future.add_done_callback(wake)
        try:
            async with asyncio.timeout(_seconds(timeout, "timeout")):
                await waiter
        except TimeoutError:
            pass
        finally:
            for future in futures:
                future.remove_done_callback(wake)
    return [f for f in futures if f.done()], [f for f in futures if not f.done()]


def _wait_over(futures: Sequence[asyncio.Future[T]], return_when: str) -> bool:
    done = [f for f in futures if f.done()]
    if return_when == FIRST_COMPLETED:
        return bool(done)
    if return_when == FIRST_EXCEPTION and any(
        not f.cancelled() and f.exception() is not None for f in done
    ):
        return True
    return len(done) == len(futures)


def as_completed(
    aws: Iterable[Awaitable[T]], *, timeout: timedelta | None = None
) -> Iterator[Awaitable[T]]:
    """``asyncio.as_completed`` in the order things complete in history.

    Yields awaitables; each gives the next result (or raises the next error, or
    ``TimeoutError`` once ``timeout`` has passed).
    """
    _runtime()
    futures = [asyncio.ensure_future(aw) for aw in aws]
    loop = asyncio.get_running_loop()
    finished: asyncio.Queue[asyncio.Future[T] | None] = asyncio.Queue()
    remaining = len(futures)
    deadline: asyncio.TimerHandle | None = None

    def on_done(future: asyncio.Future[T]) -> None:
        nonlocal remaining
        remaining -= 1
        finished.put_nowait(future)
        if remaining == 0 and deadline is not None:
            deadline.cancel()

    def on_timeout() -> None:
        for future in futures:
            future.remove_done_callback(on_done)
        for _ in range(remaining):
            finished.put_nowait(None)

    seconds = _seconds(timeout, "timeout")
    if seconds is not None and futures:
        deadline = loop.call_later(seconds, on_timeout)
    for future in futures:
        future.add_done_callback(on_done)

    async def next_done() -> T:
        future = await finished.get()
        if future is None:
            raise TimeoutError
        return await future

    for _ in futures:
        yield next_done()
