"""ScheduleLambdaFunction: the engine's side of running a registered Python callable.

The engine only records events; running the callable is the job of a :class:`FunctionRunner`
given to the engine (see ``aioswf.local.lambdas``), which reports back through
:func:`finish`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from aioswf.local.engine.core import EngineState, seconds
from aioswf.local.engine.state import Execution, Json, LambdaState

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = "300"


class FunctionRunner(Protocol):
    """Runs the callables behind Lambda function tasks."""

    def has(self, name: str) -> bool:
        """Whether a callable is registered under ``name``."""
        ...

    def start(self, run_id: str, scheduled_id: int, name: str, payload: str | None) -> None:
        """Start the callable; report its outcome with :func:`finish` later."""
        ...


def schedule(
    eng: EngineState, ex: Execution, completed_id: int, attrs: Json, after: list[Callable[[], None]]
) -> None:
    """Record ``LambdaFunctionScheduled`` (or the failure) and start it after the batch."""
    lambda_id, name = attrs["id"], attrs["name"]
    cause = None
    if lambda_id in ex.lambdas:
        cause = "ID_ALREADY_IN_USE"
    elif len(ex.lambdas) >= eng.limits.open_lambdas:
        cause = "OPEN_LAMBDA_FUNCTIONS_LIMIT_EXCEEDED"
    if cause is not None:
        eng.add_event(
            ex,
            "ScheduleLambdaFunctionFailed",
            {
                "id": lambda_id,
                "name": name,
                "cause": cause,
                "decisionTaskCompletedEventId": completed_id,
            },
        )
        eng.need_decision(ex)
        return
    timeout = attrs.get("startToCloseTimeout") or DEFAULT_TIMEOUT
    scheduled = eng.add_event(
        ex,
        "LambdaFunctionScheduled",
        {
            "id": lambda_id,
            "name": name,
            "control": attrs.get("control"),
            "input": attrs.get("input"),
            "startToCloseTimeout": timeout,
            "decisionTaskCompletedEventId": completed_id,
        },
    )
    state = LambdaState(
        lambda_id=lambda_id,
        name=name,
        scheduled_id=scheduled,
        timeout=timeout,
        input=attrs.get("input"),
    )
    ex.lambdas[lambda_id] = state
    ex.lambda_ids[scheduled] = lambda_id
    after.append(lambda: start(eng, ex, state))


def start(eng: EngineState, ex: Execution, state: LambdaState) -> None:
    """Hand a scheduled function to the runner, or record why it could not start."""
    runner = eng.function_runner
    if not ex.is_open or ex.lambdas.get(state.lambda_id) is not state:
        return
    if runner is None or not runner.has(state.name):
        _forget(ex, state)
        eng.add_event(
            ex,
            "StartLambdaFunctionFailed",
            {
                "scheduledEventId": state.scheduled_id,
                "message": f"No function registered with the local service as {state.name!r}",
            },
        )
        eng.need_decision(ex)
        return
    state.started_id = eng.add_event(
        ex, "LambdaFunctionStarted", {"scheduledEventId": state.scheduled_id}
    )
    limit = seconds(state.timeout)
    if limit is not None:
        state.deadline = eng.now() + limit
        eng.add_deadline(state.deadline, "lambda", ex.run_id, state.scheduled_id)
    runner.start(ex.run_id, state.scheduled_id, state.name, state.input)


def finish(
    eng: EngineState,
    run_id: str,
    scheduled_id: int,
    *,
    result: str | None = None,
    failure: tuple[str, str] | None = None,
) -> None:
    """Record the outcome of a function; ignored when it timed out or the run closed."""
    ex = eng.executions.get(run_id)
    lambda_id = ex.lambda_ids.get(scheduled_id) if ex is not None else None
    if ex is None or lambda_id is None or not ex.is_open:
        return
    state = ex.lambdas[lambda_id]
    _forget(ex, state)
    attrs: Json = {"scheduledEventId": scheduled_id, "startedEventId": state.started_id}
    if failure is None:
        eng.add_event(ex, "LambdaFunctionCompleted", {**attrs, "result": result})
    else:
        reason, details = failure
        eng.add_event(ex, "LambdaFunctionFailed", {**attrs, "reason": reason, "details": details})
    eng.need_decision(ex)


def time_out(eng: EngineState, ex: Execution, state: LambdaState) -> None:
    """Record ``LambdaFunctionTimedOut``."""
    _forget(ex, state)
    eng.add_event(
        ex,
        "LambdaFunctionTimedOut",
        {
            "scheduledEventId": state.scheduled_id,
            "startedEventId": state.started_id,
            "timeoutType": "START_TO_CLOSE",
        },
    )
    eng.need_decision(ex)


def _forget(ex: Execution, state: LambdaState) -> None:
    del ex.lambdas[state.lambda_id]
    del ex.lambda_ids[state.scheduled_id]
