"""`ActivityEnvironment`: run one activity function as a worker would, without SWF."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable
from typing import Any

from aioswf._definitions import ActivityDefinition, activity_definition
from aioswf._pollers._activity_threads import DaemonThreadPool
from aioswf.activity import ActivityContext, ActivityInfo, CancelReason, _CompleteAsync, _current
from aioswf.converter import DataConverter
from aioswf.exceptions import DefinitionError

logger = logging.getLogger(__name__)


class ActivityEnvironment:
    """Runs activity functions with the in-activity API working, and records what they do.

    ``activity.info()`` returns :attr:`info` (a made-up one if unset), every
    ``activity.heartbeat()`` lands in :attr:`heartbeats`, and :meth:`cancel` does what a
    cancellation request from the workflow does on a worker: ``async`` activities get
    ``asyncio.CancelledError`` at their next ``await``, sync ones see
    ``activity.is_cancelled()`` turn true.

    Example::

        env = ActivityEnvironment()
        env.on_heartbeat = lambda details: env.cancel() if details == 3 else None
        with pytest.raises(asyncio.CancelledError):
            await env.run(copy_files, ["a", "b", "c", "d"])
        assert env.heartbeats == [0, 1, 2, 3]

    Args:
        info: what ``activity.info()`` returns; by default one made up from the activity's
            definition.
        converter: encodes heartbeat details (as a worker would, with its size check).
    """

    def __init__(
        self, info: ActivityInfo | None = None, *, converter: DataConverter | None = None
    ) -> None:
        self.info = info
        self.converter = converter or DataConverter()
        self.heartbeats: list[Any] = []
        """Details of every heartbeat so far, decoded from JSON; ``None`` for a bare one."""
        self.on_heartbeat: Callable[[Any], None] | None = None
        """Called with each heartbeat's details, in the activity's thread."""
        self.completes_async = False
        """Whether the last run ended with ``activity.raise_complete_async()``."""
        self._context: ActivityContext | None = None
        self._task: asyncio.Future[Any] | None = None
        self._is_async = True

    @property
    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` was called during the current (or last) run."""
        return self._context is not None and self._context.is_cancelled

    def cancel(self, reason: CancelReason = CancelReason.REQUESTED) -> None:
        """Cancel the running activity, as a worker does.

        Thread-safe: a sync activity may call it from its own thread (e.g. in
        :attr:`on_heartbeat`).

        Args:
            reason: why, as ``activity.cancel_reason()`` will say.
        """
        context = self._context
        if context is None or not context.mark_cancelled(reason):
            return
        task = self._task
        if task is not None and self._is_async:
            loop = task.get_loop()
            loop.call_soon_threadsafe(task.cancel)

    async def run(self, activity: Callable[..., Any], *args: Any) -> Any:
        """Run ``activity(*args)`` to its end and return what it returns.

        ``async`` activities run as a task of the running loop, sync ones in a thread,
        each in a context where the ``aioswf.activity`` functions work.

        Args:
            activity: an ``@activity.defn`` function or bound method (or any callable).
            *args: its arguments, as Python values (no conversion).

        Returns:
            The activity's result; ``None`` if it called ``activity.raise_complete_async()``
            (then :attr:`completes_async` is true).

        Raises:
            asyncio.CancelledError: the activity was cancelled and let the cancellation out.
            Exception: whatever the activity raised.
        """
        definition = _definition(activity)
        self._context = ActivityContext(self._info_for(definition), self.converter, self._record)
        self.completes_async = False
        context = contextvars.copy_context()
        context.run(_current.set, self._context)
        self._is_async = definition.is_async
        try:
            if self._is_async:
                self._task = asyncio.get_running_loop().create_task(
                    definition.fn(*args), context=context
                )
                return await self._task
            return await self._run_sync(definition, context, args)
        except _CompleteAsync:
            self.completes_async = True
            return None
        finally:
            self._task = None

    async def _run_sync(
        self, definition: ActivityDefinition, context: contextvars.Context, args: tuple[Any, ...]
    ) -> Any:
        # A daemon thread, and no `with` block: leaving one waits for the thread, which would
        # block the event loop for as long as a cancelled activity goes on running.
        pool = DaemonThreadPool(1, thread_name_prefix="aioswf-test-activity")
        try:
            self._task = asyncio.get_running_loop().run_in_executor(
                pool, context.run, definition.fn, *args
            )
            try:
                return await self._task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling() and self._context is not None:
                    # run() itself was cancelled: tell the activity, as a worker would.
                    self._context.mark_cancelled(CancelReason.REQUESTED)
                raise
        finally:
            pool.shutdown(wait=False)

    def _info_for(self, definition: ActivityDefinition) -> ActivityInfo:
        if self.info is not None:
            return self.info
        return ActivityInfo(
            task_token="test-task-token",
            activity_id="1",
            activity_type=definition.name,
            activity_version=definition.version,
            workflow_id="test-workflow",
            run_id="test-run",
            started_event_id=1,
            domain="test-domain",
            task_list="test-task-list",
            heartbeat_timeout=definition.options.heartbeat_timeout,
            attempt=1,
            start_to_close_timeout=definition.options.start_to_close_timeout,
            schedule_to_close_timeout=definition.options.schedule_to_close_timeout,
        )

    def _record(self, details: str | None) -> None:
        value = None if details is None else self.converter.decode_payload(details)
        self.heartbeats.append(value)
        if self.on_heartbeat is not None:
            self.on_heartbeat(value)


def _definition(activity: Callable[..., Any]) -> ActivityDefinition:
    try:
        return activity_definition(activity)
    except DefinitionError:
        # A plain function is fine here: the environment does not register anything.
        name = getattr(activity, "__name__", type(activity).__name__)
        return ActivityDefinition(name=name, version="test", fn=activity)
