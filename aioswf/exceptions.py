"""The exceptions of aioswf.

Every exception the library raises derives from :class:`AioSWFError`::

    AioSWFError
    ├── ServiceError                      a fault answered by SWF (one class per fault)
    │   ├── UnknownResourceError          UnknownResourceFault
    │   ├── DomainAlreadyExistsError      DomainAlreadyExistsFault
    │   ├── DomainDeprecatedError         DomainDeprecatedFault
    │   ├── TypeAlreadyExistsError        TypeAlreadyExistsFault
    │   ├── TypeDeprecatedError           TypeDeprecatedFault
    │   ├── TypeNotDeprecatedError        TypeNotDeprecatedFault
    │   ├── WorkflowAlreadyStartedError   WorkflowExecutionAlreadyStartedFault
    │   ├── DefaultUndefinedError         DefaultUndefinedFault
    │   ├── LimitExceededError            LimitExceededFault
    │   ├── TooManyTagsError              TooManyTagsFault
    │   ├── OperationNotPermittedError    OperationNotPermittedFault, AccessDenied…
    │   ├── ValidationError               ValidationException (the request was malformed)
    │   ├── ThrottlingError               ThrottlingException, after the retries ran out
    │   └── ServiceUnavailableError       5xx answers and network faults, after the retries
    ├── PayloadError
    │   ├── PayloadTooLargeError          a field over SWF's size limit, before any request
    │   ├── PayloadConversionError        a value that cannot be encoded or decoded
    │   └── PayloadStoreError             the payload store failed to read or write (transient)
    ├── DefinitionError                   a workflow or activity declared wrongly
    ├── WorkflowExecutionError            how an execution ended, seen by a client
    │   ├── WorkflowFailedError
    │   ├── WorkflowCanceledError
    │   ├── WorkflowTerminatedError
    │   └── WorkflowTimedOutError
    ├── ActivityError                     an activity's outcome, seen inside a workflow
    │   ├── ActivityFailedError
    │   ├── ActivityTimedOutError
    │   ├── ActivityCanceledError
    │   └── ScheduleActivityFailedError
    ├── ChildWorkflowError                a child's outcome, seen inside its parent
    │   ├── ChildWorkflowFailedError
    │   ├── ChildWorkflowTimedOutError
    │   ├── ChildWorkflowCanceledError
    │   ├── ChildWorkflowTerminatedError
    │   └── StartChildWorkflowFailedError
    ├── ExternalWorkflowError             a signal or cancel to another execution failed
    │   ├── SignalExternalWorkflowFailedError
    │   └── RequestCancelExternalWorkflowFailedError
    ├── TimerError
    │   └── StartTimerFailedError
    ├── LambdaFunctionError
    │   ├── LambdaFunctionFailedError
    │   ├── LambdaFunctionTimedOutError
    │   └── ScheduleLambdaFunctionFailedError
    ├── ApplicationError                  raised by user code to fail on purpose
    ├── NondeterminismError               workflow code no longer matches its history
    ├── HistoryError                      a recorded history that is not a valid one
    ├── WorkflowDeadlockError             a workflow step did not yield in time
    └── WorkerError                       a worker used or configured wrongly

Internal control flow (continue-as-new, eviction of a cached workflow) derives from
``BaseException`` so that a user's ``except Exception`` cannot swallow it; it lives with the
runtime, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class AioSWFError(Exception):
    """Base of every exception raised by aioswf."""


# --- Faults answered by SWF ---------------------------------------------------------------


class ServiceError(AioSWFError):
    """SWF answered a call with a fault.

    Attributes:
        operation: the SWF operation that failed, e.g. ``"StartWorkflowExecution"``.
        code: the fault's code as SWF names it, e.g. ``"UnknownResourceFault"``.
        service_message: the message SWF gave, unchanged.
        after_lost_answer: an earlier attempt of the same call reached SWF and its answer
            was lost, so SWF may have applied that one: an answer to a task refused as
            unknown was then most likely recorded by the earlier attempt.
    """

    def __init__(
        self, message: str, *, operation: str, code: str, service_message: str = ""
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.code = code
        self.service_message = service_message
        self.after_lost_answer = False


class UnknownResourceError(ServiceError):
    """The domain, type, execution or task named does not exist (or no longer does)."""


class DomainAlreadyExistsError(ServiceError):
    """A domain of that name is already registered."""


class DomainDeprecatedError(ServiceError):
    """The domain is deprecated."""


class TypeAlreadyExistsError(ServiceError):
    """A workflow or activity type of that name and version is already registered."""


class TypeDeprecatedError(ServiceError):
    """The workflow or activity type is deprecated."""


class TypeNotDeprecatedError(ServiceError):
    """The type must be deprecated before it can be deleted."""


class WorkflowAlreadyStartedError(ServiceError):
    """An open execution with that workflow id already exists in the domain.

    Attributes:
        workflow_id: the id that is in use.
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str,
        code: str,
        service_message: str = "",
        workflow_id: str = "",
    ) -> None:
        super().__init__(message, operation=operation, code=code, service_message=service_message)
        self.workflow_id = workflow_id


