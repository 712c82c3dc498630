"""A worker embedded in a FastAPI application, started and stopped by its lifespan.

The lifespan opens the client and the worker before the first request and shuts them down
(letting received tasks finish) after the last. A request starts an order's workflow;
another waits for its result. Run it with `python examples/embed_fastapi.py`; it needs no AWS
account (FastAPI and uvicorn are the only extra packages).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp
import uvicorn
from fastapi import FastAPI, Request

from aioswf import Client, Worker, activity, workflow
from aioswf.local import LocalSWF


@activity.defn(start_to_close_timeout=timedelta(minutes=1))
async def send_confirmation(order_id: str) -> str:
    return f"confirmation sent for {order_id}"


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Confirm:
    @workflow.run
    async def run(self, order_id: str) -> str:
        return await workflow.execute_activity(send_confirmation, order_id)


def make_app(endpoint_url: str) -> FastAPI:
    """The application; ``endpoint_url`` is SWF's (leave it out on AWS)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            Client("shop", endpoint_url=endpoint_url) as client,
            Worker(client, task_list="orders", workflows=[Confirm], activities=[send_confirmation]),
        ):
            app.state.client = client
            yield  # the application serves; at shutdown the worker drains and stops

    app = FastAPI(lifespan=lifespan)

    @app.post("/orders/{order_id}")
    async def start_order(order_id: str, request: Request) -> dict[str, str | None]:
        client: Client = request.app.state.client
        handle = await client.start_workflow(
            Confirm.run, order_id, workflow_id=f"order-{order_id}", task_list="orders"
        )
        return {"workflow_id": handle.workflow_id, "run_id": handle.run_id}

    @app.get("/orders/{order_id}")
    async def order_result(order_id: str, request: Request) -> dict[str, str]:
        client: Client = request.app.state.client
        handle = client.get_workflow_handle(f"order-{order_id}", workflow=Confirm.run)
        return {"result": await handle.result(timeout=timedelta(seconds=30))}

    return app


async def main() -> None:
    async with LocalSWF() as swf:
        config = uvicorn.Config(make_app(swf.endpoint_url), port=0, log_level="warning")
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn has no event to wait on)
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.post("/orders/o-8") as started:
                print("started:", (await started.json())["workflow_id"])
            async with http.get("/orders/o-8") as done:
                print("result:", (await done.json())["result"])
        server.should_exit = True  # what Ctrl-C does: the lifespan shuts the worker down
        await serving


if __name__ == "__main__":
    asyncio.run(main())
