"""The local service on a thread of its own, and a plain HTTP client for fuzzing it."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from aioswf.local import LocalSWF, VirtualClock

START = 1_700_000_000.0
T = TypeVar("T")


class ServiceThread:
    """``LocalSWF`` on a virtual clock (no timeout fires between two looks), in a thread."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._stopped = threading.Event()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._error: BaseException | None = None
        self._service: LocalSWF | None = None

    def run_in_loop(self, fn: Callable[[LocalSWF], T]) -> T:
        """``fn(service)`` on the service's own thread, between two requests."""
        service = self._service
        assert service is not None

        async def run() -> T:
            return fn(service)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(30)

    def __enter__(self) -> ServiceThread:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the local service did not start")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            service = LocalSWF(
                clock=VirtualClock(start=START), db_path=self.db_path, long_poll_seconds=0.02
            )
            await service.start()
        except BaseException as error:
            self._error = error
            self._ready.set()
            raise
        self.port = service.port
        self._service = service
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await service.stop()


class RawClient:
    """One keep-alive HTTP connection speaking SWF's JSON protocol, bytes in, bytes out."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def send(self, operation: str, body: bytes) -> tuple[int, bytes]:
        headers = {
            "X-Amz-Target": f"SimpleWorkflowService.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
        }
        try:
            self._connection.request("POST", "/", body=body, headers=headers)
            answer = self._connection.getresponse()
            return answer.status, answer.read()
        except (http.client.HTTPException, ConnectionError):
            # The server closes a connection after a 413: open a new one, as clients do.
            self._connection.close()
            self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            raise

    def call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        status, body = self.send(operation, json.dumps(request).encode())
        assert status == 200, (operation, request, status, body)
        result: dict[str, Any] = json.loads(body or b"{}")
        return result

    def close(self) -> None:
        self._connection.close()
