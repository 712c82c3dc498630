"""What visibility calls return: executions, their description, counts, and list filters."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aioswf.options import ChildPolicy, duration_from_swf

EPOCH = datetime.fromtimestamp(0, UTC)


@dataclass(frozen=True, slots=True)
class WorkflowExecutionInfo:
    """One execution as ``List*WorkflowExecutions`` and ``Describe…`` show it."""

    workflow_id: str
    run_id: str
    workflow_type: tuple[str, str]
    start_time: datetime
    status: str
    close_time: datetime | None = None
    close_status: str | None = None
    tags: tuple[str, ...] = ()
    cancel_requested: bool = False
    parent: tuple[str, str] | None = None

    @classmethod
    def from_swf(cls, info: Mapping[str, Any]) -> WorkflowExecutionInfo:
        """Read SWF's ``WorkflowExecutionInfo`` structure."""
        execution = info["execution"]
        type_ = info["workflowType"]
        parent = info.get("parent")
        return cls(
            workflow_id=execution["workflowId"],
            run_id=execution["runId"],
            workflow_type=(type_["name"], type_["version"]),
            start_time=info["startTimestamp"],
            status=info["executionStatus"],
            close_time=info.get("closeTimestamp"),
            close_status=info.get("closeStatus"),
            tags=tuple(info.get("tagList", ())),
            cancel_requested=bool(info.get("cancelRequested", False)),
            parent=(parent["workflowId"], parent["runId"]) if parent else None,
        )


@dataclass(frozen=True, slots=True)
class OpenCounts:
    """How much of an execution is in flight."""

    activity_tasks: int
    decision_tasks: int
    timers: int
    child_workflow_executions: int
    lambda_functions: int = 0


@dataclass(frozen=True, slots=True)
class ExecutionConfiguration:
    """The settings an execution runs with (its type's defaults or the start's overrides)."""

    task_list: str
    execution_start_to_close_timeout: timedelta | None
    task_start_to_close_timeout: timedelta | None
    child_policy: ChildPolicy
    task_priority: int | None = None
    lambda_role: str | None = None


DECISION_FAILURE_KEY = "aioswf.decision_failure"
"""Marks an execution context that reports failing decision tasks (see :class:`DecisionFailure`)."""


@dataclass(frozen=True, slots=True)
class DecisionFailure:
    """Decision tasks of an open execution are failing and being retried.

    SWF records no "decision task failed" event; when workflow code raises an error that the
    worker retries rather than fails the execution with (``NondeterminismError`` by default,
    and the types in ``DecisionWorkerOptions.retry_decision_task_on``), the worker answers the
    task with this report as the execution context and a back-off timer, so that
    ``DescribeWorkflowExecution`` shows it until a task succeeds.

    Attributes:
        since: when the first failing attempt of this streak ran (workflow time, UTC).
        attempts: how many attempts have failed in a row.
        error_type: the type name of the last attempt's error.
        message: its message.
        retry_in: the back-off before the next attempt (any new event brings it sooner).
    """

    since: datetime
    attempts: int
    error_type: str
    message: str
    retry_in: timedelta

    def to_context(self, state: str | None) -> str:
        """The execution context that reports this failure, keeping the workflow's state."""
        report = {
            "since": self.since.timestamp(),
            "attempts": self.attempts,
            "error_type": self.error_type,
            "message": self.message,
            "retry_in": self.retry_in.total_seconds(),
        }
        return json.dumps({DECISION_FAILURE_KEY: report, "state": state})

    @classmethod
    def from_context(cls, context: str | None) -> tuple[DecisionFailure | None, str | None]:
        """``(failure, state)`` from an execution context; ``(None, context)`` if it reports
        no failure."""
        if not context or not context.startswith("{") or DECISION_FAILURE_KEY not in context:
            return None, context
        try:
            body = json.loads(context)
            report = body[DECISION_FAILURE_KEY]
            failure = cls(
                since=datetime.fromtimestamp(float(report["since"]), UTC),
                attempts=int(report["attempts"]),
                error_type=str(report["error_type"]),
                message=str(report["message"]),
                retry_in=timedelta(seconds=float(report["retry_in"])),
            )
        except (ValueError, KeyError, TypeError):
            return None, context
        state = body.get("state")
        return failure, state if isinstance(state, str) else None


