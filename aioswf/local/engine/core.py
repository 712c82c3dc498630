"""The engine's state and the primitives every operation builds on.

Costs: appending an event is O(1) (its id is ``len(history) + 1``); finding an open execution
by workflowId is a dict look-up; task lists are heaps with lazy deletion and a live set, so
polling and counting never scan; deadlines (timers, timeouts, retention) sit in one heap whose
entries are checked against the state when they come due, so cancelling anything is O(1).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aioswf.local.clock import Clock
from aioswf.local.engine.runindex import RunIndex
from aioswf.local.engine.state import Domain, Execution, Json, RegisteredType
from aioswf.local.faults import domain_deprecated, unknown_resource

if TYPE_CHECKING:
    from aioswf.local.engine.functions import FunctionRunner

logger = logging.getLogger(__name__)

EVENT_LIMIT = 25_000
_CLOSE_EVENTS = frozenset(
    {
        "WorkflowExecutionCompleted",
        "WorkflowExecutionFailed",
        "WorkflowExecutionCanceled",
        "WorkflowExecutionContinuedAsNew",
        "WorkflowExecutionTimedOut",
        "WorkflowExecutionTerminated",
    }
)
DECISION = "decision"
ACTIVITY = "activity"

TaskKey = tuple[str, int]  # (run id, scheduled event id)
QueueKey = tuple[str, str, str]  # (kind, domain, task list)
Deadline = tuple[float, int, str, str, str]  # (due, seq, kind, run id, item key)
TaskListener = Callable[[str, str, str], None]


@dataclass
class Limits:
    """SWF's quotas per execution and domain (tests lower them to reach the limits quickly)."""

    events: int = EVENT_LIMIT
    open_executions: int = 100_000
    open_activities: int = 1000
    open_timers: int = 1000
    open_children: int = 1000
    open_lambdas: int = 50


@dataclass
class TaskQueue:
    """Scheduled tasks of one task list, highest priority first, then oldest first."""

    heap: list[tuple[int, int, TaskKey]] = field(default_factory=list)
    live: set[TaskKey] = field(default_factory=set)
    taken: int = 0
    """How many tasks pollers have taken from it: a count that moves while a worker polls."""


@dataclass(frozen=True)
class TokenRef:
    """What a task token stands for."""

    kind: str
    run_id: str
    event_id: int  # decision: the started event id; activity: the scheduled event id


