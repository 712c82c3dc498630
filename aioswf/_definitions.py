"""What the decorators record: workflow and activity definitions.

``@workflow.defn`` and ``@activity.defn`` attach a frozen definition to the class or function
they decorate; everything else (the client, the worker, the runtime) reads definitions through
:func:`workflow_definition` and :func:`activity_definition`, which accept the decorated object,
a method of it, or the definition itself.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import MethodType
from typing import Any, TypeVar, overload

from aioswf import _sandbox as sandbox
from aioswf.exceptions import DefinitionError
from aioswf.options import (
    ActivityOptions,
    CancellationType,
    ChildPolicy,
    HandlerUnfinishedPolicy,
    RetryPolicy,
    WorkflowOptions,
)

_WORKFLOW_ATTR = "__aioswf_workflow__"
_INIT_ATTR = "__aioswf_init__"
UNFINISHED_POLICY_ATTR = "__aioswf_unfinished_policy__"
_RUN_ATTR = "__aioswf_run__"
_SIGNAL_ATTR = "__aioswf_signal__"
ACTIVITY_ATTR = "__aioswf_activity__"
_OWNER_ATTR = "__aioswf_owner__"

DEFAULT_VERSION = "1"

DEFAULT_WORKFLOW_OPTIONS = WorkflowOptions(
    execution_start_to_close_timeout=timedelta(days=365),
    task_start_to_close_timeout=timedelta(seconds=30),
    child_policy=ChildPolicy.TERMINATE,
)
"""What a workflow type gets when neither its decorator nor the start call says otherwise.

SWF needs an execution timeout (it allows no more than a year) and a decision-task timeout;
30 seconds bounds how long a crashed decider delays an execution.
"""

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class WorkflowDefinition:
    """A workflow type: its SWF name and version, its class, run method, signals and defaults."""

    name: str
    version: str
    cls: type[Any]
    run_method: str
    signals: dict[str, str] = field(default_factory=dict)
    options: WorkflowOptions = field(default_factory=WorkflowOptions)
    register: bool = True
    init_takes_args: bool = False
    """``__init__`` is marked ``@workflow.init``: it receives the run's arguments."""
    sandboxed: bool = True
    """Its code runs with the sandbox's guards (``@workflow.defn(sandboxed=False)``: without)."""
    cancellation_type: CancellationType | None = None
    """Run as a child: what cancelling the parent's code that waits on it does, unless the
    call says (``None``: ``TRY_CANCEL``)."""

    @property
    def type_key(self) -> str:
        """``name/version``, as logs and errors show a type."""
        return f"{self.name}/{self.version}"

    @property
    def run_fn(self) -> Callable[..., Any]:
        """The unbound run method, typed by its annotations."""
        fn: Callable[..., Any] = getattr(self.cls, self.run_method)
        return fn

    def swf_type(self) -> dict[str, str]:
        """The ``workflowType`` structure of SWF."""
        return {"name": self.name, "version": self.version}


@dataclass(frozen=True, slots=True)
class ActivityDefinition:
    """An activity type: SWF name and version, the callable, and its defaults."""

    name: str
    version: str
    fn: Callable[..., Any]
    options: ActivityOptions = field(default_factory=ActivityOptions)
    register: bool = True
    auto_heartbeat: bool = False

    @property
    def type_key(self) -> str:
        """``name/version``, as logs and errors show a type."""
        return f"{self.name}/{self.version}"

    @property
    def is_async(self) -> bool:
        """Whether the callable is a coroutine function (else it runs in a thread pool)."""
        return inspect.iscoroutinefunction(self.fn)

    def swf_type(self) -> dict[str, str]:
        """The ``activityType`` structure of SWF."""
        return {"name": self.name, "version": self.version}


# --- workflow decorators --------------------------------------------------------------------


@overload
def workflow_defn(cls: type[T], /) -> type[T]: ...


@overload
def workflow_defn(
    *,
    name: str | None = None,
    version: str = DEFAULT_VERSION,
    register: bool = True,
    task_list: str | None = None,
    execution_start_to_close_timeout: timedelta | None = None,
    task_start_to_close_timeout: timedelta | None = None,
    child_policy: ChildPolicy | None = None,
    task_priority: int | None = None,
    lambda_role: str | None = None,
    description: str | None = None,
    sandboxed: bool = True,
    cancellation_type: CancellationType | None = None,
) -> Callable[[type[T]], type[T]]: ...


