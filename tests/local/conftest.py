"""Fixtures for the local SWF service: a fresh service per test on a virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from aioswf.local import LocalSWF, VirtualClock
from tests.local.helpers import Driver, boto3_client


@pytest.fixture
def clock() -> VirtualClock:
    """A virtual clock that only moves when a test says so."""
    return VirtualClock(start=1_700_000_000.0)


@pytest.fixture
async def local_swf(clock: VirtualClock) -> AsyncIterator[LocalSWF]:
    """The local service on a free loopback port, with a short long-poll limit."""
    async with LocalSWF(clock=clock, long_poll_seconds=0.3) as service:
        yield service


@pytest.fixture
def boto(local_swf: LocalSWF) -> Iterator[Any]:
    """A boto3 client of the local service."""
    client = boto3_client(local_swf.endpoint_url)
    yield client
    client.close()


@pytest.fixture
async def sw(boto: Any) -> Driver:
    """A driver on a registered domain with a workflow type and an activity type."""
    driver = Driver(boto)
    await driver.setup()
    return driver
