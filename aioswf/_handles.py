"""Handles on executions and on activities completed elsewhere; made by :class:`Client`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aioswf import exceptions as exc
from aioswf._definitions import signal_name
from aioswf._envelope import wrap
from aioswf._failure import Failure
from aioswf._history import History, fetch_history
from aioswf._wording import count, duration
from aioswf.converter import (
    MAX_DATA_LENGTH,
    MAX_HEARTBEAT_DETAILS_LENGTH,
    MAX_REASON_LENGTH,
    check_size,
)
from aioswf.executions import ExecutionFilter, WorkflowDescription
from aioswf.interceptors import (
    CancelWorkflowInput,
    ClientOutboundInterceptor,
    DescribeWorkflowInput,
    GetResultInput,
    SignalWorkflowInput,
    StartWorkflowInput,
    TerminateWorkflowInput,
)
from aioswf.options import ChildPolicy, seconds_of

if TYPE_CHECKING:
    from aioswf.client import Client

logger = logging.getLogger(__name__)

R = TypeVar("R")

_OUTAGE_RETRY_SECONDS = 1.0
"""How often ``result()`` tries again to find its run while SWF is out of reach."""
_WHY_STUCK_SECONDS = 1.0
"""How long a ``result()`` that timed out may spend asking SWF why the run is stuck."""


def put_set(params: dict[str, Any], key: str, value: Any) -> None:
    """``params[key] = value``, unless the value is ``None`` (SWF's optional members)."""
    if value is not None:
        params[key] = value


class WorkflowHandle(Generic[R]):
    """A handle on one workflow execution (its id, and the run it started with).

    Signals, cancel and terminate go to the execution's current run unless the handle was made
    for a given run; ``result()`` follows continue-as-new from the first run to the last.

    Attributes:
        workflow_id: the execution's workflow id.
        run_id: the run the handle was made for, or the run it started; ``None`` for a handle
            made from a workflow id alone.
        first_run_id: the run ``result()`` starts following from.
    """

    def __init__(
        self,
        client: Client,
        workflow_id: str,
        *,
        run_id: str | None = None,
        first_run_id: str | None = None,
        result_fn: Callable[..., Any] | None = None,
    ) -> None:
        self.client = client
        self.workflow_id = workflow_id
        self.run_id = run_id or first_run_id
        self.first_run_id = first_run_id or run_id
        self.pinned_run_id = run_id
        """The run every call targets; ``None`` targets the execution's current run."""
        self._result_fn = result_fn

    def __repr__(self) -> str:
        return f"WorkflowHandle(workflow_id={self.workflow_id!r}, run_id={self.run_id!r})"

    async def signal(self, signal: Callable[..., Any] | str, *args: Any) -> None:
        """Send a signal: a ``@workflow.signal`` method (or its name) and its arguments."""
        request = SignalWorkflowInput(
            self.workflow_id, self.pinned_run_id, signal_name(signal), args
        )
        await self.client.outbound.signal_workflow(request)

    async def cancel(self) -> None:
        """Ask the execution to cancel; the workflow sees ``asyncio.CancelledError``."""
        await self.client.outbound.cancel_workflow(
            CancelWorkflowInput(self.workflow_id, self.pinned_run_id)
        )

    async def terminate(
        self,
        reason: str | None = None,
        *,
        details: str | None = None,
        child_policy: ChildPolicy | None = None,
    ) -> None:
        """End the execution at once, without its code running; children follow ``child_policy``."""
        request = TerminateWorkflowInput(
            self.workflow_id, self.pinned_run_id, reason, details, child_policy
        )
        await self.client.outbound.terminate_workflow(request)

    async def describe(self) -> WorkflowDescription:
        """Status, configuration, open counts and the latest execution context of the run."""
        request = DescribeWorkflowInput(self.workflow_id, self.pinned_run_id)
        return await self.client.outbound.describe_workflow(request)

    async def history(
        self, *, reverse: bool = False, page_size: int | None = None, run_id: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """The run's history events, as SWF returns them, paging with ``nextPageToken``."""
        params: dict[str, Any] = {
            "domain": self.client.domain,
            "execution": {"workflowId": self.workflow_id, "runId": run_id or await self._run_id()},
            "reverseOrder": reverse,
        }
        put_set(params, "maximumPageSize", page_size)
        async for page in self.client.transport.pages("GetWorkflowExecutionHistory", params):
            for event in page.get("events", ()):
                yield event

    async def fetch_history(
        self, path: str | os.PathLike[str], *, run_id: str | None = None
    ) -> History:
        """Save the run's history to ``path`` as JSON, in the AWS CLI's format.

        The file replays with ``aioswf.testing.Replayer`` or ``aioswf replay``.

        Args:
            path: the file to write (replaced if it exists).
            run_id: the run to save; by default the handle's run, else its first, else the
                execution's current run.

        Returns:
            The history as saved.
        """
        return await fetch_history(self, path, run_id=run_id)

    async def result(self, *, timeout: timedelta | None = None, follow_runs: bool = True) -> R:
        """Wait for the execution to close and return its result.

        An SWF outage meanwhile is waited out (logged once): the execution goes on without
        its caller, so only ``timeout`` ends the wait.

        Args:
            timeout: give up after this long, with ``TimeoutError``.
            follow_runs: follow continue-as-new to the final run (the default).

        Raises:
            WorkflowFailedError: the execution failed.
            WorkflowCanceledError: the execution was canceled.
            WorkflowTerminatedError: the execution was terminated.
            WorkflowTimedOutError: the execution timed out.
            TimeoutError: ``timeout`` passed first.
            WorkerError: the client is not open, or was closed while this waited.
            ServiceError: SWF refused to show the run (e.g. ``UnknownResourceError``: no
                such run in the domain).
        """
        result: R = await self.client.outbound.get_result(
            GetResultInput(self, timeout, follow_runs)
        )
        return result

    async def _result(self, timeout: timedelta | None, follow_runs: bool) -> Any:
        seconds = None if timeout is None else seconds_of(timeout, "result(timeout=...)")
        async with self.timeout_named(seconds):
            async with asyncio.timeout(seconds):
                run_id = await self._first_run_id()
                while True:
                    event = await self._wait_for_close(run_id)
                    if event["eventType"] != "WorkflowExecutionContinuedAsNew" or not follow_runs:
                        await self.client.converter.download(event)
                        return self._outcome(run_id, event)
                    run_id = event["workflowExecutionContinuedAsNewEventAttributes"][
                        "newExecutionRunId"
                    ]

    async def _first_run_id(self) -> str:
        """The run ``result()`` starts from, waiting out an SWF outage (logged once)."""
        outage = False
        while True:
            try:
                return await self._run_id(first=True)
            except (exc.ServiceUnavailableError, exc.ThrottlingError) as error:
                if not outage:
                    logger.warning("%r: result() waits out an SWF outage: %s", self, error)
                outage = True
                await asyncio.sleep(_OUTAGE_RETRY_SECONDS)

    @contextlib.asynccontextmanager
    async def timeout_named(self, seconds: float | None) -> AsyncIterator[None]:
        """Give a ``TimeoutError`` from ``result(timeout=...)`` a message naming the execution,
        and why it is stuck when its decision tasks are failing."""
        try:
            yield
        except TimeoutError as error:
            if error.args or seconds is None:  # not the caller's timeout
                raise
            message = (
                f"workflow {self.workflow_id!r} in domain {self.client.domain!r} did not close "
                f"within {duration(seconds)}"
            )
            raise TimeoutError(message + await self._failing_decisions()) from None

    async def _failing_decisions(self) -> str:
        """``"; its decision tasks are failing…"`` when they are, else ``""``."""
        try:
            # The caller's timeout has passed: an outage must not hold it for the retries.
            async with asyncio.timeout(_WHY_STUCK_SECONDS):
                failure = (await self.describe()).decision_failure
        except (exc.AioSWFError, TimeoutError):
            return ""  # the timeout's message stands on its own
        if failure is None:
            return ""
        return (
            f"; its decision tasks are failing since {failure.since.isoformat()} "
            f"({count(failure.attempts, 'attempt')}): {failure.error_type}: {failure.message}"
        )

    async def _wait_for_close(self, run_id: str) -> dict[str, Any]:
        # One watcher per client learns which awaited runs closed, for all of them at once.
        return await self.client.close_watcher.wait(self.workflow_id, run_id)

    def _outcome(self, run_id: str, event: dict[str, Any]) -> Any:
        kind = event["eventType"]
        ids = {"workflow_id": self.workflow_id, "run_id": run_id}
        converter = self.client.converter
        if kind == "WorkflowExecutionCompleted":
            data = event["workflowExecutionCompletedEventAttributes"].get("result")
            return converter.decode_result(self._result_fn, data)
        if kind == "WorkflowExecutionFailed":
            attrs = event["workflowExecutionFailedEventAttributes"]
            failure = Failure.decode(attrs.get("reason"), attrs.get("details"), converter)
            raise exc.WorkflowFailedError(
                **ids,
                reason=failure.type_name,
                message=failure.message,
                details=failure.details,
                traceback=failure.traceback,
            ) from failure.to_exception()
        if kind == "WorkflowExecutionCanceled":
            details = event["workflowExecutionCanceledEventAttributes"].get("details")
            raise exc.WorkflowCanceledError(**ids, details=details)
        if kind == "WorkflowExecutionTerminated":
            attrs = event["workflowExecutionTerminatedEventAttributes"]
            raise exc.WorkflowTerminatedError(
                **ids,
                reason=attrs.get("reason"),
                details=attrs.get("details"),
                cause=attrs.get("cause"),
            )
        if kind == "WorkflowExecutionTimedOut":
            timeout_type = event["workflowExecutionTimedOutEventAttributes"]["timeoutType"]
            raise exc.WorkflowTimedOutError(**ids, timeout_type=timeout_type)
        # Continued as new, and the caller asked not to follow: the run has no result.
        return None

    async def _run_id(self, *, first: bool = False) -> str:
        """The run this handle acts on: its own, the first, or the current one."""
        if self.pinned_run_id is not None:
            return self.pinned_run_id
        if first and self.first_run_id is not None:
            return self.first_run_id
        by_id = ExecutionFilter(workflow_id=self.workflow_id)
        for listing in (self.client.list_open_workflows, self.client.list_closed_workflows):
            async for info in listing(by_id):
                if info.workflow_id == self.workflow_id:  # newest first
                    return info.run_id
        raise exc.UnknownResourceError(
            f"no execution with workflow id {self.workflow_id!r} in domain {self.client.domain!r}",
            operation="ListWorkflowExecutions",
            code="UnknownResourceFault",
        )


class ClientCalls(ClientOutboundInterceptor):
    """The innermost of a client's interceptor chain: the SWF calls themselves."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def _target(self, workflow_id: str, run_id: str | None) -> dict[str, Any]:
        target = {"domain": self.client.domain, "workflowId": workflow_id}
        put_set(target, "runId", run_id)
        return target

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any]:
        return await self.client._start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        name = input.signal
        params = self._target(input.workflow_id, input.run_id) | {"signalName": name}
        data = wrap(self.client.converter.encode_args(input.args), input.headers)
        put_set(params, "input", check_size(f"input of signal {name!r}", data))
        await self.client.converter.upload(data)
        await self.client.transport.call("SignalWorkflowExecution", params)

    async def cancel_workflow(self, input: CancelWorkflowInput) -> None:
        target = self._target(input.workflow_id, input.run_id)
        await self.client.transport.call("RequestCancelWorkflowExecution", target)

    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None:
        params = self._target(input.workflow_id, input.run_id)
        put_set(params, "reason", check_size("terminate reason", input.reason, MAX_REASON_LENGTH))
        put_set(params, "details", check_size("terminate details", input.details))
        put_set(params, "childPolicy", input.child_policy and str(input.child_policy))
        await self.client.transport.call("TerminateWorkflowExecution", params)

    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowDescription:
        run_id = input.run_id
        if run_id is None:
            run_id = await WorkflowHandle[Any](self.client, input.workflow_id)._run_id()
        response = await self.client.transport.call(
            "DescribeWorkflowExecution",
            {
                "domain": self.client.domain,
                "execution": {"workflowId": input.workflow_id, "runId": run_id},
            },
        )
        return WorkflowDescription.from_swf(response)

    async def get_result(self, input: GetResultInput) -> Any:
        return await input.handle._result(input.timeout, input.follow_runs)


class AsyncActivityHandle:
    """Finish, from anywhere, an activity that called ``activity.raise_complete_async()``."""

    def __init__(self, client: Client, task_token: str) -> None:
        self.client = client
        self.task_token = task_token

    async def heartbeat(self, details: Any = None) -> bool:
        """Record a heartbeat; returns whether cancellation of the activity was requested."""
        params = {"taskToken": self.task_token}
        if details is not None:
            converter = self.client.converter
            text = converter.encode_payload(details, limit=MAX_HEARTBEAT_DETAILS_LENGTH)
            params["details"] = (
                check_size("heartbeat details", text, MAX_HEARTBEAT_DETAILS_LENGTH) or ""
            )
            await converter.upload(text)
        response = await self.client.transport.call("RecordActivityTaskHeartbeat", params)
        return bool(response.get("cancelRequested", False))

    async def complete(self, result: Any = None) -> None:
        """Complete the activity with ``result``."""
        params = {"taskToken": self.task_token}
        put_set(
            params,
            "result",
            check_size("activity result", self.client.converter.encode_result(result)),
        )
        await self.client.converter.upload(params)
        await self.client.transport.call("RespondActivityTaskCompleted", params)

    async def fail(self, error: BaseException) -> None:
        """Fail the activity with ``error``; the workflow sees its type name and message."""
        reason, details = Failure.from_exception(error).encode(self.client.converter)
        await self.client.converter.upload(details)
        await self.client.transport.call(
            "RespondActivityTaskFailed",
            {"taskToken": self.task_token, "reason": reason, "details": details},
        )

    async def report_cancellation(self, details: str | None = None) -> None:
        """Acknowledge a cancellation request: the activity ends as canceled."""
        params = {"taskToken": self.task_token}
        put_set(params, "details", check_size("cancellation details", details, MAX_DATA_LENGTH))
        await self.client.transport.call("RespondActivityTaskCanceled", params)
