"""Python callables that stand in for AWS Lambda functions in ScheduleLambdaFunction.

A function receives the decision's ``input`` string (or ``None``) and returns the result
string.  Coroutine functions are awaited; plain functions run in a worker thread so they
cannot stall the service.  A non-string result is JSON-encoded; an exception becomes
``LambdaFunctionFailed`` with the exception's type name as reason and its message as details.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

logger = logging.getLogger(__name__)

LambdaCallable = Callable[[str | None], Any]
Outcome = tuple[str | None, tuple[str, str] | None]  # (result, (reason, details) on failure)
OnDone = Callable[[str, int, Outcome], None]


class LambdaRunner:
    """The registry of local Lambda functions and the tasks running them.

    Args:
        on_done: Called with ``(run_id, scheduled_event_id, outcome)`` when a function ends.
    """

    def __init__(self, on_done: OnDone) -> None:
        self._functions: dict[str, LambdaCallable] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._on_done = on_done

    def register(self, name: str, function: LambdaCallable) -> None:
        """Make ``function`` available to ScheduleLambdaFunction as ``name``."""
        self._functions[name] = function

    def has(self, name: str) -> bool:
        """Whether a function is registered as ``name``."""
        return name in self._functions

    @property
    def running(self) -> int:
        """How many functions are running."""
        return len(self._running)

    def start(self, run_id: str, scheduled_id: int, name: str, payload: str | None) -> None:
        """Run the function in the background; report through ``on_done``."""
        task = asyncio.get_running_loop().create_task(
            self._run(run_id, scheduled_id, self._functions[name], payload)
        )
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(
        self, run_id: str, scheduled_id: int, function: LambdaCallable, payload: str | None
    ) -> None:
        try:
            value = await _call(function, payload)
            outcome: Outcome = (
                value if isinstance(value, str) or value is None else json.dumps(value),
                None,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure of user code is the function's result
            logger.info("local Lambda function failed: %r", exc)
            outcome = (None, (type(exc).__name__, str(exc)[:32768]))
        self._on_done(run_id, scheduled_id, outcome)

    async def stop(self) -> None:
        """Cancel running functions (their tasks will time out in the history)."""
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)


async def _call(function: LambdaCallable, payload: str | None) -> Any:
    if inspect.iscoroutinefunction(function):
        return await function(payload)
    value = await asyncio.to_thread(function, payload)
    if inspect.isawaitable(value):
        awaited: Awaitable[Any] = value
        return await awaited
    return value
