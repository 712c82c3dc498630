"""Run in a subprocess: a worker shuts down while a sync activity ignores its cancellation."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from aioswf import Client, activity
from aioswf.local import LocalSWF
from aioswf.worker import Worker
from tests.activity.helpers import Flow, until

never = threading.Event()


@activity.defn
def deaf() -> None:
    never.wait()  # ignores activity.is_cancelled() for ever


async def main() -> None:
    async with (
        LocalSWF(port=0, long_poll_seconds=0.5) as swf,
        Client("stubborn", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        flow = await Flow(client, "stubborn").start()
        worker = Worker(client, task_list="stubborn", activities=[deaf])
        await worker.start()
        await flow.schedule(deaf)
        await until(lambda: worker.running_activities == 1)
        report = await worker.shutdown(timedelta(0))
        print("cancelled:", ",".join(report.cancelled_activities), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
