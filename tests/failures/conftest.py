"""Fixtures for the failure-policy tests: the local SWF service on a virtual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from aioswf import Client
from aioswf.local import LocalSWF, VirtualClock


@pytest.fixture
def clock() -> VirtualClock:
    """Time that moves only when a test advances it."""
    return VirtualClock(start=1_700_000_000.0)


@pytest.fixture
async def local_swf(clock: VirtualClock) -> AsyncIterator[LocalSWF]:
    """The local service on a free loopback port."""
    async with LocalSWF(clock=clock, long_poll_seconds=0.5) as service:
        yield service


@pytest.fixture
async def client(local_swf: LocalSWF, domain_name: str) -> AsyncIterator[Client]:
    """A client on a fresh domain of the local service."""
    async with Client(domain_name, endpoint_url=local_swf.endpoint_url) as client:
        await client.register_domain()
        yield client