@dataclass(frozen=True, slots=True)
class WorkflowDescription:
    """``DescribeWorkflowExecution``, read.

    Attributes:
        info: the execution.
        configuration: its task list, timeouts and child policy.
        open_counts: what is in flight.
        execution_context: the latest context the workflow published (``set_state``), as
            text.
        latest_activity_task_time: when an activity task was last scheduled.
        decision_failure: set while the execution's decision tasks are failing and being
            retried: since when, how many attempts, and the error.
    """

    info: WorkflowExecutionInfo
    configuration: ExecutionConfiguration
    open_counts: OpenCounts
    execution_context: str | None = None
    latest_activity_task_time: datetime | None = None
    decision_failure: DecisionFailure | None = None

    @property
    def state(self) -> Any:
        """The execution context decoded from JSON, as ``workflow.set_state`` wrote it."""
        if self.execution_context is None:
            return None
        try:
            return json.loads(self.execution_context)
        except json.JSONDecodeError:
            return self.execution_context

    @classmethod
    def from_swf(cls, detail: Mapping[str, Any]) -> WorkflowDescription:
        """Read SWF's ``WorkflowExecutionDetail`` structure."""
        config = detail["executionConfiguration"]
        failure, context = DecisionFailure.from_context(detail.get("latestExecutionContext"))
        counts = detail["openCounts"]
        priority = config.get("taskPriority")
        return cls(
            info=WorkflowExecutionInfo.from_swf(detail["executionInfo"]),
            configuration=ExecutionConfiguration(
                task_list=config["taskList"]["name"],
                execution_start_to_close_timeout=duration_from_swf(
                    config.get("executionStartToCloseTimeout")
                ),
                task_start_to_close_timeout=duration_from_swf(
                    config.get("taskStartToCloseTimeout")
                ),
                child_policy=ChildPolicy(config["childPolicy"]),
                task_priority=int(priority) if priority is not None else None,
                lambda_role=config.get("lambdaRole"),
            ),
            open_counts=OpenCounts(
                activity_tasks=counts["openActivityTasks"],
                decision_tasks=counts["openDecisionTasks"],
                timers=counts["openTimers"],
                child_workflow_executions=counts["openChildWorkflowExecutions"],
                lambda_functions=counts.get("openLambdaFunctions", 0),
            ),
            execution_context=context or None,
            latest_activity_task_time=detail.get("latestActivityTaskTimestamp"),
            decision_failure=failure,
        )


@dataclass(frozen=True, slots=True)
class ExecutionCount:
    """A count of executions; ``truncated`` when SWF stopped counting early."""

    count: int
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class ExecutionFilter:
    """Which executions a list or count call covers.

    SWF takes one time window (start or close, close only for closed executions) and at most
    one of: ``workflow_id``, ``workflow_type``, ``tag``, ``close_status``.

    Attributes:
        started_after: oldest start time; defaults to the epoch when no close window is set.
        started_before: latest start time.
        closed_after: oldest close time (closed executions only).
        closed_before: latest close time (closed executions only).
        workflow_id: executions with this workflow id.
        workflow_type: ``(name, version)``, or ``(name, None)`` for every version.
        tag: executions carrying this tag.
        close_status: e.g. ``"COMPLETED"`` (closed executions only).
    """

    started_after: datetime | None = None
    started_before: datetime | None = None
    closed_after: datetime | None = None
    closed_before: datetime | None = None
    workflow_id: str | None = None
    workflow_type: tuple[str, str | None] | None = None
    tag: str | None = None
    close_status: str | None = None

    def to_swf(self, *, closed: bool) -> dict[str, Any]:
        """SWF's filter parameters.

        Raises:
            ValueError: for combinations SWF does not accept, saying which.
        """
        chosen = [
            name
            for name in ("workflow_id", "workflow_type", "tag", "close_status")
            if getattr(self, name) is not None
        ]
        if len(chosen) > 1:
            raise ValueError(
                f"SWF filters by one of workflow_id, workflow_type, tag, close_status; got {chosen}"
            )
        by_close = self.closed_after is not None or self.closed_before is not None
        by_start = self.started_after is not None or self.started_before is not None
        if not closed and (by_close or self.close_status is not None):
            raise ValueError("open executions have no close time or close status to filter by")
        if by_close and by_start:
            raise ValueError("filter by start time or by close time, not both")
        params: dict[str, Any] = {}
        if by_close:
            params["closeTimeFilter"] = _window(self.closed_after, self.closed_before)
        else:
            params["startTimeFilter"] = _window(self.started_after, self.started_before)
        if self.workflow_id is not None:
            params["executionFilter"] = {"workflowId": self.workflow_id}
        if self.workflow_type is not None:
            name, version = self.workflow_type
            params["typeFilter"] = {"name": name, **({"version": version} if version else {})}
        if self.tag is not None:
            params["tagFilter"] = {"tag": self.tag}
        if self.close_status is not None:
            params["closeStatusFilter"] = {"status": self.close_status}
        return params


def _window(oldest: datetime | None, latest: datetime | None) -> dict[str, datetime]:
    window = {"oldestDate": oldest or EPOCH}
    if latest is not None:
        window["latestDate"] = latest
    return window
