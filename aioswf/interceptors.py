"""Interceptors: code that wraps every call of the client, and the work a worker runs.

An :class:`Interceptor` is given to the client (``Client(..., interceptors=[...])``); a worker
uses its client's interceptors, then its own (``Worker(..., interceptors=[...])``). Each one
may wrap three chains, in the order given (the first is the outermost):

- the client's calls: :class:`ClientOutboundInterceptor` (start, signal, cancel, terminate,
  describe, result);
- activity tasks on the worker: :class:`ActivityInboundInterceptor`;
- workflow runs on the worker: :class:`WorkflowInboundInterceptor` (the run and its signal
  handlers) and :class:`WorkflowOutboundInterceptor` (activities, child workflows, timers,
  signals to other executions, continue-as-new).

A subclass overrides the methods it cares about and calls ``self.next`` to go on. Inputs
are mutable dataclasses: an interceptor may change them before passing them on.

**Headers** travel with the work: the ``headers`` an interceptor sets on a start, a signal, an
activity, a child or a continue-as-new reach the interceptors of the worker that runs it (in
:class:`ExecuteWorkflowInput`, :class:`HandleSignalInput`, :class:`ExecuteActivityInput`). They
cross SWF beside the arguments (:mod:`aioswf._envelope`), only when one is set, so that input
stays a plain JSON array for other SWF clients. Name them with a prefix of your own
(``"myorg.tenant"``): aioswf's own use the ``aioswf:`` prefix.

**Workflow interceptors run inside the workflow**, in its deterministic step: they must be
as deterministic as workflow code (use ``workflow.now()``, ``workflow.is_replaying()``), and
what they do on replay must be what they did the first time. The run's ``WorkflowInfo`` is
available from ``workflow.info()`` inside every method.

Example:
    >>> class Audit(Interceptor):
    ...     def intercept_client(self, next):
    ...         return AuditClient(next)
    >>> class AuditClient(ClientOutboundInterceptor):
    ...     async def start_workflow(self, input):
    ...         input.headers["myorg.user"] = current_user()
    ...         return await self.next.start_workflow(input)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aioswf._decider.activity import ActivityHandle
    from aioswf._decider.child import ChildWorkflowHandle
    from aioswf._decider.outcome import ContinueAsNew
    from aioswf._decider.runtime import ChildOptions
    from aioswf._definitions import ActivityDefinition, WorkflowDefinition
    from aioswf._handles import WorkflowHandle
    from aioswf.activity import ActivityInfo
    from aioswf.executions import WorkflowDescription
    from aioswf.options import ActivityOptions, ChildPolicy, WorkflowOptions

__all__ = (
    "ActivityInboundInterceptor",
    "CancelWorkflowInput",
    "ClientOutboundInterceptor",
    "ContinueAsNewInput",
    "DescribeWorkflowInput",
    "ExecuteActivityInput",
    "ExecuteWorkflowInput",
    "GetResultInput",
    "HandleSignalInput",
    "Interceptor",
    "SignalExternalWorkflowInput",
    "SignalWorkflowInput",
    "StartActivityInput",
    "StartChildWorkflowInput",
    "StartTimerInput",
    "StartWorkflowInput",
    "TerminateWorkflowInput",
    "WorkflowInboundInterceptor",
    "WorkflowInterceptorClassInput",
    "WorkflowOutboundInterceptor",
)


# --- the client ----------------------------------------------------------------------------


@dataclass(slots=True)
class StartWorkflowInput:
    """A ``StartWorkflowExecution`` about to be sent.

    Attributes:
        workflow: the workflow type.
        args: the run method's arguments.
        workflow_id: the execution's id.
        task_list: its decision task list (already resolved from the defaults).
        tags: its tags.
        options: the settings of the execution (type defaults merged with overrides).
        headers: headers for the run's interceptors.
    """

    workflow: WorkflowDefinition
    args: Sequence[Any]
    workflow_id: str
    task_list: str
    tags: Sequence[str]
    options: WorkflowOptions
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class SignalWorkflowInput:
    """A ``SignalWorkflowExecution`` about to be sent (``run_id`` ``None``: the open run)."""

    workflow_id: str
    run_id: str | None
    signal: str
    args: Sequence[Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class CancelWorkflowInput:
    """A ``RequestCancelWorkflowExecution`` about to be sent."""

    workflow_id: str
    run_id: str | None


@dataclass(slots=True)
class TerminateWorkflowInput:
    """A ``TerminateWorkflowExecution`` about to be sent."""

    workflow_id: str
    run_id: str | None
    reason: str | None
    details: str | None
    child_policy: ChildPolicy | None


@dataclass(slots=True)
class DescribeWorkflowInput:
    """A ``DescribeWorkflowExecution`` about to be sent (``run_id`` resolved by then)."""

    workflow_id: str
    run_id: str | None


@dataclass(slots=True)
class GetResultInput:
    """``handle.result()``: wait for the execution to close.

    Attributes:
        handle: the handle asked (its ids and result type).
        timeout: how long to wait, if limited.
        follow_runs: whether to follow continue-as-new.
    """

    handle: WorkflowHandle[Any]
    timeout: timedelta | None
    follow_runs: bool


class ClientOutboundInterceptor:
    """Wraps the client's calls; ``next`` is the next interceptor, or the client itself."""

    def __init__(self, next: ClientOutboundInterceptor) -> None:
        self.next = next

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any]:
        """Start an execution; returns its handle."""
        return await self.next.start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        """Signal an execution."""
        await self.next.signal_workflow(input)

    async def cancel_workflow(self, input: CancelWorkflowInput) -> None:
        """Ask an execution to cancel."""
        await self.next.cancel_workflow(input)

    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None:
        """Terminate an execution."""
        await self.next.terminate_workflow(input)

    async def describe_workflow(self, input: DescribeWorkflowInput) -> WorkflowDescription:
        """Describe a run."""
        return await self.next.describe_workflow(input)

    async def get_result(self, input: GetResultInput) -> Any:
        """Wait for an execution's result (or its failure, raised)."""
        return await self.next.get_result(input)


