"""Shared fixtures: real SWF endpoints on loopback, and clients connected to them.

``swf_endpoint`` is parametrised over the SWF implementations the suite runs against: moto's
server (a second, independent SWF) and, once available, aioswf's own local service. Tests
that need behaviour only the local service has use ``local_endpoint`` instead.
"""

from __future__ import annotations

import itertools
import urllib.request
from collections.abc import AsyncIterator, Iterator

import pytest
from moto.server import ThreadedMotoServer

from aioswf import Client
from aioswf.local import LocalSWF

_domains = itertools.count(1)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's SWF server on a free loopback port, for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_endpoint(moto_server: str) -> str:
    """moto's endpoint with its state reset: moto slows down with every execution it keeps."""
    request = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
    return moto_server


@pytest.fixture
async def local_endpoint() -> AsyncIterator[str]:
    """aioswf's local SWF service, fresh for each test, with short long polls."""
    async with LocalSWF(port=0, long_poll_seconds=2.0) as swf:
        yield swf.endpoint_url


@pytest.fixture
async def local_client(local_endpoint: str, domain_name: str) -> AsyncIterator[Client]:
    """A client on a fresh, registered domain of the local service."""
    async with Client(domain_name, endpoint_url=local_endpoint) as client:
        await client.register_domain()
        yield client


@pytest.fixture
def domain_name() -> str:
    """A domain name no other test uses."""
    return f"test-domain-{next(_domains)}"


@pytest.fixture
async def moto_client(moto_endpoint: str, domain_name: str) -> AsyncIterator[Client]:
    """A client on a fresh, registered domain of moto's server."""
    async with Client(domain_name, endpoint_url=moto_endpoint) as client:
        await client.register_domain()
        yield client
