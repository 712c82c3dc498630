"""A loopback HTTP proxy in front of an SWF endpoint that counts calls and injects faults."""

from __future__ import annotations

import collections
import json
from typing import Any

import aiohttp
from aiohttp import web

THROTTLED = (400, {"__type": "com.amazon.coral.availability#ThrottlingException"})
SERVER_ERROR = (500, {"__type": "com.amazon.coral.service#InternalFailure"})
UNAVAILABLE = (503, {"__type": "com.amazon.coral.service#ServiceUnavailableException"})
UNKNOWN = (400, {"__type": "com.amazonaws.swf.base.model#UnknownResourceFault"})
DROP: tuple[int, dict[str, Any]] = (0, {})
"""Close the connection without an answer."""


class FaultProxy:
    """Forwards every request to ``upstream`` unless a fault is queued for its operation."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.url = ""
        self.calls: collections.Counter[str] = collections.Counter()
        self.bodies: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self.faults: dict[str, list[tuple[int, dict[str, Any]]]] = collections.defaultdict(list)
        self.down: frozenset[str] | None = None
        """While set, these operations (every one if empty) get their connection cut."""
        self.cut: collections.Counter[str] = collections.Counter()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def fail(self, operation: str, *faults: tuple[int, dict[str, Any]]) -> None:
        """Answer the next calls of ``operation`` with ``faults``, one each, in order."""
        self.faults[operation].extend(faults)

    def go_down(self, *operations: str) -> None:
        """An outage: cut every call of ``operations`` (of every operation if none given)."""
        self.down = frozenset(operations)

    def come_up(self) -> None:
        """End the outage."""
        self.down = None

    def _is_down(self, operation: str) -> bool:
        return self.down is not None and (not self.down or operation in self.down)

    async def __aenter__(self) -> FaultProxy:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        assert self._session is not None
        await self._runner.cleanup()
        await self._session.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        operation = request.headers["X-Amz-Target"].split(".", 1)[1]
        body = await request.read()
        self.calls[operation] += 1
        self.bodies[operation].append(json.loads(body or b"{}"))
        if self._is_down(operation):
            self.cut[operation] += 1
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if self.faults[operation]:
            status, payload = self.faults[operation].pop(0)
            if status == 0:
                assert request.transport is not None
                request.transport.close()
                return web.Response()
            return web.json_response(
                payload, status=status, content_type="application/x-amz-json-1.0"
            )
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with self._session.post(self.upstream, data=body, headers=headers) as answer:
            return web.Response(
                body=await answer.read(),
                status=answer.status,
                content_type=answer.content_type,
            )
