"""Faster parsing of SWF's answers, for the sessions the transport creates itself.

botocore walks every member of every answer against the service model and parses each
timestamp with dateutil. For a decision task's history page that walk is most of a worker's
CPU: hundreds of events of dozens of members each. SWF speaks plain JSON with the shapes the
model describes and nothing to rename or decode, so the answers a worker reads most
(``PollForDecisionTask``, ``PollForActivityTask``) are taken as the JSON they are (read by
pydantic's parser, about twice as fast as the standard library's), with ``eventTimestamp``
left in epoch seconds (the decider reads both forms); other answers keep botocore's walk with
a timestamp parser that reads epoch seconds directly. Error answers are never touched, so
every fault still maps to its typed exception.

Internal readers that need a few members of a large answer (the result watcher's listings of
closed executions, hundreds of ``WorkflowExecutionInfo`` each) ask for it as plain JSON too,
within :func:`raw_answers`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import pydantic_core
from aiobotocore.parsers import AioJSONParser, AioResponseParserFactory
from botocore.utils import parse_timestamp

RAW_SHAPES = frozenset({"DecisionTask", "ActivityTask"})
"""Output shapes taken as plain JSON."""

_RAW_ANSWERS: ContextVar[bool] = ContextVar("aioswf_raw_answers", default=False)


@contextlib.contextmanager
def raw_answers() -> Iterator[None]:
    """Within it, the current task's successful answers are taken as plain JSON, whatever
    their shape: timestamps stay epoch seconds (``int`` or ``float``), and members are not
    checked against the model. For internal readers of a few members of large answers."""
    reset = _RAW_ANSWERS.set(True)
    try:
        yield
    finally:
        _RAW_ANSWERS.reset(reset)


def fast_timestamp(value: Any) -> datetime:
    """An aware ``datetime`` from SWF's epoch seconds; other forms as botocore reads them."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    parsed: datetime = parse_timestamp(value)
    return parsed


class _SWFJSONParser(AioJSONParser):  # type: ignore[misc]
    async def _do_parse(self, response: dict[str, Any], shape: Any) -> Any:
        if shape is not None and (shape.name in RAW_SHAPES or _RAW_ANSWERS.get()):
            parsed = _json_body(response["body"])
            if parsed is None:
                # botocore's own body reading: empty is {}, and text that is not JSON is kept.
                parsed = self._parse_body_as_json(response["body"])
            self._inject_response_metadata(parsed, response["headers"])
            return parsed
        return await super()._do_parse(response, shape)


def _json_body(body: bytes) -> dict[str, Any] | None:
    """A body that is a JSON object, parsed; ``None`` when it is anything else."""
    try:
        parsed = pydantic_core.from_json(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


class SWFParserFactory(AioResponseParserFactory):  # type: ignore[misc]
    """aiobotocore's parser factory with the faster parsing above for the JSON protocol."""

    def __init__(self) -> None:
        super().__init__()
        self.set_parser_defaults(timestamp_parser=fast_timestamp)

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return _SWFJSONParser(**self._defaults)
        return super().create_parser(protocol_name)