class DefaultUndefinedError(ServiceError):
    """A value was given neither in the call nor as a default of the registered type."""


class LimitExceededError(ServiceError):
    """A quota of SWF was exceeded (open executions, registered types, pollers…)."""


class TooManyTagsError(ServiceError):
    """More tags than SWF allows on one resource."""


class OperationNotPermittedError(ServiceError):
    """The caller is not allowed to do this (IAM), or the operation is not permitted now."""


class ValidationError(ServiceError):
    """SWF rejected the request as malformed; nothing of it was applied."""


class ThrottlingError(ServiceError):
    """SWF kept throttling the call after every retry."""


class ServiceUnavailableError(ServiceError):
    """SWF could not be reached or answered with a server error, after every retry."""


# --- Payloads --------------------------------------------------------------------------------


class PayloadError(AioSWFError):
    """A payload could not be sent or read."""


class PayloadTooLargeError(PayloadError):
    """A field is longer than SWF accepts; raised before any request is sent.

    Attributes:
        field: which field, e.g. ``"input"`` or ``"heartbeat details"``.
        size: its length in characters.
        limit: SWF's limit in characters.
    """

    def __init__(self, field: str, size: int, limit: int, *, advice: str | None = None) -> None:
        super().__init__(
            f"{field} is {size:,} characters long; SWF accepts at most {limit:,}. "
            + (
                advice
                or "Pass a reference (an object-store key, a database id) instead of the data "
                "itself, or give the converter a payload store that does it for you: "
                "DataConverter(payload_store=S3PayloadStore(...))."
            )
        )
        self.field = field
        self.size = size
        self.limit = limit


class PayloadConversionError(PayloadError):
    """A value could not be encoded to, or decoded from, its wire form."""


class PayloadStoreError(PayloadError):
    """The payload store failed to read or write a payload (an outage, throttling…).

    Unlike :class:`PayloadConversionError`, the payload itself is fine: workers treat this
    as transient, and retry the task that needed it (an activity by its retry policy, a
    decision task after a back-off).
    """


# --- Definitions and workers -------------------------------------------------------------------


class DefinitionError(AioSWFError):
    """A workflow or activity is declared wrongly (missing decorator, bad option…)."""


class WorkerError(AioSWFError):
    """A worker is configured or used wrongly."""


# --- Outcomes of executions, seen by a client ------------------------------------------------


class WorkflowExecutionError(AioSWFError):
    """The execution did not complete.

    Attributes:
        workflow_id: the execution's workflow id.
        run_id: the id of the run that closed.
    """

    def __init__(self, message: str, *, workflow_id: str, run_id: str) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.run_id = run_id


class WorkflowFailedError(WorkflowExecutionError):
    """The execution failed (``FailWorkflowExecution``).

    Attributes:
        reason: the failure's reason; for exceptions raised by workflow code, the type name.
        details: the failure's details, decoded when they are aioswf's failure form.
        message: the original exception's message, when there was one.
        traceback: where the workflow code raised it, formatted (possibly truncated).
    """

    def __init__(
        self,
        *,
        workflow_id: str,
        run_id: str,
        reason: str,
        message: str,
        details: Sequence[Any] = (),
        traceback: str = "",
    ) -> None:
        super().__init__(
            f"workflow {workflow_id!r} (run {run_id}) failed: {reason}: {message}",
            workflow_id=workflow_id,
            run_id=run_id,
        )
        self.reason = reason
        self.message = message
        self.details = tuple(details)
        self.traceback = traceback
        if traceback:
            # Shown under the error by Python and pytest: where the workflow code raised.
            self.add_note(f"Traceback in the workflow:\n{traceback.rstrip()}")

    @property
    def cause(self) -> BaseException | None:
        """The exception the workflow raised, rebuilt: an activity or child failure comes
        back as its own class (:class:`ActivityFailedError`, :class:`ChildWorkflowFailedError`
        with its own ``cause``, …), anything else as :class:`ApplicationError` whose ``type``
        is the original type name; its ``__cause__`` chain follows the original's."""
        return self.__cause__


