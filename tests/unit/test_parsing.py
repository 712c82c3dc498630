"""The transport's parser reads poll answers as botocore reads a JSON body, only faster."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import botocore.session
import pytest
from aiobotocore.parsers import AioResponseParserFactory

from aioswf._transport.parsing import SWFParserFactory, raw_answers

_MODEL = botocore.session.get_session().get_service_model("swf")
_DECISION_TASK = _MODEL.operation_model("PollForDecisionTask").output_shape
_LISTING = _MODEL.operation_model("ListClosedWorkflowExecutions").output_shape

PAGE: dict[str, Any] = {
    "taskToken": "token",
    "startedEventId": 3,
    "workflowExecution": {"workflowId": "w", "runId": "r"},
    "workflowType": {"name": "W", "version": "1"},
    "events": [
        {
            "eventId": 3,
            "eventType": "ActivityTaskCompleted",
            "eventTimestamp": 1764455123.125,
            "activityTaskCompletedEventAttributes": {"result": '"é 😀"', "scheduledEventId": 1},
        }
    ],
}


async def _parse(body: bytes) -> Any:
    response = {"status_code": 200, "headers": {}, "body": body}
    parsed = await SWFParserFactory().create_parser("json").parse(response, _DECISION_TASK)
    parsed.pop("ResponseMetadata", None)
    return parsed


async def _botocore_body(body: bytes) -> Any:
    # What botocore makes of the body itself, before its walk of the shapes.
    return AioResponseParserFactory().create_parser("json")._parse_body_as_json(body)


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(PAGE).encode(),
        json.dumps(PAGE, ensure_ascii=False).encode(),
        # A lone surrogate, as another JSON writer may send it: the standard library takes it.
        json.dumps(PAGE).replace("\\ud83d\\ude00", "\\ud800").encode(),
        b"",
        b"<html>not JSON</html>",
    ],
    ids=["ascii", "utf-8", "lone surrogate", "empty", "not JSON"],
)
async def test_a_poll_answer_reads_as_botocore_reads_its_json(body: bytes) -> None:
    assert await _parse(body) == await _botocore_body(body)


async def test_timestamps_stay_in_epoch_seconds() -> None:
    parsed = await _parse(json.dumps(PAGE).encode())
    assert parsed["events"][0]["eventTimestamp"] == 1764455123.125


LISTING: dict[str, Any] = {
    "executionInfos": [
        {
            "execution": {"workflowId": "w", "runId": "r"},
            "workflowType": {"name": "W", "version": "1"},
            "startTimestamp": 1764455120,
            "closeTimestamp": 1764455123.125,
            "executionStatus": "CLOSED",
            "closeStatus": "COMPLETED",
        }
    ]
}


async def _parse_listing(body: bytes) -> Any:
    response = {"status_code": 200, "headers": {}, "body": body}
    parsed = await SWFParserFactory().create_parser("json").parse(response, _LISTING)
    parsed.pop("ResponseMetadata", None)
    return parsed


async def test_other_answers_keep_botocore_s_walk_but_as_plain_json_on_request() -> None:
    body = json.dumps(LISTING).encode()
    walked = (await _parse_listing(body))["executionInfos"][0]
    assert walked["closeTimestamp"] == datetime.fromtimestamp(1764455123.125, UTC)
    with raw_answers():
        assert await _parse_listing(body) == LISTING
    # Only within: the next answer is walked again.
    assert (await _parse_listing(body))["executionInfos"][0] == walked


async def test_faults_keep_their_type_as_plain_json_too() -> None:
    fault = {"__type": "com.amazonaws.swf.base.model#UnknownResourceFault", "message": "gone"}
    response = {"status_code": 400, "headers": {}, "body": json.dumps(fault).encode()}
    with raw_answers():
        parsed = await SWFParserFactory().create_parser("json").parse(response, _LISTING)
    assert parsed["Error"]["Code"] == "UnknownResourceFault"
    assert "executionInfos" not in parsed
