"""Lambda tasks, and values recorded once in history: patches and side effects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from aioswf.workflow._core import _runtime

T = TypeVar("T")


async def execute_lambda(
    name: str,
    input: Any = None,
    *,
    start_to_close_timeout: timedelta | None = None,
    result_type: Any = Any,
) -> Any:
    """Run the AWS Lambda function ``name`` as a task of this workflow and return its result.

    SWF invokes the function with the IAM role the execution was started with
    (``lambda_role``); the local service runs a Python callable registered with
    ``LocalSWF.register_lambda``.

    Args:
        name: the function's name (or ARN).
        input: one value, sent as JSON (the function's event).
        start_to_close_timeout: how long the function may run; SWF's default is 5 minutes.
        result_type: the type the JSON result is validated into.

    Raises:
        LambdaFunctionFailedError: the function failed (``reason``, ``details``).
        LambdaFunctionTimedOutError: it ran out of time.
        ScheduleLambdaFunctionFailedError: SWF refused to schedule it (``cause``).
    """
    return await _runtime().execute_lambda(name, input, start_to_close_timeout, result_type)


# --- versioning and side effects -----------------------------------------------------------


def patched(patch_id: str) -> bool:
    """Whether this run takes the new code of the change named ``patch_id``.

    Guard a change to a workflow's decisions with it, keeping the old code in the other
    branch: executions that ran past this point before the change replay the old branch;
    all others take the new one, and a marker in history records that they did. Every call
    with the same id in one run gives the same answer.

    Example:
        >>> if workflow.patched("send-receipt"):
        ...     await workflow.execute_activity(send_receipt, order_id)
    """
    return _runtime().patched(patch_id)


def deprecate_patch(patch_id: str) -> None:
    """Say that ``patch_id``'s old branch is gone: every run takes the new code.

    The second step of a patch's life. Once no open execution can replay the old branch,
    replace ``if workflow.patched(id): new() else: old()`` with
    ``workflow.deprecate_patch(id); new()``. It records no marker; histories recorded with
    the patch's marker replay (their marker is skipped), and so do histories recorded
    without it. Remove the call too once no open execution recorded the marker; until
    then it keeps the id taken, so that no new patch reuses it and reads an old marker.

    Example:
        >>> workflow.deprecate_patch("send-receipt")
        ... await workflow.execute_activity(send_receipt, order_id)
    """
    _runtime().deprecate_patch(patch_id)


def side_effect(fn: Callable[[], T]) -> T:
    """Call ``fn`` once and record its value; replays return the recorded value.

    For small non-deterministic values (an id from another library, a configuration
    read) that do not deserve an activity. The value goes through the converter (typed by
    ``fn``'s return annotation), and is the same on the first run and every replay. An
    exception raised by ``fn`` is not recorded.
    """
    value: T = _runtime().side_effect(fn)
    return value
