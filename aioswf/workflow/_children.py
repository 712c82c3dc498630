"""Other executions: child workflows, signals and cancel requests, and continue-as-new."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, NoReturn, TypeVar, overload

from aioswf._decider.child import ChildWorkflowHandle
from aioswf._decider.external import ExternalWorkflowHandle
from aioswf._decider.runtime import ChildOptions
from aioswf._definitions import WorkflowDefinition, workflow_definition
from aioswf.options import ChildPolicy, WorkflowOptions
from aioswf.workflow._core import _runtime

R = TypeVar("R")


def _workflow_options(
    options: WorkflowOptions | None,
    task_list: str | None,
    execution_start_to_close_timeout: timedelta | None,
    task_start_to_close_timeout: timedelta | None,
    child_policy: ChildPolicy | str | None,
    task_priority: int | None,
    lambda_role: str | None,
) -> WorkflowOptions:
    call = WorkflowOptions(
        task_list=task_list,
        execution_start_to_close_timeout=execution_start_to_close_timeout,
        task_start_to_close_timeout=task_start_to_close_timeout,
        child_policy=ChildPolicy(child_policy) if child_policy is not None else None,
        task_priority=task_priority,
        lambda_role=lambda_role,
    )
    call.swf_timeouts()  # reject a bad duration here, in the caller's code
    return (options or WorkflowOptions()).merged(call)


@overload
async def start_child_workflow(
    workflow: Callable[..., Awaitable[R]],
    *args: Any,
    workflow_id: str | None = None,
    task_list: str | None = None,
    execution_start_to_close_timeout: timedelta | None = None,
    task_start_to_close_timeout: timedelta | None = None,
    child_policy: ChildPolicy | str | None = None,
    task_priority: int | None = None,
    lambda_role: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
) -> ChildWorkflowHandle[R]: ...


@overload
async def start_child_workflow(
    workflow: type[Any] | WorkflowDefinition,
    *args: Any,
    workflow_id: str | None = None,
    task_list: str | None = None,
    execution_start_to_close_timeout: timedelta | None = None,
    task_start_to_close_timeout: timedelta | None = None,
    child_policy: ChildPolicy | str | None = None,
    task_priority: int | None = None,
    lambda_role: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
) -> ChildWorkflowHandle[Any]: ...


async def start_child_workflow(
    workflow: Any,
    *args: Any,
    workflow_id: str | None = None,
    task_list: str | None = None,
    execution_start_to_close_timeout: timedelta | None = None,
    task_start_to_close_timeout: timedelta | None = None,
    child_policy: ChildPolicy | str | None = None,
    task_priority: int | None = None,
    lambda_role: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
) -> ChildWorkflowHandle[Any]:
    """Start a child workflow and return its handle once SWF has started it.

    The child type's own defaults (from ``@workflow.defn``) apply, overridden by ``options``,
    then by the keyword arguments. Without a task list the child runs on this workflow's.

    Args:
        workflow: the child's ``@workflow.run`` method (which types the result) or class.
        *args: its arguments, encoded by the converter.
        workflow_id: the child's workflow id; by default ``<this workflow id>-child-<n>``
            for the n-th child this run starts, the same on every replay.
        task_list: where the child's decision tasks go.
        execution_start_to_close_timeout: how long the child may run.
        task_start_to_close_timeout: how long one of its decision tasks may take.
        child_policy: what happens to the child's own children when it is terminated or
            times out.
        task_priority: higher runs first within the task list.
        lambda_role: the IAM role the child's Lambda tasks run with.
        tags: up to five tags for list filters.
        options: the settings above (but ids and tags) in one object.

    Returns:
        A handle: ``await`` it for the result; ``signal()`` and ``cancel()`` the child.
        Cancelling code that waits on it asks SWF to cancel the child.

    Raises:
        StartChildWorkflowFailedError: SWF refused to start it (``cause`` says why, e.g.
            ``WORKFLOW_ALREADY_RUNNING`` or ``WORKFLOW_TYPE_DOES_NOT_EXIST``).
        PayloadTooLargeError: the encoded arguments are over SWF's limit.
    """
    merged = _workflow_options(
        options,
        task_list,
        execution_start_to_close_timeout,
        task_start_to_close_timeout,
        child_policy,
        task_priority,
        lambda_role,
    )
    child = ChildOptions(workflow=merged, workflow_id=workflow_id, tags=tuple(tags))
    return await _runtime().start_child_workflow(workflow_definition(workflow), args, child)


@overload
async def execute_child_workflow(
    workflow: Callable[..., Awaitable[R]],
    *args: Any,
    workflow_id: str | None = None,
    task_list: str | None = None,
    execution_start_to_close_timeout: timedelta | None = None,
    task_start_to_close_timeout: timedelta | None = None,
    child_policy: ChildPolicy | str | None = None,
    task_priority: int | None = None,
    lambda_role: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
) -> R: ...


@overload
async def execute_child_workflow(
    workflow: type[Any] | WorkflowDefinition,
    *args: Any,
    workflow_id: str | None = None,
    task_list: str | None = None,
    execution_start_to_close_timeout: timedelta | None = None,
    task_start_to_close_timeout: timedelta | None = None,
    child_policy: ChildPolicy | str | None = None,
    task_priority: int | None = None,
    lambda_role: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
) -> Any: ...


async def execute_child_workflow(
    workflow: Any,
    *args: Any,
    workflow_id: str | None = None,
    task_list: str | None = None,
    execution_start_to_close_timeout: timedelta | None = None,
    task_start_to_close_timeout: timedelta | None = None,
    child_policy: ChildPolicy | str | None = None,
    task_priority: int | None = None,
    lambda_role: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
) -> Any:
    """Run a child workflow and return its result; see :func:`start_child_workflow`.

    Raises:
        ChildWorkflowFailedError: the child failed (its reason, message and details kept).
        ChildWorkflowTimedOutError: it ran past its execution timeout.
        ChildWorkflowCanceledError: it closed as canceled.
        ChildWorkflowTerminatedError: it was terminated.
        StartChildWorkflowFailedError: SWF refused to start it.
    """
    handle = await start_child_workflow(
        workflow,
        *args,
        workflow_id=workflow_id,
        task_list=task_list,
        execution_start_to_close_timeout=execution_start_to_close_timeout,
        task_start_to_close_timeout=task_start_to_close_timeout,
        child_policy=child_policy,
        task_priority=task_priority,
        lambda_role=lambda_role,
        tags=tags,
        options=options,
    )
    return await handle


def get_external_workflow_handle(
    workflow_id: str, *, run_id: str | None = None
) -> ExternalWorkflowHandle:
    """A handle on another execution, to ``signal()`` it or ask it to ``cancel()``.

    Args:
        workflow_id: the target's workflow id.
        run_id: a particular run; by default whichever run of ``workflow_id`` is open.
    """
    return _runtime().external_workflow(workflow_id, run_id)


# --- continue-as-new -------------------------------------------------------------------------


def continue_as_new(
    *args: Any,
    task_list: str | None = None,
    execution_start_to_close_timeout: timedelta | None = None,
    task_start_to_close_timeout: timedelta | None = None,
    child_policy: ChildPolicy | str | None = None,
    task_priority: int | None = None,
    lambda_role: str | None = None,
    tags: Sequence[str] | None = None,
    options: WorkflowOptions | None = None,
) -> NoReturn:
    """Close this run and start a new run of the same workflow with ``args``.

    The new run has the same workflow id, a new run id and an empty history: the way to
    keep a long-lived workflow under SWF's history limit. It keeps this run's task list,
    timeouts, child policy, priority, Lambda role and tags unless they are given here.
    ``handle.result()`` on the client follows the chain to the last run.

    Raises:
        ContinueAsNew: always. It derives from ``BaseException``, so ``except Exception``
            does not stop it; wherever it is raised, the run ends there.
        PayloadConversionError: ``args`` do not fit the run method.
    """
    merged = _workflow_options(
        options,
        task_list,
        execution_start_to_close_timeout,
        task_start_to_close_timeout,
        child_policy,
        task_priority,
        lambda_role,
    )
    raise _runtime().continue_as_new(args, merged, tags)
