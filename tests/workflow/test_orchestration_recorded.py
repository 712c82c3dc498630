"""Histories recorded on the local service (see ``test_e2e_orchestration``) replayed by
today's code: every feature replays without new decisions, task by task with the cache on
and off, and changed code is caught or, behind a patch, accepted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aioswf import NondeterminismError
from aioswf._decider import Activation, WorkflowInstance
from aioswf._definitions import workflow_definition
from aioswf.converter import DataConverter
from tests.workflow import orchestration as wf
from tests.workflow.histories import decide_last_again, same_decisions

HISTORIES = Path(__file__).parent.parent / "histories"

RECORDED: dict[str, tuple[type[Any], str]] = {
    "children": (wf.Parent, "parent"),
    "continue_as_new": (wf.Counter, "counter"),
    "external": (wf.Sender, "sender"),
    "cancel_cleanup": (wf.Target, "target"),
    "before_patch": (wf.ShippingV1, "old"),
    "patched": (wf.ShippingV2, "new"),
    "side_effect": (wf.Effects, "fx"),
    "lambda": (wf.Lambdas, "fn"),
}


def load(name: str) -> list[dict[str, Any]]:
    text = (HISTORIES / f"orchestration_{name}.json").read_text()
    events: list[dict[str, Any]] = json.loads(text)["events"]
    return events


def instance(cls: type[Any], workflow_id: str) -> WorkflowInstance:
    return WorkflowInstance(
        workflow_definition(cls),
        domain="recorded",
        workflow_id=workflow_id,
        run_id=f"{workflow_id}-recorded",
        converter=DataConverter(),
    )


def replay(cls: type[Any], workflow_id: str, events: list[dict[str, Any]]) -> Activation:
    fresh = instance(cls, workflow_id)
    try:
        return fresh.run_to_completion(events, None)
    finally:
        fresh.close()


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_recorded_history_replays_to_the_recorded_end(name: str) -> None:
    cls, workflow_id = RECORDED[name]
    events = load(name)
    assert replay(cls, workflow_id, events).failure is None
    # Replaying alone decides nothing by construction: decide the last task again, and it
    # must make exactly the decisions recorded for it, nothing more.
    again, recorded = decide_last_again(lambda: instance(cls, workflow_id), events)
    assert again.failure is None
    assert recorded
    decided = [without(d, NEW_WHEN_DECIDED_AGAIN.get(name, ())) for d in again.decisions]
    expected = [without(d, NEW_WHEN_DECIDED_AGAIN.get(name, ())) for d in recorded]
    assert same_decisions(decided, expected), (decided, expected)


NEW_WHEN_DECIDED_AGAIN = {
    # The run passes its own run id on, and this instance's is not the recorded one.
    "continue_as_new": ("input",),
    # A side effect decided afresh draws a new value, by design.
    "side_effect": ("details", "result"),
}


def without(decision: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    kind = decision["decisionType"]
    key = kind[0].lower() + kind[1:] + "DecisionAttributes"
    return {"decisionType": kind, key: {k: v for k, v in decision[key].items() if k not in names}}


# A side effect is new again in every task decided afresh here, so its value differs by
# design; test_replayed_side_effect_is_read_from_history covers it.
@pytest.mark.parametrize("name", sorted(set(RECORDED) - {"side_effect"}))
def test_every_recorded_task_decides_the_same_with_cache_on_and_off(name: str) -> None:
    cls, workflow_id = RECORDED[name]
    events = load(name)
    cached = instance(cls, workflow_id)
    starts = [e["eventId"] for e in events if e["eventType"] == "DecisionTaskStarted"]
    for started in starts:
        prefix = events[:started]
        fresh = instance(cls, workflow_id)
        replayed = fresh.run_to_completion(prefix, started)
        fresh.close()
        new = [e for e in prefix if e["eventId"] > cached.last_started_id]
        incremental = cached.run_to_completion(new, started)
        assert replayed.failure is None
        assert replayed.decisions == incremental.decisions
    cached.close()


def test_patched_code_replays_a_history_recorded_before_the_patch() -> None:
    assert replay(wf.ShippingV2, "old", load("before_patch")).failure is None


def test_deprecated_patch_replays_histories_recorded_with_the_patch() -> None:
    assert replay(wf.ShippingV3, "new", load("patched")).failure is None


def test_unguarded_change_is_caught() -> None:
    failure = replay(wf.ShippingV3, "old", load("before_patch")).failure
    assert isinstance(failure, NondeterminismError)
    assert "TimerStarted" in str(failure)


def test_replayed_side_effect_is_read_from_history() -> None:
    before = next(wf.effects)
    activation = replay(wf.Effects, "fx", load("side_effect"))
    assert activation.failure is None
    assert activation.decisions == []
    assert next(wf.effects) == before + 1  # draw() did not run
