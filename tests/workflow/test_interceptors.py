"""Interceptors see every call of the client and of the work a worker runs, with headers."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from aioswf import Worker, activity, workflow
from aioswf.interceptors import (
    ActivityInboundInterceptor,
    CancelWorkflowInput,
    ClientOutboundInterceptor,
    ContinueAsNewInput,
    DescribeWorkflowInput,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    GetResultInput,
    HandleSignalInput,
    Interceptor,
    SignalExternalWorkflowInput,
    SignalWorkflowInput,
    StartActivityInput,
    StartChildWorkflowInput,
    StartTimerInput,
    StartWorkflowInput,
    TerminateWorkflowInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from aioswf.testing import Replayer, WorkflowEnvironment

TIMEOUT = timedelta(seconds=20)


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def double(value: int) -> int:
    return value * 2


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
def triple(value: int) -> int:
    return value * 3


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Child:
    def __init__(self) -> None:
        self.poked = False

    @workflow.run
    async def run(self, value: int) -> int:
        await workflow.wait_condition(lambda: self.poked)
        return value + 1

    @workflow.signal
    def poke(self) -> None:
        self.poked = True


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Parent:
    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self, value: int, again: bool) -> int:
        if again:
            workflow.continue_as_new(value, False)
        doubled = await workflow.execute_activity(double, value)
        tripled = await workflow.execute_activity(triple, value)
        await asyncio.sleep(5)
        child = await workflow.start_child_workflow(Child.run, doubled + tripled)
        await child.signal(Child.poke)
        result: int = await child
        await workflow.wait_condition(lambda: self.go)
        return result

    @workflow.signal
    async def proceed(self) -> None:
        self.go = True


class Recorder(Interceptor):
    """Records every call it sees (once: not on replay), and sets a header on each one."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.calls: list[tuple[str, Any]] = []

    def header(self, what: str) -> dict[str, str]:
        return {f"test.{self.tag}": what}

    def intercept_client(self, next: ClientOutboundInterceptor) -> ClientOutboundInterceptor:
        return _Client(next, self)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Activity(next, self)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        recorder = self

        class Inbound(_WorkflowInbound):
            owner = recorder

        return Inbound


class _Client(ClientOutboundInterceptor):
    def __init__(self, next: ClientOutboundInterceptor, owner: Recorder) -> None:
        super().__init__(next)
        self.owner = owner

    async def start_workflow(self, input: StartWorkflowInput) -> Any:
        input.headers.update(self.owner.header("start"))
        self.owner.calls.append(("start", input.workflow_id))
        return await self.next.start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        input.headers.update(self.owner.header("signal"))
        self.owner.calls.append(("signal", input.signal))
        await self.next.signal_workflow(input)

    async def cancel_workflow(self, input: CancelWorkflowInput) -> None:
        self.owner.calls.append(("cancel", input.workflow_id))
        await self.next.cancel_workflow(input)

    async def terminate_workflow(self, input: TerminateWorkflowInput) -> None:
        self.owner.calls.append(("terminate", input.reason))
        await self.next.terminate_workflow(input)

    async def describe_workflow(self, input: DescribeWorkflowInput) -> Any:
        self.owner.calls.append(("describe", input.workflow_id))
        return await self.next.describe_workflow(input)

    async def get_result(self, input: GetResultInput) -> Any:
        result = await self.next.get_result(input)
        self.owner.calls.append(("result", result))
        return result


class _Activity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, owner: Recorder) -> None:
        super().__init__(next)
        self.owner = owner

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        self.owner.calls.append(("activity", input.info.activity_type, dict(input.headers)))
        return await self.next.execute_activity(input)


class _WorkflowInbound(WorkflowInboundInterceptor):
    owner: Recorder

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_WorkflowOutbound(outbound, self.owner))

    def record(self, *call: Any) -> None:
        if not workflow.is_replaying():
            self.owner.calls.append(call)

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        self.record("run", input.workflow.name, tuple(input.args), dict(input.headers))
        return await self.next.execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        self.record("handle signal", input.signal, dict(input.headers))
        await self.next.handle_signal(input)


