from __future__ import annotations

from datetime import timedelta

import pytest

from aioswf import ActivityOptions, ChildPolicy, DefinitionError, RetryPolicy, activity, workflow
from aioswf._definitions import activity_definition, signal_name, workflow_definition
from aioswf.options import with_activity_overrides, with_workflow_overrides


@workflow.defn
class Plain:
    @workflow.run
    async def run(self) -> None: ...

    @workflow.signal
    async def poke(self) -> None: ...

    @workflow.signal(name="renamed")
    def other(self, value: int) -> None: ...


@workflow.defn(
    name="Custom",
    version="7",
    task_list="tl",
    execution_start_to_close_timeout=timedelta(hours=2),
    child_policy=ChildPolicy.ABANDON,
)
class Configured:
    @workflow.run
    async def go(self, x: int) -> int:
        return x


def test_names_default_from_python_and_can_be_overridden() -> None:
    plain = workflow_definition(Plain)
    assert (plain.name, plain.version, plain.run_method) == ("Plain", "1", "run")
    assert plain.signals == {"poke": "poke", "renamed": "other"}
    custom = workflow_definition(Configured.go)
    assert (custom.name, custom.version) == ("Custom", "7")
    assert custom.options.task_list == "tl"
    assert custom.options.swf_timeouts() == {"executionStartToCloseTimeout": "7200"}


def test_lookup_works_from_the_class_its_run_method_or_an_instance_method() -> None:
    assert workflow_definition(Plain.run) is workflow_definition(Plain)
    assert workflow_definition(Plain().run) is workflow_definition(Plain)
    assert signal_name(Plain.other) == "renamed"
    assert signal_name("raw") == "raw"


def test_classes_defined_in_functions_are_found() -> None:
    @workflow.defn
    class Local:
        @workflow.run
        async def run(self) -> str:
            return ""

    assert workflow_definition(Local.run).cls is Local


def test_mistakes_are_reported_with_the_class_name() -> None:
    with pytest.raises(DefinitionError, match="NoRun needs exactly one @workflow.run"):

        @workflow.defn
        class NoRun:
            pass

    with pytest.raises(DefinitionError, match="'async def'"):

        class SyncRun:
            @workflow.run
            def run(self) -> None: ...

    with pytest.raises(DefinitionError, match="two handlers for signal 'x'"):

        @workflow.defn
        class Twice:
            @workflow.run
            async def run(self) -> None: ...

            @workflow.signal(name="x")
            def a(self) -> None: ...

            @workflow.signal(name="x")
            def b(self) -> None: ...

    with pytest.raises(DefinitionError, match="not a workflow"):
        workflow_definition(len)
    with pytest.raises(DefinitionError, match="must be a datetime.timedelta"):
        workflow.defn(execution_start_to_close_timeout=60)  # type: ignore[call-overload]


@activity.defn
async def charge(order: str) -> str:
    return order


@activity.defn(name="Render", version="2", start_to_close_timeout=timedelta(minutes=5))
def render(order: str) -> str:
    return order


@activity.defaults(
    name_prefix="payments.",
    version="3",
    options=ActivityOptions(task_list="pay", heartbeat_timeout=timedelta(seconds=9)),
)
class Payments:
    def __init__(self, gateway: str) -> None:
        self.gateway = gateway

    @activity.defn
    async def refund(self, order: str) -> str:
        return f"{self.gateway}:{order}"

    @activity.defn(task_list="own", version="5")
    async def void(self) -> None: ...


def test_activity_names_versions_and_options() -> None:
    assert activity_definition(charge).type_key == "charge/1"
    assert activity_definition(charge).is_async
    rendered = activity_definition(render)
    assert rendered.type_key == "Render/2"
    assert not rendered.is_async
    assert rendered.options.swf_timeouts() == {"startToCloseTimeout": "300"}


def test_class_defaults_apply_to_methods_and_methods_win() -> None:
    refund = activity_definition(Payments("stripe").refund)
    assert refund.type_key == "payments.refund/3"
    assert refund.options.task_list == "pay"
    assert refund.options.heartbeat_timeout == timedelta(seconds=9)
    void = activity_definition(Payments.void)
    assert void.type_key == "payments.void/5"
    assert void.options.task_list == "own"


def test_a_bound_method_definition_calls_the_instance() -> None:
    definition = activity_definition(Payments("stripe").refund)
    assert definition.fn.__self__.gateway == "stripe"  # type: ignore[attr-defined]


def test_undecorated_activity_is_reported() -> None:
    with pytest.raises(DefinitionError, match="not an activity"):
        activity_definition(print)


def test_retry_policy_delays_and_limits() -> None:
    policy = RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_interval=timedelta(seconds=5),
        maximum_attempts=3,
    )
    assert [policy.delay_before(n).total_seconds() for n in (2, 3, 4)] == [2, 4, 5]
    assert policy.should_retry(1, "ValueError")
    assert not policy.should_retry(3, "ValueError")
    assert not RetryPolicy(non_retryable_error_types=("KeyError",)).should_retry(1, "KeyError")
    assert not RetryPolicy().should_retry(1, "X", non_retryable=True)
    with pytest.raises(DefinitionError, match="backoff_coefficient"):
        RetryPolicy(backoff_coefficient=0.5)


def test_call_overrides_merge_over_options_and_unknown_ones_are_named() -> None:
    base = ActivityOptions(task_list="a", start_to_close_timeout=timedelta(seconds=5))
    merged = with_activity_overrides(base, {"task_list": "b", "task_priority": 3})
    assert (merged.task_list, merged.task_priority) == ("b", 3)
    assert merged.start_to_close_timeout == timedelta(seconds=5)
    started = with_workflow_overrides(None, {"child_policy": "ABANDON"})
    assert started.child_policy is ChildPolicy.ABANDON
    with pytest.raises(TypeError, match=r"unexpected keyword argument \['start_to_close'\]"):
        with_activity_overrides(None, {"start_to_close": timedelta(seconds=1)})  # type: ignore[typeddict-unknown-key]
    with pytest.raises(DefinitionError, match="must be a datetime.timedelta"):
        with_workflow_overrides(None, {"task_start_to_close_timeout": 30})  # type: ignore[typeddict-item]
