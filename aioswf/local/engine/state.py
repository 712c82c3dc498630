"""The records the engine keeps: domains, types, executions and what is open inside them.

Everything here is plain data (JSON-compatible fields), so the SQLite store can save an
execution as one row and its history as rows of events.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]


@dataclass
class Domain:
    """A registered (or deprecated) domain."""

    name: str
    retention: str
    description: str | None = None
    status: str = "REGISTERED"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class RegisteredType:
    """A workflow or activity type with its registration defaults."""

    kind: str  # "workflow" or "activity"
    domain: str
    name: str
    version: str
    creation: float
    config: Json = field(default_factory=dict)
    description: str | None = None
    status: str = "REGISTERED"
    deprecation: float | None = None

    @property
    def ref(self) -> Json:
        """The ``{name, version}`` object that names this type on the wire."""
        return {"name": self.name, "version": self.version}


@dataclass
class ActivityState:
    """An open (scheduled or started) activity task of an execution."""

    activity_id: str
    activity_type: Json
    scheduled_id: int
    task_list: str
    priority: int
    timeouts: dict[str, str]
    input: str | None = None
    started_id: int = 0
    token: str = ""
    details: str | None = None
    cancel_requested_id: int = 0
    schedule_to_start_at: float | None = None
    schedule_to_close_at: float | None = None
    start_to_close_at: float | None = None
    heartbeat_at: float | None = None


@dataclass
class TimerState:
    """A started timer."""

    timer_id: str
    started_id: int
    fire_at: float


@dataclass
class ChildState:
    """A child workflow initiated by an execution and not yet closed."""

    initiated_id: int
    workflow_id: str
    workflow_type: Json
    run_id: str = ""
    started_id: int = 0


@dataclass
class LambdaState:
    """A scheduled or running Lambda function task."""

    lambda_id: str
    name: str
    scheduled_id: int
    timeout: str
    input: str | None = None
    started_id: int = 0
    deadline: float | None = None


@dataclass
class Execution:
    """One run of a workflow: its configuration, history and open work."""

    domain: str
    workflow_id: str
    run_id: str
    workflow_type: Json
    task_list: str
    child_policy: str
    execution_timeout: str
    task_timeout: str
    start_ts: float
    number: int = 0  # start order in the engine: breaks ties between equal start times
    priority: str | None = None
    lambda_role: str | None = None
    tags: list[str] = field(default_factory=list)
    parent: Json | None = None
    parent_initiated_id: int = 0
    close_ts: float | None = None
    close_status: str | None = None
    cancel_requested: bool = False
    latest_context: str | None = None
    latest_activity_ts: float | None = None
    timeout_at: float | None = None
    expire_at: float | None = None
    # The decision task: at most one scheduled or one started, plus "pending" when events
    # arrived while a task was started (they are batched into the next task).
    dt_scheduled: int = 0
    dt_started: int = 0
    dt_token: str = ""
    dt_deadline: float | None = None
    dt_pending: bool = False
    dt_in_batch: bool = False
    # Where the scheduled decision task waits, and the override a decider may have set with
    # RespondDecisionTaskCompleted(taskList=...), reverted if the task is not started in time.
    dt_queue: str = ""
    dt_override: str = ""
    dt_override_timeout: str | None = None
    dt_schedule_deadline: float | None = None
    previous_started: int = 0
    activities: dict[str, ActivityState] = field(default_factory=dict)
    activity_ids: dict[int, str] = field(default_factory=dict)
    timers: dict[str, TimerState] = field(default_factory=dict)
    children: dict[int, ChildState] = field(default_factory=dict)
    lambdas: dict[str, LambdaState] = field(default_factory=dict)
    lambda_ids: dict[int, str] = field(default_factory=dict)
    history: list[Json] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        """Whether the execution has not closed yet."""
        return self.close_status is None

    @property
    def ref(self) -> Json:
        """The ``{workflowId, runId}`` object that names this execution on the wire."""
        return {"workflowId": self.workflow_id, "runId": self.run_id}

    def to_record(self) -> Json:
        """Everything but the history, as JSON-compatible data."""
        record = dataclasses.asdict(self)
        del record["history"]
        for name in ("activity_ids", "children", "lambda_ids"):
            record[name] = {str(key): value for key, value in record[name].items()}
        return record

    @classmethod
    def from_record(cls, record: Json, history: list[Json]) -> Execution:
        """Rebuild an execution saved by :meth:`to_record`."""
        data = dict(record)
        data["activities"] = {k: ActivityState(**v) for k, v in data["activities"].items()}
        data["activity_ids"] = {int(k): v for k, v in data["activity_ids"].items()}
        data["timers"] = {k: TimerState(**v) for k, v in data["timers"].items()}
        data["children"] = {int(k): ChildState(**v) for k, v in data["children"].items()}
        data["lambdas"] = {k: LambdaState(**v) for k, v in data["lambdas"].items()}
        data["lambda_ids"] = {int(k): v for k, v in data["lambda_ids"].items()}
        return cls(**data, history=history)
