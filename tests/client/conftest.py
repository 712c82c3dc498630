"""Fixtures for client tests: SWF backends, a scripted endpoint, and a decider driven by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from aioswf import Client, ConnectionOptions, RetryOptions

from .swf_by_hand import ScriptedSWF, serving


@pytest.fixture(params=["local", "moto"])
def backend(request: pytest.FixtureRequest) -> str:
    """The SWF implementations every shared scenario runs against."""
    return str(request.param)


@pytest.fixture
def endpoint(backend: str, request: pytest.FixtureRequest, local_endpoint: str) -> str:
    """The endpoint of the backend under test (moto's is reset; the local one is new)."""
    return local_endpoint if backend == "local" else str(request.getfixturevalue("moto_endpoint"))


@pytest.fixture
async def client(endpoint: str, domain_name: str) -> AsyncIterator[Client]:
    """A client on a fresh, registered domain of each backend."""
    async with Client(domain_name, endpoint_url=endpoint) as swf:
        await swf.register_domain()
        yield swf


@pytest.fixture
async def scripted() -> AsyncIterator[ScriptedSWF]:
    swf = ScriptedSWF()
    async with serving(swf.handle) as swf.url:
        yield swf


@pytest.fixture
def scripted_client_factory(scripted: ScriptedSWF) -> Callable[..., Client]:
    def make(max_attempts: int = 3) -> Client:
        retry = RetryOptions(max_attempts=max_attempts, base_delay=0.001, max_delay=0.01)
        return Client(
            "scripted", endpoint_url=scripted.url, connection=ConnectionOptions(retry=retry)
        )

    return make
