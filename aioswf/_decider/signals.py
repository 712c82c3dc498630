"""Signals received by a run: each one calls its handler on the workflow object.

A signal to an unknown name, or with input that does not fit the handler, is logged and
dropped: the sender may be wrong, and the workflow must not be stuck because of it. An error
raised by a handler fails the run, like one raised by the run method.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from aioswf._decider.history import Event, attrs
from aioswf._definitions import UNFINISHED_POLICY_ATTR
from aioswf._envelope import unwrap
from aioswf.exceptions import PayloadConversionError
from aioswf.interceptors import HandleSignalInput
from aioswf.options import HandlerUnfinishedPolicy

if TYPE_CHECKING:
    from aioswf._decider.instance import WorkflowInstance

logger = logging.getLogger(__name__)


class Signals:
    """Delivers ``WorkflowExecutionSignaled`` events to the workflow's handlers."""

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host
        self.running: dict[asyncio.Task[Any], tuple[str, HandlerUnfinishedPolicy]] = {}
        """Handlers still running: their signal's name and what to do if ``run()`` returns."""

    def unfinished(self) -> list[tuple[str, HandlerUnfinishedPolicy]]:
        """The handlers still running, in the order their signals were delivered."""
        return list(self.running.values())

    def deliver(self, event: Event, obj: Any) -> None:
        """Call (or schedule, for ``async`` handlers) the handler of the signal on ``obj``."""
        host = self.host
        data = attrs(event)
        name = str(data.get("signalName"))
        attribute = host.definition.signals.get(name)
        if attribute is None:
            if not host.is_replaying:
                logger.warning("%s: no handler for signal %r; dropped", host.describe, name)
            return
        method = getattr(obj, attribute)
        text, headers = unwrap(data.get("input"))
        try:
            args = host.converter.decode_args(method, text)
        except PayloadConversionError as error:
            # Never dropped unseen: the run fails (or its task is retried) by the failure
            # policy, saying which signal could not be read and why.
            host.fail_run(PayloadConversionError(f"signal {name!r} cannot be delivered: {error}"))
            return
        # Sync handlers too run in a task (through the interceptors), started in delivery
        # order: the task's first step runs the handler where a plain callback would have.
        request = HandleSignalInput(name, method, args, headers)
        task = host.loop.create_task(host.inbound.handle_signal(request), name=f"signal {name}")
        policy = getattr(method, UNFINISHED_POLICY_ATTR, HandlerUnfinishedPolicy.WARN_AND_ABANDON)
        self.running[task] = (name, policy)
        task.add_done_callback(self._handler_done)

    def _handler_done(self, task: asyncio.Task[Any]) -> None:
        self.running.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            self.host.fail_run(task.exception())  # type: ignore[arg-type]
