"""What workflow code can ask of the run it belongs to: the protocol behind ``aioswf.workflow``.

``aioswf.workflow`` is a thin layer over :class:`WorkflowRuntime`; the runtime of the code
running now is found through the running loop, which is a :class:`WorkflowLoop` only while
workflow code runs.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from aioswf._definitions import ActivityDefinition
from aioswf.options import ActivityOptions

if TYPE_CHECKING:
    from aioswf._decider.activity import ActivityHandle


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


def current_runtime() -> WorkflowRuntime | None:
    """The runtime of the workflow code running now, or ``None`` outside workflows."""
    from asyncio import events

    from aioswf._decider.loop import WorkflowLoop

    loop = events._get_running_loop()
    if isinstance(loop, WorkflowLoop):
        runtime: WorkflowRuntime = loop.runtime
        return runtime
    return None