class WorkflowCanceledError(WorkflowExecutionError):
    """The execution was canceled. ``details`` are what the workflow reported."""

    def __init__(self, *, workflow_id: str, run_id: str, details: str | None = None) -> None:
        super().__init__(
            f"workflow {workflow_id!r} (run {run_id}) was canceled",
            workflow_id=workflow_id,
            run_id=run_id,
        )
        self.details = details


class WorkflowTerminatedError(WorkflowExecutionError):
    """The execution was terminated (by an operator, a child policy or the event limit)."""

    def __init__(
        self,
        *,
        workflow_id: str,
        run_id: str,
        reason: str | None = None,
        details: str | None = None,
        cause: str | None = None,
    ) -> None:
        why = f": {reason}" if reason else ""
        by = f" ({cause})" if cause else ""
        super().__init__(
            f"workflow {workflow_id!r} (run {run_id}) was terminated{by}{why}",
            workflow_id=workflow_id,
            run_id=run_id,
        )
        self.reason = reason
        self.details = details
        self.cause = cause


class WorkflowTimedOutError(WorkflowExecutionError):
    """The execution ran past its ``execution_start_to_close_timeout``."""

    def __init__(self, *, workflow_id: str, run_id: str, timeout_type: str) -> None:
        super().__init__(
            f"workflow {workflow_id!r} (run {run_id}) timed out ({timeout_type})",
            workflow_id=workflow_id,
            run_id=run_id,
        )
        self.timeout_type = timeout_type


# --- Outcomes seen inside a workflow ---------------------------------------------------------


class ActivityError(AioSWFError):
    """An activity scheduled by the workflow did not complete.

    Attributes:
        activity_id: the activity's id within the execution.
        activity_type: ``"name/version"`` of the activity type.
    """

    def __init__(self, message: str, *, activity_id: str, activity_type: str) -> None:
        super().__init__(message)
        self.activity_id = activity_id
        self.activity_type = activity_type


class ActivityFailedError(ActivityError):
    """The activity raised, or reported failure.

    Attributes:
        type_name: the type name of the exception raised in the activity (SWF's ``reason``).
        message: that exception's message.
        details: the details it carried (``ApplicationError`` details), decoded.
        traceback: the activity's formatted traceback, possibly truncated.
        non_retryable: whether the activity asked not to be retried.
        heartbeat_details: the last heartbeat details the attempt sent (encoded), if any;
            a retry reads them as ``activity.info().heartbeat_details``.
    """

    def __init__(
        self,
        *,
        activity_id: str,
        activity_type: str,
        type_name: str,
        message: str,
        details: Sequence[Any] = (),
        traceback: str = "",
        non_retryable: bool = False,
        heartbeat_details: str | None = None,
    ) -> None:
        super().__init__(
            f"activity {activity_type} (id {activity_id!r}) failed: {type_name}: {message}",
            activity_id=activity_id,
            activity_type=activity_type,
        )
        self.type_name = type_name
        self.message = message
        self.details = tuple(details)
        self.traceback = traceback
        self.non_retryable = non_retryable
        self.heartbeat_details = heartbeat_details


class ActivityTimedOutError(ActivityError):
    """The activity ran out of time.

    Attributes:
        timeout_type: ``START_TO_CLOSE``, ``SCHEDULE_TO_START``, ``SCHEDULE_TO_CLOSE`` or
            ``HEARTBEAT``.
        details: the last heartbeat details, if any.
    """

    def __init__(
        self,
        *,
        activity_id: str,
        activity_type: str,
        timeout_type: str,
        details: str | None = None,
    ) -> None:
        super().__init__(
            f"activity {activity_type} (id {activity_id!r}) timed out ({timeout_type})",
            activity_id=activity_id,
            activity_type=activity_type,
        )
        self.timeout_type = timeout_type
        self.details = details


class ActivityCanceledError(ActivityError):
    """The activity acknowledged a cancellation request."""

    def __init__(self, *, activity_id: str, activity_type: str, details: str | None = None) -> None:
        super().__init__(
            f"activity {activity_type} (id {activity_id!r}) was canceled",
            activity_id=activity_id,
            activity_type=activity_type,
        )
        self.details = details