def workflow_defn(
    cls: type[T] | None = None,
    /,
    *,
    name: str | None = None,
    version: str = DEFAULT_VERSION,
    register: bool = True,
    task_list: str | None = None,
    execution_start_to_close_timeout: timedelta | None = None,
    task_start_to_close_timeout: timedelta | None = None,
    child_policy: ChildPolicy | None = None,
    task_priority: int | None = None,
    lambda_role: str | None = None,
    description: str | None = None,
    sandboxed: bool = True,
    cancellation_type: CancellationType | None = None,
) -> type[T] | Callable[[type[T]], type[T]]:
    """Declare a workflow class: its SWF type, and the defaults of its executions.

    Usable bare (``@workflow.defn``) or with keywords. The timeouts, task list, child policy,
    priority, Lambda role and description are the defaults registered with the SWF type
    (``RegisterWorkflowType``), which a start call or a parent can override.

    Args:
        name: the SWF type name; the class name by default.
        version: the SWF type version.
        register: register the type when a worker starts (an existing type is no error).
        task_list: where its decision tasks go by default.
        execution_start_to_close_timeout: how long an execution may run (SWF: a year at most).
        task_start_to_close_timeout: how long one of its decision tasks may take.
        child_policy: what happens to its open children when it is terminated or times out.
        task_priority: higher runs first within the task list.
        lambda_role: the IAM role its Lambda tasks run with.
        description: the type's description in SWF.
        sandboxed: run its code with the sandbox's guards and module-state check;
            ``False`` opts out (the workflow answers for its own determinism).
        cancellation_type: when it runs as a child of an aioswf workflow, what cancelling
            the parent's code that waits on it does, unless the call gives one
            (:class:`~aioswf.options.CancellationType`; ``TRY_CANCEL`` when neither does).
            The same rule as ``@activity.defn(cancellation_type=...)`` for activities.

    Raises:
        DefinitionError: not a class, no single ``@workflow.run`` method, a bad version, or
            a timeout that is not a non-negative ``timedelta``.
    """
    options = WorkflowOptions(
        task_list=task_list,
        execution_start_to_close_timeout=execution_start_to_close_timeout,
        task_start_to_close_timeout=task_start_to_close_timeout,
        child_policy=ChildPolicy(child_policy) if child_policy is not None else None,
        task_priority=task_priority,
        lambda_role=lambda_role,
        description=description,
    )
    options.swf_timeouts()  # reject bad durations at import time, not at the first start

    def decorate(target: type[T]) -> type[T]:
        if not inspect.isclass(target):
            raise DefinitionError(f"@workflow.defn decorates a class, not {target!r}")
        run_method = _find_run_method(target)
        init_takes_args = getattr(target.__init__, _INIT_ATTR, False)
        if init_takes_args:
            _check_init_fits_run(target, run_method)
        definition = WorkflowDefinition(
            name=name or target.__name__,
            version=_check_version(version, target.__qualname__),
            cls=target,
            run_method=run_method,
            signals=_find_signals(target),
            options=options,
            register=register,
            init_takes_args=init_takes_args,
            sandboxed=sandboxed,
            cancellation_type=(
                CancellationType(cancellation_type) if cancellation_type is not None else None
            ),
        )
        setattr(target, _WORKFLOW_ATTR, definition)
        if sandboxed:
            # Names its module bound before the guards existed are guarded from now on.
            sandbox.install()
            sandbox.rebind_module_of(target)
        # Methods remember their class, so that `client.start_workflow(Order.run)` and
        # `handle.signal(Order.approve)` find the definition even for classes in functions.
        for attr in (definition.run_method, *definition.signals.values()):
            member = vars(target).get(attr)
            if member is not None:
                setattr(member, _OWNER_ATTR, target)
        return target

    return decorate(cls) if cls is not None else decorate


def workflow_init(fn: F) -> F:
    """Mark a workflow's ``__init__`` as taking the run's arguments, like the run method.

    The object is created before any signal is delivered, so handlers can rely on the state
    built from the arguments. ``__init__`` runs with the run's time, ``workflow.info()`` and
    logger in place; an exception it raises fails the execution.

    Example:
        >>> @workflow.defn
        ... class Order:
        ...     @workflow.init
        ...     def __init__(self, order_id: str) -> None:
        ...         self.lines = {order_id: []}
        ...
        ...     @workflow.run
        ...     async def run(self, order_id: str) -> None: ...

    Raises:
        DefinitionError: it decorates something other than ``__init__``; and, from
            ``@workflow.defn``, its parameters are not the run method's (names, kinds, which
            have defaults).
    """
    if getattr(fn, "__name__", None) != "__init__":
        raise DefinitionError(f"@workflow.init decorates __init__, not {fn.__qualname__}")
    setattr(fn, _INIT_ATTR, True)
    return fn


