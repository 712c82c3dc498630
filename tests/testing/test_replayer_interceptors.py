"""Replayer with interceptors: a run's workflow interceptor chain replays as on a worker."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from aioswf import workflow
from aioswf.cli import main
from aioswf.contrib.opentelemetry import TracingInterceptor
from aioswf.exceptions import NondeterminismError
from aioswf.interceptors import (
    ExecuteWorkflowInput,
    Interceptor,
    StartActivityInput,
    StartTimerInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)
from aioswf.testing import History, Replayer, WorkflowEnvironment, load_history, save_history
from aioswf.worker import Worker
from tests.testing.apps import Greeting, greet


class Tagging(Interceptor):
    """Tags every activity it schedules with a header; notes what it sees of the run."""

    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        owner = self

        class Inbound(WorkflowInboundInterceptor):
            def init(self, outbound: WorkflowOutboundInterceptor) -> None:
                super().init(_TaggingOutbound(outbound, owner))

            async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
                owner.seen.append(("run", workflow.is_replaying(), tuple(input.args)))
                return await self.next.execute_workflow(input)

        return Inbound


class _TaggingOutbound(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, owner: Tagging) -> None:
        super().__init__(next)
        self.owner = owner

    def start_activity(self, input: StartActivityInput) -> Any:
        input.headers["test.tag"] = f"tagged {input.activity.name}"
        self.owner.seen.append(("activity", workflow.is_replaying(), input.activity.name))
        return self.next.start_activity(input)

    def start_timer(self, input: StartTimerInput) -> None:
        self.owner.seen.append(("timer", workflow.is_replaying(), input.duration))
        self.next.start_timer(input)


class WaitsOnReplay(Interceptor):
    """The kind of bug to catch: an interceptor that decides otherwise when replaying."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _WaitsOnReplay


class _WaitsOnReplay(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        if workflow.is_replaying():
            await asyncio.sleep(60)  # a durable timer the recorded run never started
        return await self.next.execute_workflow(input)


_recorded: dict[str, History] = {}


async def _record(name: str, client_interceptors: list[Interceptor], **worker: Any) -> History:
    """A finished Greeting's history, run by a worker with these interceptors (once)."""
    if name not in _recorded:
        async with (
            WorkflowEnvironment(interceptors=client_interceptors) as env,
            Worker(env.client, task_list="t", workflows=[Greeting], activities=[greet], **worker),
        ):
            handle = await env.client.start_workflow(
                Greeting.run, "ann", workflow_id="greeting", task_list="t"
            )
            assert await handle.result() == ["hello ann", "hello ann again"]
            _recorded[name] = load_history([e async for e in handle.history()])
    return _recorded[name]


async def test_a_history_recorded_with_an_interceptor_replays_through_it() -> None:
    history = await _record("tagged", [], interceptors=[Tagging()])
    scheduled = [
        e["activityTaskScheduledEventAttributes"]["input"]
        for e in history.events
        if e["eventType"] == "ActivityTaskScheduled"
    ]
    assert [json.loads(i)["aioswf:headers"] for i in scheduled] == [
        {"test.tag": "tagged greet"},
        {"test.tag": "tagged greet"},
    ]

    tagging = Tagging()
    Replayer([Greeting], interceptors=[tagging]).replay(history)
    # The chain ran during the replay, around the run and what it scheduled.
    assert tagging.seen == [
        ("run", True, ("ann",)),
        ("activity", True, "greet"),
        ("timer", True, timedelta(days=1)),
        ("activity", True, "greet"),
    ]


async def test_an_interceptor_deciding_otherwise_on_replay_is_nondeterminism() -> None:
    history = await _record("tagged", [], interceptors=[Tagging()])
    replayer = Replayer([Greeting], interceptors=[Tagging(), WaitsOnReplay()])
    with pytest.raises(NondeterminismError) as caught:
        replayer.replay(history)
    message = str(caught.value)
    assert "StartTimer" in message
    assert "ActivityTaskScheduled" in message
    # The same history, with the interceptor that recorded it, replays.
    Replayer([Greeting], interceptors=[Tagging()]).replay(history)


async def test_the_tracing_interceptor_replays_without_emitting_spans_again() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing = TracingInterceptor(provider)
    history = await _record("traced", [tracing])
    recorded = [span.name for span in exporter.get_finished_spans()]
    assert "RunWorkflow:Greeting" in recorded
    assert recorded.count("StartActivity:greet") == 2

    Replayer([Greeting], interceptors=[tracing]).replay(history)
    assert [span.name for span in exporter.get_finished_spans()] == recorded


async def test_the_replay_command_takes_interceptors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = await _record("tagged", [], interceptors=[Tagging()])
    path = tmp_path / "tagged.json"
    save_history(path, history.events, workflow_id=history.workflow_id, run_id=history.run_id)
    replay = ["replay", str(path), "--workflows", "tests.testing.apps"]
    here = "tests.testing.test_replayer_interceptors"
    assert main([*replay, "--interceptor", f"{here}:Tagging"]) == 0
    assert f"ok   {path} (Greeting/1)" in capsys.readouterr().out
    status = main(
        [*replay, "--interceptor", f"{here}:Tagging", "--interceptor", f"{here}:WaitsOnReplay"]
    )
    assert status == 1
    assert f"FAIL {path} (Greeting/1): NondeterminismError" in capsys.readouterr().out
    assert main([*replay, "--interceptor", "tests.testing.apps:TIMEOUTS"]) == 2
    assert "is a dict, not an Interceptor" in capsys.readouterr().err


def test_interceptors_that_are_not_instances_are_named() -> None:
    with pytest.raises(TypeError, match=r"\[0\] is the class Tagging; pass an instance"):
        Replayer([Greeting], interceptors=[Tagging])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"\[1\] is a str, not an aioswf.interceptors"):
        Replayer([Greeting], interceptors=[Tagging(), "tracing"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="a list of interceptors, not one"):
        Replayer([Greeting], interceptors=Tagging())  # type: ignore[arg-type]
