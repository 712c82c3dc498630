"""A workflow in a sub-package."""

from __future__ import annotations

from aioswf import workflow
from tests.activity.sample_app.billing import charge


@workflow.defn(name="SampleOrder")
class Order:
    @workflow.run
    async def run(self, amount: int) -> int:
        return int(await workflow.execute_activity(charge, amount))
