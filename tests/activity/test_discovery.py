"""A worker given a module or a package finds the activities and workflows defined in it."""

from __future__ import annotations

import pytest

from aioswf import Client
from aioswf._discovery import discover_activities, discover_workflows
from aioswf.worker import Worker
from tests.activity import sample_app
from tests.activity.sample_app import billing
from tests.activity.sample_app.flows import orders

from .helpers import Call, Flow


def test_a_package_gives_everything_below_it() -> None:
    activities = {d.type_key: d for d in discover_activities(sample_app)}
    assert sorted(activities) == ["Billing.refund/1", "Ledger.record/1", "charge/1"]
    # The method comes bound to the instance the module created.
    assert activities["Ledger.record/1"].fn.__self__ is billing.ledger  # type: ignore[attr-defined]
    workflows = [d.type_key for d in discover_workflows(sample_app)]
    assert workflows == ["SampleOrder/1"]


def test_a_module_gives_only_what_it_defines() -> None:
    assert [d.type_key for d in discover_activities(orders)] == []
    assert [d.type_key for d in discover_workflows(orders)] == ["SampleOrder/1"]


async def test_a_worker_runs_what_it_discovered(local_client: Client, task_list: str) -> None:
    flow = await Flow(local_client, task_list).start()
    async with Worker(local_client, task_list=task_list, activities=[sample_app]) as worker:
        assert len(worker.activities) == 3
        ids = await flow.schedule_all(*[_call(key, arg) for key, arg in _CALLS])
        outcomes = await flow.outcomes(3)
    assert [outcomes[i].result for i in ids] == [5, -5, "main: paid"]


_CALLS = [("charge", 5), ("Billing.refund", 5), ("Ledger.record", "paid")]


def _call(name: str, arg: object) -> Call:
    return Call({"name": name, "version": "1"}, arg)


@pytest.mark.parametrize("module", [sample_app, orders])
async def test_workflows_from_modules(local_client: Client, module: object) -> None:
    worker = Worker(local_client, task_list="t", workflows=[module], activities=[sample_app])
    assert [w.type_key for w in worker.workflows] == ["SampleOrder/1"]
