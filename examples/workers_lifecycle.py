"""A worker inside a host asyncio service: its signal handlers, run() and shutdown(), the
ShutdownReport, and a connection pool sized for the pollers.

The service answers health checks on a TCP port and runs a worker next to it. A SIGTERM (sent
by the example to itself, as a process manager would) stops both; the worker's shutdown
timeout cuts a stuck activity short, and the next worker runs the workflow's retry.
Run it with `python examples/workers_lifecycle.py`; it needs no AWS account.
"""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta

from aioswf import (
    ActivityWorkerOptions,
    Client,
    ConnectionOptions,
    RetryPolicy,
    ShutdownReport,
    Worker,
    WorkerError,
    activity,
    workflow,
)
from aioswf.local import LocalSWF

POLLERS = ActivityWorkerOptions(pollers=30)
STUCK = asyncio.Event()


@activity.defn(start_to_close_timeout=timedelta(minutes=10))
async def export(table: str) -> str:
    attempt = activity.info().attempt
    if attempt == 1:
        STUCK.set()
        try:
            await asyncio.sleep(3600)  # the first attempt hangs on a stuck database
        except asyncio.CancelledError:
            print(f"export: attempt 1 cancelled ({activity.cancel_reason()})")
            raise
    return f"{table} exported on attempt {attempt}"


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Nightly:
    @workflow.run
    async def run(self, table: str) -> str:
        # A task failed with WorkerShutdownError is retried at once by the next worker.
        retry = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
        return await workflow.execute_activity(export, table, retry_policy=retry)


async def health_check(port: int) -> str:
    """What a load balancer would ask the service."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = (await reader.readline()).decode().strip()
    writer.close()
    await writer.wait_closed()
    return answer


async def service(client: Client) -> ShutdownReport:
    """The host service: a health endpoint and a worker on one event loop."""
    worker = Worker(
        client,
        task_list="main",
        workflows=[Nightly],
        activities=[export],
        activity_options=POLLERS,
        shutdown_timeout=timedelta(seconds=1),  # 30 s by default
    )

    async def answer(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state = "polling" if worker.polling.is_set() else "starting"
        writer.write(f"ok: {state}, running activities: {worker.running_activities}\n".encode())
        await writer.drain()
        writer.close()

    health = await asyncio.start_server(answer, "127.0.0.1", 0)
    port: int = health.sockets[0].getsockname()[1]

    # Signal handling belongs to the application: the worker installs none.
    loop = asyncio.get_running_loop()
    stopping: list[asyncio.Task[ShutdownReport]] = []

    def on_signal(sig: signal.Signals) -> None:
        print(f"service: {sig.name}, stopping")
        health.close()
        stopping.append(asyncio.ensure_future(worker.shutdown()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        running = asyncio.create_task(worker.run())  # starts, then runs until shutdown()
        await worker.wait_until_polling()
        await client.start_workflow(Nightly.run, "orders", workflow_id="nightly", task_list="main")
        await STUCK.wait()
        print(f"health: {await health_check(port)}")
        os.kill(os.getpid(), signal.SIGTERM)  # what a process manager does on a deployment
        await running  # returns once the shutdown has completed
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    report = await worker.shutdown()  # idempotent: the same report again
    assert report is await stopping[0]
    return report


async def main() -> None:
    async with LocalSWF(long_poll_seconds=1) as swf:
        # Each long poll holds a connection: the pool must hold all pollers plus 4. Here:
        # 30 activity polls, 2 decision polls on the shared task list and 2 on the worker's
        # sticky one.
        async with Client("examples", endpoint_url=swf.endpoint_url) as small:
            try:
                Worker(
                    small,
                    task_list="main",
                    workflows=[Nightly],
                    activities=[export],
                    activity_options=POLLERS,
                )
            except WorkerError as error:
                print(f"refused: {error}")

        connection = ConnectionOptions(endpoint_url=swf.endpoint_url, max_pool_connections=38)
        async with Client("examples", connection=connection) as client:
            await client.register_domain()
            report = await service(client)
            print(f"service stopped: {report}")

            # The next deployment's worker picks up the retry.
            async with Worker(
                client, task_list="main", workflows=[Nightly], activities=[export]
            ) as worker:
                result = await client.get_workflow_handle("nightly", workflow=Nightly.run).result()
                print(f"nightly: {result}")
                print(f"second worker stopped: {await worker.shutdown()}")


if __name__ == "__main__":
    asyncio.run(main())
