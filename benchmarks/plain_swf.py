"""The baselines' SWF client: plain aiobotocore with botocore's defaults, no aioswf code on the
path of a call, and one attempt per call like aioswf's own transport."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session


@contextlib.asynccontextmanager
async def plain_client(endpoint: str, connections: int = 10) -> AsyncIterator[Any]:
    """An aiobotocore SWF client for ``endpoint`` with ``connections`` pooled connections."""
    config = AioConfig(
        retries={"total_max_attempts": 1}, read_timeout=70, max_pool_connections=connections
    )
    async with get_session().create_client(
        "swf",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=config,
    ) as client:
        yield client
