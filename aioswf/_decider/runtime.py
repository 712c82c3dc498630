"""What workflow code can ask of the run it belongs to: the protocol behind ``aioswf.workflow``.

``aioswf.workflow`` is a thin layer over :class:`WorkflowRuntime`; the runtime of the code
running now is found through the running loop, which is a :class:`WorkflowLoop` only while
workflow code runs.
"""

from __future__ import annotations

import random
import uuid
from asyncio import events
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from aioswf._decider.loop import WorkflowLoop
from aioswf._definitions import ActivityDefinition, WorkflowDefinition
from aioswf.options import (
    ActivityOptions,
    CancellationType,
    RetryPolicy,
    WorkflowOptions,
    duration_from_swf,
)

if TYPE_CHECKING:
    from aioswf._decider.activity import ActivityHandle
    from aioswf._decider.child import ChildWorkflowHandle
    from aioswf._decider.external import ExternalWorkflowHandle
    from aioswf._decider.outcome import ContinueAsNew


HISTORY_EVENT_LIMIT = 25_000
"""SWF's hard limit on the events of one run's history."""
CONTINUE_AS_NEW_SUGGESTED_AT = 10_000
"""History length from which continuing as new is suggested: SWF's own recommendation."""


@dataclass(frozen=True, slots=True)
class WorkflowInfo:
    """The run a piece of workflow code belongs to.

    Attributes:
        domain: the SWF domain.
        workflow_id: the execution's workflow id.
        run_id: this run's id.
        workflow_type: ``(name, version)``.
        task_list: the execution's decision task list; activities without one go here.
        start_time: when the run started.
        tags: the execution's tags.
        child_policy: what happens to children if this run is terminated or times out.
        execution_start_to_close_timeout: how long the run may take, if limited.
        task_start_to_close_timeout: how long one decision task may take, if limited.
        continued_execution_run_id: the run this one continues, after continue-as-new.
        parent_workflow_id: the parent's workflow id, for a child workflow.
        parent_run_id: the parent's run id, for a child workflow.
        task_priority: the execution's decision task priority, if set.
        lambda_role: the IAM role its Lambda tasks run with, if set.
        decision_task_count: how many decision tasks of this run have run code, the
            current one included (1 in the first).
        decision_task_attempt: the attempt of the current decision task: 1, or more after
            earlier attempts timed out or failed (and were retried).
        history_length: events in the run's history up to the current decision task; a
            workflow that runs for long continues as new before this nears SWF's 25,000
            (see :meth:`is_continue_as_new_suggested`).
    """

    domain: str
    workflow_id: str
    run_id: str
    workflow_type: tuple[str, str]
    task_list: str
    start_time: datetime
    tags: tuple[str, ...] = ()
    child_policy: str | None = None
    execution_start_to_close_timeout: timedelta | None = None
    task_start_to_close_timeout: timedelta | None = None
    continued_execution_run_id: str | None = None
    parent_workflow_id: str | None = None
    parent_run_id: str | None = None
    task_priority: int | None = None
    lambda_role: str | None = None
    decision_task_count: int = 0
    decision_task_attempt: int = 1
    history_length: int = 0

    def is_continue_as_new_suggested(self) -> bool:
        """Whether the run's history has grown long enough to continue as new.

        True from :data:`CONTINUE_AS_NEW_SUGGESTED_AT` events (SWF recommends keeping a
        history under 10,000 of its hard limit of 25,000, past which SWF terminates the
        run with ``EVENT_LIMIT_EXCEEDED``).
        """
        return self.history_length >= CONTINUE_AS_NEW_SUGGESTED_AT