# --- activities on the worker ---------------------------------------------------------------


@dataclass(slots=True)
class ExecuteActivityInput:
    """One attempt of an activity, about to run on this worker.

    Attributes:
        fn: the activity function (a bound method for methods); sync or async.
        args: its decoded arguments.
        headers: the headers set by the workflow's interceptors when it was scheduled.
        info: what SWF said about the task (``activity.info()`` says the same).
    """

    fn: Callable[..., Any]
    args: Sequence[Any]
    headers: dict[str, str]
    info: ActivityInfo


class ActivityInboundInterceptor:
    """Wraps the execution of each activity task; runs on the worker's event loop.

    A sync activity still passes through here as a coroutine: the innermost call runs it in
    the worker's thread pool and awaits it.
    """

    def __init__(self, next: ActivityInboundInterceptor) -> None:
        self.next = next

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        """Run the activity; return its result or raise its error."""
        return await self.next.execute_activity(input)


# --- workflows on the worker ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkflowInterceptorClassInput:
    """What :meth:`Interceptor.workflow_interceptor_class` is told about the run.

    Attributes:
        workflow: the workflow type about to run.
    """

    workflow: WorkflowDefinition


@dataclass(slots=True)
class ExecuteWorkflowInput:
    """The run method of a workflow, about to be called.

    Attributes:
        workflow: the workflow type.
        run_fn: the run method, bound to the workflow object.
        args: its decoded arguments.
        headers: headers set by the starter's interceptors (client, parent or the previous
            run's continue-as-new).
    """

    workflow: WorkflowDefinition
    run_fn: Callable[..., Any]
    args: Sequence[Any]
    headers: dict[str, str]


@dataclass(slots=True)
class HandleSignalInput:
    """A signal about to be handled.

    Attributes:
        signal: the signal's name.
        handler: the handler, bound to the workflow object; sync or async.
        args: its decoded arguments.
        headers: headers set by the sender's interceptors.
    """

    signal: str
    handler: Callable[..., Any]
    args: Sequence[Any]
    headers: dict[str, str]


