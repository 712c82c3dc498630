"""A small application for `aioswf worker` to run in a subprocess."""

from __future__ import annotations

from datetime import timedelta

from aioswf import activity, workflow


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn
class Greet:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(shout, f"hello {name}")
