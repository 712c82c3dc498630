"""Page tokens: opaque to clients, self-describing to the engine."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, TypeVar

from aioswf.local.engine.state import Json
from aioswf.local.faults import ValidationError

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 1000


def encode(kind: str, **fields: Any) -> str:
    """A page token of ``kind`` carrying ``fields``."""
    raw = json.dumps({"k": kind, **fields}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, kind: str) -> Json:
    """The fields of a token made by :func:`encode` for ``kind``.

    Raises:
        ValidationError: when the token is malformed or was made for another operation.
    """
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        data = None
    if not isinstance(data, dict) or data.get("k") != kind:
        raise ValidationError("Invalid nextPageToken")
    return data


def page_size(request: Json) -> int:
    """``maximumPageSize`` of a request; 0 or absent means the service maximum."""
    size = int(request.get("maximumPageSize") or 0)
    return size if size > 0 else DEFAULT_PAGE_SIZE


def page_of(items: list[T], request: Json, kind: str) -> tuple[list[T], str | None]:
    """Slice a full, already ordered result list into the page the request asks for."""
    start = 0
    if request.get("nextPageToken"):
        start = int(decode(request["nextPageToken"], kind).get("offset", 0))
    size = page_size(request)
    end = start + size
    token = encode(kind, offset=end) if end < len(items) else None
    return items[start:end], token
