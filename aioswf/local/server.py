"""The HTTP front end: SWF's JSON 1.0 protocol on aiohttp.

Requests are ``POST /`` with ``X-Amz-Target: SimpleWorkflowService.<Operation>`` and a JSON
body; signatures are not checked, so any access key and region work.  Results are JSON with
epoch-second timestamps, and an empty body for operations that have no result; faults are
``{"__type": ..., "message": ...}`` with status 400.  A client's mistake is never answered
with a 5xx (which every client would retry): a body over SWF's 1 MB request limit gets 413,
a body that cannot be decoded as its Content-Encoding says, is not JSON, is nested too
deeply or holds a lone surrogate gets ``SerializationException``.
Polls that find nothing are parked (up to the long-poll limit) and woken the moment a task
arrives on their task list.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import web

from aioswf.local._service_model import service_model
from aioswf.local._waiters import Waiters
from aioswf.local.engine import Engine
from aioswf.local.engine.state import Json
from aioswf.local.engine.tasks import empty_activity_task, empty_decision_task
from aioswf.local.faults import (
    RequestTooLargeError,
    SerializationError,
    SWFFault,
    UnknownOperationError,
)

LOCAL_SERVICE_HEADER = "x-aioswf-local-swf"
"""On every answer: this service takes :data:`RELEASE_POLLS_TARGET` requests."""

RELEASE_POLLS_TARGET = "AioswfLocal.ReleasePolls"
"""Not an SWF operation: a stopping worker asks the service to answer its parked polls now,
with no task (``{"domain", "identity"}``). On AWS the worker can only
wait for them (up to 60 s): cutting a poll there could lose the task SWF hands it. Every
task list counts, since a worker polls several (its own, and a sticky one for its cache)."""
logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "SimpleWorkflowService."
_POLLS = {"PollForDecisionTask": "decision", "PollForActivityTask": "activity"}
_NO_RESULT = frozenset(
    name for name, spec in service_model().operations.items() if not spec.get("output")
)
"""Operations whose answer has no body at all (botocore reads nothing from it)."""
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")

MAX_REQUEST_BYTES = 1024 * 1024
"""SWF's request size limit: 1 MB (AWS counts headers too; here only the body counts)."""


class Frontend:
    """Turns HTTP requests into engine calls.

    Args:
        engine: The engine to drive.
        long_poll_seconds: How long an empty poll is held before answering with no task.
        after_change: Called after every engine call (persistence, the timer loop).
        after_error: Called instead when an engine call failed unexpectedly (a bug), which
            may have left a change half made: the service puts back what it saved.
    """

    def __init__(
        self,
        engine: Engine,
        long_poll_seconds: float,
        after_change: Callable[[], None],
        after_error: Callable[[], None] | None = None,
    ) -> None:
        self.engine = engine
        self.long_poll_seconds = long_poll_seconds
        self.waiters = Waiters()
        self._after_change = after_change
        self._after_error = after_error or after_change
        self.stopping = False
        self._released: dict[tuple[str, str], float] = {}
        engine.task_listeners.append(self.waiters.wake_one)

    def shut(self) -> None:
        """Answer every parked poll now, and every later poll at once, with no task.

        Without this a stop waits for each parked poll's long-poll limit (60 s by default),
        since aiohttp's graceful shutdown lets running handlers finish.
        """
        self.stopping = True
        self.waiters.wake_all()

    def make_app(self) -> web.Application:
        """The aiohttp application serving the SWF API on ``POST /``."""
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_post("/", self.handle)
        return app

    def call(self, operation: str, request: Json) -> Json:
        """Run one operation on the engine (no long polling).

        Raises:
            SWFFault: the operation's fault, or ``InternalFailure`` when its change could not
                be saved (and was undone).
        """
        try:
            result = self.engine.handle(operation, request)
        except SWFFault:
            self._after_change()  # what came due before the fault is kept
            raise
        except Exception:
            self._after_error()
            raise
        self._after_change()
        return result

    async def handle(self, request: web.Request) -> web.Response:
        """Serve one SWF API request."""
        if request.headers.get("X-Amz-Target") == RELEASE_POLLS_TARGET:
            return self._release(await request.read())
        try:
            operation = _operation(request.headers.get("X-Amz-Target", ""))
            body = _parse(await _read(request))
            if operation in _POLLS and not body.get("nextPageToken"):
                result = await self._poll(operation, body, request)
            else:
                result = self.call(operation, body)
        except SWFFault as fault:
            if fault.status >= 500 and not getattr(fault, "logged", False):
                logger.error("local SWF fault: %s", fault)
            return _respond(fault.status, fault.to_body(), self._now())
        except Exception:
            logger.exception("local SWF internal error")
            return _respond(
                500,
                {
                    "__type": "com.amazonaws.swf.base.model#InternalFailure",
                    "message": "Internal failure of the local SWF service",
                },
                self._now(),
            )
        if operation in _NO_RESULT:
            return _respond(200, None, self._now())
        return _respond(200, result, self._now())

    def _now(self) -> float:
        return self.engine.clock.now()

    def _release(self, raw: bytes) -> web.Response:
        """Answer, with no task, the polls ``identity`` has parked in a domain."""
        try:
            body = _parse(raw)
            poller = (str(body["domain"]), str(body["identity"]))
        except (SWFFault, KeyError) as error:
            return _respond(
                400, {"__type": "ValidationException", "message": str(error)}, self._now()
            )
        self._released[poller] = asyncio.get_running_loop().time()
        woken = self.waiters.wake_domain(poller[0])
        logger.debug("released the polls of %s (%d woken)", poller, woken)
        return _respond(200, None, self._now())

    def _was_released(self, body: Json, parked_at: float) -> bool:
        poller = (str(body.get("domain")), str(body.get("identity")))
        return self._released.get(poller, -1.0) >= parked_at

    async def _poll(self, operation: str, body: Json, request: web.Request) -> Json:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.long_poll_seconds
        key = (_POLLS[operation], str(body.get("domain")), _task_list(body))
        while True:
            if self.stopping:
                # A task handed out now could be lost with the connection: leave it queued.
                return _empty(operation)
            result = self.call(operation, body)
            remaining = give_up - loop.time()
            if result.get("taskToken") or remaining <= 0:
                return result
            waiter = self.waiters.park(key)
            parked_at = loop.time()
            logger.debug("poll parked on %s", key)
            try:
                # The waiter itself, not wait_for(shield(...)): its futures and callbacks
                # cost a parked poll three more turns of the loop once woken.
                async with asyncio.timeout(remaining):
                    await waiter
            except TimeoutError:
                if not _woken(waiter):
                    return _empty(operation)
                # Woken as the time ran out: it looks once more below (and answers then).
            except asyncio.CancelledError:
                # The client has gone: a task this poll was woken for goes to the next one.
                if _woken(waiter):
                    self.waiters.wake_one(*key)
                raise
            finally:
                self.waiters.unpark(key, waiter)
            if self.stopping or self._was_released(body, parked_at):
                return _empty(operation)
            if _gone(request):
                # Nobody would receive the task: leave it for the next poller.
                self.waiters.wake_one(*key)
                return _empty(operation)


