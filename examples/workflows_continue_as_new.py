"""Continue-as-new: a long-lived workflow that starts a fresh history every few steps.

Each run handles a page of work, then continues as a new run with its state in the
arguments; the client's handle follows the chain to the last run's result. Run it with
`python examples/workflows_continue_as_new.py`.
"""

from __future__ import annotations

import asyncio

from aioswf import Client, Worker, workflow
from aioswf.local import LocalSWF


@workflow.defn
class Tally:
    @workflow.run
    async def run(self, page: int, total: int) -> str:
        total += sum(range(page * 10, page * 10 + 10))
        if page < 4:
            # Raises a BaseException: the run ends here, and `except Exception` cannot stop it.
            workflow.continue_as_new(page + 1, total)
        info = workflow.info()
        return f"total {total} after page {page} (run {info.run_id[:8]}…)"


async def main() -> None:
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("examples", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="main", workflows=[Tally]):
            handle = await client.start_workflow(
                Tally.run, 0, 0, workflow_id="tally", task_list="main"
            )
            print(await handle.result())  # the fifth run's result, from the first run's handle


if __name__ == "__main__":
    asyncio.run(main())
