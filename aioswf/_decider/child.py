"""Child workflows: the StartChildWorkflowExecution machine and the handle on a child.

A child is started by one decision, recorded by ``StartChildWorkflowExecutionInitiated``;
every later event about it (started, completed, failed, timed out, canceled, terminated, or
could not start) names that event in ``initiatedEventId``. Cancelling the code that waits on
a child acts by the child's cancellation type, as for activities. A child with a retry policy
that fails or times out is started again, with the same workflow id, after a durable delay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aioswf._decider.commands import Command
from aioswf._decider.external import ExternalWorkflowHandle
from aioswf._decider.history import Event, attrs
from aioswf._decider.recorded import Recorded
from aioswf._decider.runtime import ChildOptions
from aioswf._definitions import DEFAULT_WORKFLOW_OPTIONS, WorkflowDefinition
from aioswf._failure import Failure
from aioswf.exceptions import (
    ChildWorkflowCanceledError,
    ChildWorkflowFailedError,
    ChildWorkflowTerminatedError,
    ChildWorkflowTimedOutError,
    PayloadConversionError,
    StartChildWorkflowFailedError,
)
from aioswf.options import CancellationType, ChildPolicy

if TYPE_CHECKING:
    from aioswf._decider.instance import WorkflowInstance

logger = logging.getLogger(__name__)

R = TypeVar("R")

MAX_WORKFLOW_ID_LENGTH = 256


def default_child_id(parent_workflow_id: str, number: int) -> str:
    """The workflow id of a parent's ``number``-th child when the code gives none.

    Derived from the parent's id and the child's place in the code, so it is the same on
    every replay, readable in listings, and unique among the children of one run.
    """
    return f"{parent_workflow_id}-child-{number}"


class ChildWorkflowHandle(ExternalWorkflowHandle, Generic[R]):
    """A child workflow that has started: await it for its result; signal or cancel it.

    Attributes:
        workflow_id: the child's workflow id.
        run_id: the child's first run id.
    """

    def __init__(self, machine: ChildMachine, outcome: asyncio.Future[Any]) -> None:
        # Signals and cancel requests go to the child's open run, which is a later one after
        # the child continued as new (or was retried).
        super().__init__(machine.children.host.externals, machine.workflow_id, None)
        self.run_id = machine.run_id
        self._outcome = outcome
        self.definition = machine.definition

    def __repr__(self) -> str:
        return (
            f"ChildWorkflowHandle({self.definition.type_key}, workflow_id={self.workflow_id!r},"
            f" run_id={self.run_id!r})"
        )

    def __await__(self) -> Generator[Any, None, R]:
        result: R = yield from self._outcome.__await__()
        return result

    def done(self) -> bool:
        """Whether the child has closed (or its outcome no longer matters here)."""
        return self._outcome.done()

    def result(self) -> R:
        """The result of a closed child; raises what awaiting it would."""
        value: R = self._outcome.result()
        return value

    async def cancel(self) -> None:
        """Ask the child to cancel, and wait until SWF has recorded the request.

        The child's outcome arrives as usual: awaiting the handle raises
        ``ChildWorkflowCanceledError`` if it closes as canceled.

        Raises:
            RequestCancelExternalWorkflowFailedError: the child had already closed.
        """
        await super().cancel()


class ChildMachine:
    """One child workflow, from the start decision to its close."""

    def __init__(
        self,
        children: Children,
        definition: WorkflowDefinition,
        workflow_id: str,
        attributes: dict[str, Any],
        cancellation: CancellationType = CancellationType.TRY_CANCEL,
    ) -> None:
        self.children = children
        self.cancellation = cancellation
        self.definition = definition
        self.workflow_id = workflow_id
        self.run_id: str | None = None
        self.initiated_id: int | None = None
        self.closed = False
        loop = children.host.loop
        self.started: asyncio.Future[str] = loop.create_future()
        self.result: asyncio.Future[Any] = loop.create_future()
        self.started.add_done_callback(self._future_done)
        self.result.add_done_callback(self._future_done)
        self.command = Command("StartChildWorkflowExecution", attributes, self._recorded)
        children.host.decisions.add(self.command)

    def _recorded(self, event: Event) -> None:
        if event["eventType"] == "StartChildWorkflowExecutionInitiated":
            self.initiated_id = int(event["eventId"])
            self.children.initiated.add(self.initiated_id, self)

    def _future_done(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled() and not self.closed:
            self._let_go(request=self.cancellation is not CancellationType.ABANDON)

    def _let_go(self, *, request: bool) -> None:
        """Stop waiting for the child; ask SWF to cancel it if ``request``."""
        self.closed = True
        self.started.cancel()
        self.result.cancel()
        if not self.command.sent:
            # Started and cancelled within one decision task: SWF never hears of it.
            self.command.dropped = True
            self.children.forget(self)
            return
        if not request:
            self.children.forget(self)  # abandoned: it runs on, its outcome ignored
            return
        self.request_cancel()

    def request_cancel(self) -> None:
        """Ask SWF to cancel the child; its outcome still settles ``result``."""
        if not self.command.sent:
            self._let_go(request=False)
            return
        request = self.children.host.externals.request_cancel_now(self.workflow_id, None)
        # Nobody waits for this request: a child that already closed is no news.
        request.future.add_done_callback(_retrieve)

    def _ids(self) -> dict[str, str]:
        return {
            "workflow_id": self.workflow_id,
            "run_id": self.run_id or "",
            "workflow_type": self.definition.type_key,
        }

    def on_started(self, run_id: str) -> None:
        self.run_id = run_id
        if not self.started.done():
            self.started.set_result(run_id)

    def on_start_failed(self, cause: str) -> None:
        error = StartChildWorkflowFailedError(
            workflow_id=self.workflow_id, workflow_type=self.definition.type_key, cause=cause
        )
        self._settle(error)
        if not self.started.done():
            self.started.set_exception(error)
        # Whoever waits for the start sees the error; the result need not be awaited too.
        _retrieve(self.result)

    def _settle(self, error: BaseException | None = None, result: Any = None) -> None:
        self.closed = True
        self.children.forget(self)
        if self.result.done():
            return
        if error is not None:
            self.result.set_exception(error)
        else:
            self.result.set_result(result)

    def completed(self, data: Any) -> None:
        try:
            value = self.children.host.converter.decode_result(self.definition.run_fn, data)
        except PayloadConversionError as error:
            self._settle(error)
        else:
            self._settle(result=value)

    def failed(self, data: Any) -> None:
        converter = self.children.host.converter
        failure = Failure.decode(data.get("reason"), data.get("details"), converter)
        error = ChildWorkflowFailedError(
            **self._ids(),
            reason=failure.type_name,
            message=failure.message,
            details=failure.details,
        )
        error.__cause__ = failure.to_exception()
        self._settle(error)

    def timed_out(self, data: Any) -> None:
        timeout_type = str(data.get("timeoutType", "START_TO_CLOSE"))
        self._settle(ChildWorkflowTimedOutError(**self._ids(), timeout_type=timeout_type))

    def canceled(self, data: Any) -> None:
        self._settle(ChildWorkflowCanceledError(**self._ids(), details=data.get("details")))

    def terminated(self, data: Any) -> None:
        self._settle(ChildWorkflowTerminatedError(**self._ids()))


def _retrieve(future: asyncio.Future[Any]) -> None:
    # Marks an exception as seen, so that asyncio does not report it as never retrieved.
    if future.done() and not future.cancelled():
        future.exception()


async def _outcome(machine: ChildMachine) -> Any:
    """The child's result, waiting as its cancellation type says when the waiter is
    cancelled."""
    if machine.cancellation is not CancellationType.WAIT_CANCELLATION_COMPLETED:
        return await machine.result  # cancelling this await cancels the future
    try:
        return await asyncio.shield(machine.result)
    except asyncio.CancelledError:
        if machine.result.done():
            raise
        machine.request_cancel()
    while True:
        # Until the child closes: ChildWorkflowCanceledError (with its details) once its
        # cleanup is done, or its result or failure if it finished otherwise.
        try:
            return await asyncio.shield(machine.result)
        except asyncio.CancelledError:
            if machine.result.done():
                raise


class Children:
    """The child workflows of one run, and the history events that concern them."""

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host
        self.initiated: Recorded[ChildMachine] = Recorded("initiatedEventId")
        self.pending: dict[str, ChildMachine] = {}
        """Children whose start SWF has not answered, by workflow id."""

    def forget(self, machine: ChildMachine) -> None:
        if self.pending.get(machine.workflow_id) is machine:
            del self.pending[machine.workflow_id]
        self.initiated.discard(machine.initiated_id)

    async def start(
        self,
        definition: WorkflowDefinition,
        args: Sequence[Any],
        options: ChildOptions,
        headers: Mapping[str, str],
    ) -> ChildWorkflowHandle[Any]:
        """Decide ``StartChildWorkflowExecution``; return the handle once the child runs.

        Raises:
            StartChildWorkflowFailedError: SWF refused to start it.
        """
        number = self.host.decisions.next_id("child")
        workflow_id = options.workflow_id or default_child_id(self.host.workflow_id, number)
        if len(workflow_id) > MAX_WORKFLOW_ID_LENGTH:
            raise ValueError(
                f"child workflow id {workflow_id[:40]!r}… is {len(workflow_id)} characters long; "
                f"SWF accepts {MAX_WORKFLOW_ID_LENGTH}: pass a shorter workflow_id="
            )
        attributes = self._attributes(definition, args, options, workflow_id, headers)
        machine = self._start(definition, workflow_id, attributes, options)
        await machine.started
        outcome = self.host.loop.create_task(self._attempts(machine, attributes, options))
        return ChildWorkflowHandle(machine, outcome)

    def _start(
        self,
        definition: WorkflowDefinition,
        workflow_id: str,
        attributes: dict[str, Any],
        options: ChildOptions,
    ) -> ChildMachine:
        machine = ChildMachine(self, definition, workflow_id, attributes, options.cancellation_type)
        self.pending[workflow_id] = machine
        return machine

    async def _attempts(
        self, machine: ChildMachine, attributes: dict[str, Any], options: ChildOptions
    ) -> Any:
        policy = options.retry_policy
        attempt = 1
        while True:
            try:
                return await _outcome(machine)
            except ChildWorkflowFailedError as error:
                if policy is None or not policy.should_retry(attempt, error.reason):
                    raise
            except ChildWorkflowTimedOutError:
                if policy is None or not policy.should_retry(attempt, "ChildWorkflowTimedOutError"):
                    raise
            attempt += 1
            await asyncio.sleep(policy.delay_before(attempt).total_seconds())
            machine = self._start(machine.definition, machine.workflow_id, attributes, options)
            await machine.started

    def _attributes(
        self,
        definition: WorkflowDefinition,
        args: Sequence[Any],
        options: ChildOptions,
        workflow_id: str,
        headers: Mapping[str, str],
    ) -> dict[str, Any]:
        merged = DEFAULT_WORKFLOW_OPTIONS.merged(definition.options).merged(options.workflow)
        # Every setting is stated, so the child does not depend on defaults registered with
        # its type (fixed at first registration); a child without a task list of its own
        # runs on its parent's.
        attributes: dict[str, Any] = {
            "workflowType": definition.swf_type(),
            "workflowId": workflow_id,
            "taskList": {"name": merged.task_list or self.host.task_list},
            "childPolicy": str(merged.child_policy or ChildPolicy.TERMINATE),
            **merged.swf_timeouts(),
        }
        converter = self.host.converter
        data = converter.fit_input(
            f"input of child workflow {definition.type_key}",
            converter.encode_args(list(args)),
            headers,
        )
        if data is not None:
            attributes["input"] = data
        if options.tags:
            attributes["tagList"] = list(options.tags)
        if merged.task_priority is not None:
            attributes["taskPriority"] = str(merged.task_priority)
        if merged.lambda_role is not None:
            attributes["lambdaRole"] = merged.lambda_role
        return attributes

    def handlers(self) -> dict[str, Callable[[Event], None]]:
        """The events this kind reacts to."""
        closes = {
            "ChildWorkflowExecutionCompleted": lambda m, a: m.completed(a.get("result")),
            "ChildWorkflowExecutionFailed": ChildMachine.failed,
            "ChildWorkflowExecutionTimedOut": ChildMachine.timed_out,
            "ChildWorkflowExecutionCanceled": ChildMachine.canceled,
            "ChildWorkflowExecutionTerminated": ChildMachine.terminated,
            "ChildWorkflowExecutionStarted": lambda m, a: m.on_started(
                str((a.get("workflowExecution") or {}).get("runId", ""))
            ),
        }
        handlers: dict[str, Callable[[Event], None]] = {
            kind: self.initiated.routed(action) for kind, action in closes.items()
        }
        handlers["StartChildWorkflowExecutionFailed"] = self._start_failed
        return handlers

    def _start_failed(self, event: Event) -> None:
        data = attrs(event)
        machine = self.initiated.find(data)
        if not data.get("initiatedEventId"):  # refused before it was initiated (unknown type…)
            machine = self.pending.get(str(data.get("workflowId")))
        if machine is not None:
            machine.on_start_failed(str(data.get("cause", "UNKNOWN")))
