"""A client's mistake is a 4xx with AWS's fault name and wording, never a 5xx."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import aiohttp
import pytest
from botocore.exceptions import ClientError

from aioswf.local import LocalSWF
from tests.local.helpers import DOMAIN, WF, Driver, decision, schedule, timer
from tests.local.test_protocol import raw, raw_bytes

TARGET = "SimpleWorkflowService."


async def test_a_body_over_one_mebibyte_is_413_and_the_service_lives_on(
    local_swf: LocalSWF,
) -> None:
    body = io.BytesIO(json.dumps({"name": "d", "description": "x" * (1024 * 1024)}).encode())
    status, answer = await raw_bytes(local_swf, TARGET + "RegisterDomain", body)
    assert status == 413
    assert json.loads(answer)["__type"].endswith("#RequestEntityTooLargeException")
    status, _ = await raw(local_swf, TARGET + "ListDomains", {"registrationStatus": "REGISTERED"})
    assert status == 200


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"name": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}",
        b'{"name": "d"',
        b"\xff\xfe{}",
        b"[]",
        b'"text"',
        b'{"name": "\\ud800", "workflowExecutionRetentionPeriodInDays": "1"}',
        b'{"name": "a\\udfffb", "workflowExecutionRetentionPeriodInDays": "1"}',
        b'{"name": "d", "workflowExecutionRetentionPeriodInDays": "1", "x": NaN}',
        b'{"name": "d", "workflowExecutionRetentionPeriodInDays": "1", "x": [-Infinity]}',
    ],
    ids=[
        "deep-list",
        "deep-object",
        "truncated",
        "not-utf8",
        "array",
        "string",
        "lone-high",
        "lone-low",
        "nan",
        "infinity",
    ],
)
async def test_unreadable_bodies_are_serialization_faults(local_swf: LocalSWF, body: bytes) -> None:
    status, answer = await raw(local_swf, TARGET + "RegisterDomain", body)
    assert status == 400
    assert answer["__type"] == "com.amazon.coral.service#SerializationException"
    listed = await raw(local_swf, TARGET + "ListDomains", {"registrationStatus": "REGISTERED"})
    assert listed == (200, {"domainInfos": []})


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_body_its_content_encoding_cannot_decode_is_a_serialization_fault(
    local_swf: LocalSWF, encoding: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = json.dumps({"name": "d", "workflowExecutionRetentionPeriodInDays": "1"}).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            local_swf.endpoint_url + "/",
            data=body,
            headers={
                "X-Amz-Target": TARGET + "RegisterDomain",
                "Content-Type": "application/x-amz-json-1.0",
                "Content-Encoding": encoding,
            },
        ) as resp,
    ):
        status, answer = resp.status, json.loads(await resp.read())
    assert status == 400
    assert answer["__type"] == "com.amazon.coral.service#SerializationException"
    assert encoding in answer["message"]
    assert "internal error" not in caplog.text
    listed = await raw(local_swf, TARGET + "ListDomains", {"registrationStatus": "REGISTERED"})
    assert listed == (200, {"domainInfos": []})


async def test_a_gzipped_body_is_read(local_swf: LocalSWF) -> None:
    body = json.dumps({"name": "d", "workflowExecutionRetentionPeriodInDays": "1"}).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            local_swf.endpoint_url + "/",
            data=gzip.compress(body),
            headers={
                "X-Amz-Target": TARGET + "RegisterDomain",
                "Content-Type": "application/x-amz-json-1.0",
                "Content-Encoding": "gzip",
            },
        ) as resp,
    ):
        assert resp.status == 200


async def test_a_surrogate_pair_is_text(local_swf: LocalSWF) -> None:
    body = b'{"name": "smile-\\ud83d\\ude00", "workflowExecutionRetentionPeriodInDays": "1"}'
    status, _ = await raw_bytes(local_swf, TARGET + "RegisterDomain", body)
    assert status == 200


@pytest.mark.parametrize(
    "name",
    [
        b"raw-\xed\xa0\x80",  # a surrogate encoded as if it were text
        b"raw-\xed\xbf\xbf",
        b"cut-\xe2\x82",  # a character cut short
        b"latin-\xe9",  # not UTF-8 at all
    ],
)
async def test_bytes_that_are_not_utf8_are_refused(local_swf: LocalSWF, name: bytes) -> None:
    body = b'{"name": "' + name + b'", "workflowExecutionRetentionPeriodInDays": "1"}'
    status, answer = await raw(local_swf, TARGET + "RegisterDomain", body)
    assert status == 400
    assert answer["__type"] == "com.amazon.coral.service#SerializationException"
    listed = await raw(local_swf, TARGET + "ListDomains", {"registrationStatus": "REGISTERED"})
    assert listed == (200, {"domainInfos": []})


@pytest.mark.parametrize(
    ("request_body", "found"),
    [
        ({"name": 7, "workflowExecutionRetentionPeriodInDays": "1"}, "NUMBER_VALUE"),
        ({"name": True, "workflowExecutionRetentionPeriodInDays": "1"}, "BOOLEAN_VALUE"),
        ({"name": ["d"], "workflowExecutionRetentionPeriodInDays": "1"}, "Start of list"),
        ({"name": {"n": 1}, "workflowExecutionRetentionPeriodInDays": "1"}, "Start of structure"),
    ],
)
async def test_wrong_json_types_are_serialization_faults(
    local_swf: LocalSWF, request_body: dict[str, Any], found: str
) -> None:
    status, answer = await raw(local_swf, TARGET + "RegisterDomain", request_body)
    assert status == 400
    assert answer["__type"] == "com.amazon.coral.service#SerializationException"
    assert found in answer["message"]
    assert "'name'" in answer["message"]


@pytest.mark.parametrize(
    ("operation", "request_body"),
    [
        ("ListDomains", {"registrationStatus": "REGISTERED", "maximumPageSize": "10"}),
        ("ListDomains", {"registrationStatus": "REGISTERED", "reverseOrder": "yes"}),
        ("ListOpenWorkflowExecutions", {"domain": "d", "startTimeFilter": {"oldestDate": "0"}}),
        ("ListOpenWorkflowExecutions", {"domain": "d", "startTimeFilter": [0]}),
        (
            "RegisterWorkflowType",
            {"domain": "d", "name": "w", "version": "1", "defaultTaskList": "main"},
        ),
        ("RespondDecisionTaskCompleted", {"taskToken": "t", "decisions": {"a": 1}}),
        ("RespondDecisionTaskCompleted", {"taskToken": "t", "decisions": ["StartTimer"]}),
        ("TagResource", {"resourceArn": "arn", "tags": [{"key": 1}]}),
    ],
)
async def test_wrong_types_anywhere_are_serialization_faults(
    local_swf: LocalSWF, operation: str, request_body: dict[str, Any]
) -> None:
    status, answer = await raw(local_swf, TARGET + operation, request_body)
    assert status == 400
    assert answer["__type"] == "com.amazon.coral.service#SerializationException", answer


async def test_validation_messages_name_the_value_after_the_count(
    sw: Driver, local_swf: LocalSWF
) -> None:
    with pytest.raises(ClientError) as err:
        await sw("register_domain", name="x" * 257, workflowExecutionRetentionPeriodInDays="1")
    assert err.value.response["Error"]["Message"] == (
        f"1 validation error detected: Value '{'x' * 257}' at 'name' failed to satisfy "
        "constraint: Member must have length less than or equal to 256"
    )
    with pytest.raises(ClientError) as err:
        await sw("list_domains", registrationStatus="REGISTERED", maximumPageSize=1001)
    assert err.value.response["Error"]["Message"] == (
        "1 validation error detected: Value '1001' at 'maximumPageSize' failed to satisfy "
        "constraint: Member must have value less than or equal to 1000"
    )
    status, answer = await raw(
        local_swf,
        TARGET + "RegisterDomain",
        {"name": "", "workflowExecutionRetentionPeriodInDays": "1", "description": "y" * 1025},
    )
    assert status == 400
    message = answer["message"]
    assert message.startswith("2 validation errors detected: Value '' at 'name'")
    assert f"; Value '{'y' * 1025}' at 'description'" in message


async def test_a_null_decision_attribute_is_worded_like_any_validation_error(sw: Driver) -> None:
    await sw.start()
    task = await sw.poll()
    with pytest.raises(ClientError) as err:
        await sw(
            "respond_decision_task_completed",
            taskToken=task["taskToken"],
            decisions=[{"decisionType": "StartTimer"}],
        )
    assert err.value.response["Error"]["Message"].startswith("1 validation error detected: ")


async def test_ids_may_hold_a_colon_as_on_aws(sw: Driver) -> None:
    run_id = await sw.start("parent:1")
    child_id = f"{run_id}:1"  # how AWS's Flow framework names child executions
    await sw.decide(
        decision(
            "StartChildWorkflowExecution",
            workflowType=WF,
            workflowId=child_id,
            taskList={"name": "children"},
            executionStartToCloseTimeout="600",
            taskStartToCloseTimeout="30",
            childPolicy="TERMINATE",
        ),
        schedule("activity:1"),
        timer("timer:1", 60),
    )
    types = await sw.types(run_id, "parent:1")
    assert "StartChildWorkflowExecutionInitiated" in types
    assert "ActivityTaskScheduled" in types
    assert "TimerStarted" in types
    child = await sw.poll("children")
    assert child["workflowExecution"]["workflowId"] == child_id
    await sw("signal_workflow_execution", domain=DOMAIN, workflowId=child_id, signalName="hello")


@pytest.mark.parametrize(
    ("operation", "kwargs", "path"),
    [
        (
            "register_domain",
            {"name": "a:b", "workflowExecutionRetentionPeriodInDays": "1"},
            "'name'",
        ),
        (
            "register_domain",
            {"name": " padded", "workflowExecutionRetentionPeriodInDays": "1"},
            "whitespace",
        ),
        ("register_workflow_type", {"domain": DOMAIN, "name": "a:b", "version": "1"}, "'name'"),
        ("register_workflow_type", {"domain": DOMAIN, "name": "w", "version": "1:0"}, "'version'"),
        (
            "poll_for_decision_task",
            {"domain": DOMAIN, "taskList": {"name": "a:b"}},
            "'taskList.name'",
        ),
        (
            "start_workflow_execution",
            {"domain": DOMAIN, "workflowId": "a|b", "workflowType": WF},
            "'workflowId'",
        ),
    ],
)
async def test_names_keep_every_rule_and_ids_all_but_the_colon(
    sw: Driver, operation: str, kwargs: dict[str, Any], path: str
) -> None:
    with pytest.raises(ClientError) as err:
        await sw(operation, **kwargs)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert path in err.value.response["Error"]["Message"]