class ScheduleActivityFailedError(ActivityError):
    """SWF refused to schedule the activity; ``cause`` says why."""

    def __init__(self, *, activity_id: str, activity_type: str, cause: str) -> None:
        super().__init__(
            f"activity {activity_type} (id {activity_id!r}) could not be scheduled: {cause}",
            activity_id=activity_id,
            activity_type=activity_type,
        )
        self.cause = cause


class ChildWorkflowError(AioSWFError):
    """A child workflow did not complete.

    Attributes:
        workflow_id: the child's workflow id.
        run_id: the child's run id ("" when it never started).
        workflow_type: ``"name/version"`` of the child's type.
    """

    def __init__(self, message: str, *, workflow_id: str, run_id: str, workflow_type: str) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.workflow_type = workflow_type


class ChildWorkflowFailedError(ChildWorkflowError):
    """The child workflow failed; ``reason``, ``message`` and ``details`` say how."""

    def __init__(
        self,
        *,
        workflow_id: str,
        run_id: str,
        workflow_type: str,
        reason: str,
        message: str,
        details: Sequence[Any] = (),
    ) -> None:
        super().__init__(
            f"child workflow {workflow_id!r} ({workflow_type}) failed: {reason}: {message}",
            workflow_id=workflow_id,
            run_id=run_id,
            workflow_type=workflow_type,
        )
        self.reason = reason
        self.message = message
        self.details = tuple(details)

    @property
    def cause(self) -> BaseException | None:
        """The exception the child raised, rebuilt as :attr:`WorkflowFailedError.cause` is."""
        return self.__cause__


class ChildWorkflowTimedOutError(ChildWorkflowError):
    """The child workflow timed out."""

    def __init__(
        self, *, workflow_id: str, run_id: str, workflow_type: str, timeout_type: str
    ) -> None:
        super().__init__(
            f"child workflow {workflow_id!r} ({workflow_type}) timed out ({timeout_type})",
            workflow_id=workflow_id,
            run_id=run_id,
            workflow_type=workflow_type,
        )
        self.timeout_type = timeout_type


class ChildWorkflowCanceledError(ChildWorkflowError):
    """The child workflow was canceled."""

    def __init__(
        self, *, workflow_id: str, run_id: str, workflow_type: str, details: str | None = None
    ) -> None:
        super().__init__(
            f"child workflow {workflow_id!r} ({workflow_type}) was canceled",
            workflow_id=workflow_id,
            run_id=run_id,
            workflow_type=workflow_type,
        )
        self.details = details


class ChildWorkflowTerminatedError(ChildWorkflowError):
    """The child workflow was terminated."""

    def __init__(self, *, workflow_id: str, run_id: str, workflow_type: str) -> None:
        super().__init__(
            f"child workflow {workflow_id!r} ({workflow_type}) was terminated",
            workflow_id=workflow_id,
            run_id=run_id,
            workflow_type=workflow_type,
        )


class StartChildWorkflowFailedError(ChildWorkflowError):
    """SWF refused to start the child; ``cause`` says why (e.g. ``WORKFLOW_ALREADY_RUNNING``)."""

    def __init__(self, *, workflow_id: str, workflow_type: str, cause: str) -> None:
        super().__init__(
            f"child workflow {workflow_id!r} ({workflow_type}) could not be started: {cause}",
            workflow_id=workflow_id,
            run_id="",
            workflow_type=workflow_type,
        )
        self.cause = cause


class ExternalWorkflowError(AioSWFError):
    """A decision aimed at another execution failed.

    Attributes:
        workflow_id: the target's workflow id.
        run_id: the target's run id, if one was given.
        cause: SWF's cause, e.g. ``UNKNOWN_EXTERNAL_WORKFLOW_EXECUTION``.
    """

    def __init__(self, message: str, *, workflow_id: str, run_id: str | None, cause: str) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.cause = cause


class SignalExternalWorkflowFailedError(ExternalWorkflowError):
    """A signal to another execution could not be delivered."""


class RequestCancelExternalWorkflowFailedError(ExternalWorkflowError):
    """A cancel request to another execution could not be delivered."""


class TimerError(AioSWFError):
    """A durable timer could not be used."""


class StartTimerFailedError(TimerError):
    """SWF refused to start a timer; ``cause`` says why."""

    def __init__(self, *, timer_id: str, cause: str) -> None:
        super().__init__(f"timer {timer_id!r} could not be started: {cause}")
        self.timer_id = timer_id
        self.cause = cause


