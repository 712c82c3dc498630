"""The local SWF engine: pure state behind the 39 operations, driven by an injected clock.

:class:`Engine` is synchronous and knows nothing of HTTP or asyncio.  Every call first fires
whatever the clock has made due, then runs the operation, then finishes deferred work (child
policies, the event limit), so that results never depend on how punctual the background
timer is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from aioswf.local._service_model import service_model
from aioswf.local.clock import Clock
from aioswf.local.engine import decisions, executions, registry, tasks, timeouts, visibility
from aioswf.local.engine.core import ACTIVITY, DECISION, EngineState
from aioswf.local.engine.state import Json
from aioswf.local.faults import UnknownOperationError

__all__ = ["OPERATIONS", "Engine"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
Operation = Callable[[EngineState, Json], Json]

OPERATIONS: dict[str, Operation] = {
    "RegisterDomain": registry.register_domain,
    "DescribeDomain": registry.describe_domain,
    "ListDomains": registry.list_domains,
    "DeprecateDomain": registry.deprecate_domain,
    "UndeprecateDomain": registry.undeprecate_domain,
    "TagResource": registry.tag_resource,
    "UntagResource": registry.untag_resource,
    "ListTagsForResource": registry.list_tags,
    "StartWorkflowExecution": executions.start_execution,
    "SignalWorkflowExecution": executions.signal_execution,
    "RequestCancelWorkflowExecution": executions.request_cancel_execution,
    "TerminateWorkflowExecution": executions.terminate_execution,
    "PollForDecisionTask": tasks.poll_for_decision_task,
    "RespondDecisionTaskCompleted": decisions.respond_decision_task_completed,
    "PollForActivityTask": tasks.poll_for_activity_task,
    "RecordActivityTaskHeartbeat": tasks.record_heartbeat,
    "RespondActivityTaskCompleted": partial(tasks.respond_activity, outcome="Completed"),
    "RespondActivityTaskFailed": partial(tasks.respond_activity, outcome="Failed"),
    "RespondActivityTaskCanceled": partial(tasks.respond_activity, outcome="Canceled"),
    "DescribeWorkflowExecution": visibility.describe_execution,
    "GetWorkflowExecutionHistory": visibility.get_history,
    "ListOpenWorkflowExecutions": partial(visibility.list_executions, closed=False),
    "ListClosedWorkflowExecutions": partial(visibility.list_executions, closed=True),
    "CountOpenWorkflowExecutions": partial(visibility.count_executions, closed=False),
    "CountClosedWorkflowExecutions": partial(visibility.count_executions, closed=True),
    "CountPendingDecisionTasks": partial(visibility.count_pending, kind=DECISION),
    "CountPendingActivityTasks": partial(visibility.count_pending, kind=ACTIVITY),
}
for _kind, _noun in (("workflow", "Workflow"), ("activity", "Activity")):
    OPERATIONS[f"Register{_noun}Type"] = partial(registry.register_type, kind=_kind)
    OPERATIONS[f"Describe{_noun}Type"] = partial(registry.describe_type, kind=_kind)
    OPERATIONS[f"List{_noun}Types"] = partial(registry.list_types, kind=_kind)
    OPERATIONS[f"Deprecate{_noun}Type"] = partial(registry.deprecate_type, kind=_kind)
    OPERATIONS[f"Undeprecate{_noun}Type"] = partial(registry.undeprecate_type, kind=_kind)
    OPERATIONS[f"Delete{_noun}Type"] = partial(registry.delete_type, kind=_kind)


class Engine(EngineState):
    """The whole local SWF service as a synchronous state machine."""

    def __init__(
        self, clock: Clock, *, region: str = "us-east-1", account: str = "123456789012"
    ) -> None:
        super().__init__(clock, region=region, account=account)

    def handle(self, operation: str, request: Json) -> Json:
        """Validate and run one SWF operation.

        Args:
            operation: The operation name, e.g. ``"StartWorkflowExecution"``.
            request: The JSON request body.

        Returns:
            The JSON response body (``{}`` for operations without output).

        Raises:
            SWFFault: the fault AWS would answer with; on a fault nothing was applied.
        """
        handler = OPERATIONS.get(operation)
        if handler is None:
            raise UnknownOperationError(f"Unknown operation: {operation}")
        service_model().validate(operation, request)
        return self.apply(lambda: handler(self, request))

    def apply(self, change: Callable[[], T]) -> T:
        """Run ``change`` between firing due deadlines and finishing deferred work."""
        self.fire_due()
        try:
            return change()
        finally:
            self._finish()

    def fire_due(self) -> int:
        """Fire every timer and timeout that is due; returns how many fired."""
        fired = timeouts.fire_due(self)
        if fired:
            self._finish()
        return fired

    def next_deadline(self) -> float | None:
        """When the next timer, timeout or retention expiry is due (``None``: nothing)."""
        return timeouts.next_deadline(self)

    def _finish(self) -> None:
        while self.policy_pending or self.over_limit:
            executions.apply_child_policies(self)
            for run_id in sorted(self.over_limit):
                ex = self.executions[run_id]
                if ex.is_open:
                    executions.terminate(self, ex, "EVENT_LIMIT_EXCEEDED")
            self.over_limit.clear()
