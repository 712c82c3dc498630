"""Lambda tasks: the ScheduleLambdaFunction machine.

SWF runs the function itself (no worker polls for it) and reports the outcome by the
``LambdaFunctionScheduled`` event's id. There is no cancel decision for Lambda tasks: code
that stops waiting for one simply ignores its outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aioswf._decider.commands import Command
from aioswf._decider.history import Event, attrs
from aioswf._decider.recorded import Recorded
from aioswf.converter import check_size
from aioswf.exceptions import (
    LambdaFunctionFailedError,
    LambdaFunctionTimedOutError,
    ScheduleLambdaFunctionFailedError,
)
from aioswf.options import duration_to_swf

if TYPE_CHECKING:
    from aioswf._decider.instance import WorkflowInstance

logger = logging.getLogger(__name__)


class LambdaMachine:
    """One Lambda task."""

    def __init__(self, lambdas: Lambdas, name: str, attributes: dict[str, Any]) -> None:
        self.lambdas = lambdas
        self.name = name
        self.lambda_id = str(attributes["id"])
        self.scheduled_id: int | None = None
        self.future: asyncio.Future[str | None] = lambdas.host.loop.create_future()
        self.future.add_done_callback(self._future_done)
        self.command = Command("ScheduleLambdaFunction", attributes, self._recorded)
        lambdas.host.decisions.add(self.command)

    def _recorded(self, event: Event) -> None:
        if event["eventType"] == "LambdaFunctionScheduled":
            self.scheduled_id = int(event["eventId"])
            self.lambdas.scheduled.add(self.scheduled_id, self)

    def _future_done(self, future: asyncio.Future[str | None]) -> None:
        if future.cancelled() and not self.command.sent:
            self.command.dropped = True
            self.lambdas.forget(self)

    def _settle(self, error: BaseException | None = None, result: str | None = None) -> None:
        self.lambdas.forget(self)
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)

    def _ids(self) -> dict[str, str]:
        return {"lambda_id": self.lambda_id, "name": self.name}

    def completed(self, data: Any) -> None:
        self._settle(result=data.get("result"))

    def failed(self, data: Any) -> None:
        error = LambdaFunctionFailedError(
            **self._ids(), reason=data.get("reason"), details=data.get("details")
        )
        self._settle(error)

    def start_failed(self, data: Any) -> None:
        # SWF could not invoke it (the role could not be assumed, or, locally, no such
        # function): the function never ran, which callers handle like a failure.
        reason = str(data.get("cause") or "START_LAMBDA_FUNCTION_FAILED")
        error = LambdaFunctionFailedError(**self._ids(), reason=reason, details=data.get("message"))
        self._settle(error)

    def timed_out(self, data: Any) -> None:
        timeout_type = str(data.get("timeoutType", "START_TO_CLOSE"))
        self._settle(LambdaFunctionTimedOutError(**self._ids(), timeout_type=timeout_type))

    def schedule_failed(self, data: Any) -> None:
        cause = str(data.get("cause", "UNKNOWN"))
        self._settle(ScheduleLambdaFunctionFailedError(**self._ids(), cause=cause))


class Lambdas:
    """The Lambda tasks of one run, and the history events that concern them."""

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host
        self.by_id: dict[str, LambdaMachine] = {}
        self.scheduled: Recorded[LambdaMachine] = Recorded("scheduledEventId")

    def forget(self, machine: LambdaMachine) -> None:
        self.by_id.pop(machine.lambda_id, None)
        self.scheduled.discard(machine.scheduled_id)

    async def execute(
        self, name: str, payload: Any, timeout: timedelta | None, result_type: Any
    ) -> Any:
        """Decide ``ScheduleLambdaFunction`` and return the function's decoded result."""
        converter = self.host.converter
        lambda_id = str(self.host.decisions.next_id("lambda"))
        attributes: dict[str, Any] = {"id": lambda_id, "name": name}
        if payload is not None:
            text = converter.encode(payload)
            attributes["input"] = check_size(f"input of lambda function {name!r}", text)
        seconds = duration_to_swf(timeout, what="start_to_close_timeout")
        if seconds is not None:
            attributes["startToCloseTimeout"] = seconds
        machine = LambdaMachine(self, name, attributes)
        self.by_id[lambda_id] = machine
        data = await machine.future
        return converter.decode(data, result_type, what=f"result of lambda function {name!r}")

    def handlers(self) -> dict[str, Callable[[Event], None]]:
        """The events this kind reacts to."""
        by_scheduled = {
            "LambdaFunctionCompleted": LambdaMachine.completed,
            "LambdaFunctionFailed": LambdaMachine.failed,
            "LambdaFunctionTimedOut": LambdaMachine.timed_out,
            "StartLambdaFunctionFailed": LambdaMachine.start_failed,
        }
        handlers: dict[str, Callable[[Event], None]] = {
            kind: self.scheduled.routed(action) for kind, action in by_scheduled.items()
        }
        handlers["ScheduleLambdaFunctionFailed"] = self._schedule_failed
        return handlers

    def _schedule_failed(self, event: Event) -> None:
        data = attrs(event)
        machine = self.by_id.get(str(data.get("id")))
        if machine is not None:
            machine.schedule_failed(data)
