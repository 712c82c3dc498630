"""Large payloads in S3: arguments and results of any size, SWF's history holds references.

SWF refuses inputs and results over 32,768 characters. With an `S3PayloadStore` on the
converter, bigger ones go to a bucket and the history carries a small reference; every client
and worker with the same converter reads them back. This example runs S3 as moto's server on
loopback; in production, leave out `endpoint_url` and `session`.
Run it with `python examples/payloads_s3.py`; it needs no AWS account.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiobotocore.session import get_session
from moto.server import ThreadedMotoServer

from aioswf import Client, DataConverter, Worker, activity, workflow
from aioswf.contrib.s3 import S3PayloadStore
from aioswf.local import LocalSWF


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def shout(text: str) -> str:
    return text.upper()


@workflow.defn
class Proofread:
    @workflow.run
    async def run(self, text: str) -> str:
        return await workflow.execute_activity(shout, text)


async def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request log
    s3_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    s3_server.start()
    host, port = s3_server.get_host_and_port()
    session = get_session()
    session.set_credentials("example", "example")  # moto takes any
    endpoint = f"http://{host}:{port}"
    async with session.create_client("s3", endpoint_url=endpoint, region_name="us-east-1") as admin:
        await admin.create_bucket(Bucket="swf-payloads")

    store = S3PayloadStore(
        "swf-payloads", session=session, endpoint_url=endpoint, region_name="us-east-1"
    )
    async with (
        store,
        LocalSWF(long_poll_seconds=1) as swf,
        Client(
            "examples",
            endpoint_url=swf.endpoint_url,
            converter=DataConverter(payload_store=store),
        ) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="docs", workflows=[Proofread], activities=[shout]):
            text = "all work and no play " * 50_000  # about a megabyte
            handle = await client.start_workflow(
                Proofread.run, text, workflow_id="proofread-1", task_list="docs"
            )
            result = await handle.result()
            print(f"{len(text):,} characters in, {len(result):,} out")
        started = await anext(handle.history())
        print("SWF holds:", started["workflowExecutionStartedEventAttributes"]["input"])
    s3_server.stop()


if __name__ == "__main__":
    asyncio.run(main())
