"""The local service's ``--db`` file failing now and then: a request it could not save gets a
500 and changes nothing, and a reload from the file always shows what the running service
shows.

Each case runs a random sequence of start, signal, poll, respond and terminate requests on a
new service, the file refusing writes (SQLite's ``query_only``, a real "readonly database"
error) during random steps.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from aioswf.local import LocalSWF

from .conftest import cases
from .service import RawClient, ServiceThread
from .test_service_fuzz import ACTIVITY, DOMAIN, TASK_LIST, WORKFLOW, _setup, _snapshot

STEPS = [
    "start",
    "signal",
    "poll decision",
    "schedule",
    "complete workflow",
    "poll activity",
    "complete activity",
    "terminate",
]
_files = itertools.count()


def _refuse_writes(on: bool) -> Any:
    def toggle(service: LocalSWF) -> None:
        store = service._store
        assert store is not None
        store._db.execute(f"PRAGMA query_only = {'ON' if on else 'OFF'}")

    return toggle


class _Scenario:
    """Sends the steps, keeping the task tokens it was handed."""

    def __init__(self, client: RawClient) -> None:
        self.client = client
        self.decision_tokens: list[str] = []
        self.activity_tokens: list[str] = []
        self.activities = itertools.count(1)

    def send(self, step: str, workflow_id: str) -> tuple[int, dict[str, Any]]:
        operation, body, took = self._request(step, workflow_id)
        status, answer = self.client.send(operation, json.dumps(body).encode())
        result = json.loads(answer or b"{}")
        if status == 200 and took is not None:
            took.remove(body["taskToken"])
        if status == 200 and result.get("taskToken"):
            kept = self.decision_tokens if "Decision" in operation else self.activity_tokens
            kept.append(result["taskToken"])
        return status, result

    def _request(self, step: str, workflow_id: str) -> tuple[str, dict[str, Any], list[str] | None]:
        execution = {"domain": DOMAIN, "workflowId": workflow_id}
        if step == "start":
            return "StartWorkflowExecution", {**execution, "workflowType": WORKFLOW}, None
        if step == "signal":
            return "SignalWorkflowExecution", {**execution, "signalName": "s", "input": "1"}, None
        if step == "terminate":
            return "TerminateWorkflowExecution", execution, None
        if step.startswith("poll"):
            operation = "PollForDecisionTask" if step == "poll decision" else "PollForActivityTask"
            return operation, {"domain": DOMAIN, "taskList": {"name": TASK_LIST}}, None
        if step == "complete activity":
            token = self.activity_tokens[-1] if self.activity_tokens else "gone"
            return (
                "RespondActivityTaskCompleted",
                {"taskToken": token, "result": "r"},
                (self.activity_tokens if self.activity_tokens else None),
            )
        token = self.decision_tokens[-1] if self.decision_tokens else "gone"
        if step == "schedule":
            decision = {
                "decisionType": "ScheduleActivityTask",
                "scheduleActivityTaskDecisionAttributes": {
                    "activityType": ACTIVITY,
                    "activityId": f"a{next(self.activities)}",
                },
            }
        else:
            decision = {"decisionType": "CompleteWorkflowExecution"}
        body = {"taskToken": token, "decisions": [decision]}
        return (
            "RespondDecisionTaskCompleted",
            body,
            (self.decision_tokens if self.decision_tokens else None),
        )


@settings(settings.get_profile("aioswf-faults"), max_examples=cases(12, 400))
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(STEPS), st.sampled_from(["wf-1", "wf-2"]), st.booleans()),
        min_size=1,
        max_size=14,
    )
)
def test_a_failed_save_changes_nothing_and_a_reload_shows_what_clients_saw(
    tmp_path: Path, steps: list[tuple[str, str, bool]]
) -> None:
    db = tmp_path / f"store-{next(_files)}.db"
    with ServiceThread(db) as service:
        client = RawClient(service.port)
        try:
            _setup(client)
            scenario = _Scenario(client)
            for step, workflow_id, failing in steps:
                before = _snapshot(client)
                service.run_in_loop(_refuse_writes(failing))
                status, answer = scenario.send(step, workflow_id)
                service.run_in_loop(_refuse_writes(False))
                if status >= 500:
                    assert failing, (step, status, answer)
                    assert answer["__type"].endswith("InternalFailure"), answer
                    assert _snapshot(client) == before, (step, "changed though refused")
                elif failing and status == 200:
                    # Only what changes nothing may go through while writes fail.
                    assert _snapshot(client) == before, (step, "changed unsaved")
            seen = _snapshot(client)
        finally:
            client.close()
    copy = db.with_name(f"{db.stem}-reloaded.db")
    with sqlite3.connect(db) as saved, sqlite3.connect(copy) as target:
        saved.backup(target)
    saved.close()
    target.close()
    with ServiceThread(copy) as reloaded:
        client = RawClient(reloaded.port)
        try:
            assert _snapshot(client) == seen
        finally:
            client.close()


def test_the_scenario_reaches_every_kind_of_change(tmp_path: Path) -> None:
    """The steps above do change state when the file takes them (a test of the test)."""
    with ServiceThread(tmp_path / "live.db") as service:
        client = RawClient(service.port)
        try:
            _setup(client)
            scenario = _Scenario(client)
            statuses = [
                scenario.send(step, "wf-1")[0]
                for step in [
                    "start",
                    "signal",
                    "poll decision",
                    "schedule",
                    "poll activity",
                    "complete activity",
                    "poll decision",
                    "complete workflow",
                ]
            ]
        finally:
            client.close()
    assert statuses == [200] * 8
    assert not scenario.decision_tokens
    assert not scenario.activity_tokens
