"""How a run begins: the workflow object, the run task, and a cancel request.

The object is created when the run's first events are applied, before any signal reaches it,
with the run's time, ``workflow.info()`` and logger in place; ``@workflow.init`` gives its
``__init__`` the run's arguments. Whatever ``__init__`` raises is the run's failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from aioswf._decider.history import Event, attrs, timestamp
from aioswf._decider.intercepted import WorkflowCalls, WorkflowOutboundCalls
from aioswf._decider.outcome import CacheMiss
from aioswf._decider.runtime import WorkflowInfo, info_from_started
from aioswf._envelope import unwrap
from aioswf.exceptions import ApplicationError, PayloadConversionError
from aioswf.interceptors import ExecuteWorkflowInput, chain_workflow

if TYPE_CHECKING:
    from aioswf._decider.instance import WorkflowInstance


class Starting:
    """The start of one run.

    Attributes:
        obj: the workflow object; ``None`` until created, or if ``__init__`` failed.
        info: the run's identity and settings, from ``WorkflowExecutionStarted``.
        run_task: the task that runs the run method.
    """

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host
        self.obj: Any = None
        self.info: WorkflowInfo | None = None
        self.run_task: asyncio.Task[Any] | None = None
        self._init_failed = False
        self.cancel_requested = False
        """Whether SWF recorded a request to cancel this execution."""

    def handlers(self) -> dict[str, Callable[[Event], None]]:
        """The events this part reacts to."""
        return {
            "WorkflowExecutionStarted": self._on_started,
            "WorkflowExecutionCancelRequested": self._on_cancel_requested,
        }

    def construct_once(self, batch: Sequence[Event]) -> None:
        """Create the workflow object from the first events, unless done (or failed)."""
        if self.obj is not None or self._init_failed:
            return
        host = self.host
        started = self.read_info(batch)
        if started is None:
            raise CacheMiss(f"{host.describe}: history does not begin with the run's start")
        data = attrs(started)
        with host.loop.step_at(timestamp(started), replaying=host.is_replaying):
            try:
                self.obj = self._create(data.get("input"))
                if host.options.interceptors:
                    root = WorkflowCalls(host)
                    host.inbound = chain_workflow(host.options.interceptors, host.definition, root)
                    host.inbound.init(WorkflowOutboundCalls(host))
            except BaseException as error:
                self.obj = None
                self._init_failed = True
                host.fail_run(as_failure(error))

    def read_info(self, batch: Sequence[Event]) -> Event | None:
        """Take :attr:`info` from the start event among ``batch``, running none of the
        workflow's code (an attempt refused before it runs still answers where the run's
        next task goes); the event, or ``None`` if ``batch`` does not hold it."""
        started = next((e for e in batch if e["eventType"] == "WorkflowExecutionStarted"), None)
        if started is not None:
            host = self.host
            self.info = info_from_started(
                attrs(started),
                timestamp(started),
                domain=host.domain,
                workflow_id=host.workflow_id,
                run_id=host.run_id,
            )
        return started

    def _create(self, data: str | None) -> Any:
        cls = self.host.definition.cls
        if not self.host.definition.init_takes_args:
            return cls()
        obj: Any = object.__new__(cls)
        obj.__init__(*self.decode_input(obj.__init__, data))
        return obj

    def decode_input(self, method: Callable[..., Any], data: str | None) -> list[Any]:
        """The arguments of ``method`` from the run's input.

        Raises:
            ApplicationError: the input does not fit (non-retryable: it will not get better).
        """
        try:
            return self.host.converter.decode_args(method, data)
        except PayloadConversionError as error:
            raise ApplicationError(
                str(error), type="PayloadConversionError", non_retryable=True
            ) from None

    def _on_started(self, event: Event) -> None:
        if self.obj is None:  # __init__ failed: the run fails with its error
            return
        self.run_task = self.host.loop.create_task(
            self._main(attrs(event).get("input")), name=f"{self.host.definition.type_key} run"
        )

    async def _main(self, data: str | None) -> Any:
        host = self.host
        method = getattr(self.obj, host.definition.run_method)
        data, headers = unwrap(data)
        args = self.decode_input(method, data)
        return await host.inbound.execute_workflow(
            ExecuteWorkflowInput(host.definition, method, args, headers)
        )

    def _on_cancel_requested(self, event: Event) -> None:
        # Once: a second request must not interrupt the cleanup the first one started.
        if self.cancel_requested:
            return
        self.cancel_requested = True
        task = self.run_task
        if task is not None and task.done():
            # run() has returned and its close waits for signal handlers (the WAIT policy):
            # the request cancels them, so the run closes with what run() returned.
            for handler in list(self.host.signals.running):
                handler.cancel()
            return
        if task is None:
            return
        if self.host.info().decision_task_count == 0:
            # Requested before the first task ran: cancelling now would end `run()` before
            # its first line, so its `except CancelledError` cleanup would never run. Let it
            # start; it sees the cancellation at its first await.
            self.host.loop.call_soon(task.cancel)
        else:
            task.cancel()


def as_failure(error: BaseException) -> BaseException:
    """``error`` as the run's failure: a ``CancelledError`` out of ``__init__`` is one too."""
    if isinstance(error, asyncio.CancelledError):
        return ApplicationError(
            f"CancelledError raised in the workflow's __init__: {error}", type="CancelledError"
        )
    return error
