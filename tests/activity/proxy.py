"""A loopback HTTP proxy in front of an SWF endpoint that counts calls and injects faults."""

from __future__ import annotations

import asyncio
import collections
import json
import random
from typing import Any

import aiohttp
from aiohttp import web

from aioswf._transport.connection import LOCAL_SERVICE_HEADER

THROTTLED = (400, {"__type": "com.amazon.coral.availability#ThrottlingException"})
SERVER_ERROR = (500, {"__type": "com.amazon.coral.service#InternalFailure"})
UNAVAILABLE = (503, {"__type": "com.amazon.coral.service#ServiceUnavailableException"})
UNKNOWN = (400, {"__type": "com.amazonaws.swf.base.model#UnknownResourceFault"})
DROP: tuple[int, dict[str, Any]] = (0, {})
"""Close the connection without an answer."""
LOSE_ANSWER: tuple[int, dict[str, Any]] = (-1, {})
"""Forward the request to SWF, which applies it, then close the connection: the answer is lost."""


class FaultProxy:
    """Forwards every request to ``upstream`` unless a fault is queued for its operation."""

    def __init__(self, upstream: str, *, can_release_polls: bool = False) -> None:
        self.upstream = upstream
        self.can_release_polls = can_release_polls
        """Pass on the local service's header that lets a stopping worker release its parked
        polls at once (without it, a worker through the proxy waits out its long polls)."""
        self._open: set[asyncio.BaseTransport] = set()
        self.url = ""
        self.calls: collections.Counter[str] = collections.Counter()
        self.bodies: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self.faults: dict[str, list[tuple[int, dict[str, Any]]]] = collections.defaultdict(list)
        self.down: frozenset[str] | None = None
        """While set, these operations (every one if empty) get their connection cut."""
        self.cut: collections.Counter[str] = collections.Counter()
        self.chaos_rate = 0.0
        """Share of requests that get a random fault (see :meth:`chaos`)."""
        self.injected: collections.Counter[str] = collections.Counter()
        self._random = random.Random(0)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def fail(self, operation: str, *faults: tuple[int, dict[str, Any]]) -> None:
        """Answer the next calls of ``operation`` with ``faults``, one each, in order."""
        self.faults[operation].extend(faults)

    def go_down(self, *operations: str) -> None:
        """An outage: cut every call of ``operations`` (of every operation if none given)."""
        self.down = frozenset(operations)

    def drop_connections(self) -> None:
        """Cut every request in flight (parked long polls too), as an outage does."""
        for transport in list(self._open):
            transport.close()
        self._open.clear()

    def come_up(self) -> None:
        """End the outage."""
        self.down = None

    def chaos(self, rate: float, *, seed: int = 0) -> None:
        """Give a share ``rate`` of all requests one random fault: dropped before it reaches
        SWF, delayed, answered with a 500, or cut after SWF applied it (the answer lost)."""
        self.chaos_rate = rate
        self._random = random.Random(seed)

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
            if status != LOSE_ANSWER[0]:
                return web.json_response(
                    payload, status=status, content_type="application/x-amz-json-1.0"
                )
            fault: str | None = "cut"
        else:
            fault = self._chaos_fault()
        if fault == "drop":
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if fault == "500":
            status, payload = SERVER_ERROR
            return web.json_response(
                payload, status=status, content_type="application/x-amz-json-1.0"
            )
        if fault == "delay":
            await asyncio.sleep(self._random.uniform(0.05, 0.5))
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        assert request.transport is not None
        self._open.add(request.transport)
        try:
            async with self._session.post(self.upstream, data=body, headers=headers) as answer:
                data = await answer.read()
        finally:
            self._open.discard(request.transport)
        if fault == "cut":
            request.transport.close()
            return web.Response()
        passed = {
            name: value
            for name, value in answer.headers.items()
            if self.can_release_polls and name.lower() == LOCAL_SERVICE_HEADER
        }
        return web.Response(
            body=data, status=answer.status, content_type=answer.content_type, headers=passed
        )

    def _chaos_fault(self) -> str | None:
        if self._random.random() >= self.chaos_rate:
            return None
        fault = self._random.choice(["drop", "delay", "500", "cut"])
        self.injected[fault] += 1
        return fault