class _WorkflowOutbound(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, owner: Recorder) -> None:
        super().__init__(next)
        self.owner = owner

    def record(self, *call: Any) -> None:
        if not workflow.is_replaying():
            self.owner.calls.append(call)

    def start_activity(self, input: StartActivityInput) -> Any:
        input.headers.update(self.owner.header(f"activity {input.activity.name}"))
        self.record("start activity", input.activity.name)
        return self.next.start_activity(input)

    async def start_child_workflow(self, input: StartChildWorkflowInput) -> Any:
        input.headers.update(self.owner.header("child"))
        self.record("start child", input.workflow.name)
        return await self.next.start_child_workflow(input)

    def start_timer(self, input: StartTimerInput) -> None:
        self.record("timer", input.duration)
        self.next.start_timer(input)

    async def signal_external_workflow(self, input: SignalExternalWorkflowInput) -> None:
        input.headers.update(self.owner.header("signal child"))
        self.record("signal external", input.signal)
        await self.next.signal_external_workflow(input)

    def continue_as_new(self, input: ContinueAsNewInput) -> Any:
        input.headers.update(self.owner.header("continue"))
        self.record("continue as new", tuple(input.args))
        return self.next.continue_as_new(input)


async def test_interceptors_see_every_call_with_its_headers() -> None:
    outer, inner = Recorder("client"), Recorder("worker")
    async with (
        WorkflowEnvironment(interceptors=[outer]) as env,
        Worker(
            env.client,
            task_list="intercepted",
            workflows=[Parent, Child],
            activities=[double, triple],
            interceptors=[inner],
        ),
    ):
        handle = await env.client.start_workflow(
            Parent.run, 4, True, workflow_id="parent", task_list="intercepted"
        )
        # The second run waits for `proceed` once its child is done.
        while not any(c[0] == "signal external" for c in inner.calls):
            await env.sleep(timedelta(seconds=1))
        await handle.signal(Parent.proceed)
        assert await handle.result(timeout=TIMEOUT) == 21
        await handle.describe()
        other = await env.client.start_workflow(
            Child.run, 0, workflow_id="other", task_list="intercepted"
        )
        await other.cancel()
        await other.terminate("enough")

    client_calls = [c for c in outer.calls if c[0] in _CLIENT_CALLS]
    assert client_calls == [
        ("start", "parent"),
        ("signal", "proceed"),
        ("result", 21),
        ("describe", "parent"),
        ("start", "other"),
        ("cancel", "other"),
        ("terminate", "enough"),
    ]
    # The worker's interceptors: the client's first (outermost), then its own; each sees
    # the headers every interceptor set on the way out.
    for recorder in (outer, inner):
        calls = [c for c in recorder.calls if c[0] not in _CLIENT_CALLS]
        assert ("run", "Parent", (4, True), {"test.client": "start"}) in calls
        continued = {"test.client": "continue", "test.worker": "continue"}
        assert ("run", "Parent", (4, False), continued) in calls
        assert ("continue as new", (4, False)) in calls
        for name in ("double", "triple"):
            assert ("start activity", name) in calls
            sent = {"test.client": f"activity {name}", "test.worker": f"activity {name}"}
            assert ("activity", name, sent) in calls
        assert ("timer", timedelta(seconds=5)) in calls
        assert ("start child", "Child") in calls
        assert ("run", "Child", (20,), {"test.client": "child", "test.worker": "child"}) in calls
        assert ("signal external", "poke") in calls
        poked = {"test.client": "signal child", "test.worker": "signal child"}
        assert ("handle signal", "poke", poked) in calls
        assert ("handle signal", "proceed", {"test.client": "signal"}) in calls


_CLIENT_CALLS = {"start", "signal", "cancel", "terminate", "describe", "result"}


async def test_headers_cross_swf_beside_the_arguments_and_only_when_set() -> None:
    recorder = Recorder("client")
    async with (
        WorkflowEnvironment() as env,
        Worker(env.client, task_list="plain", workflows=[Child]),
    ):
        plain = await env.client.start_workflow(Child.run, 1, workflow_id="p", task_list="plain")
        await plain.signal(Child.poke)
        assert await plain.result(timeout=TIMEOUT) == 2
        events = [e async for e in plain.history()]
    started = events[0]["workflowExecutionStartedEventAttributes"]
    assert started["input"] == "[1]"
    signaled = [e for e in events if e["eventType"] == "WorkflowExecutionSignaled"]
    assert "input" not in signaled[0]["workflowExecutionSignaledEventAttributes"]

    async with (
        WorkflowEnvironment(interceptors=[recorder]) as env,
        Worker(env.client, task_list="headers", workflows=[Child]),
    ):
        handle = await env.client.start_workflow(Child.run, 1, workflow_id="h", task_list="headers")
        await handle.signal(Child.poke)
        assert await handle.result(timeout=TIMEOUT) == 2
        events = [e async for e in handle.history()]
    started = events[0]["workflowExecutionStartedEventAttributes"]
    assert json.loads(started["input"]) == {
        "aioswf:headers": {"test.client": "start"},
        "aioswf:args": [1],
    }
    # A history written with headers replays without the interceptors that set them.
    Replayer([Child]).replay({"events": events})
