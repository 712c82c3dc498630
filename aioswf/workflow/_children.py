"""Other executions: child workflows, signals and cancel requests, and continue-as-new."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn, TypeVar, Unpack, overload

from aioswf._decider.child import ChildWorkflowHandle
from aioswf._decider.external import ExternalWorkflowHandle
from aioswf._decider.runtime import ChildOptions
from aioswf._definitions import WorkflowDefinition, workflow_definition
from aioswf.options import (
    CancellationType,
    RetryPolicy,
    WorkflowOptions,
    WorkflowOverrides,
    with_workflow_overrides,
)
from aioswf.workflow._core import _runtime

R = TypeVar("R")


@overload
async def start_child_workflow(
    workflow: Callable[..., Awaitable[R]],
    *args: Any,
    workflow_id: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
    retry_policy: RetryPolicy | None = None,
    cancellation_type: CancellationType | None = None,
    **overrides: Unpack[WorkflowOverrides],
) -> ChildWorkflowHandle[R]: ...


@overload
async def start_child_workflow(
    workflow: type[Any] | WorkflowDefinition,
    *args: Any,
    workflow_id: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
    retry_policy: RetryPolicy | None = None,
    cancellation_type: CancellationType | None = None,
    **overrides: Unpack[WorkflowOverrides],
) -> ChildWorkflowHandle[Any]: ...


async def start_child_workflow(
    workflow: Any,
    *args: Any,
    workflow_id: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
    retry_policy: RetryPolicy | None = None,
    cancellation_type: CancellationType | None = None,
    **overrides: Unpack[WorkflowOverrides],
) -> ChildWorkflowHandle[Any]:
    """Start a child workflow and return its handle once SWF has started it.

    The child type's own defaults (from ``@workflow.defn``) apply, overridden by ``options``,
    then by the keyword arguments. Without a task list the child runs on this workflow's.

    Args:
        workflow: the child's ``@workflow.run`` method (which types the result) or class.
        *args: its arguments, encoded by the converter.
        workflow_id: the child's workflow id; by default ``<this workflow id>-child-<n>``
            for the n-th child this run starts, the same on every replay.
        tags: up to five tags for list filters.
        options: overrides of the child type's defaults in one object.
        **overrides: the same, as keywords (:class:`~aioswf.options.WorkflowOverrides`):
            ``task_list`` (where the child's decision tasks go),
            ``execution_start_to_close_timeout`` (how long the child may run),
            ``task_start_to_close_timeout`` (how long one of its decision tasks may take),
            ``child_policy`` (what happens to the child's own children when it is
            terminated or times out), ``task_priority`` (higher runs first within the task
            list) and ``lambda_role`` (the IAM role its Lambda tasks run with).
        retry_policy: when the child fails or times out, start it again (same workflow
            id, new run) after a durable delay; awaiting the handle gives the last
            attempt's outcome.
        cancellation_type: what cancelling the code that waits on the child does:
            ``TRY_CANCEL`` (ask SWF to cancel it, raise at once), ``WAIT_CANCELLATION_COMPLETED``
            (ask, then wait for the child to close: ``ChildWorkflowCanceledError``) or
            ``ABANDON`` (leave it running, raise at once). By default the child type's
            ``@workflow.defn(cancellation_type=...)``, else ``TRY_CANCEL``.

    Returns:
        A handle: ``await`` it for the result; ``signal()`` and ``cancel()`` the child.

    Raises:
        StartChildWorkflowFailedError: SWF refused to start it (``cause`` says why, e.g.
            ``WORKFLOW_ALREADY_RUNNING`` or ``WORKFLOW_TYPE_DOES_NOT_EXIST``).
        PayloadTooLargeError: the encoded arguments are over SWF's limit.
    """
    merged = with_workflow_overrides(options, overrides)
    definition = workflow_definition(workflow)
    # The call's cancellation type, else the child type's default, else TRY_CANCEL.
    cancellation = cancellation_type or definition.cancellation_type or CancellationType.TRY_CANCEL
    child = ChildOptions(
        workflow=merged,
        workflow_id=workflow_id,
        tags=tuple(tags),
        retry_policy=retry_policy,
        cancellation_type=CancellationType(cancellation),
    )
    return await _runtime().start_child_workflow(definition, args, child)


@overload
async def execute_child_workflow(
    workflow: Callable[..., Awaitable[R]],
    *args: Any,
    workflow_id: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
    retry_policy: RetryPolicy | None = None,
    cancellation_type: CancellationType | None = None,
    **overrides: Unpack[WorkflowOverrides],
) -> R: ...


@overload
async def execute_child_workflow(
    workflow: type[Any] | WorkflowDefinition,
    *args: Any,
    workflow_id: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
    retry_policy: RetryPolicy | None = None,
    cancellation_type: CancellationType | None = None,
    **overrides: Unpack[WorkflowOverrides],
) -> Any: ...


async def execute_child_workflow(
    workflow: Any,
    *args: Any,
    workflow_id: str | None = None,
    tags: Sequence[str] = (),
    options: WorkflowOptions | None = None,
    retry_policy: RetryPolicy | None = None,
    cancellation_type: CancellationType | None = None,
    **overrides: Unpack[WorkflowOverrides],
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
        tags=tags,
        options=options,
        retry_policy=retry_policy,
        cancellation_type=cancellation_type,
        **overrides,
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
    tags: Sequence[str] | None = None,
    options: WorkflowOptions | None = None,
    **overrides: Unpack[WorkflowOverrides],
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
    merged = with_workflow_overrides(options, overrides)
    raise _runtime().continue_as_new(args, merged, tags)