def _woken(waiter: asyncio.Future[None]) -> bool:
    """Whether a parked poll was woken (a task may wait for it), not cancelled."""
    return waiter.done() and not waiter.cancelled()


def _operation(target: str) -> str:
    if not target.startswith(TARGET_PREFIX):
        raise UnknownOperationError(f"Unknown X-Amz-Target: {target!r}")
    return target[len(TARGET_PREFIX) :]


async def _read(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise RequestTooLargeError(
            f"The request is larger than the {MAX_REQUEST_BYTES} bytes SWF accepts"
        ) from None
    except web.RequestPayloadError as exc:
        # The client's bytes, not the service: a Content-Encoding the body is not in, say.
        reason = getattr(exc.__cause__, "message", None) or str(exc)
        raise SerializationError(f"The request body cannot be read: {reason}") from None


def _parse(raw: bytes) -> Json:
    try:
        # Strictly UTF-8, as SWF reads it: json.loads on bytes would let encoded surrogates in.
        text = raw.decode("utf-8") if raw else "{}"
    except UnicodeDecodeError as exc:
        raise SerializationError(f"The request body is not valid UTF-8: {exc.reason}") from None
    try:
        body: Any = json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise SerializationError("The request body is nested too deeply") from None
    except ValueError as exc:
        raise SerializationError(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise SerializationError("The request body must be a JSON object")
    if _ESCAPED_SURROGATE.search(raw) and _has_lone_surrogate(body):
        raise SerializationError("The request body holds a lone UTF-16 surrogate")
    return body


def _not_json(literal: str) -> Any:
    """Refuse ``NaN`` and ``Infinity``, which Python reads but JSON (and SWF) does not."""
    raise ValueError(f"{literal} is not a JSON value")


def _has_lone_surrogate(value: Any) -> bool:
    """Whether a string in ``value`` cannot be UTF-8: JSON's ``\\ud800`` is not text."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _task_list(body: Json) -> str:
    task_list = body.get("taskList")
    return str(task_list.get("name")) if isinstance(task_list, dict) else ""


def _empty(operation: str) -> Json:
    return empty_decision_task() if operation == "PollForDecisionTask" else empty_activity_task()


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _respond(status: int, body: Json | dict[str, str] | None, now: float) -> web.Response:
    return web.Response(
        status=status,
        body=b"" if body is None else json.dumps(body).encode(),
        headers={
            # The service's own clock, as AWS sends its own: clients may keep time by it (a
            # virtual clock's time, not this machine's).
            "Date": email.utils.formatdate(now, usegmt=True),
            "Content-Type": CONTENT_TYPE,
            "x-amzn-RequestId": str(uuid.uuid4()),
            # Clients may cut their polls: a poll whose client has gone gets no task.
            LOCAL_SERVICE_HEADER: "1",
        },
    )
