"""A worker embedded in an aiohttp web service: one event loop serves HTTP and polls SWF.

The application's cleanup context opens the client and the worker when the service starts
and shuts them down (letting received tasks finish) when it stops. A request starts an
order's workflow; another waits for its result. Run it with
`python examples/embed_aiohttp.py`; it needs no AWS account.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
from aiohttp import web

from aioswf import Client, Worker, activity, workflow
from aioswf.local import LocalSWF

CLIENT = web.AppKey("client", Client)


@activity.defn(start_to_close_timeout=timedelta(minutes=1))
async def reserve_stock(order_id: str) -> str:
    return f"stock reserved for {order_id}"


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Fulfil:
    @workflow.run
    async def run(self, order_id: str) -> str:
        return await workflow.execute_activity(reserve_stock, order_id)


def make_app(endpoint_url: str) -> web.Application:
    """The web service; ``endpoint_url`` is SWF's (leave it out on AWS)."""

    async def swf_worker(app: web.Application) -> AsyncIterator[None]:
        async with (
            Client("shop", endpoint_url=endpoint_url) as client,
            Worker(client, task_list="orders", workflows=[Fulfil], activities=[reserve_stock]),
        ):
            app[CLIENT] = client
            yield  # the service runs; on shutdown the worker stops polling and drains

    async def start_order(request: web.Request) -> web.Response:
        order_id = request.match_info["order_id"]
        handle = await request.app[CLIENT].start_workflow(
            Fulfil.run, order_id, workflow_id=f"order-{order_id}", task_list="orders"
        )
        return web.json_response({"workflow_id": handle.workflow_id, "run_id": handle.run_id})

    async def order_result(request: web.Request) -> web.Response:
        handle = request.app[CLIENT].get_workflow_handle(
            f"order-{request.match_info['order_id']}", workflow=Fulfil.run
        )
        return web.json_response({"result": await handle.result(timeout=timedelta(seconds=30))})

    app = web.Application()
    app.cleanup_ctx.append(swf_worker)
    app.router.add_post("/orders/{order_id}", start_order)
    app.router.add_get("/orders/{order_id}", order_result)
    return app


async def main() -> None:
    async with LocalSWF() as swf:
        runner = web.AppRunner(make_app(swf.endpoint_url))
        await runner.setup()  # runs the cleanup context: the worker is polling
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/orders/o-7") as started:
                print("started:", (await started.json())["workflow_id"])
            async with http.get(f"{base}/orders/o-7") as done:
                print("result:", (await done.json())["result"])
        await runner.cleanup()  # the worker shuts down with the service


if __name__ == "__main__":
    asyncio.run(main())
