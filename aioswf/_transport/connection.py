"""The aiobotocore client behind every SWF call, with its lifecycle and retries."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import math
import os
import platform
import random
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import botocore
import botocore.exceptions
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore import xform_name

from aioswf import exceptions as exc
from aioswf._transport.faults import map_error, may_have_applied, may_retry
from aioswf._transport.parsing import SWFParserFactory
from aioswf._transport.signing import ClientSigning
from aioswf._wording import duration

logger = logging.getLogger(__name__)

LONG_POLL_SECONDS = 60.0
"""How long SWF holds a poll open; the read timeout must outlast it."""

LOCAL_SERVICE_HEADER = "x-aioswf-local-swf"
"""Sent by the local service (:mod:`aioswf.local.server`), which can release parked polls."""

RELEASE_POLLS_TARGET = "AioswfLocal.ReleasePolls"
"""The local service's request to answer a stopping worker's parked polls at once."""

POOL_HEADROOM = 4
"""Connections a pool needs beyond its long polls, for responses and heartbeats."""

_LOCAL_CREDENTIALS = ("aioswf-local", "aioswf-local")


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


USER_AGENT = (
    f"aioswf/{_version('aioswf')} aiobotocore/{_version('aiobotocore')} "
    f"botocore/{botocore.__version__} Python/{platform.python_version()} "
    f"{platform.system()}/{platform.release()}"
)
"""The ``User-Agent`` of every request."""
_LOCAL_REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class RetryOptions:
    """Back-off with full jitter for throttled and transient failures.

    Attributes:
        max_attempts: attempts in all, the first included.
        base_delay: seconds; the n-th retry waits up to ``base_delay * 2**n``…
        max_delay: …but never more than this.
        delivery_max_delay: seconds; the longest wait between two attempts of an answer
            that carries finished work once ``max_attempts`` are spent.
    """

    max_attempts: int = 8
    base_delay: float = 0.05
    max_delay: float = 5.0
    delivery_max_delay: float = 1.0

    def delay(self, retry: int, *, delivering: bool = False) -> float:
        """A random delay before retry number ``retry`` (1-based).

        ``delivering``: the call carries finished work past ``max_attempts`` (see
        ``Transport.call(until=...)``); its waits are capped by ``delivery_max_delay``, so that
        it lands soon after SWF is back, well within the task's own timeout.
        """
        cap = min(self.max_delay, self.delivery_max_delay) if delivering else self.max_delay
        return random.uniform(0, min(cap, self.base_delay * 2 ** min(retry, 30)))


@dataclass(frozen=True, slots=True)
class ConnectionOptions:
    """Where SWF is and how to reach it.

    Everything left ``None`` comes from the usual AWS chain (environment, shared config,
    instance role); ``AWS_ENDPOINT_URL_SWF`` and ``AWS_ENDPOINT_URL`` are honoured. A loopback
    endpoint with no credentials configured gets placeholder ones, since the local service
    does not check signatures.

    Attributes:
        endpoint_url: e.g. ``http://127.0.0.1:8042`` for ``aioswf dev``.
        region_name: the AWS region.
        profile: a profile of the shared AWS config.
        max_pool_connections: concurrent HTTP connections; size it to the pollers sharing it.
        connect_timeout: seconds to open a connection.
        read_timeout: seconds to wait for an answer; longer than SWF's 60 s long poll.
        retry: back-off for throttling and transient faults.
    """

    endpoint_url: str | None = None
    region_name: str | None = None
    profile: str | None = None
    max_pool_connections: int = 32
    connect_timeout: float = 10.0
    read_timeout: float = LONG_POLL_SECONDS + 10.0
    retry: RetryOptions = RetryOptions()

    def effective_endpoint(self) -> str | None:
        """The endpoint in use, from the argument or the environment."""
        return (
            self.endpoint_url
            or os.environ.get("AWS_ENDPOINT_URL_SWF")
            or os.environ.get("AWS_ENDPOINT_URL")
        )


def _is_loopback(url: str | None) -> bool:
    if not url:
        return False
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Transport:
    """An open aiobotocore SWF client; ``call`` sends one operation with retries.

    Use as an async context manager, or ``open()``/``close()``. Safe to share between any
    number of tasks of one event loop.
    """

    def __init__(
        self, options: ConnectionOptions | None = None, *, session: AioSession | None = None
    ):
        self.options = options or ConnectionOptions()
        self._session = session
        self._stack: contextlib.AsyncExitStack | None = None
        self._client: Any = None
        self.can_release_polls = False
        """Whether the service said it can answer a stopping worker's parked polls at once
        (the local service does; AWS SWF holds them until a task comes or 60 s pass)."""

    @property
    def is_open(self) -> bool:
        """Whether ``open()`` has run and ``close()`` has not."""
        return self._client is not None

    async def open(self) -> None:
        """Create the HTTP client. Calling it on an open transport does nothing."""
        if self._client is not None:
            return
        options = self.options
        session = self._session
        if session is None:
            # Only a session of our own: a caller's may serve other clients of theirs.
            session = get_session()
            session.register_component("response_parser_factory", SWFParserFactory())
        if options.profile:
            session.set_config_variable("profile", options.profile)
        endpoint = options.effective_endpoint()
        config: dict[str, Any] = {
            "max_pool_connections": options.max_pool_connections,
            "connect_timeout": options.connect_timeout,
            "read_timeout": options.read_timeout,
            # Our own back-off, in `call`; botocore's retry handler is taken off the client.
            "retries": {"total_max_attempts": 1, "mode": "legacy"},
            # Built once: botocore otherwise rebuilds it twice for every request.
            "user_agent": USER_AGENT,
        }
        kwargs: dict[str, Any] = {
            "endpoint_url": endpoint,
            "region_name": options.region_name or session.get_config_variable("region"),
        }
        if _is_loopback(endpoint):
            kwargs["region_name"] = kwargs["region_name"] or _LOCAL_REGION
            if await session.get_credentials() is None:
                kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = _LOCAL_CREDENTIALS
        kwargs["config"] = AioConfig(**config)
        stack = contextlib.AsyncExitStack()
        try:
            client = await stack.enter_async_context(session.create_client("swf", **kwargs))
        except botocore.exceptions.NoRegionError as error:
            await stack.aclose()
            mapped = map_error(error, "connect", {})
            assert mapped is not None
            raise mapped from error
        ClientSigning().attach(client)
        _drop_retry_handler(client)
        self._client, self._stack = client, stack
        logger.debug("SWF client open (endpoint %s)", endpoint or "from the AWS chain")

    async def close(self) -> None:
        """Close the HTTP client. Idempotent."""
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> Transport:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def call(
        self,
        operation: str,
        params: Mapping[str, Any],
        *,
        retry: bool = True,
        until: float | None = None,
    ) -> dict[str, Any]:
        """Send ``operation`` (SWF's name, e.g. ``"StartWorkflowExecution"``) with ``params``.

        Throttling and transient faults are retried with jittered back-off, except where SWF
        may already have applied the request and a repeat would do harm (see
        :data:`~aioswf._transport.faults.NOT_REPEATABLE`); every other fault, and the last
        retryable one, is raised as its aioswf exception.

        Args:
            operation: the SWF operation.
            params: its request members.
            retry: ``False`` sends it once.
            until: keep retrying transient faults past ``RetryOptions.max_attempts`` until
                this time of the running loop's clock (``math.inf``: for as long as it
                takes). Used for answers that carry finished work, and for heartbeats,
                which must outlast an outage as long as SWF could still accept them.

        Raises:
            aioswf.exceptions.ServiceError: the mapped fault.
            aioswf.exceptions.WorkerError: if the transport is not open.
        """
        if self._client is None:
            raise exc.WorkerError(f"{operation}: the SWF client is not open; use 'async with'")
        method = getattr(self._client, xform_name(operation))
        attempts = self.options.retry.max_attempts if retry else 1
        loop = asyncio.get_running_loop()
        started = loop.time()
        attempt = 0
        lost_answer = False  # an earlier attempt reached SWF; its answer did not come back
        while True:
            attempt += 1
            try:
                response: dict[str, Any] = await method(**params)
            except Exception as error:
                mapped = map_error(error, operation, params)
                if not isinstance(mapped, exc.ServiceError):
                    raise
                mapped.after_lost_answer = lost_answer
                retryable = may_retry(error, mapped, operation)
                delivering = until is not None and attempt >= attempts
                delay = self.options.retry.delay(attempt, delivering=delivering)
                persist = retry and until is not None and loop.time() + delay < until
                if not retryable or (attempt >= attempts and not persist):
                    raise _explained(mapped, retryable, attempt, loop.time() - started) from error
                lost_answer = lost_answer or may_have_applied(error, mapped)
                _log_retry(operation, mapped, attempt, attempts, delay, until)
                await asyncio.sleep(delay)
            else:
                if attempt > attempts:
                    logger.info(
                        "%s went through after %d attempts over %s",
                        operation,
                        attempt,
                        duration(round(loop.time() - started, 1)),
                    )
                meta = response.pop("ResponseMetadata", None) or {}
                if LOCAL_SERVICE_HEADER in meta.get("HTTPHeaders", {}):
                    self.can_release_polls = True
                return response

    async def release_polls(self, domain: str, identity: str) -> bool:
        """Ask the local service to answer, with no task, the polls ``identity`` has parked.

        Only where :attr:`can_release_polls`; the service decides, under its own lock, whether
        a poll gets a task or is released, so nothing is lost. ``False`` if it did not answer.
        """
        endpoint = self.options.effective_endpoint()
        if not self.can_release_polls or not endpoint:
            return False
        body = {"domain": domain, "identity": identity}
        headers = {"X-Amz-Target": RELEASE_POLLS_TARGET, "Content-Type": "application/json"}
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session,
                session.post(endpoint, json=body, headers=headers) as answer,
            ):
                return answer.status == 200
        except (aiohttp.ClientError, TimeoutError) as error:
            logger.warning("could not release the polls of %r: %r", identity, error)
            return False

    async def pages(
        self, operation: str, params: Mapping[str, Any]
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of a paged operation, following ``nextPageToken`` at once."""
        request = dict(params)
        while True:
            page = await self.call(operation, request)
            yield page
            token = page.get("nextPageToken")
            if not token:
                return
            request["nextPageToken"] = token


