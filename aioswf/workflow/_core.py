"""The run itself: its identity, time, randomness, published state and logger."""

from __future__ import annotations

import logging
import random as _random
import sys
import uuid as _uuid
from asyncio import events
from collections.abc import MutableMapping
from datetime import datetime, timedelta
from typing import Any

from aioswf._decider.loop import WorkflowLoop
from aioswf._decider.runtime import WorkflowInfo, WorkflowRuntime, current_runtime
from aioswf.exceptions import WorkerError


def _runtime() -> WorkflowRuntime:
    loop = events._get_running_loop()
    if isinstance(loop, WorkflowLoop):  # `current_runtime()`, a call less for each API call
        runtime: WorkflowRuntime = loop.runtime
        return runtime
    raise WorkerError(
        f"workflow.{_public_caller()}() is only available inside workflow code (a "
        "@workflow.defn class's methods, run by a worker or a WorkflowEnvironment); "
        "outside a workflow use the plain Python or Client equivalent"
    )


def _public_caller() -> str:
    """The name of the ``aioswf.workflow`` function the user called, for messages."""
    frame = sys._getframe(2)
    name = "this function"
    while frame is not None and frame.f_globals.get("__name__", "").startswith("aioswf.workflow"):
        if not frame.f_code.co_name.startswith("_"):
            name = frame.f_code.co_name
        frame = frame.f_back  # type: ignore[assignment]
    return name


def _seconds(value: timedelta | None, what: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, timedelta):
        raise TypeError(f"{what} must be a datetime.timedelta, got {value!r}")
    if value < timedelta(0):
        raise ValueError(f"{what} must not be negative, got {value}")
    return value.total_seconds()


def info() -> WorkflowInfo:
    """The run this code belongs to: ids, type, task list, start time, timeouts."""
    return _runtime().info()


def now() -> datetime:
    """The current time of the workflow (UTC): the timestamp of the decision task.

    Use it instead of ``datetime.now()``, which would differ on replay.
    """
    return _runtime().now()


def random() -> _random.Random:
    """A random generator seeded from the run id: the same numbers on every replay."""
    return _runtime().random()


def uuid4() -> _uuid.UUID:
    """A random UUID that is the same on every replay."""
    return _runtime().uuid4()


def is_replaying() -> bool:
    """Whether the code is re-running a decision task that history already records."""
    return _runtime().is_replaying


def all_handlers_finished() -> bool:
    """Whether every signal handler that started has finished.

    ``run()`` can wait for them before it returns, so that none is abandoned:
    ``await workflow.wait_condition(workflow.all_handlers_finished)``.
    """
    return _runtime().all_handlers_finished()


def set_state(value: Any) -> None:
    """Publish ``value`` (anything the converter encodes as JSON) as the execution context.

    ``DescribeWorkflowExecution`` (``handle.describe().state``) shows the latest one. It is
    sent with the decision task's answer, only when it changed.

    Raises:
        PayloadTooLargeError: the JSON is over SWF's 32,768 characters.
    """
    _runtime().set_state(value)


class _WorkflowLogger(logging.LoggerAdapter[logging.Logger]):
    """Quiet while replaying (a message is logged once, when its code first runs), and
    tagged with the run's ids."""

    def isEnabledFor(self, level: int) -> bool:
        runtime = current_runtime()
        if runtime is not None and runtime.is_replaying:
            return False
        return self.logger.isEnabledFor(level)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        runtime = current_runtime()
        if runtime is not None:
            try:
                run_info = runtime.info()
            except WorkerError:  # logging from the constructor, before the run started
                return msg, kwargs
            ids = {"workflow_id": run_info.workflow_id, "run_id": run_info.run_id}
            kwargs["extra"] = {**ids, **(kwargs.get("extra") or {})}
        return msg, kwargs


logger: logging.LoggerAdapter[logging.Logger] = _WorkflowLogger(
    logging.getLogger("aioswf.workflow"), {}
)
"""The workflow's logger: records carry ``workflow_id`` and ``run_id``; nothing is logged
while a decision task is being replayed."""
