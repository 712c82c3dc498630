"""Child workflows and other executions: fan out, signal, and handle each outcome.

A batch workflow runs one child per item in parallel; one child fails, and the parent
reports it instead of failing. Then it signals a waiting child through its handle and
asks a stray execution to cancel. Run it with `python examples/workflows_children.py`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aioswf import ApplicationError, ChildWorkflowError, Client, Worker, workflow
from aioswf.local import LocalSWF


@workflow.defn
class Item:
    def __init__(self) -> None:
        self.go = False

    @workflow.run
    async def run(self, name: str) -> str:
        if name == "broken":
            raise ApplicationError(f"cannot process {name}", type="BadItem")
        if name == "waiting":
            await workflow.wait_condition(lambda: self.go)
        return f"{name} processed"

    @workflow.signal
    def proceed(self) -> None:
        self.go = True


@workflow.defn
class Batch:
    @workflow.run
    async def run(self, names: list[str]) -> dict[str, Any]:
        async def one(name: str) -> str:
            try:
                # The child runs on this workflow's task list; its id is derived from ours.
                return await workflow.execute_child_workflow(Item.run, name)
            except ChildWorkflowError as error:
                return f"failed: {error}"

        results = await asyncio.gather(*(one(name) for name in names))
        waiting = await workflow.start_child_workflow(Item.run, "waiting", workflow_id="waiter")
        await waiting.signal(Item.proceed)
        stray = workflow.get_external_workflow_handle("stray")
        await stray.cancel()
        return {"items": list(results), "waiter": await waiting}


@workflow.defn
class Stray:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)  # until cancelled


async def main() -> None:
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("examples", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="main", workflows=[Batch, Item, Stray]):
            stray = await client.start_workflow(Stray.run, workflow_id="stray", task_list="main")
            handle = await client.start_workflow(
                Batch.run, ["a", "broken", "c"], workflow_id="batch", task_list="main"
            )
            print(await handle.result())
            print((await stray.describe()).info.close_status)


if __name__ == "__main__":
    asyncio.run(main())