def workflow_run(fn: F) -> F:
    """Mark the coroutine method that runs the workflow; see :func:`aioswf.workflow.run`."""
    if not inspect.iscoroutinefunction(fn):
        raise DefinitionError(
            f"@workflow.run needs an 'async def' method; {fn.__qualname__} is not"
        )
    setattr(fn, _RUN_ATTR, True)
    return fn


@overload
def workflow_signal(fn: F, /) -> F: ...


@overload
def workflow_signal(
    *, name: str | None = None, unfinished_policy: HandlerUnfinishedPolicy | None = None
) -> Callable[[F], F]: ...


def workflow_signal(
    fn: F | None = None,
    /,
    *,
    name: str | None = None,
    unfinished_policy: HandlerUnfinishedPolicy | None = None,
) -> F | Callable[[F], F]:
    """Mark a signal handler (sync or ``async``) of a workflow class.

    Args:
        name: the signal's name; the method's name by default.
        unfinished_policy: what happens if ``run()`` returns while this handler is still
            running (an ``async`` handler awaiting an activity, say): a warning by default,
            or wait for it, or fail the execution; see ``HandlerUnfinishedPolicy``.
    """

    def decorate(target: F) -> F:
        setattr(target, _SIGNAL_ATTR, name or target.__name__)
        policy = HandlerUnfinishedPolicy(unfinished_policy or "WARN_AND_ABANDON")
        setattr(target, UNFINISHED_POLICY_ATTR, policy)
        return target

    return decorate(fn) if fn is not None else decorate


def _check_init_fits_run(cls: type[Any], run_method: str) -> None:
    """A ``@workflow.init`` ``__init__`` is called with the run's arguments: its parameters
    must be the run method's (names, kinds and which have defaults)."""

    def shape(fn: Any) -> list[tuple[str, Any, bool]]:
        parameters = list(inspect.signature(fn).parameters.values())[1:]  # without self
        return [(p.name, p.kind, p.default is not p.empty) for p in parameters]

    def shown(fn: Any) -> str:
        signature = inspect.signature(fn)
        bare = [p.replace(annotation=p.empty) for p in signature.parameters.values()]
        return str(signature.replace(parameters=bare, return_annotation=signature.empty))

    init, run = cls.__init__, getattr(cls, run_method)
    if shape(init) != shape(run):
        raise DefinitionError(
            f"workflow class {cls.__qualname__}: @workflow.init __init__{shown(init)} must "
            f"take the same parameters as {run_method}{shown(run)}, since it is called with "
            "the run's arguments"
        )


def _find_run_method(cls: type[Any]) -> str:
    runs = [n for n, member in _members(cls) if getattr(member, _RUN_ATTR, False)]
    if len(runs) != 1:
        found = ", ".join(runs) or "none"
        raise DefinitionError(
            f"workflow class {cls.__qualname__} needs exactly one @workflow.run method; "
            f"found {found}"
        )
    return runs[0]


def _find_signals(cls: type[Any]) -> dict[str, str]:
    signals: dict[str, str] = {}
    for attr, member in _members(cls):
        signal_name = getattr(member, _SIGNAL_ATTR, None)
        if signal_name is None:
            continue
        if signal_name in signals:
            raise DefinitionError(
                f"workflow class {cls.__qualname__} has two handlers for signal {signal_name!r}: "
                f"{signals[signal_name]} and {attr}"
            )
        signals[signal_name] = attr
    return signals


def _members(cls: type[Any]) -> list[tuple[str, Any]]:
    seen: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        seen.update(vars(klass))
    return list(seen.items())


# --- activity decorators --------------------------------------------------------------------


@overload
def activity_defn(fn: F, /) -> F: ...


@overload
def activity_defn(
    *,
    name: str | None = None,
    version: str = DEFAULT_VERSION,
    register: bool = True,
    auto_heartbeat: bool = False,
    task_list: str | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    task_priority: int | None = None,
    retry_policy: RetryPolicy | None = None,
    description: str | None = None,
    cancellation_type: CancellationType | None = None,
) -> Callable[[F], F]: ...


