"""Encoding a failure never fails: an exception that cannot print itself, a message that
grows past SWF's limits once escaped, a codec that refuses the details, and exception groups,
whose members keep their types."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from aioswf import ApplicationError, Client, DataConverter, WorkflowFailedError, workflow
from aioswf._decider import InstanceOptions
from aioswf._failure import Failure
from aioswf.converter import MAX_DATA_LENGTH, MAX_REASON_LENGTH
from aioswf.local import LocalSWF
from aioswf.worker import Worker
from tests.failures.workflows import note
from tests.workflow.histories import Simulation, attrs_of, kinds

RESULT_TIMEOUT = timedelta(seconds=10)


class StrRaises(Exception):
    def __str__(self) -> str:
        raise RuntimeError("str explodes")


class StrNotText(Exception):
    def __str__(self) -> str:
        return 42  # type: ignore[return-value]


def raised(error: BaseException, cause: BaseException | None = None) -> BaseException:
    try:
        raise error from cause
    except BaseException as caught:
        return caught


def wire_length(text: str) -> int:
    """Characters as SWF counts them (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize("kind", [StrRaises, StrNotText])
@pytest.mark.parametrize("where", ["raised", "cause"])
def test_an_exception_that_cannot_print_itself_still_encodes(kind: type, where: str) -> None:
    inner = raised(kind("x"))
    error = inner if where == "raised" else raised(ValueError("outer"), inner)
    reason, details = Failure.from_exception(error).encode(DataConverter())
    decoded = Failure.decode(reason, details).to_exception()
    unprintable = decoded if where == "raised" else decoded.__cause__
    assert isinstance(unprintable, ApplicationError)
    assert unprintable.type == kind.__name__
    assert kind.__name__ in unprintable.message


@pytest.mark.parametrize("text", ["é€😀" * 40_000, '\x00\n"' * 40_000, "a" * 200_000])
def test_a_long_message_fits_once_escaped(text: str) -> None:
    error = raised(ApplicationError(text, "d" * 40_000, type="😀" * 300))
    reason, details = Failure.from_exception(error).encode(DataConverter())
    assert wire_length(reason) <= MAX_REASON_LENGTH
    assert wire_length(details) <= MAX_DATA_LENGTH
    decoded = Failure.decode(reason, details)
    assert decoded.message.startswith(text[:100])


class Refuses:
    name = "refuses"

    def encode(self, data: bytes) -> bytes:
        if b"boom-in-codec" in data:
            raise RuntimeError("codec refuses")
        return data

    def decode(self, data: bytes) -> bytes:
        return data


def test_a_codec_that_refuses_the_details_still_gives_reason_and_message() -> None:
    error = raised(ValueError("boom-in-codec"))
    reason, details = Failure.from_exception(error).encode(DataConverter(codecs=[Refuses()]))
    assert reason == "ValueError"
    assert "could not be encoded" in details
    assert "codec refuses" in details
    assert "boom-in-codec" not in details  # the codec may be there to keep it private


def group() -> BaseException:
    try:
        raise ExceptionGroup(
            "two went wrong",
            [raised(KeyError("k")), raised(ApplicationError("no", 1, type="Refused"))],
        )
    except ExceptionGroup as caught:
        return caught


def test_an_exception_group_keeps_its_members_typed() -> None:
    reason, details = Failure.from_exception(group()).encode(DataConverter())
    assert reason == "ExceptionGroup"
    decoded = Failure.decode(reason, details, DataConverter()).to_exception()
    assert isinstance(decoded, ApplicationError)
    assert decoded.type == "ExceptionGroup"
    members = decoded.exceptions
    assert [type(m) for m in members] == [ApplicationError, ApplicationError]
    assert [m.type for m in members] == ["KeyError", "Refused"]  # type: ignore[attr-defined]
    assert members[1].details == (1,)  # type: ignore[attr-defined]


@workflow.defn
class TaskGroupFails:
    @workflow.run
    async def run(self) -> None:
        async def bad() -> None:
            await workflow.execute_activity(note, "x")
            raise KeyError("missing")

        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(bad())
            tasks.create_task(bad())


async def test_a_task_groups_failure_reaches_the_caller_typed(client: Client) -> None:
    async with Worker(client, task_list="g", workflows=[TaskGroupFails], activities=[note]):
        handle = await client.start_workflow(TaskGroupFails.run, workflow_id="g", task_list="g")
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert [m.type for m in cause.exceptions] == ["KeyError", "KeyError"]  # type: ignore[attr-defined]


@workflow.defn
class RaisesUnprintable:
    @workflow.run
    async def run(self) -> None:
        try:
            raise StrNotText()
        except StrNotText as error:
            raise ValueError("outer") from error


@workflow.defn
class RaisesForTheCodec:
    @workflow.run
    async def run(self) -> None:
        raise ValueError("boom-in-codec")


async def test_an_unprintable_failure_fails_the_run(client: Client) -> None:
    async with Worker(client, task_list="u", workflows=[RaisesUnprintable]):
        handle = await client.start_workflow(RaisesUnprintable.run, workflow_id="u", task_list="u")
        with pytest.raises(WorkflowFailedError) as caught:
            await handle.result(timeout=RESULT_TIMEOUT)
    assert caught.value.reason == "ValueError"
    assert isinstance(caught.value.cause, ApplicationError)


async def test_a_codec_refusing_the_failure_still_fails_the_run(
    local_swf: LocalSWF, domain_name: str
) -> None:
    converter = DataConverter(codecs=[Refuses()])
    async with Client(domain_name, endpoint_url=local_swf.endpoint_url, converter=converter) as c:
        await c.register_domain()
        async with Worker(c, task_list="c", workflows=[RaisesForTheCodec]):
            handle = await c.start_workflow(RaisesForTheCodec.run, workflow_id="c", task_list="c")
            with pytest.raises(WorkflowFailedError) as caught:
                await handle.result(timeout=RESULT_TIMEOUT)
    assert caught.value.reason == "ValueError"
    assert "could not be encoded" in caught.value.message


def test_a_retried_unprintable_error_is_reported() -> None:
    sim = Simulation(
        RaisesUnprintable, options=InstanceOptions(retry_decision_task_on=(ValueError,))
    )
    decisions = sim.decide()
    assert kinds(decisions) == ["StartTimer"]
    report = json.loads(sim.activations[-1].execution_context or "{}")
    assert report["aioswf.decision_failure"]["error_type"] == "ValueError"
    assert attrs_of(decisions[0])["timerId"].startswith("aioswf-retry-")
    sim.close()


@workflow.defn
class RetriedWithBigState:
    @workflow.run
    async def run(self) -> None:
        workflow.set_state(['"q"' * 5_000])
        raise KeyError("é€😀" * 5_000)


def test_a_retry_report_fits_the_execution_context() -> None:
    sim = Simulation(
        RetriedWithBigState, options=InstanceOptions(retry_decision_task_on=(KeyError,))
    )
    sim.decide()
    context = sim.activations[-1].execution_context or ""
    assert wire_length(context) <= MAX_DATA_LENGTH
    assert json.loads(context)["aioswf.decision_failure"]["error_type"] == "KeyError"
    sim.close()
