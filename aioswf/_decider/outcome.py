"""What an activation produces, and the errors that steer the runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aioswf._decider.deadlock import DEFAULT_DEADLOCK_TIMEOUT
from aioswf._failure import error_text
from aioswf.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    ExternalWorkflowError,
    LambdaFunctionError,
    PayloadError,
    TimerError,
)
from aioswf.executions import DecisionFailure

if TYPE_CHECKING:
    from aioswf.interceptors import Interceptor

OUTCOME_ERRORS: tuple[type[BaseException], ...] = (
    ActivityError,
    ChildWorkflowError,
    TimerError,
    ExternalWorkflowError,
    LambdaFunctionError,
)
"""Outcomes recorded in history: another try of the decision task cannot change them."""

ALWAYS_FAIL: tuple[type[BaseException], ...] = (
    *OUTCOME_ERRORS,
    ApplicationError,
    PayloadError,
    TimeoutError,
)
"""Errors that fail the execution whatever the worker's retry policy says: outcomes from
history (a workflow timer's ``TimeoutError`` among them), payload errors on the way out, and
``ApplicationError``, which is how code says "fail" on purpose."""


class WorkflowEvicted(BaseException):
    """Thrown into a run's coroutines when its instance is discarded.

    A ``BaseException``, so that ``except Exception`` in workflow code cannot swallow it;
    ``finally`` blocks still run, at a known moment rather than at garbage collection.
    """


class ContinueAsNew(BaseException):
    """Raised by ``workflow.continue_as_new``: close this run and start the next one.

    A ``BaseException``, so that ``except Exception`` in workflow code cannot swallow it;
    wherever it is raised in the run (a helper, a child task, a signal handler), the run
    closes with ``ContinueAsNewWorkflowExecution``.

    Attributes:
        attributes: the decision's attributes, encoded and checked.
    """

    def __init__(self, attributes: dict[str, Any]) -> None:
        super().__init__("the workflow continues as a new run")
        self.attributes = attributes


class CacheMiss(Exception):
    """A cached instance cannot continue from the events given: replay from the start."""


class _TaskFailed(Exception):
    """The decision task is retried (not answered with the code's decisions) because of
    ``error``."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error_text(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class InstanceOptions:
    """How a run treats errors (see ``DecisionWorkerOptions``), and what wraps its calls."""

    retry_decision_task_on: tuple[type[BaseException], ...] = ()
    fail_on_nondeterminism: bool = False
    deadlock_timeout: float | None = DEFAULT_DEADLOCK_TIMEOUT
    """Seconds a workflow step may run without yielding; ``None`` for no limit."""
    interceptors: tuple[Interceptor, ...] = ()


@dataclass(slots=True)
class Activation:
    """What one decision task produced.

    Attributes:
        decisions: the decisions to send, in order.
        execution_context: the context to send, when it changed.
        failure: set when the code's decisions are not sent because of this error: the
            task is retried, and ``decisions`` hold only the back-off timer.
        closing: a close decision is among ``decisions``.
        decision_failure: the failure report sent as execution context when retrying.
    """

    decisions: list[dict[str, Any]] = field(default_factory=list)
    execution_context: str | None = None
    failure: BaseException | None = None
    closing: bool = False
    decision_failure: DecisionFailure | None = None