def activity_defn(
    fn: F | None = None,
    /,
    *,
    name: str | None = None,
    version: str = DEFAULT_VERSION,
    register: bool = True,
    auto_heartbeat: bool = False,
    task_list: str | None = None,
    schedule_to_start_timeout: timedelta | None = None,
    start_to_close_timeout: timedelta | None = None,
    schedule_to_close_timeout: timedelta | None = None,
    heartbeat_timeout: timedelta | None = None,
    task_priority: int | None = None,
    retry_policy: RetryPolicy | None = None,
    description: str | None = None,
    cancellation_type: CancellationType | None = None,
) -> F | Callable[[F], F]:
    """Declare an activity; see :func:`aioswf.activity.defn`."""
    options = ActivityOptions(
        task_list=task_list,
        schedule_to_start_timeout=schedule_to_start_timeout,
        start_to_close_timeout=start_to_close_timeout,
        schedule_to_close_timeout=schedule_to_close_timeout,
        heartbeat_timeout=heartbeat_timeout,
        task_priority=task_priority,
        retry_policy=retry_policy,
        description=description,
        cancellation_type=cancellation_type,
    )
    options.swf_timeouts()

    def decorate(target: F) -> F:
        if not callable(target) or inspect.isclass(target):
            raise DefinitionError(f"@activity.defn decorates a function or method, not {target!r}")
        definition = ActivityDefinition(
            name=name or _default_activity_name(target),
            version=_check_version(version, target.__qualname__),
            fn=target,
            options=options,
            register=register,
            auto_heartbeat=auto_heartbeat,
        )
        setattr(target, ACTIVITY_ATTR, definition)
        return target

    return decorate(fn) if fn is not None else decorate


def activity_defaults(
    *,
    name_prefix: str | None = None,
    version: str | None = None,
    options: ActivityOptions | None = None,
) -> Callable[[type[T]], type[T]]:
    """Give the ``@activity.defn`` methods of a class shared defaults.

    A method's own settings win over the class's. ``name_prefix`` replaces the class name in
    the methods' default names (``"Payments.refund"`` by default).
    """

    def decorate(cls: type[T]) -> type[T]:
        for attr, member in vars(cls).items():
            definition: ActivityDefinition | None = getattr(member, ACTIVITY_ATTR, None)
            if definition is None:
                continue
            changes: dict[str, Any] = {
                "options": (options or ActivityOptions()).merged(definition.options)
            }
            if name_prefix is not None and definition.name == _default_activity_name(member):
                changes["name"] = f"{name_prefix}{attr}"
            if version is not None and definition.version == DEFAULT_VERSION:
                changes["version"] = version
            setattr(member, ACTIVITY_ATTR, dataclasses.replace(definition, **changes))
        return cls

    return decorate


def _default_activity_name(fn: Callable[..., Any]) -> str:
    # A method is named after its class too, so that two classes' "run" methods differ.
    qualname: str = getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))
    return ".".join(qualname.split(".<locals>.")[-1].split(".")[-2:])


def _check_version(version: str, where: str) -> str:
    if not isinstance(version, str) or not version or len(version) > 64:
        raise DefinitionError(
            f"{where}: version must be a non-empty string of at most 64 characters"
        )
    return version


# --- lookups ----------------------------------------------------------------------------------


def workflow_definition(obj: Any) -> WorkflowDefinition:
    """The definition behind a workflow class, one of its methods, or a definition.

    Raises:
        DefinitionError: if ``obj`` is not a ``@workflow.defn`` class or one of its methods.
    """
    if isinstance(obj, WorkflowDefinition):
        return obj
    owner = obj if inspect.isclass(obj) else _owning_class(obj)
    definition = getattr(owner, _WORKFLOW_ATTR, None) if owner is not None else None
    if not isinstance(definition, WorkflowDefinition) or definition.cls is not owner:
        raise DefinitionError(
            f"{obj!r} is not a workflow: decorate its class with @workflow.defn "
            "and its entry point with @workflow.run"
        )
    return definition


def activity_definition(obj: Any) -> ActivityDefinition:
    """The definition behind an ``@activity.defn`` function or method, bound or not.

    A bound method gives a definition whose ``fn`` is bound to its instance.

    Raises:
        DefinitionError: if ``obj`` was not decorated with ``@activity.defn``.
    """
    if isinstance(obj, ActivityDefinition):
        return obj
    definition = getattr(obj, ACTIVITY_ATTR, None)
    if not isinstance(definition, ActivityDefinition):
        raise DefinitionError(f"{obj!r} is not an activity: decorate it with @activity.defn")
    if isinstance(obj, MethodType):
        return dataclasses.replace(definition, fn=obj)
    return definition


def _owning_class(fn: Any) -> type[Any] | None:
    if inspect.ismethod(fn):
        return fn.__self__ if inspect.isclass(fn.__self__) else type(fn.__self__)
    owner = getattr(fn, _OWNER_ATTR, None)
    return owner if inspect.isclass(owner) else None


def signal_name(obj: Any) -> str:
    """The SWF signal name of a ``@workflow.signal`` method, or ``obj`` itself if a string.

    Raises:
        DefinitionError: if ``obj`` is neither.
    """
    if isinstance(obj, str):
        return obj
    name = getattr(obj, _SIGNAL_ATTR, None)
    if not isinstance(name, str):
        raise DefinitionError(f"{obj!r} is not a signal: decorate it with @workflow.signal")
    return name
