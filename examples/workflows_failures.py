"""When workflow code fails: the execution fails with the error, or the task is retried.

An exception that escapes workflow code fails the execution, with its type, message,
traceback and causes; `WorkflowFailedError.cause` gives the error back, typed. Errors a worker
lists in `retry_decision_task_on` (and `NondeterminismError`) retry the decision task instead,
visibly in `describe()`, until a fixed deployment decides it.
Run it with `python examples/workflows_failures.py`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aioswf import (
    ActivityFailedError,
    ApplicationError,
    Client,
    DecisionWorkerOptions,
    Worker,
    WorkflowFailedError,
    activity,
    workflow,
)
from aioswf.local import LocalSWF, VirtualClock

PRICES = {"tea": 3}


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def charge(card: str, amount: int) -> str:
    if card.startswith("0000"):
        raise ValueError(f"card {card} was declined")
    return f"charged {amount}"


@workflow.defn
class Checkout:
    @workflow.run
    async def run(self, card: str, quantity: int) -> str:
        if quantity <= 0:
            # Failing on purpose: a type of your own, details that travel with it.
            raise ApplicationError("nothing to buy", {"quantity": quantity}, type="EmptyCart")
        return await workflow.execute_activity(charge, card, 3 * quantity)


@workflow.defn(name="Quote")
class Quote:
    @workflow.run
    async def run(self, item: str) -> int:
        return PRICES[item]  # a KeyError for an item the price list misses: a bug


@workflow.defn(name="Quote")
class QuoteFixed:
    @workflow.run
    async def run(self, item: str) -> int:
        return PRICES.get(item, 0)


async def failures(client: Client) -> None:
    async with Worker(client, task_list="shop", workflows=[Checkout], activities=[charge]):
        empty = await client.start_workflow(
            Checkout.run, "4111", 0, workflow_id="empty", task_list="shop"
        )
        try:
            await empty.result()
        except WorkflowFailedError as error:
            print(f"{error.reason}: {error.message}, details {error.details}")
        declined = await client.start_workflow(
            Checkout.run, "0000", 2, workflow_id="declined", task_list="shop"
        )
        try:
            await declined.result()
        except WorkflowFailedError as error:
            cause = error.cause  # the activity's failure, typed
            assert isinstance(cause, ActivityFailedError)
            print(f"{error.reason}, caused by {cause.type_name}: {cause.message}")


async def retried(client: Client, clock: VirtualClock) -> None:
    options = DecisionWorkerOptions(retry_decision_task_on=(LookupError,))
    async with Worker(client, task_list="quotes", workflows=[Quote], decision_options=options):
        handle = await client.start_workflow(
            Quote.run, "coffee", workflow_id="quote", task_list="quotes"
        )
        for _ in range(100):  # the worker answers the failing task within moments
            if failure := (await handle.describe()).decision_failure:
                break
            await asyncio.sleep(0.05)
        assert failure is not None
        print(f"failing since {failure.since:%H:%M:%S}, attempt {failure.attempts}: ", end="")
        print(f"{failure.error_type}: {failure.message}; next try in {failure.retry_in}")
    # The fix is deployed: the next attempt, when the back-off timer fires (or any new event
    # arrives), decides the task. This service's clock is virtual: move it by the back-off.
    async with Worker(client, task_list="quotes", workflows=[QuoteFixed]):
        clock.advance(failure.retry_in.total_seconds())
        print(f"quote: {await handle.result()}")


async def main() -> None:
    clock = VirtualClock()
    async with (
        LocalSWF(long_poll_seconds=1, clock=clock) as swf,
        Client("examples", endpoint_url=swf.endpoint_url) as client,
    ):
        await client.register_domain()
        await failures(client)
        await retried(client, clock)


if __name__ == "__main__":
    asyncio.run(main())
