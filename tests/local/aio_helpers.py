"""Driving an SWF endpoint by hand from tests with aiobotocore, the client aioswf itself uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

from tests.local.helpers import Driver, Json


@asynccontextmanager
async def aio_client(endpoint: str) -> AsyncIterator[Any]:
    """An aiobotocore SWF client, as a third-party asyncio program would make one."""
    config = AioConfig(retries={"total_max_attempts": 1}, read_timeout=90, connect_timeout=5)
    async with get_session().create_client(
        "swf",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=config,
    ) as client:
        yield client


class AioDriver(Driver):
    """The boto3 test driver's shortcuts, with each call awaited on an aiobotocore client."""

    async def __call__(self, operation: str, **kwargs: Any) -> Json:
        result: Json = await getattr(self.client, operation)(**kwargs)
        result.pop("ResponseMetadata", None)
        return result

    async def signal(self, name: str, workflow_id: str = "wf-1", **kwargs: Any) -> None:
        """SignalWorkflowExecution on the test domain."""
        await self(
            "signal_workflow_execution",
            domain=self.domain,
            workflowId=workflow_id,
            signalName=name,
            **kwargs,
        )
