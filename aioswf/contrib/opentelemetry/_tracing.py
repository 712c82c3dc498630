"""Tracing: OpenTelemetry spans around starts, signals, workflow runs, activities and children.

The trace context travels in headers (``opentelemetry:traceparent``…), so one trace follows
the work from the client through the workflow to its activities and children, whichever
process runs them.

Spans made inside a workflow are replay-safe. A workflow run spans many decision tasks, maybe
on many workers, so its spans (``RunWorkflow``, ``StartActivity``, ``StartChildWorkflow``,
``HandleSignal``…) are instants at the decision task's time, emitted only when their code
runs for the first time, never when a task is replayed; their span ids are derived from the
run id and their place in the code, so a replay hands the same parent to the work it
starts, and a task decided twice (after a timeout) emits spans with the same ids.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import TextMapPropagator
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    Tracer,
    TracerProvider,
)

from aioswf import workflow
from aioswf._sandbox import unguarded
from aioswf.interceptors import (
    ActivityInboundInterceptor,
    ClientOutboundInterceptor,
    ContinueAsNewInput,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    HandleSignalInput,
    Interceptor,
    SignalExternalWorkflowInput,
    SignalWorkflowInput,
    StartActivityInput,
    StartChildWorkflowInput,
    StartWorkflowInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

HEADER_PREFIX = "opentelemetry:"
"""Headers carrying the trace context are the propagator's fields behind this prefix."""

_next_ids: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
    "aioswf_next_span_ids", default=None
)


class TracingInterceptor(Interceptor):
    """Traces the client's starts and signals, and the workflows and activities workers run.

    Give it to the client (``Client(..., interceptors=[TracingInterceptor()])``): workers on
    that client trace too. Spans: ``StartWorkflow:<type>`` and ``SignalWorkflow:<signal>``
    (client), ``RunWorkflow:<type>``, ``HandleSignal:<signal>``, ``StartActivity:<type>``,
    ``StartChildWorkflow:<type>``, ``SignalExternalWorkflow:<signal>`` (workflow, instants
    at the decision task's time), ``RunActivity:<type>`` (each attempt, its whole run).

    Args:
        tracer_provider: where spans go; the global provider by default. With the
            OpenTelemetry SDK's provider, workflow span ids are deterministic.
        propagator: how the context is written into headers; the global one (W3C trace
            context and baggage) by default.
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        *,
        propagator: TextMapPropagator | None = None,
    ) -> None:
        provider = tracer_provider or trace.get_tracer_provider()
        self.tracer: Tracer = provider.get_tracer("aioswf")
        self.propagator = propagator or propagate.get_global_textmap()
        self.deterministic = _make_ids_chosen(self.tracer)
        """Whether workflow span ids can be chosen (an SDK tracer); else they are random."""
        owner = self

        class _Bound(_WorkflowTracing):
            tracing = owner

        self._workflow_class: type[WorkflowInboundInterceptor] = _Bound

    # --- headers --------------------------------------------------------------------------

    def inject(self, headers: dict[str, str], ctx: Context | None = None) -> None:
        """Write the context ``ctx`` (the current one by default) into ``headers``."""
        carrier: dict[str, str] = {}
        self.propagator.inject(carrier, context=ctx)
        headers.update({HEADER_PREFIX + key: value for key, value in carrier.items()})

    def extract(self, headers: Mapping[str, str]) -> Context:
        """The context written in ``headers`` by :meth:`inject` (empty if none)."""
        carrier = {
            key[len(HEADER_PREFIX) :]: value
            for key, value in headers.items()
            if key.startswith(HEADER_PREFIX)
        }
        return self.propagator.extract(carrier)

    # --- chains ---------------------------------------------------------------------------

    def intercept_client(self, next: ClientOutboundInterceptor) -> ClientOutboundInterceptor:
        return _ClientTracing(next, self)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityTracing(next, self)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return self._workflow_class


class _ClientTracing(ClientOutboundInterceptor):
    def __init__(self, next: ClientOutboundInterceptor, tracing: TracingInterceptor) -> None:
        super().__init__(next)
        self.tracing = tracing

    async def start_workflow(self, input: StartWorkflowInput) -> Any:
        attributes = {"aioswf.workflow_id": input.workflow_id, "aioswf.task_list": input.task_list}
        name = f"StartWorkflow:{input.workflow.name}"
        with self.tracing.tracer.start_as_current_span(
            name, kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            self.tracing.inject(input.headers)
            handle = await self.next.start_workflow(input)
            span.set_attribute("aioswf.run_id", handle.first_run_id or "")
            return handle

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        with self.tracing.tracer.start_as_current_span(
            f"SignalWorkflow:{input.signal}",
            kind=SpanKind.CLIENT,
            attributes={"aioswf.workflow_id": input.workflow_id},
        ):
            self.tracing.inject(input.headers)
            await self.next.signal_workflow(input)


class _ActivityTracing(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, tracing: TracingInterceptor) -> None:
        super().__init__(next)
        self.tracing = tracing

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = input.info
        attributes: dict[str, str | int] = {
            "aioswf.activity_id": info.activity_id,
            "aioswf.workflow_id": info.workflow_id,
            "aioswf.run_id": info.run_id,
            "aioswf.attempt": info.attempt or 1,
        }
        with self.tracing.tracer.start_as_current_span(
            f"RunActivity:{info.activity_type}",
            context=self.tracing.extract(input.headers),
            kind=SpanKind.SERVER,
            attributes=attributes,
        ):
            return await self.next.execute_activity(input)


class _WorkflowTracing(WorkflowInboundInterceptor):
    """One per run: the run's span context, and the spans its code makes."""

    tracing: TracingInterceptor

    def __init__(self, next: WorkflowInboundInterceptor) -> None:
        super().__init__(next)
        self.run_context: Context = Context()
        self._count = 0
        self._run_id = ""
        self._own_trace_id = 0
        """The trace of spans without a parent: derived from the run id, once."""

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutboundTracing(outbound, self))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        info = workflow.info()
        self._run_id = info.run_id
        parent = self.tracing.extract(input.headers)
        attributes = {"aioswf.workflow_id": info.workflow_id, "aioswf.run_id": info.run_id}
        self.run_context = self.instant(
            f"RunWorkflow:{input.workflow.name}", parent, "run", SpanKind.SERVER, attributes
        )
        return await self.next.execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        parent = self.tracing.extract(input.headers)
        if not trace.get_current_span(parent).get_span_context().is_valid:
            parent = self.run_context
        self.instant(f"HandleSignal:{input.signal}", parent, "signal", SpanKind.SERVER)
        await self.next.handle_signal(input)

    def instant(
        self,
        name: str,
        parent: Context,
        kind_of_work: str,
        kind: SpanKind,
        attributes: dict[str, Any] | None = None,
    ) -> Context:
        """Emit (unless replaying) a span at the task's time; the context it is parent in.

        Its ids come from the run id and the span's place in the code: the same on replay.
        """
        self._count += 1
        run_id = self._run_id or workflow.info().run_id
        parent_span = trace.get_current_span(parent).get_span_context()
        if parent_span.is_valid:
            trace_id = parent_span.trace_id
        else:
            if not self._own_trace_id:
                self._own_trace_id = _hash(run_id, "trace", 16)
            trace_id = self._own_trace_id
        span_id = _hash(run_id, f"{kind_of_work}/{self._count}", 8)
        if not workflow.is_replaying():
            moment = _nanoseconds(workflow.now())
            token = _next_ids.set((trace_id, span_id))
            try:
                with unguarded():  # exporters may do what workflow code must not
                    span = self.tracing.tracer.start_span(
                        name, context=parent, kind=kind, attributes=attributes, start_time=moment
                    )
                    span.end(end_time=moment)
            finally:
                _next_ids.reset(token)
            if not self.tracing.deterministic:
                return trace.set_span_in_context(span, parent)
        chosen = SpanContext(trace_id, span_id, is_remote=False, trace_flags=_SAMPLED)
        return trace.set_span_in_context(NonRecordingSpan(chosen), parent)


