"""Changing a workflow safely: patches, and side effects recorded once.

Version 1 of a signup workflow is running when version 2 adds a welcome step. Executions
that passed that point under version 1 replay the old branch; new ones take the new one.
A side effect draws a promotion code once and reads it back from history afterwards.
Run it with `python examples/workflows_versioning.py`.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

from aioswf import Client, DecisionWorkerOptions, Worker, activity, workflow
from aioswf.local import LocalSWF


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def send(user: str, text: str) -> None:
    print(f"to {user}: {text}")


@workflow.defn(name="Signup")
class SignupV1:
    @workflow.run
    async def run(self, user: str) -> str:
        await workflow.execute_activity(send, user, "confirm your address")
        await asyncio.sleep(1)
        return "v1 path"


@workflow.defn(name="Signup")
class SignupV2:
    @workflow.run
    async def run(self, user: str) -> str:
        await workflow.execute_activity(send, user, "confirm your address")
        if workflow.patched("welcome"):
            code = workflow.side_effect(lambda: secrets.token_hex(4))
            await workflow.execute_activity(send, user, f"welcome! your code is {code}")
            await asyncio.sleep(1)
            return f"v2 path, code {code}"
        await asyncio.sleep(1)
        return "v1 path"


async def main() -> None:
    replay_every_task = DecisionWorkerOptions(max_cached_workflows=0)
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("examples", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="main", workflows=[SignupV1], activities=[send]):
            old = await client.start_workflow(
                SignupV1.run, "ann", workflow_id="ann", task_list="main"
            )
            await asyncio.sleep(0.5)  # ann is now asleep, past the changed point
        async with Worker(
            client,
            task_list="main",
            workflows=[SignupV2],
            activities=[send],
            decision_options=replay_every_task,
        ):
            new = await client.start_workflow(
                SignupV2.run, "bob", workflow_id="bob", task_list="main"
            )
            print("ann:", await old.result())
            print("bob:", await new.result())


if __name__ == "__main__":
    asyncio.run(main())