class EngineState:
    """All state of the local SWF service, and the primitives to change it.

    Args:
        clock: Where time comes from.
        region: The region named in domain ARNs.
        account: The account id named in domain ARNs.
    """

    def __init__(
        self, clock: Clock, *, region: str = "us-east-1", account: str = "123456789012"
    ) -> None:
        self.clock = clock
        self.region = region
        self.account = account
        self.limits = Limits()
        self.running_lambdas = 0
        self.function_runner: FunctionRunner | None = None
        self.task_listeners: list[TaskListener] = []
        self.deadline_listeners: list[Callable[[], None]] = []
        self._seq = itertools.count()
        self.clear()

    def clear(self) -> None:
        """Forget every domain, type and execution, and what derives from them (a store
        then loads them again); the clock, limits, listeners and Lambda runner stay."""
        self.domains: dict[str, Domain] = {}
        self.types: dict[tuple[str, str, str, str], RegisteredType] = {}
        self.type_counts: dict[tuple[str, str], int] = {}
        self.executions: dict[str, Execution] = {}
        self.open_by_id: dict[tuple[str, str], str] = {}
        self.open_runs: dict[str, dict[str, None]] = {}
        self.closed_runs: dict[str, dict[str, None]] = {}
        self.runs = RunIndex()
        self.started_total = 0
        self.queues: dict[QueueKey, TaskQueue] = {}
        self.queued_total = 0
        self.tokens: dict[str, TokenRef] = {}
        self.deadlines: list[Deadline] = []
        # Work deferred to the end of the current operation (see Engine._finish).
        self.policy_pending: list[tuple[str, str]] = []
        self.over_limit: set[str] = set()
        self.post_actions: list[Callable[[], None]] = []
        # What changed since the store last saved (see store.py).
        self.dirty_runs: set[str] = set()
        self.deleted_runs: set[str] = set()
        self.meta_dirty = False
        # While a deadline fires, time reads as its due time, so its events (and whatever
        # they schedule) are dated when AWS would have recorded them, however late we run.
        self.firing_at: float | None = None

    # -- time, ids ---------------------------------------------------------------------------

    def now(self) -> float:
        """The current time of the engine's clock (the due time while a deadline fires).

        Cut to the millisecond, as AWS reports times: clients hand timestamps back through
        millisecond (or microsecond) datetimes, so a finer time would not survive the round
        trip and an inclusive time filter naming it could miss its own run.  Cut down, never
        rounded up, so deadlines counted from it are never later than the clock says.
        """
        if self.firing_at is not None:
            return self.firing_at
        raw = self.clock.now()
        cut = math.floor(raw * 1000) / 1000
        return cut if cut <= raw else cut - 0.001

    @staticmethod
    def new_id() -> str:
        """A fresh run id or task token."""
        return secrets.token_urlsafe(33)

    def next_seq(self) -> int:
        """A monotonically increasing number for tie-breaking in heaps."""
        return next(self._seq)

    # -- look-ups ----------------------------------------------------------------------------

    def domain(self, name: str, *, registered: bool = False) -> Domain:
        """The domain called ``name``.

        Raises:
            SWFFault: UnknownResourceFault if missing; DomainDeprecatedFault if ``registered``
                is asked for and the domain is deprecated.
        """
        found = self.domains.get(name)
        if found is None:
            raise unknown_resource(f"Unknown domain: {name}")
        if registered and found.status != "REGISTERED":
            raise domain_deprecated(f"Domain is deprecated: {name}")
        return found

    def find_type(self, kind: str, domain: str, ref: Json) -> RegisteredType | None:
        """The registered type named by ``ref`` ({name, version}), if any."""
        return self.types.get((kind, domain, str(ref.get("name")), str(ref.get("version"))))

    def open_execution(self, domain: str, workflow_id: str, run_id: str | None) -> Execution:
        """The open execution with this workflowId (and runId, when given).

        Raises:
            SWFFault: UnknownResourceFault when there is none.
        """
        current = self.open_by_id.get((domain, workflow_id))
        if current is None or (run_id and run_id != current):
            raise unknown_resource(
                f"Unknown execution: WorkflowExecution=[workflowId={workflow_id}"
                f", runId={run_id or ''}]"
            )
        return self.executions[current]

    def any_execution(self, domain: str, ref: Json) -> Execution:
        """The execution (open or closed) named by ``ref`` ({workflowId, runId}).

        Raises:
            SWFFault: UnknownResourceFault when there is none in ``domain``.
        """
        found = self.executions.get(str(ref.get("runId")))
        if found is None or found.domain != domain or found.workflow_id != ref.get("workflowId"):
            raise unknown_resource(
                f"Unknown execution: WorkflowExecution=[workflowId="
                f"{ref.get('workflowId')}, runId={ref.get('runId')}]"
            )
        return found

    # -- history -----------------------------------------------------------------------------

    def add_event(self, ex: Execution, event_type: str, attrs: Json) -> int:
        """Append an event to the history; returns its id.  ``None`` attributes are dropped.

        A run's history holds at most ``limits.events`` events (SWF's 25,000), the last of
        them its close: an event that would take the last place without closing the run is
        not recorded, nor is anything after it, and the run is terminated with
        ``EVENT_LIMIT_EXCEEDED`` as that last event once the current request is applied.
        """
        event_id = len(ex.history) + 1
        if event_type not in _CLOSE_EVENTS and (
            ex.run_id in self.over_limit or (event_id >= self.limits.events and ex.is_open)
        ):
            self.over_limit.add(ex.run_id)
            return event_id
        key = event_type[0].lower() + event_type[1:] + "EventAttributes"
        ex.history.append(
            {
                "eventId": event_id,
                "eventTimestamp": self.now(),
                "eventType": event_type,
                key: {k: v for k, v in attrs.items() if v is not None},
            }
        )
        self.dirty_runs.add(ex.run_id)
        return event_id

    # -- decision tasks ----------------------------------------------------------------------

    def need_decision(self, ex: Execution) -> None:
        """Something happened that the decider must see: schedule (or batch) a decision task."""
        if not ex.is_open:
            return
        if ex.dt_started or ex.dt_in_batch:
            ex.dt_pending = True
        elif not ex.dt_scheduled:
            self.schedule_decision(ex)

    def schedule_decision(self, ex: Execution) -> None:
        """Record ``DecisionTaskScheduled`` and put the task on the execution's task list."""
        ex.dt_pending = False
        ex.dt_queue = ex.dt_override or ex.task_list
        limit = (ex.dt_override_timeout or "NONE") if ex.dt_override else "NONE"
        ex.dt_scheduled = self.add_event(
            ex,
            "DecisionTaskScheduled",
            {
                "taskList": {"name": ex.dt_queue},
                "taskPriority": ex.priority,
                "startToCloseTimeout": ex.task_timeout,
                "scheduleToStartTimeout": limit,
            },
        )
        if limit != "NONE":
            ex.dt_schedule_deadline = self.now() + int(limit)
            self.add_deadline(ex.dt_schedule_deadline, "decision-start", ex.run_id, ex.dt_scheduled)
        self.enqueue(
            DECISION, ex.domain, ex.dt_queue, (ex.run_id, ex.dt_scheduled), _priority(ex.priority)
        )

    def end_decision_task(self, ex: Execution) -> None:
        """Forget the started decision task (completed, timed out, or execution closed)."""
        self.tokens.pop(ex.dt_token, None)
        ex.dt_scheduled = ex.dt_started = 0
        ex.dt_token = ""
        ex.dt_deadline = ex.dt_schedule_deadline = None

    # -- task lists --------------------------------------------------------------------------

    def enqueue(self, kind: str, domain: str, task_list: str, key: TaskKey, priority: int) -> None:
        """Make a task available to pollers of ``task_list``."""
        queue = self.queues.setdefault((kind, domain, task_list), TaskQueue())
        heapq.heappush(queue.heap, (-priority, self.next_seq(), key))
        queue.live.add(key)
        self.queued_total += 1
        for listener in self.task_listeners:
            listener(kind, domain, task_list)

    def dequeue(self, kind: str, domain: str, task_list: str) -> TaskKey | None:
        """Take the next live task of a task list, if any."""
        queue = self.queues.get((kind, domain, task_list))
        while queue is not None and queue.heap:
            _, _, key = heapq.heappop(queue.heap)
            if key in queue.live:
                queue.live.discard(key)
                self.queued_total -= 1
                queue.taken += 1
                return key
        return None

    def discard_task(self, kind: str, domain: str, task_list: str, key: TaskKey) -> None:
        """Withdraw a scheduled task (its heap entry is skipped when it surfaces)."""
        queue = self.queues.get((kind, domain, task_list))
        if queue is not None and key in queue.live:
            queue.live.discard(key)
            self.queued_total -= 1

    def pending_count(self, kind: str, domain: str, task_list: str) -> int:
        """How many tasks wait on a task list."""
        queue = self.queues.get((kind, domain, task_list))
        return 0 if queue is None else len(queue.live)

    # -- deadlines ---------------------------------------------------------------------------

    def add_deadline(self, due: float, kind: str, run_id: str, key: str | int = "") -> None:
        """Remember that something may happen at ``due``; the state decides when it comes."""
        heapq.heappush(self.deadlines, (due, self.next_seq(), kind, run_id, str(key)))
        for listener in self.deadline_listeners:
            listener()

    @property
    def is_idle(self) -> bool:
        """No task queued or in flight, and no Lambda function running."""
        return self.queued_total == 0 and not self.tokens and self.running_lambdas == 0

    def arn(self, domain: str) -> str:
        """The ARN of a domain."""
        return f"arn:aws:swf:{self.region}:{self.account}:/domain/{domain}"


def _priority(value: str | None) -> int:
    return int(value) if value else 0


def seconds(duration: str | None) -> float | None:
    """A duration string in seconds, or ``None`` for ``NONE``/missing."""
    if duration is None or duration == "NONE":
        return None
    return float(int(duration))
