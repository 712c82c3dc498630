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
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiobotocore.session import AioSession, get_session

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
        self._client: Any = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._lock = asyncio.Lock()

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
        """Close the S3 client, if one was opened. Idempotent."""
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> S3PayloadStore:
        await self._s3()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _s3(self) -> Any:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                stack = contextlib.AsyncExitStack()
                session = self._session or get_session()
                self._client = await stack.enter_async_context(
                    session.create_client("s3", **self._client_kwargs)
                )
                self._stack = stack
        return self._client


def _parse(reference: str) -> tuple[str, str]:
    if not reference.startswith(_SCHEME) or "/" not in reference[len(_SCHEME) :]:
        raise ValueError(f"not an S3 payload reference: {reference!r}")
    bucket, _, key = reference[len(_SCHEME) :].partition("/")
    return bucket, key
