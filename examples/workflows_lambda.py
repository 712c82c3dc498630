"""Lambda tasks: a workflow calls an AWS Lambda function, here a local stand-in.

On AWS, start the execution with a `lambda_role` that may invoke the function; the local
service runs a Python callable registered under the function's name instead.
Run it with `python examples/workflows_lambda.py`.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from aioswf import Client, Worker, workflow
from aioswf.local import LocalSWF


@workflow.defn
class Quote:
    @workflow.run
    async def run(self, amount: int) -> int:
        result = await workflow.execute_lambda(
            "add-tax", {"amount": amount}, start_to_close_timeout=timedelta(seconds=30)
        )
        return int(result["total"])


def add_tax(payload: str | None) -> str:
    amount = json.loads(payload or "{}")["amount"]
    return json.dumps({"total": round(amount * 1.2)})


async def main() -> None:
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("examples", endpoint_url=swf.endpoint_url) as client,
    ):
        swf.register_lambda("add-tax", add_tax)
        await client.register_domain()
        async with Worker(client, task_list="main", workflows=[Quote]):
            handle = await client.start_workflow(
                Quote.run, 100, workflow_id="quote", task_list="main"
            )
            print(await handle.result())


if __name__ == "__main__":
    asyncio.run(main())
