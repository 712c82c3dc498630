"""How a run ends: the close decision made from the run's outcome.

The run task's outcome picks the decision: a result completes the execution, an uncaught
``CancelledError`` cancels it, :class:`~aioswf._decider.outcome.ContinueAsNew` continues it as
a new run, and any other exception fails it, with its type, message, traceback and causes.
Only ``NondeterminismError`` (unless the worker fails those too) and the types a worker lists
in ``retry_decision_task_on`` leave the decision task to be retried instead, visibly (see
:mod:`aioswf._decider.retrying`); errors that another try cannot change always fail.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aioswf._decider.commands import Command
from aioswf._decider.outcome import ALWAYS_FAIL, Activation, ContinueAsNew, _TaskFailed
from aioswf._failure import Failure, error_text
from aioswf.converter import check_size
from aioswf.exceptions import (
    ActivityCanceledError,
    ApplicationError,
    ChildWorkflowCanceledError,
    NondeterminismError,
    PayloadConversionError,
    PayloadError,
)
from aioswf.options import ChildPolicy, HandlerUnfinishedPolicy, WorkflowOptions

if TYPE_CHECKING:
    from aioswf._decider.instance import WorkflowInstance

logger = logging.getLogger(__name__)


class Closing:
    """The close decision of one run.

    Attributes:
        active: a close decision is made and SWF has not refused it.
    """

    def __init__(self, host: WorkflowInstance) -> None:
        self.host = host
        self.active = False

    def close_with_outcome(self, task: asyncio.Task[Any]) -> None:
        """Decide how the run ends now that its task is done."""
        if not task.cancelled() and self._held_by_handlers(task):
            return
        error = None if task.cancelled() else task.exception()
        if task.cancelled() or self._is_cancellation(error):
            self._add(Command("CancelWorkflowExecution", {}))
            return
        if error is not None:
            self.close_with_error(error)
            return
        try:
            data = check_size("workflow result", self.host.converter.encode_result(task.result()))
        except PayloadError as failure:
            # Another try would compute the same result: the execution fails, naming the size.
            self.close_with_error(failure)
            return
        self._add(Command("CompleteWorkflowExecution", {} if data is None else {"result": data}))

    def _held_by_handlers(self, task: asyncio.Task[Any]) -> bool:
        """Apply the policies of signal handlers still running as ``run()`` returns.

        Returns:
            Whether the close waits for them (a later step decides it).
        """
        error = task.exception()
        if error is not None and not isinstance(error, ContinueAsNew):
            return False  # the run failed: that is the news, not its handlers
        unfinished = self.host.signals.unfinished()
        if not unfinished:
            return False
        policies = {policy for _, policy in unfinished}
        if HandlerUnfinishedPolicy.WAIT in policies:
            return True
        names = ", ".join(repr(name) for name, _ in unfinished)
        if HandlerUnfinishedPolicy.FAIL in policies:
            self.close_with_error(
                ApplicationError(
                    f"run() returned while handlers of signals {names} were still running; "
                    "await workflow.wait_condition(workflow.all_handlers_finished) before "
                    "returning",
                    type="UnfinishedHandlers",
                )
            )
            return True
        if not self.host.is_replaying:
            logger.warning(
                "%s: run() returned while handlers of signals %s were still running; they "
                "are abandoned. Await workflow.wait_condition(workflow.all_handlers_finished) "
                "before returning, or choose another unfinished_policy in @workflow.signal",
                self.host.describe,
                names,
            )
        return False

    def _is_cancellation(self, error: BaseException | None) -> bool:
        # An activity or child cancelled with WAIT_CANCELLATION_COMPLETED reports how it
        # ended; after the workflow itself was asked to cancel, that is its cancellation.
        return self.host.cancel_requested and isinstance(
            error, ActivityCanceledError | ChildWorkflowCanceledError
        )

    def close_with_error(self, error: BaseException) -> None:
        """Fail (or continue) the run because of ``error``, or retry the decision task."""
        if isinstance(error, ContinueAsNew):
            self._add(Command("ContinueAsNewWorkflowExecution", error.attributes))
            return
        if self._retries_task(error):
            raise _TaskFailed(error)  # the poller answers with a back-off and logs it
        if not self.host.is_replaying:
            logger.warning(
                "%s failed: %s: %s",
                self.host.describe,
                type(error).__name__,
                error_text(error),
                # A bug's traceback says where; a failure on purpose or from history does not.
                exc_info=None
                if isinstance(error, ALWAYS_FAIL)
                else (type(error), error, error.__traceback__),
            )
        reason, details = Failure.from_exception(error).encode(self.host.converter)
        self._add(Command("FailWorkflowExecution", {"reason": reason, "details": details}))

    def refused(self, event_type: str, cause: str) -> None:
        """SWF refused the close for a reason other than news: fail the run, saying why."""
        what = event_type.removesuffix("Failed")
        if what == "FailWorkflowExecution":
            return  # failing again would be refused again: there is nothing else to decide
        self.active = False
        self.host.fail_run(
            ApplicationError(
                f"SWF refused the {what} decision that closes this run: {cause}",
                type="CloseRefused",
                non_retryable=True,
            ),
            replace=True,
        )

    def _add(self, command: Command) -> None:
        self.host.decisions.add(command)
        self.active = True

    def _retries_task(self, error: BaseException) -> bool:
        options = self.host.options
        if isinstance(error, NondeterminismError):
            return not options.fail_on_nondeterminism
        if isinstance(error, ALWAYS_FAIL):
            return False
        return isinstance(error, options.retry_decision_task_on)

    def on_nondeterminism(self, error: NondeterminismError) -> Activation:
        """The answer to a task whose code no longer matches history."""
        self.host.decisions.discard()
        if not self.host.options.fail_on_nondeterminism:
            return Activation(failure=error)
        reason, details = Failure.from_exception(error).encode(self.host.converter)
        command = Command("FailWorkflowExecution", {"reason": reason, "details": details})
        self.active = True
        logger.error("%s; failing the execution", error)
        return Activation([command.to_swf()], closing=True)


def continue_as_new_attributes(
    host: WorkflowInstance,
    args: Sequence[Any],
    options: WorkflowOptions,
    tags: Sequence[str] | None,
    headers: Mapping[str, str],
) -> dict[str, Any]:
    """The attributes of ``ContinueAsNewWorkflowExecution`` for the next run.

    SWF carries nothing over by itself; the next run keeps this run's task list, timeouts,
    child policy, priority, Lambda role and tags unless ``options`` and ``tags`` change them.

    Raises:
        PayloadConversionError: ``args`` do not fit the run method.
        PayloadTooLargeError: the encoded arguments are over SWF's limit.
    """
    definition = host.definition
    try:
        inspect.signature(definition.run_fn).bind(None, *args)
    except TypeError as error:
        raise PayloadConversionError(
            f"continue_as_new: arguments for {definition.cls.__qualname__}."
            f"{definition.run_method} do not fit its signature: {error}"
        ) from None
    info = host.info()
    current = WorkflowOptions(
        task_list=info.task_list,
        execution_start_to_close_timeout=info.execution_start_to_close_timeout,
        task_start_to_close_timeout=info.task_start_to_close_timeout,
        child_policy=ChildPolicy(info.child_policy) if info.child_policy else None,
        task_priority=info.task_priority,
        lambda_role=info.lambda_role,
    )
    merged = current.merged(options)
    attributes: dict[str, Any] = {"taskList": {"name": merged.task_list}, **merged.swf_timeouts()}
    optional = {
        "childPolicy": str(merged.child_policy) if merged.child_policy else None,
        "taskPriority": str(merged.task_priority) if merged.task_priority is not None else None,
        "lambdaRole": merged.lambda_role,
        "tagList": list(info.tags if tags is None else tags) or None,
        "input": host.converter.fit_input(
            f"input of the next run of {definition.type_key}",
            host.converter.encode_args(list(args)),
            headers,
        ),
    }
    attributes.update({key: value for key, value in optional.items() if value is not None})
    return attributes
