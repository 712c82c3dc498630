"""The wire form of an input: plain arguments, or arguments with headers beside them.

An SWF input (of a workflow, a signal, an activity, a child) is a JSON array of positional
arguments, or an object of named ones: what the AWS CLI and every other SWF client send.
Some settings must travel with the work to the worker that runs it (an interceptor's trace
context, a per-call setting SWF does not hand to the worker); they go in *headers*, and only
when someone set one does the input take its wrapped form::

    {"aioswf:headers": {"name": "text", ...}, "aioswf:args": <the plain input>}

Both keys hold a ``:``, so they can never be a Python parameter's name: an object of named
arguments is never mistaken for the wrapped form. :meth:`DataConverter.decode_args` unwraps
transparently, so code that does not care about headers never sees them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

HEADERS_KEY = "aioswf:headers"
ARGS_KEY = "aioswf:args"

_WRAPPED_START = f'{{"{HEADERS_KEY}":'
_ARGS_START = f',"{ARGS_KEY}":'
_decoder = json.JSONDecoder()


def wrap(data: str | None, headers: Mapping[str, str]) -> str | None:
    """``data`` (a plain input, or ``None`` for none) with ``headers`` beside it.

    With no headers the input is returned unchanged, so it stays what other clients send.
    """
    if not headers:
        return data
    encoded = json.dumps(dict(headers), separators=(",", ":"), ensure_ascii=False)
    # `data` is already JSON: splice it in rather than parse it again.
    return f'{{"{HEADERS_KEY}":{encoded},"{ARGS_KEY}":{data if data else "[]"}}}'


def unwrap(data: str | None) -> tuple[str | None, dict[str, str]]:
    """The plain input and the headers of ``data``; no headers for a plain input.

    Text that is not JSON is returned as it is, for the decoder to report.
    """
    if data is None or not data.lstrip().startswith("{") or HEADERS_KEY not in data:
        return data, {}
    if data.startswith(_WRAPPED_START):
        written = _unwrap_written(data)
        if written is not None:
            return written
    try:
        wrapped: Any = json.loads(data)
    except json.JSONDecodeError:
        return data, {}
    if not isinstance(wrapped, dict) or set(wrapped) != {HEADERS_KEY, ARGS_KEY}:
        return data, {}
    headers = wrapped[HEADERS_KEY]
    if not isinstance(headers, dict):
        # Written by another client: the arguments are still delivered, without headers.
        logger.warning(
            "an input's %s is a %s, not an object of header names and values; set aside",
            HEADERS_KEY,
            type(headers).__name__,
        )
        headers = {}
    plain = json.dumps(wrapped[ARGS_KEY], separators=(",", ":"), ensure_ascii=False)
    return plain, {str(key): str(value) for key, value in headers.items()}


def _unwrap_written(data: str) -> tuple[str, dict[str, str]] | None:
    """The input and headers of text in exactly the form :func:`wrap` writes, read without
    parsing and writing the arguments again (every task of a traced run carries headers,
    and its arguments may be large); ``None`` for any other form."""
    try:
        headers, end = _decoder.raw_decode(data, len(_WRAPPED_START))
        if not isinstance(headers, dict) or not data.startswith(_ARGS_START, end):
            return None
        start = end + len(_ARGS_START)
        _, end = _decoder.raw_decode(data, start)  # one JSON value, then the closing brace
    except json.JSONDecodeError:
        return None
    if end != len(data) - 1 or data[end] != "}":
        return None
    return data[start:end], {str(key): str(value) for key, value in headers.items()}