@dataclass(slots=True)
class StartActivityInput:
    """An activity about to be scheduled (its retries carry the same headers)."""

    activity: ActivityDefinition
    args: Sequence[Any]
    options: ActivityOptions
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class StartChildWorkflowInput:
    """A child workflow about to be started."""

    workflow: WorkflowDefinition
    args: Sequence[Any]
    options: ChildOptions
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class StartTimerInput:
    """A durable timer about to be started (``asyncio.sleep``, ``wait_for``, ``timeout``).

    Attributes:
        duration: how long it waits; SWF rounds it up to whole seconds.
    """

    duration: timedelta
    start: Callable[[timedelta], None] = field(repr=False, default=lambda _: None)
    """Starts the timer: what the innermost interceptor calls."""


@dataclass(slots=True)
class SignalExternalWorkflowInput:
    """A signal to another execution, about to be decided (``run_id`` ``None``: its open run)."""

    workflow_id: str
    run_id: str | None
    signal: str
    args: Sequence[Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ContinueAsNewInput:
    """The next run of this workflow, about to be decided."""

    args: Sequence[Any]
    options: WorkflowOptions
    tags: Sequence[str] | None
    headers: dict[str, str] = field(default_factory=dict)


class WorkflowOutboundInterceptor:
    """Wraps what workflow code asks of SWF; runs inside the workflow's deterministic step."""

    def __init__(self, next: WorkflowOutboundInterceptor) -> None:
        self.next = next

    def start_activity(self, input: StartActivityInput) -> ActivityHandle[Any]:
        """Schedule an activity; returns its handle."""
        return self.next.start_activity(input)

    async def start_child_workflow(
        self, input: StartChildWorkflowInput
    ) -> ChildWorkflowHandle[Any]:
        """Start a child workflow; returns its handle once it started."""
        return await self.next.start_child_workflow(input)

    def start_timer(self, input: StartTimerInput) -> None:
        """Start a durable timer."""
        self.next.start_timer(input)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        """Signal another execution; returns once SWF delivered the signal."""
        await self.next.signal_external_workflow(input)

    def continue_as_new(self, input: ContinueAsNewInput) -> ContinueAsNew:
        """The exception that, raised, continues this run as a new one."""
        return self.next.continue_as_new(input)


class WorkflowInboundInterceptor:
    """Wraps the calls into a workflow run; runs inside the workflow's deterministic step.

    One is made per run (by :meth:`Interceptor.workflow_interceptor_class`), when the
    workflow object is created; :meth:`init` gives it the outbound chain to wrap.
    """

    def __init__(self, next: WorkflowInboundInterceptor) -> None:
        self.next = next

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        """Wrap ``outbound`` if need be, and pass it on: ``self.next.init(outbound)``."""
        self.next.init(outbound)

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        """Run the workflow's run method; return its result or raise."""
        return await self.next.execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        """Run a signal handler."""
        await self.next.handle_signal(input)


class Interceptor:
    """An extension of the client and of workers; override the chains you want to wrap."""

    def intercept_client(self, next: ClientOutboundInterceptor) -> ClientOutboundInterceptor:
        """Wrap the client's calls: return ``next``, or an interceptor that calls it."""
        return next

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Wrap the execution of activity tasks: return ``next``, or an interceptor around it."""
        return next

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor] | None:
        """The class to wrap each run of ``input.workflow`` with, or ``None`` for none."""
        return None


def chain_client(
    interceptors: Sequence[Interceptor], root: ClientOutboundInterceptor
) -> ClientOutboundInterceptor:
    """``root`` wrapped by ``interceptors``, the first one outermost."""
    current = root
    for interceptor in reversed(interceptors):
        current = interceptor.intercept_client(current)
    return current


def chain_activity(
    interceptors: Sequence[Interceptor], root: ActivityInboundInterceptor
) -> ActivityInboundInterceptor:
    """``root`` wrapped by ``interceptors``, the first one outermost."""
    current = root
    for interceptor in reversed(interceptors):
        current = interceptor.intercept_activity(current)
    return current


def chain_workflow(
    interceptors: Sequence[Interceptor],
    workflow: WorkflowDefinition,
    root: WorkflowInboundInterceptor,
) -> WorkflowInboundInterceptor:
    """``root`` wrapped by the classes ``interceptors`` give for ``workflow``, first outermost."""
    current = root
    request = WorkflowInterceptorClassInput(workflow)
    for interceptor in reversed(interceptors):
        cls = interceptor.workflow_interceptor_class(request)
        if cls is not None:
            current = cls(current)
    return current