def info_from_started(
    attributes: Mapping[str, Any], start: float, *, domain: str, workflow_id: str, run_id: str
) -> WorkflowInfo:
    """The :class:`WorkflowInfo` of a run from its ``WorkflowExecutionStarted`` attributes."""
    workflow_type = attributes.get("workflowType") or {}
    parent = attributes.get("parentWorkflowExecution") or {}
    priority = attributes.get("taskPriority")
    return WorkflowInfo(
        domain=domain,
        workflow_id=workflow_id,
        run_id=run_id,
        workflow_type=(workflow_type.get("name", ""), workflow_type.get("version", "")),
        task_list=(attributes.get("taskList") or {}).get("name", ""),
        start_time=datetime.fromtimestamp(start, UTC),
        tags=tuple(attributes.get("tagList") or ()),
        child_policy=attributes.get("childPolicy"),
        execution_start_to_close_timeout=duration_from_swf(
            attributes.get("executionStartToCloseTimeout")
        ),
        task_start_to_close_timeout=duration_from_swf(attributes.get("taskStartToCloseTimeout")),
        continued_execution_run_id=attributes.get("continuedExecutionRunId"),
        parent_workflow_id=parent.get("workflowId"),
        parent_run_id=parent.get("runId"),
        task_priority=int(priority) if priority not in (None, "") else None,
        lambda_role=attributes.get("lambdaRole"),
    )


@dataclass(frozen=True, slots=True)
class ChildOptions:
    """How a child workflow is started; see ``workflow.start_child_workflow``.

    Attributes:
        workflow: merged settings (decorator defaults, then ``options``, then keywords).
        workflow_id: the child's workflow id; derived from the parent's when ``None``.
        tags: the child's tags.
        retry_policy: start the child again (same workflow id) after it fails or times out.
        cancellation_type: what cancelling the code that waits on the child does.
    """

    workflow: WorkflowOptions
    workflow_id: str | None = None
    tags: tuple[str, ...] = ()
    retry_policy: RetryPolicy | None = None
    cancellation_type: CancellationType = CancellationType.TRY_CANCEL


class WorkflowRuntime(Protocol):
    """The services of one workflow run to its code."""

    @property
    def is_replaying(self) -> bool:
        """Whether the code is re-running a decision task that history already records."""

    def info(self) -> WorkflowInfo:
        """The run's identity and settings."""

    def now(self) -> datetime:
        """The current decision task's time (UTC)."""

    def random(self) -> random.Random:
        """A random generator seeded from the run id."""

    def uuid4(self) -> uuid.UUID:
        """A random UUID drawn from :meth:`random`."""

    def start_activity(
        self, definition: ActivityDefinition, args: Sequence[Any], options: ActivityOptions
    ) -> ActivityHandle[Any]:
        """Schedule an activity (retried per its policy) and return its handle."""

    async def wait_condition(self, predicate: Callable[[], bool], timeout: float | None) -> None:
        """Wait until ``predicate()`` is true, re-checked whenever the workflow changes."""

    def set_state(self, value: Any) -> None:
        """Set the execution context (``value`` as JSON) sent with the next decisions."""

    def record_marker(self, name: str, details: str | None) -> None:
        """Record a marker in history."""

    async def start_child_workflow(
        self, definition: WorkflowDefinition, args: Sequence[Any], options: ChildOptions
    ) -> ChildWorkflowHandle[Any]:
        """Start a child workflow; return its handle once SWF has started it."""

    def external_workflow(self, workflow_id: str, run_id: str | None) -> ExternalWorkflowHandle:
        """A handle to signal or cancel another execution."""

    async def execute_lambda(
        self, name: str, payload: Any, timeout: timedelta | None, result_type: Any
    ) -> Any:
        """Run an AWS Lambda function as a task of this run and return its decoded result."""

    def continue_as_new(
        self, args: Sequence[Any], options: WorkflowOptions, tags: Sequence[str] | None
    ) -> ContinueAsNew:
        """The exception that, raised, closes this run and starts the next one."""

    def patched(self, patch_id: str) -> bool:
        """Whether this run takes the new branch of the change named ``patch_id``."""

    def deprecate_patch(self, patch_id: str) -> None:
        """Take the new branch of ``patch_id`` without recording its marker."""

    def side_effect(self, fn: Callable[[], Any]) -> Any:
        """``fn()``, called once and recorded, then read back from history on replay."""

    def all_handlers_finished(self) -> bool:
        """Whether no signal handler of the run is still running."""


def current_runtime() -> WorkflowRuntime | None:
    """The runtime of the workflow code running now, or ``None`` outside workflows."""
    loop = events._get_running_loop()
    if isinstance(loop, WorkflowLoop):
        runtime: WorkflowRuntime = loop.runtime
        return runtime
    return None