def _drop_retry_handler(client: Any) -> None:
    """Take botocore's (legacy) retry handler off ``client``: with one attempt allowed it
    only ever answers "no", yet it runs its checks on every response."""
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")


def _log_retry(
    operation: str,
    mapped: exc.ServiceError,
    attempt: int,
    attempts: int,
    delay: float,
    until: float | None,
) -> None:
    if attempt < attempts:
        # DEBUG: the component that owns the loop around this call (a poller, start-up
        # registration, the result watcher) says once per outage that SWF is out of reach;
        # a line per retry of every call in flight would flood the log.
        logger.debug(
            "%s failed (%s); retry %d of %d in %s",
            operation,
            mapped.code,
            attempt,
            attempts - 1,
            duration(delay),
        )
    elif attempt == attempts:
        # One line for the whole outage, not one per attempt.
        limit = "as long as it takes" if until == math.inf else "until its deadline"
        logger.warning(
            "%s still failing after %d attempts (%s); it must not be lost, so it keeps trying %s",
            operation,
            attempt,
            mapped.code,
            limit,
        )
    else:
        logger.debug(
            "%s failed (%s); attempt %d, next in %s",
            operation,
            mapped.code,
            attempt,
            duration(delay),
        )


def _explained(
    mapped: exc.ServiceError, retryable: bool, attempts: int, elapsed: float
) -> exc.ServiceError:
    """``mapped``, its message saying why it was not retried further."""
    if mapped.after_lost_answer and not retryable:
        mapped.args = (
            f"{mapped.args[0]} (after an earlier attempt whose answer was lost, "
            "which SWF may have applied)",
        )
    elif retryable and attempts > 1:
        spent = duration(round(elapsed, 1))
        mapped.args = (f"{mapped.args[0]} (gave up after {attempts} attempts over {spent})",)
    elif isinstance(mapped, exc.ServiceUnavailableError):
        mapped.args = (
            f"{mapped.args[0]} (not retried: SWF may have applied it; check before repeating)",
        )
    return mapped
