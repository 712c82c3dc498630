"""The client against real SWF endpoints over loopback (moto's server, and the local service)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from aioswf import (
    ApplicationError,
    ChildPolicy,
    Client,
    ExecutionFilter,
    WorkflowAlreadyStartedError,
    WorkflowFailedError,
    WorkflowOptions,
    WorkflowTerminatedError,
    workflow,
)
from aioswf._failure import Failure

from .swf_by_hand import decide


@dataclasses.dataclass
class Receipt:
    order: str
    total: int


@workflow.defn(
    execution_start_to_close_timeout=timedelta(hours=1),
    task_start_to_close_timeout=timedelta(seconds=20),
)
class Order:
    @workflow.run
    async def run(self, order: str, amount: int) -> Receipt:
        raise NotImplementedError

    @workflow.signal
    async def approve(self, by: str) -> None: ...


async def test_register_domain_is_idempotent(client: Client) -> None:
    assert await client.register_domain() is False
    described = await client.call("DescribeDomain", name=client.domain)
    assert described["domainInfo"]["status"] == "REGISTERED"


async def test_register_types_is_idempotent_and_carries_defaults(client: Client) -> None:
    assert await client.register_workflow_type(Order, default_task_list="orders") is True
    assert await client.register_workflow_type(Order, default_task_list="orders") is False
    detail = await client.call(
        "DescribeWorkflowType", workflowType={"name": "Order", "version": "1"}
    )
    config = detail["configuration"]
    assert config["defaultTaskList"] == {"name": "orders"}
    assert config["defaultExecutionStartToCloseTimeout"] == "3600"
    assert config["defaultTaskStartToCloseTimeout"] == "20"
    assert config["defaultChildPolicy"] == "TERMINATE"


async def test_start_signal_describe_history_and_result(client: Client) -> None:
    handle = await client.start_workflow(
        Order.run, "o-1", 42, workflow_id="order-o-1", task_list="orders", tags=["vip"]
    )
    assert handle.workflow_id == "order-o-1"
    await handle.signal(Order.approve, "alice")

    description = await handle.describe()
    assert description.info.status == "OPEN"
    assert description.info.workflow_type == ("Order", "1")
    assert description.info.tags == ("vip",)
    assert description.configuration.task_list == "orders"
    assert description.configuration.child_policy is ChildPolicy.TERMINATE

    events = [event async for event in handle.history()]
    assert [e["eventType"] for e in events[:1]] == ["WorkflowExecutionStarted"]
    started = events[0]["workflowExecutionStartedEventAttributes"]
    assert client.converter.decode_args(Order().run, started["input"]) == ["o-1", 42]
    signals = [e for e in events if e["eventType"] == "WorkflowExecutionSignaled"]
    assert signals[0]["workflowExecutionSignaledEventAttributes"]["signalName"] == "approve"

    result = client.converter.encode_result(Receipt("o-1", 42))
    await decide(
        client,
        "orders",
        {
            "decisionType": "CompleteWorkflowExecution",
            "completeWorkflowExecutionDecisionAttributes": {"result": result},
        },
    )
    assert await handle.result(timeout=timedelta(seconds=10)) == Receipt("o-1", 42)


async def test_result_raises_how_the_execution_failed(client: Client) -> None:
    handle = await client.start_workflow(
        Order, "o-2", 1, workflow_id="order-o-2", task_list="orders"
    )
    try:
        raise ApplicationError("card declined", {"code": 51}, type="CardDeclined")
    except ApplicationError as error:
        reason, details = Failure.from_exception(error).encode(client.converter)
    await decide(
        client,
        "orders",
        {
            "decisionType": "FailWorkflowExecution",
            "failWorkflowExecutionDecisionAttributes": {"reason": reason, "details": details},
        },
    )
    with pytest.raises(WorkflowFailedError) as info:
        await handle.result(timeout=timedelta(seconds=10))
    assert (info.value.reason, info.value.message, info.value.details) == (
        "CardDeclined",
        "card declined",
        ({"code": 51},),
    )
    assert info.value.workflow_id == "order-o-2"


async def test_terminate_and_the_handle_of_the_current_run(client: Client) -> None:
    started = await client.start_workflow(
        Order.run, "o-3", 3, workflow_id="order-o-3", task_list="orders"
    )
    handle = client.get_workflow_handle("order-o-3", workflow=Order.run)
    await handle.terminate("operator said so", details="ticket 7")
    with pytest.raises(WorkflowTerminatedError, match="operator said so") as info:
        await handle.result(timeout=timedelta(seconds=10))
    assert info.value.run_id == started.first_run_id
    assert (await handle.describe()).info.close_status == "TERMINATED"


async def test_starting_an_open_workflow_id_again_names_the_id(client: Client) -> None:
    await client.start_workflow(Order.run, "o-4", 4, workflow_id="order-o-4", task_list="orders")
    with pytest.raises(WorkflowAlreadyStartedError, match="'order-o-4'") as info:
        await client.start_workflow(
            Order.run, "o-4", 4, workflow_id="order-o-4", task_list="orders"
        )
    assert info.value.workflow_id == "order-o-4"
    assert info.value.operation == "StartWorkflowExecution"


async def test_per_start_options_override_the_type_defaults(client: Client) -> None:
    options = WorkflowOptions(
        execution_start_to_close_timeout=timedelta(minutes=5), child_policy=ChildPolicy.ABANDON
    )
    handle = await client.start_workflow(
        Order.run, "o-5", 5, workflow_id="order-o-5", task_list="special", options=options
    )
    configuration = (await handle.describe()).configuration
    assert configuration.execution_start_to_close_timeout == timedelta(minutes=5)
    assert configuration.child_policy is ChildPolicy.ABANDON
    assert configuration.task_list == "special"


async def test_list_open_and_closed_with_filters(client: Client) -> None:
    for n in range(3):
        await client.start_workflow(
            Order.run, f"l-{n}", n, workflow_id=f"list-{n}", task_list="orders", tags=[f"t{n}"]
        )
    await client.get_workflow_handle("list-0").terminate()

    open_ids = sorted([info.workflow_id async for info in client.list_open_workflows()])
    assert open_ids == ["list-1", "list-2"]
    tagged = [
        info.workflow_id async for info in client.list_open_workflows(ExecutionFilter(tag="t2"))
    ]
    assert tagged == ["list-2"]
    closed = [info async for info in client.list_closed_workflows()]
    assert [(i.workflow_id, i.close_status) for i in closed] == [("list-0", "TERMINATED")]


def test_filters_that_swf_refuses_are_reported_before_sending() -> None:
    with pytest.raises(ValueError, match="one of workflow_id, workflow_type, tag, close_status"):
        ExecutionFilter(tag="a", workflow_id="b").to_swf(closed=True)
    with pytest.raises(ValueError, match="open executions have no close time"):
        ExecutionFilter(close_status="FAILED").to_swf(closed=False)
