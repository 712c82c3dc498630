"""Large payloads in S3: what is too big for SWF's fields is kept in a bucket, by reference.

Example:
    >>> store = S3PayloadStore("my-bucket", prefix="swf-payloads/")  # doctest: +SKIP
    >>> converter = DataConverter(payload_store=store)
    >>> async with Client("shop", converter=converter) as client:    # and every worker too
    ...     ...

A payload over its field's limit (32,768 characters; 2,048 for heartbeat details) is written
to ``s3://<bucket>/<prefix><sha256>`` before the request that refers to it is sent; SWF's
history holds a reference of about 150 characters. Readers (workers, the client's
``result()``, replays, the CLI and web view) read it back through the same converter. Objects
are named by their content and never deleted by aioswf: give the prefix an S3 lifecycle rule
longer than the domain's retention.

An aiobotocore client belongs to the event loop it was made on, so the store makes one per
loop that uses it: a :class:`~aioswf.testing.Replayer` replaying on its own loop shares the
store with the workers of the application's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import weakref
from dataclasses import dataclass, field
from typing import Any

from aiobotocore.session import AioSession, get_session
from botocore.session import Session

from aioswf.converter import MAX_DATA_LENGTH

__all__ = ("S3PayloadStore",)

_SCHEME = "s3://"


class S3PayloadStore:
    """A :class:`~aioswf.payloads.PayloadStore` on S3, through aiobotocore.

    Args:
        bucket: the bucket to write to (it must exist).
        prefix: the key prefix of the objects written.
        threshold: payloads longer than this many characters are stored even when their
            field would take them; by default only what SWF would refuse is stored.
        session: the aiobotocore session to make the S3 client from.
        endpoint_url: S3's endpoint (an S3-compatible store, or moto's server in tests).
        region_name: the bucket's region; by default from the AWS configuration chain.
        client_options: more keyword arguments for ``session.create_client("s3", ...)``.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "aioswf/payloads/",
        threshold: int = MAX_DATA_LENGTH,
        session: AioSession | None = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        client_options: dict[str, Any] | None = None,
    ) -> None:
        if not bucket:
            raise ValueError("S3PayloadStore needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix
        self.threshold = threshold
        self._session = session
        self._client_kwargs = {
            **({"endpoint_url": endpoint_url} if endpoint_url else {}),
            **({"region_name": region_name} if region_name else {}),
            **(client_options or {}),
        }
        _check_client_kwargs(self._client_kwargs)
        self._on_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopClient] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"S3PayloadStore({_SCHEME}{self.bucket}/{self.prefix})"

    def reference(self, digest: str) -> str:
        """``s3://<bucket>/<prefix><digest>``."""
        return f"{_SCHEME}{self.bucket}/{self.prefix}{digest}"

    async def put(self, reference: str, data: bytes) -> None:
        """Write ``data`` to the object ``reference`` names."""
        bucket, key = _parse(reference)
        client = await self._s3()
        await client.put_object(Bucket=bucket, Key=key, Body=data)

    async def get(self, reference: str) -> bytes:
        """The bytes of the object ``reference`` names.

        Raises:
            Exception: aiobotocore's error (``NoSuchKey``, access denied…).
        """
        bucket, key = _parse(reference)
        client = await self._s3()
        response = await client.get_object(Bucket=bucket, Key=key)
        async with response["Body"] as body:
            data: bytes = await body.read()
        return data

    async def close(self) -> None:
        """Close the S3 client of the running event loop, if one was opened. Idempotent."""
        held = self._on_loop.pop(asyncio.get_running_loop(), None)
        if held is not None and held.stack is not None:
            stack, held.stack, held.client = held.stack, None, None
            await stack.aclose()

    async def __aenter__(self) -> S3PayloadStore:
        await self._s3()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _s3(self) -> Any:
        loop = asyncio.get_running_loop()
        held = self._on_loop.get(loop)
        if held is None:
            held = self._on_loop[loop] = _LoopClient()
        if held.client is not None:
            return held.client
        async with held.lock:
            if held.client is None:
                stack = contextlib.AsyncExitStack()
                session = self._session or get_session()
                held.client = await stack.enter_async_context(
                    session.create_client("s3", **self._client_kwargs)
                )
                held.stack = stack
        return held.client


@dataclass(eq=False)
class _LoopClient:
    """The S3 client of one event loop, made on first use."""

    client: Any = None
    stack: contextlib.AsyncExitStack | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _check_client_kwargs(kwargs: dict[str, Any]) -> None:
    """Refuse arguments ``create_client`` does not take now: the client is made at the first
    payload, where a ``TypeError`` would pass for a store outage that workers retry."""
    try:
        # aiobotocore's create_client takes *args and **kwargs on to botocore's signature.
        inspect.signature(Session.create_client).bind(None, "s3", **kwargs)
    except TypeError as error:
        raise TypeError(
            f"S3PayloadStore: client_options are passed to session.create_client('s3', ...), "
            f"which refuses them: {error}"
        ) from None


def _parse(reference: str) -> tuple[str, str]:
    if not reference.startswith(_SCHEME) or "/" not in reference[len(_SCHEME) :]:
        raise ValueError(f"not an S3 payload reference: {reference!r}")
    bucket, _, key = reference[len(_SCHEME) :].partition("/")
    return bucket, key
