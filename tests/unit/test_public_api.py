"""The public names of aioswf are a contract: adding or removing one is a deliberate change."""

from __future__ import annotations

import aioswf

EXPECTED = {
    "ActivityCanceledError",
    "ActivityError",
    "ActivityFailedError",
    "ActivityOptions",
    "ActivityTimedOutError",
    "ActivityWorkerOptions",
    "AioSWFError",
    "ApplicationError",
    "AsyncActivityHandle",
    "CancellationType",
    "ChildPolicy",
    "ChildWorkflowCanceledError",
    "ChildWorkflowError",
    "ChildWorkflowFailedError",
    "ChildWorkflowTerminatedError",
    "ChildWorkflowTimedOutError",
    "Client",
    "ConnectionOptions",
    "DataConverter",
    "DecisionWorkerOptions",
    "DefaultUndefinedError",
    "DefinitionError",
    "DomainAlreadyExistsError",
    "DomainDeprecatedError",
    "ExecutionConfiguration",
    "ExecutionCount",
    "ExecutionFilter",
    "ExternalWorkflowError",
    "LambdaFunctionError",
    "LambdaFunctionFailedError",
    "LambdaFunctionTimedOutError",
    "LimitExceededError",
    "HistoryError",
    "NondeterminismError",
    "OpenCounts",
    "OperationNotPermittedError",
    "PayloadConversionError",
    "PayloadStoreError",
    "PayloadError",
    "PayloadTooLargeError",
    "RequestCancelExternalWorkflowFailedError",
    "RetryOptions",
    "RetryPolicy",
    "ScheduleActivityFailedError",
    "ScheduleLambdaFunctionFailedError",
    "ServiceError",
    "ServiceUnavailableError",
    "ShutdownReport",
    "SignalExternalWorkflowFailedError",
    "StartChildWorkflowFailedError",
    "StartTimerFailedError",
    "ThrottlingError",
    "TimerError",
    "TooManyTagsError",
    "TypeAlreadyExistsError",
    "TypeDeprecatedError",
    "TypeNotDeprecatedError",
    "UnknownResourceError",
    "ValidationError",
    "Worker",
    "WorkerError",
    "WorkflowAlreadyStartedError",
    "WorkflowCanceledError",
    "WorkflowDeadlockError",
    "WorkflowDescription",
    "DecisionFailure",
    "WorkflowExecutionError",
    "WorkflowExecutionInfo",
    "WorkflowFailedError",
    "WorkflowHandle",
    "WorkflowOptions",
    "WorkflowTerminatedError",
    "WorkflowTimedOutError",
    "__version__",
    "activity",
    "workflow",
}


def test_all_is_exactly_the_public_names() -> None:
    assert isinstance(aioswf.__all__, tuple)
    assert set(aioswf.__all__) == EXPECTED
    assert len(aioswf.__all__) == len(EXPECTED), "a name is listed twice"


def test_every_public_name_resolves() -> None:
    for name in aioswf.__all__:
        assert getattr(aioswf, name) is not None, name


def test_every_exception_derives_from_the_base() -> None:
    for name in aioswf.__all__:
        obj = getattr(aioswf, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, aioswf.AioSWFError), name
