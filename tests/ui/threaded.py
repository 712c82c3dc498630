"""Services for the browser tests, run on an event loop of their own in a thread.

The browser driver (selenium) blocks, so the tests that use it are plain functions; what the
pages show is served meanwhile from a thread with its own loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def served_from_a_thread(serving: Callable[[], AbstractAsyncContextManager[T]]) -> Iterator[T]:
    """Enter ``serving()`` on a loop in a thread; give what it yields while it stays entered.

    Raises what entering it raised; it is left when the ``with`` block ends.
    """
    ready: Future[T] = Future()
    stop = threading.Event()

    async def serve() -> None:
        try:
            async with serving() as served:
                ready.set_result(served)
                await asyncio.to_thread(stop.wait)
        except BaseException as error:
            if not ready.done():
                ready.set_exception(error)
            raise

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    try:
        yield ready.result(timeout=60)
    finally:
        stop.set()
        thread.join(30)
