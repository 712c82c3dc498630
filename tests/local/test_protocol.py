"""The wire protocol itself: targets, fault bodies, statuses, timestamps, validation."""

from __future__ import annotations

import io
import json
from typing import Any

import aiohttp
import pytest
from botocore.exceptions import ClientError

from aioswf.local import LocalSWF
from tests.local.helpers import DOMAIN, Driver


async def raw_bytes(service: LocalSWF, target: str, body: Any) -> tuple[int, bytes]:
    data = body if isinstance(body, (bytes, io.BytesIO)) else json.dumps(body).encode()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            service.endpoint_url + "/",
            data=data,
            headers={"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"},
        ) as resp,
    ):
        assert resp.headers["Content-Type"] == "application/x-amz-json-1.0"
        return resp.status, await resp.read()


async def raw(service: LocalSWF, target: str, body: Any) -> tuple[int, dict[str, Any]]:
    status, data = await raw_bytes(service, target, body)
    return status, json.loads(data or b"{}")


async def test_operations_without_a_result_answer_an_empty_body(local_swf: LocalSWF) -> None:
    status, body = await raw_bytes(
        local_swf,
        "SimpleWorkflowService.RegisterDomain",
        {"name": "d", "workflowExecutionRetentionPeriodInDays": "1"},
    )
    assert (status, body) == (200, b"")
    status, body = await raw_bytes(local_swf, "SimpleWorkflowService.DescribeDomain", {"name": "d"})
    assert status == 200
    assert json.loads(body)["domainInfo"]["name"] == "d"


async def test_faults_carry_the_swf_type(local_swf: LocalSWF) -> None:
    status, body = await raw(local_swf, "SimpleWorkflowService.DescribeDomain", {"name": "nope"})
    assert status == 400
    assert body["__type"] == "com.amazonaws.swf.base.model#UnknownResourceFault"
    assert "nope" in body["message"]


async def test_validation_errors_use_the_coral_type(local_swf: LocalSWF) -> None:
    status, body = await raw(
        local_swf,
        "SimpleWorkflowService.RegisterDomain",
        {"name": "a:b", "workflowExecutionRetentionPeriodInDays": "1"},
    )
    assert status == 400
    assert body["__type"] == "com.amazon.coral.validate#ValidationException"
    status, body = await raw(local_swf, "SimpleWorkflowService.ListDomains", {})
    assert status == 400
    assert "registrationStatus" in body["message"]


async def test_unknown_operation_and_bad_json(local_swf: LocalSWF) -> None:
    status, body = await raw(local_swf, "SimpleWorkflowService.Nope", {})
    assert status == 400
    assert body["__type"].endswith("#UnknownOperationException")
    status, body = await raw(local_swf, "SimpleWorkflowService.ListDomains", b"[1")
    assert status == 400
    assert body["__type"].endswith("#SerializationException")


async def test_timestamps_are_epoch_seconds(local_swf: LocalSWF) -> None:
    await raw(
        local_swf,
        "SimpleWorkflowService.RegisterDomain",
        {"name": "d", "workflowExecutionRetentionPeriodInDays": "1"},
    )
    await raw(
        local_swf,
        "SimpleWorkflowService.RegisterWorkflowType",
        {"domain": "d", "name": "w", "version": "1"},
    )
    _, body = await raw(
        local_swf,
        "SimpleWorkflowService.DescribeWorkflowType",
        {"domain": "d", "workflowType": {"name": "w", "version": "1"}},
    )
    assert body["typeInfo"]["creationDate"] == local_swf.clock.now()


@pytest.mark.parametrize(
    ("operation", "kwargs", "fragment"),
    [
        (
            "register_domain",
            {"name": "x" * 257, "workflowExecutionRetentionPeriodInDays": "1"},
            "less than or equal to 256",
        ),
        ("register_domain", {"name": "arn", "workflowExecutionRetentionPeriodInDays": "1"}, "arn"),
        ("register_domain", {"name": "ok", "workflowExecutionRetentionPeriodInDays": "91"}, "90"),
        (
            "start_workflow_execution",
            {
                "domain": DOMAIN,
                "workflowId": "a/b",
                "workflowType": {"name": "Flow", "version": "1"},
            },
            "'/'",
        ),
        (
            "start_workflow_execution",
            {
                "domain": DOMAIN,
                "workflowId": "w",
                "input": "x" * 32769,
                "workflowType": {"name": "Flow", "version": "1"},
            },
            "32768",
        ),
        (
            "start_workflow_execution",
            {
                "domain": DOMAIN,
                "workflowId": "w",
                "executionStartToCloseTimeout": "soon",
                "workflowType": {"name": "Flow", "version": "1"},
            },
            "seconds",
        ),
        (
            "start_workflow_execution",
            {
                "domain": DOMAIN,
                "workflowId": "w",
                "executionStartToCloseTimeout": "31536001",
                "workflowType": {"name": "Flow", "version": "1"},
            },
            "31536000",
        ),
        (
            "register_workflow_type",
            {
                "domain": DOMAIN,
                "name": "Slow",
                "version": "1",
                "defaultTaskStartToCloseTimeout": "99999999",
            },
            "31536000",
        ),
        (
            "start_workflow_execution",
            {
                "domain": DOMAIN,
                "workflowId": "w",
                "childPolicy": "KEEP",
                "workflowType": {"name": "Flow", "version": "1"},
            },
            "enum",
        ),
        (
            "poll_for_decision_task",
            {"domain": DOMAIN, "taskList": {"name": "main"}, "maximumPageSize": 1001},
            "1000",
        ),
    ],
)
async def test_model_constraints_reject_requests(
    sw: Driver, operation: str, kwargs: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ClientError) as err:
        await sw(operation, **kwargs)
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert fragment in err.value.response["Error"]["Message"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # Nothing of a rejected request was applied.
    if operation == "register_domain":
        with pytest.raises(ClientError) as described:
            await sw("describe_domain", name=kwargs["name"])
        # A name too long to look up is refused as such; any other is simply unknown.
        code = described.value.response["Error"]["Code"]
        assert code == (
            "ValidationException" if len(kwargs["name"]) > 256 else "UnknownResourceFault"
        )
        domains = await sw("list_domains", registrationStatus="REGISTERED")
        assert kwargs["name"] not in [d["name"] for d in domains["domainInfos"]]
    elif operation == "register_workflow_type":
        with pytest.raises(sw.client.exceptions.UnknownResourceFault):
            await sw(
                "describe_workflow_type",
                domain=DOMAIN,
                workflowType={"name": kwargs["name"], "version": kwargs["version"]},
            )
    else:
        listed = await sw(
            "list_open_workflow_executions", domain=DOMAIN, startTimeFilter={"oldestDate": 0}
        )
        assert listed["executionInfos"] == []


async def test_invalid_decision_attributes_reject_the_batch(sw: Driver) -> None:
    run = await sw.start()
    task = await sw.poll()
    for bad in (
        [
            {
                "decisionType": "StartTimer",
                "startTimerDecisionAttributes": {"timerId": "t", "startToFireTimeout": "31536001"},
            }
        ],
        [{"decisionType": "StartTimer"}],
        [
            {
                "decisionType": "StartTimer",
                "startTimerDecisionAttributes": {"timerId": "t", "startToFireTimeout": "NONE"},
            }
        ],
        [{"decisionType": "Dance"}],
    ):
        with pytest.raises(ClientError) as err:
            await sw("respond_decision_task_completed", taskToken=task["taskToken"], decisions=bad)
        assert err.value.response["Error"]["Code"] == "ValidationException"
    assert len(await sw.history(run)) == 3
