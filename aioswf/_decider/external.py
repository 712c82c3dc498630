"""Signals and cancel requests to other executions, and the handle that sends them.

Each request is one machine: a ``SignalExternalWorkflowExecution`` or
``RequestCancelExternalWorkflowExecution`` decision, recorded by its ``*Initiated`` event, then
answered by SWF with a delivery (``ExternalWorkflowExecutionSignaled``,
``ExternalWorkflowExecutionCancelRequested``) or a failure with its cause.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aioswf._decider.commands import Command
from aioswf._decider.history import Event, attrs
from aioswf._decider.recorded import Recorded
from aioswf._definitions import signal_name
from aioswf.exceptions import (
    ExternalWorkflowError,
    RequestCancelExternalWorkflowFailedError,
    SignalExternalWorkflowFailedError,
)
from aioswf.interceptors import SignalExternalWorkflowInput

if TYPE_CHECKING:
    from aioswf._decider.instance import WorkflowInstance

logger = logging.getLogger(__name__)

_SIGNAL = "SignalExternalWorkflowExecution"
_CANCEL = "RequestCancelExternalWorkflowExecution"


class ExternalWorkflowHandle:
    """Another execution, as a workflow sees it: it can signal it and ask it to cancel.

    Attributes:
        workflow_id: the target's workflow id.
        run_id: the target's run id; ``None`` targets its open run, whichever it is.
    """

    def __init__(self, externals: Externals, workflow_id: str, run_id: str | None) -> None:
        self._externals = externals
        self.workflow_id = workflow_id
        self.run_id = run_id
        self._target_run_id = run_id

    def __repr__(self) -> str:
        return f"ExternalWorkflowHandle(workflow_id={self.workflow_id!r}, run_id={self.run_id!r})"

    async def signal(self, signal: Callable[..., Any] | str, *args: Any) -> None:
        """Signal the execution and wait until SWF has delivered the signal.

        Args:
            signal: a ``@workflow.signal`` method of the target's class, or the signal's name.
            *args: the signal's arguments, encoded by the converter.

        Raises:
            SignalExternalWorkflowFailedError: SWF could not deliver it (``cause`` says why,
                e.g. ``UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION``).
        """
        request = SignalExternalWorkflowInput(
            self.workflow_id, self._target_run_id, signal_name(signal), args
        )
        await self._externals.host.outbound.signal_external_workflow(request)

    async def cancel(self) -> None:
        """Ask the execution to cancel, and wait until SWF has recorded the request.

        The target decides what to do with it; this does not wait for it to close.

        Raises:
            RequestCancelExternalWorkflowFailedError: SWF could not deliver the request.
        """
        await self._externals.request_cancel(self.workflow_id, self._target_run_id)


class ExternalMachine:
    """One signal or cancel request to another execution."""

    def __init__(self, externals: Externals, decision_type: str, attributes: dict[str, Any]):
        self.externals = externals
        self.workflow_id = str(attributes["workflowId"])
        self.run_id: str | None = attributes.get("runId")
        self.control = str(attributes["control"])
        self.initiated_id: int | None = None
        self.future: asyncio.Future[None] = externals.host.loop.create_future()
        self.future.add_done_callback(self._future_done)
        self.command = Command(decision_type, attributes, self._recorded)
        externals.host.decisions.add(self.command)

    def _recorded(self, event: Event) -> None:
        if event["eventType"].endswith("Initiated"):
            self.initiated_id = int(event["eventId"])
            self.externals.initiated.add(self.initiated_id, self)

    def _future_done(self, future: asyncio.Future[None]) -> None:
        if future.cancelled() and not self.command.sent:
            # Decided and abandoned within one decision task: SWF never hears of it.
            self.command.dropped = True
            self.externals.forget(self)

    def delivered(self) -> None:
        self.externals.forget(self)
        if not self.future.done():
            self.future.set_result(None)

    def failed(self, cause: str) -> None:
        self.externals.forget(self)
        if self.future.done():
            return
        kind: type[ExternalWorkflowError]
        if self.command.decision_type == _SIGNAL:
            kind, what = SignalExternalWorkflowFailedError, "signal"
        else:
            kind, what = RequestCancelExternalWorkflowFailedError, "cancel request"
        target = f"workflow {self.workflow_id!r}" + (f" (run {self.run_id})" if self.run_id else "")
        message = f"{what} to {target} could not be delivered: {cause}"
        self.future.set_exception(
            kind(message, workflow_id=self.workflow_id, run_id=self.run_id, cause=cause)
        )


class Externals:
    """The signal and cancel requests of one run to other executions."""

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host
        self.initiated: Recorded[ExternalMachine] = Recorded("initiatedEventId")
        self.pending: dict[tuple[str, str], ExternalMachine] = {}
        """Machines not yet answered, by decision type and control."""

    def forget(self, machine: ExternalMachine) -> None:
        self.pending.pop((machine.command.decision_type, machine.control), None)
        self.initiated.discard(machine.initiated_id)

    def handle(self, workflow_id: str, run_id: str | None) -> ExternalWorkflowHandle:
        """A handle on another execution."""
        if not workflow_id:
            raise ValueError("an external workflow needs a workflow id")
        return ExternalWorkflowHandle(self, workflow_id, run_id)

    def _start(self, decision_type: str, attributes: dict[str, Any]) -> ExternalMachine:
        attributes["control"] = str(self.host.decisions.next_id("external"))
        machine = ExternalMachine(self, decision_type, attributes)
        self.pending[(decision_type, machine.control)] = machine
        return machine

    async def signal(
        self,
        workflow_id: str,
        run_id: str | None,
        name: str,
        args: Sequence[Any],
        headers: Mapping[str, str],
    ) -> None:
        """Decide ``SignalExternalWorkflowExecution`` and wait for its outcome."""
        attributes: dict[str, Any] = {"workflowId": workflow_id, "signalName": name}
        if run_id:
            attributes["runId"] = run_id
        converter = self.host.converter
        data = converter.fit_input(
            f"input of signal {name!r}", converter.encode_args(args), headers
        )
        if data is not None:
            attributes["input"] = data
        await self._start(_SIGNAL, attributes).future

    def request_cancel_now(self, workflow_id: str, run_id: str | None) -> ExternalMachine:
        """Decide ``RequestCancelExternalWorkflowExecution`` without waiting for it."""
        attributes: dict[str, Any] = {"workflowId": workflow_id}
        if run_id:
            attributes["runId"] = run_id
        return self._start(_CANCEL, attributes)

    async def request_cancel(self, workflow_id: str, run_id: str | None) -> None:
        """Decide ``RequestCancelExternalWorkflowExecution`` and wait for its outcome."""
        await self.request_cancel_now(workflow_id, run_id).future

    def handlers(self) -> dict[str, Callable[[Event], None]]:
        """The events this kind reacts to."""
        return {
            "ExternalWorkflowExecutionSignaled": self.initiated.routed(_delivered),
            "ExternalWorkflowExecutionCancelRequested": self.initiated.routed(_delivered),
            "SignalExternalWorkflowExecutionFailed": self._failed(_SIGNAL),
            "RequestCancelExternalWorkflowExecutionFailed": self._failed(_CANCEL),
        }

    def _failed(self, decision_type: str) -> Callable[[Event], None]:
        def handle(event: Event) -> None:
            data = attrs(event)
            machine = self.initiated.find(data)
            if not data.get("initiatedEventId"):  # refused before it was initiated: by control
                machine = self.pending.get((decision_type, str(data.get("control"))))
            if machine is not None:
                machine.failed(str(data.get("cause", "UNKNOWN")))

        return handle


def _delivered(machine: ExternalMachine, data: Any) -> None:
    machine.delivered()
