"""Greeting after an incompatible change: it waits a day before the first greeting.

A module of its own, as ``aioswf replay --workflows`` takes one.
"""

from __future__ import annotations

import asyncio

from aioswf import workflow
from tests.testing.apps import greet


@workflow.defn(name="Greeting", version="1")
class GreetingWaitsFirst:
    @workflow.run
    async def run(self, name: str) -> list[str]:
        await asyncio.sleep(86400)
        first = await workflow.execute_activity(greet, name)
        return [first, await workflow.execute_activity(greet, f"{name} again")]
