"""Bad input and bad days: every failure is an aioswf exception that says what and where."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from datetime import timedelta

import botocore.exceptions
import pytest

from aioswf import (
    Client,
    ConnectionOptions,
    PayloadConversionError,
    PayloadTooLargeError,
    RetryOptions,
    ServiceUnavailableError,
    ThrottlingError,
    UnknownResourceError,
    ValidationError,
    WorkerError,
    workflow,
)

from .swf_by_hand import THROTTLED, ScriptedSWF


@workflow.defn(execution_start_to_close_timeout=timedelta(minutes=5))
class Echo:
    @workflow.run
    async def run(self, text: str) -> str:
        return text


async def test_unknown_domain_names_the_domain(endpoint: str) -> None:
    async with Client("no-such-domain", endpoint_url=endpoint, auto_register=False) as client:
        with pytest.raises(UnknownResourceError, match="'no-such-domain'") as info:
            await client.start_workflow(Echo.run, "hi", workflow_id="w", task_list="t")
    assert info.value.operation == "StartWorkflowExecution"
    assert info.value.code == "UnknownResourceFault"
    assert not isinstance(info.value, botocore.exceptions.ClientError)


async def test_oversized_input_fails_before_any_request(
    scripted: ScriptedSWF, scripted_client_factory: Callable[..., Client]
) -> None:
    async with scripted_client_factory() as client:
        with pytest.raises(PayloadTooLargeError, match="input is 32,771 characters long") as info:
            await client.start_workflow(Echo.run, "x" * 32_767, workflow_id="w", task_list="t")
        handle = client.get_workflow_handle("w", run_id="r")
        with pytest.raises(PayloadTooLargeError, match="input of signal 'big'"):
            await handle.signal("big", "y" * 40_000)
    assert info.value.limit == 32_768
    assert scripted.calls == []


async def test_arguments_that_do_not_fit_the_run_method_fail_before_any_request(
    scripted: ScriptedSWF, scripted_client_factory: Callable[..., Client]
) -> None:
    async with scripted_client_factory() as client:
        with pytest.raises(
            PayloadConversionError, match=r"Echo.run do not fit its signature: too many"
        ):
            await client.start_workflow(Echo.run, "a", "b", workflow_id="w", task_list="t")
    assert scripted.calls == []


async def test_throttled_call_is_retried_then_raised_with_the_operation(
    scripted: ScriptedSWF, scripted_client_factory: Callable[..., Client]
) -> None:
    scripted.answer("DescribeDomain", THROTTLED)
    async with scripted_client_factory(max_attempts=4) as client:
        with pytest.raises(
            ThrottlingError, match=r"DescribeDomain.*Rate exceeded.*gave up after 4 attempts"
        ) as info:
            await client.call("DescribeDomain", name="d")
    assert info.value.operation == "DescribeDomain"
    assert scripted.operations() == ["DescribeDomain"] * 4


async def test_throttling_that_passes_is_invisible(
    scripted: ScriptedSWF, scripted_client_factory: Callable[..., Client]
) -> None:
    scripted.answer(
        "CountPendingActivityTasks", THROTTLED, THROTTLED, (200, {"count": 7, "truncated": False})
    )
    async with scripted_client_factory(max_attempts=5) as client:
        response = await client.call("CountPendingActivityTasks", taskList={"name": "t"})
    assert response == {"count": 7, "truncated": False}
    assert len(scripted.calls) == 3


async def test_server_errors_are_retried_and_validation_errors_are_not(
    scripted: ScriptedSWF, scripted_client_factory: Callable[..., Client]
) -> None:
    scripted.answer("DescribeDomain", (500, {"__type": "InternalFailure", "message": "oops"}))
    scripted.answer(
        "ListDomains",
        (400, {"__type": "com.amazon.coral.validate#ValidationException", "message": "bad enum"}),
    )
    async with scripted_client_factory(max_attempts=2) as client:
        with pytest.raises(ServiceUnavailableError, match="DescribeDomain"):
            await client.call("DescribeDomain", name="d")
        with pytest.raises(ValidationError, match="ListDomains: ValidationException: bad enum"):
            await client.call("ListDomains", registrationStatus="REGISTERED")
    assert scripted.operations() == ["DescribeDomain", "DescribeDomain", "ListDomains"]


async def test_unreachable_endpoint_is_a_service_unavailable_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        options = ConnectionOptions(
            retry=RetryOptions(max_attempts=2, base_delay=0.001), connect_timeout=1
        )
        async with Client(
            "d", endpoint_url=f"http://127.0.0.1:{port}", connection=options
        ) as client:
            with pytest.raises(ServiceUnavailableError, match="SWF could not be reached"):
                await client.call("DescribeDomain", name="d")


async def test_calls_on_a_closed_client_say_how_to_open_it() -> None:
    client = Client("d", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(WorkerError, match="not open; use .async with."):
        await client.call("DescribeDomain", name="d")


async def test_a_signal_whose_answer_was_lost_is_not_sent_twice(
    scripted: ScriptedSWF, scripted_client_factory: Callable[..., Client]
) -> None:
    # SWF does not de-duplicate signals: after a server error it may have recorded this one.
    scripted.answer(
        "SignalWorkflowExecution", (500, {"__type": "InternalFailure", "message": "oops"})
    )
    async with scripted_client_factory(max_attempts=4) as client:
        with pytest.raises(ServiceUnavailableError, match="not retried: SWF may have applied it"):
            await client.get_workflow_handle("w").signal("nudge")
    assert scripted.operations() == ["SignalWorkflowExecution"]


async def test_a_throttled_start_is_retried_since_swf_refused_it(
    scripted: ScriptedSWF, scripted_client_factory: Callable[..., Client]
) -> None:
    scripted.answer("DescribeDomain", (200, {}))
    scripted.answer("StartWorkflowExecution", THROTTLED, (200, {"runId": "r-1"}))
    async with scripted_client_factory(max_attempts=3) as client:
        client.auto_register = False
        handle = await client.start_workflow(Echo.run, "hi", workflow_id="w", task_list="t")
    assert handle.first_run_id == "r-1"
    assert scripted.operations() == ["StartWorkflowExecution", "StartWorkflowExecution"]


async def test_a_signal_that_never_left_is_sent_again() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        options = ConnectionOptions(
            retry=RetryOptions(max_attempts=3, base_delay=0.001), connect_timeout=1
        )
        async with Client(
            "d", endpoint_url=f"http://127.0.0.1:{port}", connection=options
        ) as client:
            with pytest.raises(ServiceUnavailableError, match="gave up after 3 attempts"):
                await client.get_workflow_handle("w").signal("nudge")


@pytest.mark.parametrize("number", [0.5, 3])
async def test_a_number_where_a_timedelta_is_expected_is_a_type_error_naming_it(
    client: Client, number: float
) -> None:
    from aioswf.worker import Worker

    handle = await client.start_workflow(Echo.run, "hi", workflow_id="td", task_list="td")
    bad = number  # a number of seconds, the mistake a user makes
    with pytest.raises(TypeError, match=r"result\(timeout=...\) takes a datetime.timedelta"):
        await handle.result(timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"retention=...\) takes a datetime.timedelta"):
        await client.register_domain(retention=bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"shutdown_timeout=...\) takes a datetime.timedelta"):
        Worker(client, task_list="td", workflows=[Echo], shutdown_timeout=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("task_list", "why"),
    [
        ("", "it is empty"),
        ("orders:eu", "':'"),
        ("a/b", "'/'"),
        ("a|b", "'|'"),
        ("tab\there", "control characters"),
        ("arn", "'arn'"),
        (" orders", "whitespace"),
        ("x" * 257, "257 characters"),
    ],
)
async def test_a_worker_refuses_a_task_list_swf_would_refuse_to_poll(
    client: Client, task_list: str, why: str
) -> None:
    """At once, naming the rule: not a worker that says it polls while SWF refuses each poll."""
    from aioswf.worker import Worker

    with pytest.raises(WorkerError, match=f"is no task list SWF accepts: .*{re.escape(why)}"):
        Worker(client, task_list=task_list, workflows=[Echo])


async def test_a_worker_refuses_a_negative_shutdown_timeout(client: Client) -> None:
    from aioswf.worker import Worker

    with pytest.raises(
        ValueError, match=r"shutdown_timeout=...\) must not be negative, got -1 day"
    ):
        Worker(client, task_list="td", workflows=[Echo], shutdown_timeout=timedelta(seconds=-1))