class _WorkflowOutboundTracing(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, owner: _WorkflowTracing) -> None:
        super().__init__(next)
        self.owner = owner

    def _started(self, name: str, kind_of_work: str, headers: dict[str, str]) -> None:
        ctx = self.owner.instant(name, self.owner.run_context, kind_of_work, SpanKind.CLIENT)
        self.owner.tracing.inject(headers, ctx)

    def start_activity(self, input: StartActivityInput) -> Any:
        self._started(f"StartActivity:{input.activity.name}", "activity", input.headers)
        return self.next.start_activity(input)

    async def start_child_workflow(self, input: StartChildWorkflowInput) -> Any:
        self._started(f"StartChildWorkflow:{input.workflow.name}", "child", input.headers)
        return await self.next.start_child_workflow(input)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        self._started(f"SignalExternalWorkflow:{input.signal}", "external", input.headers)
        await self.next.signal_external_workflow(input)

    def continue_as_new(self, input: ContinueAsNewInput) -> Any:
        # The next run belongs to the same trace, under this run's span.
        self.owner.tracing.inject(input.headers, self.owner.run_context)
        return self.next.continue_as_new(input)


_SAMPLED = TraceFlags(TraceFlags.SAMPLED)


def _hash(run_id: str, what: str, size: int) -> int:
    digest = hashlib.sha256(f"{run_id}/{what}".encode()).digest()
    return int.from_bytes(digest[:size], "big") or 1


def _nanoseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000) * 1_000


class _ChosenIds:
    """An SDK id generator that hands out the ids a workflow span chose, else delegates."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def generate_span_id(self) -> int:
        chosen = _next_ids.get()
        return chosen[1] if chosen is not None else int(self.inner.generate_span_id())

    def generate_trace_id(self) -> int:
        chosen = _next_ids.get()
        return chosen[0] if chosen is not None else int(self.inner.generate_trace_id())

    def is_trace_id_random(self) -> bool:
        return _next_ids.get() is None and bool(self.inner.is_trace_id_random())


def _make_ids_chosen(tracer: Tracer) -> bool:
    """Let workflow spans choose their ids, if ``tracer`` is the SDK's (it has a generator)."""
    inner = getattr(tracer, "id_generator", None)
    if inner is None:
        return False
    if not isinstance(inner, _ChosenIds):
        # The tracer is this interceptor's own object: nothing else sees the change.
        tracer.id_generator = _ChosenIds(inner)  # type: ignore[attr-defined]
    return True