class LambdaFunctionError(AioSWFError):
    """A Lambda task scheduled by the workflow did not complete."""

    def __init__(self, message: str, *, lambda_id: str, name: str) -> None:
        super().__init__(message)
        self.lambda_id = lambda_id
        self.name = name


class LambdaFunctionFailedError(LambdaFunctionError):
    """The Lambda function failed; ``reason`` and ``details`` are what it reported."""

    def __init__(
        self, *, lambda_id: str, name: str, reason: str | None, details: str | None
    ) -> None:
        super().__init__(
            f"lambda function {name!r} (id {lambda_id!r}) failed: {reason}",
            lambda_id=lambda_id,
            name=name,
        )
        self.reason = reason
        self.details = details


class LambdaFunctionTimedOutError(LambdaFunctionError):
    """The Lambda function ran out of time."""

    def __init__(self, *, lambda_id: str, name: str, timeout_type: str) -> None:
        super().__init__(
            f"lambda function {name!r} (id {lambda_id!r}) timed out ({timeout_type})",
            lambda_id=lambda_id,
            name=name,
        )
        self.timeout_type = timeout_type


class ScheduleLambdaFunctionFailedError(LambdaFunctionError):
    """SWF refused to schedule the Lambda function; ``cause`` says why."""

    def __init__(self, *, lambda_id: str, name: str, cause: str) -> None:
        super().__init__(
            f"lambda function {name!r} (id {lambda_id!r}) could not be scheduled: {cause}",
            lambda_id=lambda_id,
            name=name,
        )
        self.cause = cause


# --- Raised by user code and by the runtime --------------------------------------------------


class ApplicationError(AioSWFError):
    """Raise this from workflow or activity code to fail on purpose.

    In a workflow it fails the execution with ``type`` (or ``"ApplicationError"``) as the
    reason; in an activity it fails the activity task the same way. ``details`` travel with it
    through the converter.

    Args:
        message: what went wrong, for people.
        *details: values that travel with the failure.
        type: a name for the kind of failure; defaults to the class name.
        non_retryable: if true, a retry policy does not retry it.

    Attributes:
        exceptions: when it stands for an exception group that crossed SWF (a
            ``TaskGroup``'s failure, say), the group's members, each rebuilt the same way
            (typed aioswf errors, or ``ApplicationError`` with the original ``type``);
            empty otherwise.
    """

    exceptions: tuple[BaseException, ...] = ()

    def __init__(
        self,
        message: str,
        *details: Any,
        type: str | None = None,
        non_retryable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.type = type
        self.non_retryable = non_retryable


class NondeterminismError(AioSWFError):
    """Workflow code made decisions that differ from those its history records.

    Usually the code changed in a way that old executions cannot replay; guard the change
    with ``workflow.patched()``.
    """


class HistoryError(AioSWFError, ValueError):
    """A history (a file, or events given to the replayer) that SWF could not have written.

    The message names the history, the event and the field at fault, e.g. ``order.json:
    event 7 (DecisionTaskCompleted): decisionTaskCompletedEventAttributes.startedEventId is
    missing``.

    Attributes:
        history: how the history is named (its file, or ``"history"``).
        event_id: the id of the event at fault, if one is.
        event_type: its type, if known.
        field: the dotted path of the field at fault within the event, if one is.
    """

    def __init__(
        self,
        history: str,
        problem: str,
        *,
        event_id: Any = None,
        event_type: str | None = None,
        field: str | None = None,
    ) -> None:
        where = ""
        if event_id is not None:
            where = f"event {event_id}" + (f" ({event_type})" if event_type else "") + ": "
        what = f"{field} {problem}" if field else problem
        super().__init__(f"{history}: {where}{what}")
        self.history = history
        self.event_id = event_id
        self.event_type = event_type
        self.field = field


class WorkflowDeadlockError(AioSWFError):
    """A workflow step ran longer than the deadlock timeout without yielding.

    The decision task fails with it and is tried again (like a :class:`NondeterminismError`);
    the execution stays open.

    Attributes:
        limit: the deadlock timeout, in seconds.
        stack: the formatted frames of the workflow code when it was caught, outermost first.
    """

    def __init__(self, message: str, *, limit: float, stack: list[str]) -> None:
        super().__init__(message)
        self.limit = limit
        self.stack = stack
