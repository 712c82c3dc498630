"""The local service under fuzzed requests: never a 5xx, always alive, and a ``--db`` reload
brings back exactly the state it had.

Requests are built from botocore's model of every operation (so most of them get past
parsing and reach the engine), with wrong types, odd strings (``:``, lone surrogates,
over-long values, whitespace), out-of-range numbers and raw junk mixed in; a scenario step
takes a real decision task and answers it with fuzzed decisions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.loaders import Loader
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import cases
from .service import RawClient, ServiceThread

MODEL = Loader().load_service_model("swf", "service-2")
SHAPES: dict[str, Any] = MODEL["shapes"]
OPERATIONS = sorted(MODEL["operations"])
DOMAIN = "fz"
WORKFLOW = {"name": "W", "version": "1"}
ACTIVITY = {"name": "A", "version": "1"}
TASK_LIST = "tl"

NAMES = [
    DOMAIN,
    "W",
    "A",
    "1",
    TASK_LIST,
    "wf-1",
    "a:b",
    "a/b",
    "arn",
    " pad",
    "",
    "x" * 300,
    "\ud800",
    "é",
    "NONE",
    "0",
    "60",
    "-1",
    "999999999999",
]
JUNK = [None, [], {}, [1], 1e20, -1, 2**63, "x", True, 1.5, {"name": 7}, [[[]]]]


def _value(shape_name: str, depth: int = 0) -> st.SearchStrategy[Any]:
    shape = SHAPES[shape_name]
    kind = shape["type"]
    if depth > 4:
        return st.none()
    if kind == "structure":
        members = shape.get("members", {})
        required = set(shape.get("required", ()))
        return st.fixed_dictionaries(
            {m: _value(members[m]["shape"], depth + 1) for m in required},
            optional={
                m: _value(spec["shape"], depth + 1)
                for m, spec in members.items()
                if m not in required
            },
        )
    if kind == "list":
        return st.lists(_value(shape["member"]["shape"], depth + 1), max_size=3)
    if kind == "string":
        pool = [*shape.get("enum", ()), *NAMES]
        return st.one_of(st.sampled_from(pool), st.sampled_from(pool), st.text(max_size=8))
    if kind in ("integer", "long"):
        return st.sampled_from([0, 1, 5, 100, 1000, 1001, -1, 2**31, 2**63])
    if kind == "boolean":
        return st.booleans()
    return st.sampled_from([0, START_TIME, -1, 1e20])


START_TIME = 1_700_000_000.0


def _maybe_broken(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy, strategy, st.sampled_from(JUNK))


def _with_junk_member(body: dict[str, Any], junk: Any, member: str | None) -> dict[str, Any]:
    if member is not None:
        body = {**body, member: junk}
    return body


@st.composite
def request(draw: st.DrawFn) -> tuple[str, bytes]:
    operation = draw(st.sampled_from(OPERATIONS))
    form = draw(st.sampled_from(["model", "model", "model", "broken", "raw", "deep", "big"]))
    if form == "raw":
        return operation, draw(st.binary(max_size=40))
    if form == "deep":
        depth = draw(st.sampled_from([900, 1100, 5000, 100_000]))
        return operation, b'{"domain": ' + b"[" * depth + b"]" * depth + b"}"
    if form == "big":
        size = draw(st.sampled_from([1024 * 1024 - 200, 1024 * 1024 + 1, 3 * 1024 * 1024]))
        return operation, json.dumps({"domain": DOMAIN, "input": "x" * size}).encode()
    body = draw(_value(MODEL["operations"][operation]["input"]["shape"]))
    if form == "broken" and body:
        member = draw(st.sampled_from(sorted(body)))
        body = _with_junk_member(body, draw(st.sampled_from(JUNK)), member)
    return operation, json.dumps(body).encode()


decision = _maybe_broken(_value("Decision"))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "swf.db"


@pytest.fixture(scope="module")
def swf(db: Path) -> Iterator[RawClient]:
    with ServiceThread(db) as service:
        client = RawClient(service.port)
        _setup(client)
        yield client
        client.close()


def _setup(client: RawClient) -> None:
    client.call("RegisterDomain", {"name": DOMAIN, "workflowExecutionRetentionPeriodInDays": "1"})
    client.call(
        "RegisterWorkflowType",
        {
            "domain": DOMAIN,
            **WORKFLOW,
            "defaultTaskList": {"name": TASK_LIST},
            "defaultExecutionStartToCloseTimeout": "3600",
            "defaultTaskStartToCloseTimeout": "60",
            "defaultChildPolicy": "TERMINATE",
        },
    )
    client.call(
        "RegisterActivityType",
        {
            "domain": DOMAIN,
            **ACTIVITY,
            "defaultTaskList": {"name": TASK_LIST},
            "defaultTaskScheduleToStartTimeout": "60",
            "defaultTaskScheduleToCloseTimeout": "120",
            "defaultTaskStartToCloseTimeout": "60",
            "defaultTaskHeartbeatTimeout": "60",
        },
    )


def _check(client: RawClient, operation: str, body: bytes) -> tuple[int, bytes]:
    try:
        status, answer = client.send(operation, body)
    except ConnectionError:
        return 0, b""  # a refused oversize body may cut the connection, as AWS's front does
    assert status < 500, (operation, body[:300], status, answer[:300])
    if status >= 400:
        fault = json.loads(answer)
        assert fault["__type"].rsplit("#", 1)[-1], fault
    return status, answer


def _decide(client: RawClient, decisions: list[Any], workflow_id: str) -> None:
    _check(
        client,
        "StartWorkflowExecution",
        json.dumps(
            {"domain": DOMAIN, "workflowId": workflow_id, "workflowType": WORKFLOW}
        ).encode(),
    )
    status, answer = _check(
        client,
        "PollForDecisionTask",
        json.dumps({"domain": DOMAIN, "taskList": {"name": TASK_LIST}}).encode(),
    )
    token = json.loads(answer).get("taskToken") if status == 200 else None
    if token:
        body = {"taskToken": token, "decisions": decisions}
        _check(client, "RespondDecisionTaskCompleted", json.dumps(body).encode())


@settings(settings.get_profile("aioswf-faults"), max_examples=cases(150, 10_000))
@given(
    requests=st.lists(request(), min_size=1, max_size=3),
    decisions=st.lists(decision, max_size=4),
    workflow_id=st.sampled_from(["wf-1", "wf-2", "w:3"]),
)
def test_no_request_gets_a_5xx_and_the_service_lives_on(
    swf: RawClient, requests: list[tuple[str, bytes]], decisions: list[Any], workflow_id: str
) -> None:
    for operation, body in requests:
        _check(swf, operation, body)
    _decide(swf, decisions, workflow_id)
    assert swf.call("DescribeDomain", {"name": DOMAIN})["domainInfo"]["name"] == DOMAIN


def _snapshot(client: RawClient) -> dict[str, Any]:
    """Everything a client can see of the service, for comparison across a reload."""
    seen: dict[str, Any] = {}
    for status in ("REGISTERED", "DEPRECATED"):
        domains = client.call("ListDomains", {"registrationStatus": status})["domainInfos"]
        seen[f"domains {status}"] = domains
        for domain in domains:
            name = domain["name"]
            for kind in ("Workflow", "Activity"):
                seen[f"{kind} types {name} {status}"] = client.call(
                    f"List{kind}Types", {"domain": name, "registrationStatus": status}
                )
            for which in ("Open", "Closed"):
                listed = client.call(
                    f"List{which}WorkflowExecutions",
                    {"domain": name, "startTimeFilter": {"oldestDate": 0}},
                )["executionInfos"]
                seen[f"{which} {name}"] = listed
                for info in listed:
                    execution = info["execution"]
                    key = f"{name} {execution['workflowId']} {execution['runId']}"
                    request = {"domain": name, "execution": execution}
                    seen[f"describe {key}"] = client.call("DescribeWorkflowExecution", request)
                    seen[f"history {key}"] = client.call(
                        "GetWorkflowExecutionHistory", {**request, "maximumPageSize": 1000}
                    )
    return seen


def test_a_db_reload_brings_back_the_same_state(swf: RawClient, db: Path) -> None:
    before = _snapshot(swf)
    assert before["domains REGISTERED"] or before["domains DEPRECATED"]
    # The running service holds its file: a copy of what it saved is reloaded.
    copy = db.with_name("reloaded.db")
    with sqlite3.connect(db) as saved, sqlite3.connect(copy) as target:
        saved.backup(target)
    saved.close()
    target.close()
    with ServiceThread(copy) as reloaded:
        client = RawClient(reloaded.port)
        try:
            after = _snapshot(client)
        finally:
            client.close()
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], key
