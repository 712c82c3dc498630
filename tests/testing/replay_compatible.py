"""Greeting after a compatible change: more logging, the same decisions."""

from __future__ import annotations

import asyncio

from aioswf import workflow
from tests.testing.apps import greet


@workflow.defn(name="Greeting", version="1")
class GreetingWithLog:
    @workflow.run
    async def run(self, name: str) -> list[str]:
        workflow.logger.info("greeting %s", name)
        first = await workflow.execute_activity(greet, name)
        await asyncio.sleep(86400)
        second = await workflow.execute_activity(greet, f"{name} again")
        workflow.logger.info("greeted %s twice", name)
        return [first, second]
