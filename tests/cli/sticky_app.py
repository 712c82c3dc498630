"""A workflow for the multi-process worker tests: one decision task per signal."""

from __future__ import annotations

from aioswf import workflow


@workflow.defn
class Tally:
    def __init__(self) -> None:
        self.total = 0

    @workflow.run
    async def run(self, goal: int) -> int:
        await workflow.wait_condition(lambda: self.total >= goal)
        return self.total

    @workflow.signal
    def add(self, n: int) -> None:
        self.total += n
