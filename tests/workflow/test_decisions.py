"""The runtime fed built histories: exact decisions, with the instance cache on and off."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from aioswf import activity, workflow
from aioswf._decider import InstanceOptions
from aioswf.executions import DecisionFailure
from tests.workflow.histories import Simulation, attrs_of, kinds
from tests.workflow.workflows import (
    Approval,
    Cancellable,
    Failing,
    Hello,
    Parallel,
    Racing,
    Retrying,
    Sleeper,
    Typed,
)

pytestmark = pytest.mark.parametrize("cache", [True, False], ids=["cached", "replayed"])


def test_activities_in_sequence(cache: bool) -> None:
    sim = Simulation(Hello, "ann", cache=cache)
    decisions = sim.decide()
    assert decisions == [
        {
            "decisionType": "ScheduleActivityTask",
            "scheduleActivityTaskDecisionAttributes": {
                "activityType": {"name": "greet", "version": "1"},
                "activityId": "1",
                "taskList": {"name": "tasks"},
                "scheduleToStartTimeout": "60",
                "startToCloseTimeout": "60",
                "scheduleToCloseTimeout": "120",
                "heartbeatTimeout": "60",
                "input": '["ann"]',
            },
        }
    ]
    sim.history.activity_completed("1", "hello ann")
    decisions = sim.decide()
    assert kinds(decisions) == ["ScheduleActivityTask"]
    assert attrs_of(decisions[0])["activityType"] == {"name": "Shout", "version": "2"}
    assert attrs_of(decisions[0])["activityId"] == "2"
    sim.history.activity_completed("2", "HELLO ANN")
    decisions = sim.decide()
    assert decisions == [
        {
            "decisionType": "CompleteWorkflowExecution",
            "completeWorkflowExecutionDecisionAttributes": {"result": '"HELLO ANN"'},
        }
    ]
    assert sim.replay().decisions == []
    sim.close()


def test_parallel_activities_and_results_in_order(cache: bool) -> None:
    sim = Simulation(Parallel, ["a", "b", "c"], cache=cache)
    decisions = sim.decide()
    assert [attrs_of(d)["activityId"] for d in decisions] == ["1", "2", "3"]
    sim.history.activity_completed("3", "hello c")
    sim.history.activity_completed("1", "hello a")
    assert sim.decide() == []
    sim.history.activity_completed("2", "hello b")
    decisions = sim.decide()
    assert json.loads(attrs_of(decisions[0])["result"]) == ["hello a", "hello b", "hello c"]
    sim.close()


def test_durable_timer_state_and_time(cache: bool) -> None:
    sim = Simulation(Sleeper, 90, cache=cache)
    decisions = sim.decide()
    assert decisions == [
        {
            "decisionType": "StartTimer",
            "startTimerDecisionAttributes": {"timerId": "1", "startToFireTimeout": "90"},
        }
    ]
    assert json.loads(sim.activations[-1].execution_context or "") == {"stage": "sleeping"}
    sim.history.advance(90)
    sim.history.timer_fired("1")
    decisions = sim.decide()
    assert kinds(decisions) == ["CompleteWorkflowExecution"]
    assert json.loads(attrs_of(decisions[0])["result"]) == "2024-01-01T00:01:30+00:00"
    assert json.loads(sim.activations[-1].execution_context or "") == {"stage": "done"}
    sim.close()


def test_signals_and_condition(cache: bool) -> None:
    sim = Simulation(Approval, cache=cache)
    decisions = sim.decide()
    assert decisions == [
        {
            "decisionType": "StartTimer",
            "startTimerDecisionAttributes": {"timerId": "1", "startToFireTimeout": "3600"},
        }
    ]
    sim.history.signal("note", "first")
    sim.history.signal("unknown", 1)
    assert sim.decide() == []
    sim.history.signal("note", "second")
    sim.history.signal("approve", "bob")
    decisions = sim.decide()
    assert kinds(decisions) == ["CancelTimer", "CompleteWorkflowExecution"]
    assert attrs_of(decisions[0]) == {"timerId": "1"}
    assert (
        json.loads(attrs_of(decisions[1])["result"]) == "approved by bob after ['first', 'second']"
    )
    assert sim.replay().decisions == []
    sim.close()


def test_condition_times_out(cache: bool) -> None:
    sim = Simulation(Approval, cache=cache)
    sim.decide()
    sim.history.advance(3600)
    sim.history.timer_fired("1")
    decisions = sim.decide()
    assert json.loads(attrs_of(decisions[0])["result"]) == "timed out"
    sim.close()


def test_retries_with_durable_timers(cache: bool) -> None:
    sim = Simulation(Retrying, cache=cache)
    assert attrs_of(sim.decide()[0])["activityId"] == "1"
    sim.history.activity_failed("1", "ApplicationError", '{"aioswf.failure": 1, "message": "no"}')
    decisions = sim.decide()
    assert decisions == [
        {
            "decisionType": "StartTimer",
            "startTimerDecisionAttributes": {"timerId": "1", "startToFireTimeout": "5"},
        }
    ]
    sim.history.timer_fired("1")
    assert attrs_of(sim.decide()[0])["activityId"] == "1.2"
    sim.history.activity_timed_out("1.2", "START_TO_CLOSE")
    assert attrs_of(sim.decide()[0])["startToFireTimeout"] == "10"
    sim.history.timer_fired("2")
    assert attrs_of(sim.decide()[0])["activityId"] == "1.3"
    sim.history.activity_failed("1.3", "ValueError", '{"aioswf.failure": 1, "message": "bad"}')
    decisions = sim.decide()
    assert kinds(decisions) == ["FailWorkflowExecution"]
    assert attrs_of(decisions[0])["reason"] == "ActivityFailedError"
    details = json.loads(attrs_of(decisions[0])["details"])
    assert "ValueError: bad" in details["message"]
    sim.close()


def test_application_error_fails_the_execution(cache: bool) -> None:
    sim = Simulation(Failing, "application", cache=cache)
    decisions = sim.decide()
    assert kinds(decisions) == ["FailWorkflowExecution"]
    attributes = attrs_of(decisions[0])
    assert attributes["reason"] == "OrderError"
    details = json.loads(attributes["details"])
    assert details["message"] == "bad order"
    assert details["details"] == [{"order": 7}]
    sim.close()


def test_other_errors_fail_the_execution(cache: bool) -> None:
    sim = Simulation(Failing, "bug", cache=cache)
    decisions = sim.decide()
    assert kinds(decisions) == ["FailWorkflowExecution"]
    assert attrs_of(decisions[0])["reason"] == "KeyError"
    assert 'raise KeyError("a bug")' in json.loads(attrs_of(decisions[0])["details"])["traceback"]
    sim.close()


def test_listed_errors_retry_the_task_visibly_with_back_off(cache: bool) -> None:
    options = InstanceOptions(retry_decision_task_on=(KeyError,))
    sim = Simulation(Failing, "bug", cache=cache, options=options)
    for attempt in (1, 2, 3):
        decisions = sim.decide()
        assert kinds(decisions) == ["StartTimer"]
        assert attrs_of(decisions[0])["timerId"].startswith("aioswf-retry-")
        assert attrs_of(decisions[0])["startToFireTimeout"] == str(2 ** (attempt - 1))
        activation = sim.activations[-1]
        assert isinstance(activation.failure, KeyError)
        report = activation.decision_failure
        assert report is not None
        assert (report.attempts, report.error_type) == (attempt, "KeyError")
        failure, state = DecisionFailure.from_context(activation.execution_context)
        assert failure == report
        assert state is None
        sim.history.add(
            "TimerFired", {"timerId": attrs_of(decisions[0])["timerId"], "startedEventId": 0}
        )
    sim.close()


def test_bad_input_fails_naming_the_parameter(cache: bool) -> None:
    sim = Simulation(Typed, raw_input='[2, {"not": "a string"}]', cache=cache)
    decisions = sim.decide()
    assert kinds(decisions) == ["FailWorkflowExecution"]
    assert attrs_of(decisions[0])["reason"] == "PayloadConversionError"
    assert "'name'" in json.loads(attrs_of(decisions[0])["details"])["message"]
    sim.close()


def test_cancellation_runs_cleanup_then_cancels(cache: bool) -> None:
    sim = Simulation(Cancellable, cache=cache)
    sim.decide()
    sim.history.cancel_requested()
    decisions = sim.decide()
    assert kinds(decisions) == ["RequestCancelActivityTask", "ScheduleActivityTask"]
    assert attrs_of(decisions[0]) == {"activityId": "1"}
    assert attrs_of(decisions[1])["input"] == '["cleanup"]'
    sim.history.activity_completed("2", "bye")
    assert sim.decide() == [
        {"decisionType": "CancelWorkflowExecution", "cancelWorkflowExecutionDecisionAttributes": {}}
    ]
    assert sim.replay().decisions == []
    sim.close()


def test_wait_for_is_a_durable_timeout(cache: bool) -> None:
    sim = Simulation(Racing, cache=cache)
    assert kinds(sim.decide()) == ["StartTimer", "ScheduleActivityTask"]
    sim.history.advance(30)
    sim.history.timer_fired("1")
    decisions = sim.decide()
    assert kinds(decisions) == ["RequestCancelActivityTask", "CompleteWorkflowExecution"]
    assert json.loads(attrs_of(decisions[1])["result"]) == "too slow"
    sim.close()


def test_wait_for_result_in_time_cancels_the_timer(cache: bool) -> None:
    sim = Simulation(Racing, cache=cache)
    sim.decide()
    sim.history.activity_completed("1", "quick")
    decisions = sim.decide()
    assert kinds(decisions) == ["CancelTimer", "CompleteWorkflowExecution"]
    sim.close()


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def bounded_only_by_its_run(n: int) -> int:
    return n


@activity.defn
async def unbounded(n: int) -> int:
    return n


@workflow.defn
class Timeouts:
    @workflow.run
    async def run(self, bounded: bool) -> int:
        return await workflow.execute_activity(bounded_only_by_its_run if bounded else unbounded, 1)


def test_every_activity_timeout_is_stated_and_unset_ones_are_unlimited(cache: bool) -> None:
    sim = Simulation(Timeouts, True, cache=cache)
    attributes = attrs_of(sim.decide()[0])
    assert {k: v for k, v in attributes.items() if k.endswith("Timeout")} == {
        "scheduleToStartTimeout": "NONE",
        "startToCloseTimeout": "30",
        "scheduleToCloseTimeout": "NONE",
        "heartbeatTimeout": "NONE",
    }
    sim.close()


def test_an_activity_nothing_bounds_fails_the_execution(cache: bool) -> None:
    sim = Simulation(Timeouts, False, cache=cache)
    decisions = sim.decide()
    assert kinds(decisions) == ["FailWorkflowExecution"]
    assert attrs_of(decisions[0])["reason"] == "DefinitionError"
    message = json.loads(attrs_of(decisions[0])["details"])["message"]
    assert "unbounded/1 has no start_to_close_timeout or schedule_to_close_timeout" in message
    sim.close()
