"""Fixtures for the activity worker's tests: both SWF backends, and a hand-driven workflow."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from aioswf import Client, ConnectionOptions, RetryOptions
from aioswf.local import LocalSWF

from .helpers import Flow
from .proxy import FaultProxy

_task_lists = itertools.count(1)


@pytest.fixture
async def local_endpoint() -> AsyncIterator[str]:
    """The local service with short long polls: a worker's shutdown waits for its polls."""
    async with LocalSWF(port=0, long_poll_seconds=0.5) as swf:
        yield swf.endpoint_url


@pytest.fixture
async def proxy(local_endpoint: str) -> AsyncIterator[FaultProxy]:
    """A proxy in front of the local service that counts calls and makes outages and faults."""
    async with FaultProxy(local_endpoint) as running:
        yield running


@pytest.fixture
async def proxied(proxy: FaultProxy, domain_name: str) -> AsyncIterator[Client]:
    """A client of the local service through ``proxy``, on a fresh, registered domain.

    A call is tried three quick times: far shorter than the outages the tests make.
    """
    retry = RetryOptions(max_attempts=3, base_delay=0.01, max_delay=0.1)
    async with Client(
        domain_name, endpoint_url=proxy.url, connection=ConnectionOptions(retry=retry)
    ) as swf:
        await swf.register_domain()
        yield swf


@pytest.fixture(params=["local", "moto"])
def backend(request: pytest.FixtureRequest) -> str:
    """The SWF implementations that shared scenarios run against."""
    return str(request.param)


@pytest.fixture
def endpoint(backend: str, request: pytest.FixtureRequest) -> str:
    """The endpoint of the backend under test (moto's is reset; the local one is new)."""
    name = "local_endpoint" if backend == "local" else "moto_endpoint"
    return str(request.getfixturevalue(name))


@pytest.fixture
async def client(endpoint: str, domain_name: str) -> AsyncIterator[Client]:
    """A client on a fresh, registered domain of each backend."""
    async with Client(domain_name, endpoint_url=endpoint) as swf:
        await swf.register_domain()
        yield swf


@pytest.fixture
def task_list() -> str:
    """A task list no other test uses."""
    return f"activities-{next(_task_lists)}"


@pytest.fixture
def new_flow(client: Client, task_list: str) -> Callable[[], Awaitable[Flow]]:
    """Start a hand-driven execution whose activities go to ``task_list``."""

    async def make() -> Flow:
        return await Flow(client, task_list).start()

    return make


@pytest.fixture
def local_flow(local_client: Client, task_list: str) -> Callable[[], Awaitable[Flow]]:
    """Like ``new_flow``, on the local service only (for what moto does not emulate)."""

    async def make() -> Flow:
        return await Flow(local_client, task_list).start()

    return make
