"""The client: register, start, signal, cancel, terminate, describe and follow executions.

:class:`WorkflowHandle` and :class:`AsyncActivityHandle` live in ``aioswf._handles`` and are
exported from here.

Example:
    >>> async with Client(domain="shop") as client:  # doctest: +SKIP
    ...     handle = await client.start_workflow(Order.run, "o-1", workflow_id="order-o-1",
    ...                                          task_list="orders")
    ...     print(await handle.result())
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar, overload

from aiobotocore.session import AioSession

from aioswf import exceptions as exc
from aioswf._close_watcher import CloseWatcher
from aioswf._definitions import (
    DEFAULT_WORKFLOW_OPTIONS,
    ActivityDefinition,
    WorkflowDefinition,
    activity_definition,
    workflow_definition,
)
from aioswf._handles import AsyncActivityHandle, ClientCalls, WorkflowHandle, put_set
from aioswf._transport import ConnectionOptions, Transport
from aioswf._transport.connection import POOL_HEADROOM
from aioswf.converter import (
    DataConverter,
    signature_and_hints,
)
from aioswf.executions import (
    ExecutionCount,
    ExecutionFilter,
    WorkflowExecutionInfo,
)
from aioswf.interceptors import (
    ClientOutboundInterceptor,
    Interceptor,
    StartWorkflowInput,
    chain_client,
)
from aioswf.options import ChildPolicy, WorkflowOptions, seconds_of, swf_task_list

logger = logging.getLogger(__name__)

R = TypeVar("R")


def default_identity() -> str:
    """``pid@host``, as SWF shows which worker took a task."""
    return f"{os.getpid()}@{socket.gethostname()}"[:256]


class Client:
    """A connection to one SWF domain.

    Args:
        domain: the SWF domain everything happens in.
        endpoint_url: SWF's endpoint, e.g. the local service's; default from the AWS chain.
        region_name: the AWS region; default from the AWS chain.
        connection: the rest of the connection settings (pool size, timeouts, retries).
        converter: how payloads are encoded; JSON by default.
        identity: how this process names itself to SWF; ``pid@host`` by default.
        auto_register: register the domain and types on first use when they are missing.
        session: an aiobotocore session to create the client from.
        interceptors: wrap the client's calls, and (for workers using this client) the
            workflows and activities they run; the first is the outermost.
    """

    def __init__(
        self,
        domain: str,
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        connection: ConnectionOptions | None = None,
        converter: DataConverter | None = None,
        identity: str | None = None,
        auto_register: bool = True,
        session: AioSession | None = None,
        interceptors: Sequence[Interceptor] = (),
    ) -> None:
        base = connection or ConnectionOptions()
        options = dataclasses.replace(
            base,
            endpoint_url=endpoint_url or base.endpoint_url,
            region_name=region_name or base.region_name,
        )
        self.domain = domain
        self.transport = Transport(options, session=session)
        self.converter = converter or DataConverter()
        self.identity = identity or default_identity()
        self.auto_register = auto_register
        self._registered: set[tuple[str, str, str]] = set()
        self._long_polls = 0
        self._register_lock = asyncio.Lock()
        self.interceptors: tuple[Interceptor, ...] = tuple(interceptors)
        self.outbound: ClientOutboundInterceptor = chain_client(
            self.interceptors, ClientCalls(self)
        )
        """The client's calls, through its interceptors."""
        self.close_watcher = CloseWatcher(self)
        """Learns when the runs that ``result()`` calls await close, for all of them at once."""

    # --- lifecycle ------------------------------------------------------------------------

    async def open(self) -> None:
        """Open the connection. ``async with`` does it for you."""
        await self.transport.open()
        # The transport hands back answers' bodies only; the watcher reads the service's
        # clock from the start answers' headers through botocore's events.
        meta = self.transport._client.meta
        self.close_watcher.listen(meta.events, meta.endpoint_url)

    async def close(self) -> None:
        """Close the connection. Idempotent. Pending ``result()`` calls raise ``WorkerError``."""
        await self.close_watcher.close()
        await self.transport.close()

    async def __aenter__(self) -> Client:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def check_long_polls(self, count: int, *, reserve: bool = False) -> None:
        """Check that the connection pool holds ``count`` more long polls; workers call this.

        Each long poll holds a connection for up to a minute; without spare ones, responses
        and heartbeats would queue behind the polls until their tasks time out. Workers that
        share this client reserve their polls when they start and release them when they stop.

        Raises:
            WorkerError: the pool is too small, with the size it needs.
        """
        polls = self._long_polls + count
        size = self.transport.options.max_pool_connections
        if size < polls + POOL_HEADROOM:
            shared = f" ({self._long_polls} of them by other workers)" if self._long_polls else ""
            raise exc.WorkerError(
                f"the client's connection pool ({size}) is too small for {polls} long polls"
                f"{shared} plus {POOL_HEADROOM} connections for responses; create the client "
                f"with connection=ConnectionOptions(max_pool_connections={polls + POOL_HEADROOM})"
                " or more, or use fewer pollers"
            )
        if reserve:
            self._long_polls = polls

    def release_long_polls(self, count: int) -> None:
        """Give back long polls reserved with :meth:`check_long_polls`."""
        self._long_polls = max(self._long_polls - count, 0)

    async def call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Send any SWF operation in this client's domain (``domain`` is filled in)."""
        if "domain" not in params and operation not in _NO_DOMAIN:
            params["domain"] = self.domain
        return await self.transport.call(operation, params)

    # --- registration ----------------------------------------------------------------------

    async def register_domain(
        self, *, retention: timedelta = timedelta(days=7), description: str | None = None
    ) -> bool:
        """Register this client's domain; ``False`` if it already exists (not an error)."""
        params: dict[str, Any] = {
            "name": self.domain,
            "workflowExecutionRetentionPeriodInDays": str(
                max(int(seconds_of(retention, "register_domain(retention=...)") // 86400), 0)
            ),
        }
        if description:
            params["description"] = description
        try:
            await self.transport.call("RegisterDomain", params)
        except exc.DomainAlreadyExistsError:
            return False
        logger.info("registered domain %r", self.domain)
        return True

    async def register_workflow_type(
        self, workflow: Any, *, default_task_list: str | None = None
    ) -> bool:
        """Register a workflow type with its defaults; ``False`` if it already exists."""
        definition = workflow_definition(workflow)
        options = DEFAULT_WORKFLOW_OPTIONS.merged(definition.options)
        params: dict[str, Any] = {
            "domain": self.domain,
            "name": definition.name,
            "version": definition.version,
            **{f"default{k[0].upper()}{k[1:]}": v for k, v in options.swf_timeouts().items()},
        }
        put_set(params, "defaultTaskList", swf_task_list(options.task_list or default_task_list))
        put_set(params, "defaultChildPolicy", options.child_policy and str(options.child_policy))
        put_set(params, "defaultTaskPriority", _priority(options.task_priority))
        put_set(params, "defaultLambdaRole", options.lambda_role)
        put_set(params, "description", options.description)
        return await self._register_type("RegisterWorkflowType", params)

    async def register_activity_type(
        self, activity: Any, *, default_task_list: str | None = None
    ) -> bool:
        """Register an activity type with its defaults; ``False`` if it already exists."""
        definition = activity_definition(activity)
        options = definition.options
        params: dict[str, Any] = {
            "domain": self.domain,
            "name": definition.name,
            "version": definition.version,
            **{f"defaultTask{k[0].upper()}{k[1:]}": v for k, v in options.swf_timeouts().items()},
        }
        put_set(params, "defaultTaskList", swf_task_list(options.task_list or default_task_list))
        put_set(params, "defaultTaskPriority", _priority(options.task_priority))
        put_set(params, "description", options.description)
        return await self._register_type("RegisterActivityType", params)

    async def _register_type(self, operation: str, params: dict[str, Any]) -> bool:
        try:
            await self.transport.call(operation, params)
        except exc.TypeAlreadyExistsError:
            return False
        logger.info("%s %s/%s", operation, params["name"], params["version"])
        return True

    async def ensure_registered(
        self,
        *,
        workflows: Sequence[WorkflowDefinition] = (),
        activities: Sequence[ActivityDefinition] = (),
        task_list: str | None = None,
        domain: bool = True,
    ) -> None:
        """Register the domain and the given types once per client, if ``auto_register``.

        Args:
            workflows: workflow types to register if missing.
            activities: activity types to register if missing.
            task_list: the default task list of types that name none.
            domain: register the domain too if it is missing (what a worker, which serves the
                domain, does). ``False`` refuses a missing domain instead: an execution
                started there would wait for a worker that does not exist.

        Raises:
            UnknownResourceError: the domain does not exist and ``domain`` is ``False``.
        """
        if not self.auto_register:
            return
        async with self._register_lock:
            if ("domain", self.domain, "") not in self._registered:
                try:
                    await self.transport.call("DescribeDomain", {"name": self.domain})
                except exc.UnknownResourceError:
                    if not domain:
                        raise exc.UnknownResourceError(
                            f"domain {self.domain!r} does not exist, so no worker polls it: "
                            "check its name, or register it (a Worker does, as does "
                            "`aioswf domain register`) before starting executions there",
                            operation="DescribeDomain",
                            code="UnknownResourceFault",
                        ) from None
                    await self.register_domain()
                    logger.warning(
                        "domain %r did not exist; registered it (retention 7 days)", self.domain
                    )
                self._registered.add(("domain", self.domain, ""))
            for wf in workflows:
                if wf.register and ("workflow", wf.name, wf.version) not in self._registered:
                    await self.register_workflow_type(wf, default_task_list=task_list)
                    self._registered.add(("workflow", wf.name, wf.version))
            for act in activities:
                if act.register and ("activity", act.name, act.version) not in self._registered:
                    await self.register_activity_type(act, default_task_list=task_list)
                    self._registered.add(("activity", act.name, act.version))

    # --- executions ------------------------------------------------------------------------

    @overload
    async def start_workflow(
        self,
        workflow: Callable[..., Awaitable[R]],
        *args: Any,
        workflow_id: str,
        task_list: str | None = None,
        tags: Sequence[str] = (),
        options: WorkflowOptions | None = None,
    ) -> WorkflowHandle[R]: ...

    @overload
    async def start_workflow(
        self,
        workflow: type[Any] | WorkflowDefinition,
        *args: Any,
        workflow_id: str,
        task_list: str | None = None,
        tags: Sequence[str] = (),
        options: WorkflowOptions | None = None,
    ) -> WorkflowHandle[Any]: ...

    async def start_workflow(
        self,
        workflow: Any,
        *args: Any,
        workflow_id: str,
        task_list: str | None = None,
        tags: Sequence[str] = (),
        options: WorkflowOptions | None = None,
    ) -> WorkflowHandle[Any]:
        """Start an execution of ``workflow`` (its class or its run method) with ``args``.

        Args:
            workflow: the ``@workflow.defn`` class or its ``@workflow.run`` method.
            *args: the run method's arguments.
            workflow_id: the execution's id, unique among open executions in the domain.
            task_list: where its decision tasks go; default from the workflow type.
            tags: up to five tags for list filters.
            options: overrides of the workflow type's defaults.

        Raises:
            WorkflowAlreadyStartedError: an open execution already has ``workflow_id``.
            PayloadTooLargeError: the encoded arguments are over SWF's limit; nothing is sent.
            PayloadConversionError: the arguments do not fit the run method's signature.
        """
        definition = workflow_definition(workflow)
        _check_arguments(self.converter, definition, args)
        merged = DEFAULT_WORKFLOW_OPTIONS.merged(definition.options).merged(options)
        chosen_task_list = task_list or merged.task_list
        if chosen_task_list is None:
            raise ValueError(
                f"start_workflow({definition.type_key}): no task list; pass task_list= or set "
                "one on @workflow.defn"
            )
        request = StartWorkflowInput(
            definition, args, workflow_id, chosen_task_list, tuple(tags), merged
        )
        return await self.outbound.start_workflow(request)

    async def _start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any]:
        """The start itself, at the end of the interceptor chain."""
        definition = input.workflow
        input_ = self.converter.fit_input(
            "input", self.converter.encode_args(input.args), input.headers
        )
        await self.ensure_registered(
            workflows=[definition], task_list=input.task_list, domain=False
        )
        merged = input.options
        params: dict[str, Any] = {
            "domain": self.domain,
            "workflowId": input.workflow_id,
            "workflowType": definition.swf_type(),
            "taskList": {"name": input.task_list},
            "childPolicy": str(merged.child_policy or ChildPolicy.TERMINATE),
            **merged.swf_timeouts(),
        }
        put_set(params, "input", input_)
        put_set(params, "tagList", list(input.tags) or None)
        put_set(params, "taskPriority", _priority(merged.task_priority))
        put_set(params, "lambdaRole", merged.lambda_role)
        await self.converter.upload(input_)
        response = await self.transport.call("StartWorkflowExecution", params)
        run_id: str = response["runId"]
        workflow_id = input.workflow_id
        self.close_watcher.started(run_id, (definition.name, definition.version))
        logger.info("started %s workflow_id=%s run_id=%s", definition.type_key, workflow_id, run_id)
        return self._handle(workflow_id, first_run_id=run_id, result_fn=definition.run_fn)

    def get_workflow_handle(
        self,
        workflow_id: str,
        *,
        run_id: str | None = None,
        workflow: Callable[..., Awaitable[R]] | None = None,
    ) -> WorkflowHandle[R]:
        """A handle on an existing execution; ``workflow`` (its run method) types the result.

        Without ``run_id`` the handle acts on the execution's current run.
        """
        result_fn = workflow_definition(workflow).run_fn if workflow is not None else None
        return self._handle(workflow_id, run_id=run_id, result_fn=result_fn)

    def _handle(
        self,
        workflow_id: str,
        *,
        run_id: str | None = None,
        first_run_id: str | None = None,
        result_fn: Callable[..., Any] | None = None,
    ) -> WorkflowHandle[Any]:
        """Every handle this client gives out is made here (the testing toolkit's differ)."""
        return WorkflowHandle(
            self, workflow_id, run_id=run_id, first_run_id=first_run_id, result_fn=result_fn
        )

    def get_async_activity_handle(self, task_token: str) -> AsyncActivityHandle:
        """A handle to finish an activity that called ``activity.raise_complete_async()``."""
        return AsyncActivityHandle(self, task_token)

    # --- visibility ------------------------------------------------------------------------

    async def list_open_workflows(
        self,
        filter: ExecutionFilter | None = None,
        *,
        page_size: int | None = None,
    ) -> AsyncIterator[WorkflowExecutionInfo]:
        """Open executions matching ``filter``, newest first, across all pages."""
        async for info in self._list("ListOpenWorkflowExecutions", filter, False, page_size):
            yield info

    async def list_closed_workflows(
        self,
        filter: ExecutionFilter | None = None,
        *,
        page_size: int | None = None,
    ) -> AsyncIterator[WorkflowExecutionInfo]:
        """Closed executions matching ``filter``, newest first, across all pages."""
        async for info in self._list("ListClosedWorkflowExecutions", filter, True, page_size):
            yield info

    async def _list(
        self, operation: str, filter_: ExecutionFilter | None, closed: bool, page_size: int | None
    ) -> AsyncIterator[WorkflowExecutionInfo]:
        params = {"domain": self.domain, **(filter_ or ExecutionFilter()).to_swf(closed=closed)}
        put_set(params, "maximumPageSize", page_size)
        async for page in self.transport.pages(operation, params):
            for info in page.get("executionInfos", ()):
                yield WorkflowExecutionInfo.from_swf(info)

    async def count_open_workflows(self, filter: ExecutionFilter | None = None) -> ExecutionCount:
        """How many open executions match ``filter``."""
        return await self._count("CountOpenWorkflowExecutions", filter, closed=False)

    async def count_closed_workflows(self, filter: ExecutionFilter | None = None) -> ExecutionCount:
        """How many closed executions match ``filter``."""
        return await self._count("CountClosedWorkflowExecutions", filter, closed=True)

    async def _count(
        self, operation: str, filter_: ExecutionFilter | None, *, closed: bool
    ) -> ExecutionCount:
        params = {"domain": self.domain, **(filter_ or ExecutionFilter()).to_swf(closed=closed)}
        response = await self.transport.call(operation, params)
        return ExecutionCount(response["count"], bool(response.get("truncated", False)))


_NO_DOMAIN = frozenset(
    {
        "RegisterDomain",
        "DescribeDomain",
        "DeprecateDomain",
        "UndeprecateDomain",
        "ListDomains",
        "RespondDecisionTaskCompleted",
        "RecordActivityTaskHeartbeat",
        "RespondActivityTaskCompleted",
        "RespondActivityTaskFailed",
        "RespondActivityTaskCanceled",
        "TagResource",
        "UntagResource",
        "ListTagsForResource",
    }
)


def _check_arguments(
    converter: DataConverter, definition: WorkflowDefinition, args: Sequence[Any]
) -> None:
    """Check ``args`` against the run method before anything is sent, naming a bad one.

    A value of the wrong type would otherwise start the execution and fail it later, in the
    worker, where the caller does not see it.
    """
    where = f"{definition.cls.__qualname__}.{definition.run_method}"
    # Worked out once per run method (unresolvable annotations: untyped here, the worker
    # reports them): every start checks its arguments.
    signature, hints = signature_and_hints(definition.run_fn)
    try:
        bound = signature.bind(None, *args)
    except TypeError as error:
        raise exc.PayloadConversionError(
            f"arguments for {where} do not fit its signature: {error}"
        ) from None
    parameters = signature.parameters
    for name, value in list(bound.arguments.items())[1:]:
        many = parameters[name].kind is inspect.Parameter.VAR_POSITIONAL
        for item in value if many else (value,):
            what = f"argument {name!r} of {where}"
            try:
                text = converter.encode(item)
            except exc.PayloadConversionError as error:
                raise exc.PayloadConversionError(f"{what}: {error}") from None
            if name in hints:
                converter.decode(text, hints[name], what=what)


def _priority(value: int | None) -> str | None:
    return None if value is None else str(value)


__all__ = ("AsyncActivityHandle", "Client", "WorkflowHandle", "default_identity")
