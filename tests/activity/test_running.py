"""Activities of every kind run on a worker, and SWF hears how each one ended."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from aioswf import ApplicationError, Client, activity
from aioswf._definitions import activity_definition
from aioswf.worker import Worker

from .helpers import Call, Flow

NewFlow = Callable[[], Awaitable[Flow]]


@dataclass
class Order:
    order_id: str
    amount: int


@activity.defn
async def charge(order: Order, tip: int = 0) -> str:
    await asyncio.sleep(0)
    return f"{order.order_id}:{order.amount + tip}"


@activity.defn(name="render", version="2")
def render_invoice(order_id: str) -> dict[str, str]:
    return {"order": order_id, "thread": threading.current_thread().name}


@activity.defaults(name_prefix="payments.", version="3")
class Payments:
    def __init__(self, bank: str) -> None:
        self.bank = bank

    @activity.defn
    async def refund(self, amount: int) -> str:
        return f"{self.bank} refunds {amount}"


@activity.defn(heartbeat_timeout=timedelta(seconds=30))
async def who_am_i() -> dict[str, object]:
    info = activity.info()
    return {
        "id": info.activity_id,
        "type": f"{info.activity_type}/{info.activity_version}",
        "workflow": info.workflow_id,
        "run": info.run_id,
        "token": bool(info.task_token),
        "started": info.started_event_id,
        "list": info.task_list,
        "heartbeat": info.heartbeat_timeout.total_seconds() if info.heartbeat_timeout else None,
        "inside": activity.in_activity(),
        "cancelled": activity.is_cancelled(),
    }


@activity.defn
async def explode(message: str) -> None:
    raise ApplicationError(message, {"code": 7}, type="CardDeclined")


@activity.defn
def explode_sync() -> None:
    raise KeyError("missing")


@activity.defn
async def huge() -> str:
    return "x" * 40_000


@activity.defn(name="elsewhere")
async def elsewhere() -> None: ...


@activity.defn
async def typed(count: int) -> int:
    return count


async def test_async_sync_and_method_activities(
    client: Client, task_list: str, new_flow: NewFlow
) -> None:
    payments = Payments("acme")
    flow = await new_flow()
    async with Worker(
        client, task_list=task_list, activities=[charge, render_invoice, payments.refund]
    ):
        a, b, c = await flow.schedule_all(
            Call(charge, {"order_id": "o-1", "amount": 40}, 2),
            Call(render_invoice, "o-1"),
            Call(payments.refund, 5),
        )
        outcomes = await flow.outcomes(3)
    assert outcomes[a].result == "o-1:42"
    assert outcomes[b].result["order"] == "o-1"
    assert outcomes[b].result["thread"].startswith("aioswf-activity")
    assert outcomes[c].result == "acme refunds 5"
    assert activity.defn is not None
    assert payments.refund.__aioswf_activity__.name == "payments.refund"


async def test_info_inside_an_activity(client: Client, task_list: str, new_flow: NewFlow) -> None:
    flow = await new_flow()
    async with Worker(client, task_list=task_list, activities=[who_am_i]):
        [a] = await flow.schedule(who_am_i, activity_id="me")
        result = (await flow.outcomes(1))[a].result
    assert result["id"] == "me"
    assert result["type"] == "who_am_i/1"
    assert (result["workflow"], result["run"]) == (flow.workflow_id, flow.run_id)
    assert result["token"] is True
    assert result["started"] > 0
    assert result["list"] == task_list
    assert result["heartbeat"] == 30
    assert result["inside"] is True
    assert result["cancelled"] is False


async def test_exceptions_become_failures(
    client: Client, task_list: str, new_flow: NewFlow
) -> None:
    flow = await new_flow()
    async with Worker(client, task_list=task_list, activities=[explode, explode_sync]):
        a, b = await flow.schedule_all(Call(explode, "card refused"), Call(explode_sync))
        outcomes = await flow.outcomes(2)
    assert outcomes[a].kind == "Failed"
    assert outcomes[a].attributes["reason"] == "CardDeclined"
    assert outcomes[a].details["message"] == "card refused"
    assert outcomes[a].details["details"] == [{"code": 7}]
    assert "in explode" in outcomes[a].details["traceback"]
    assert outcomes[b].attributes["reason"] == "KeyError"
    assert "explode_sync" in outcomes[b].details["traceback"]


async def test_unknown_type_bad_input_and_oversized_result(
    client: Client, task_list: str, new_flow: NewFlow
) -> None:
    flow = await new_flow()
    # The type is registered (so SWF schedules it) but this worker does not run it.
    await client.ensure_registered(activities=[activity_definition(elsewhere)])
    async with Worker(client, task_list=task_list, activities=[huge, typed]):
        a, b, c = await flow.schedule_all(
            Call({"name": "elsewhere", "version": "1"}, 1),
            Call(typed, raw_input='["not a number"]'),
            Call(huge),
        )
        outcomes = await flow.outcomes(3)
    assert outcomes[a].attributes["reason"] == "UnknownActivityTypeError"
    assert "does not run activity type elsewhere/1" in outcomes[a].details["message"]
    assert "typed/1" in outcomes[a].details["message"]
    assert outcomes[b].attributes["reason"] == "PayloadConversionError"
    assert "argument 'count'" in outcomes[b].details["message"]
    assert outcomes[b].details["non_retryable"] is True
    assert outcomes[c].attributes["reason"] == "PayloadTooLargeError"


def test_activity_api_outside_an_activity() -> None:
    from aioswf.exceptions import WorkerError

    assert activity.in_activity() is False
    for call in (activity.info, activity.heartbeat, activity.is_cancelled):
        with pytest.raises(WorkerError, match="outside an activity"):
            call()
    with pytest.raises(WorkerError, match="outside an activity"):
        activity.raise_complete_async()
