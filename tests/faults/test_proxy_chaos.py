"""Workers and ``result()`` behind a proxy that drops, delays, cuts and 500s requests.

Every execution must end with the right result, every signal must arrive, and no activity
whose result was computed may run again because an answer was dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from aioswf import Client
from aioswf.local import LocalSWF
from aioswf.worker import ActivityWorkerOptions, Worker
from tests.activity.proxy import FaultProxy

from . import app
from .conftest import cases

OPTIONS = ActivityWorkerOptions(
    pollers=2, poll_backoff=timedelta(seconds=0.05), max_poll_backoff=timedelta(seconds=0.5)
)


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.log"
    monkeypatch.setenv("AIOSWF_FAULTS_RUNS", str(path))
    return path


@pytest.fixture
async def swf() -> AsyncIterator[LocalSWF]:
    async with LocalSWF(long_poll_seconds=1) as service:
        yield service


async def test_every_execution_completes_through_a_faulty_network(
    swf: LocalSWF, runs: Path, domain_name: str
) -> None:
    executions = cases(4, 200)
    pokes = 2
    async with (
        FaultProxy(swf.endpoint_url) as proxy,
        Client(domain_name, endpoint_url=swf.endpoint_url) as direct,
        Client(domain_name, endpoint_url=proxy.url) as proxied,
    ):
        await direct.register_domain()
        async with Worker(
            proxied,
            task_list="chaos",
            workflows=[app.Chores],
            activities=[app.double],
            activity_options=OPTIONS,
        ):
            proxy.chaos(0.25, seed=13)
            handles = [
                # A task lost with a cut poll is retried after 5 s rather than 30.
                await direct.start_workflow(
                    app.Chores.run, f"c{i}", pokes, 5, workflow_id=f"chaos-{i}", task_list="chaos"
                )
                for i in range(executions)
            ]
            for number in range(pokes):
                for handle in handles:
                    await handle.signal(app.Chores.poke, number)
            waiting = [
                proxied.get_workflow_handle(h.workflow_id, workflow=app.Chores.run).result(
                    timeout=timedelta(minutes=10)
                )
                for h in handles
            ]
            results = await asyncio.gather(*waiting)
            proxy.chaos(0)
    assert results == [app.expected(pokes)] * executions
    assert sum(proxy.injected.values()) > executions  # faults were in fact injected
    computed = app.computations(runs)
    assert len(computed) == executions * app.ACTIVITIES_PER_RUN
    again = {key: n for key, n in computed.items() if n > 1}
    assert not again, f"computed more than once: {again}"
