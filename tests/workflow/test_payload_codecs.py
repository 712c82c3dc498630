"""Codecs on the converter transform every payload kind, and histories they wrote replay."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aioswf import (
    ActivityFailedError,
    ActivityTimedOutError,
    ApplicationError,
    ChildWorkflowFailedError,
    DataConverter,
    PayloadConversionError,
    Worker,
    activity,
    workflow,
)
from aioswf._envelope import unwrap
from aioswf.payloads import PayloadCodec, ZlibCodec
from aioswf.testing import Replayer, WorkflowEnvironment
from aioswf.timeline import build_timeline, show_payload
from examples.payloads_codecs import AesGcmCodec

SECRET = "the-secret-" + "x" * 400  # long enough for zlib to compress it
TIMEOUT = timedelta(seconds=30)
KEY = AESGCM.generate_key(bit_length=128)

release = asyncio.Event()
shouted = asyncio.Event()


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def shout(text: str) -> str:
    shouted.set()  # the second run is under way
    return text.upper()


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def refuse(text: str) -> str:
    raise ApplicationError("refused", {"why": text}, type="Refused", non_retryable=True)


@activity.defn(start_to_close_timeout=timedelta(hours=1), heartbeat_timeout=timedelta(seconds=3))
async def stall(text: str) -> None:
    # Sent a third into the heartbeat timeout; then the activity times out on heartbeats,
    # and SWF hands the workflow the last details.
    activity.heartbeat({"progress": text})
    await release.wait()


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Echo:
    def __init__(self) -> None:
        self.heard: list[str] = []

    @workflow.run
    async def run(self, text: str, fail: bool) -> str:
        if fail:
            raise ApplicationError("child says no", {"text": text}, type="ChildRefused")
        await workflow.wait_condition(lambda: bool(self.heard))
        return f"{text}|{self.heard[0]}"

    @workflow.signal
    def hear(self, text: str) -> None:
        self.heard.append(text)


@workflow.defn(execution_start_to_close_timeout=timedelta(hours=1))
class Everything:
    def __init__(self) -> None:
        self.signalled: str | None = None

    @workflow.run
    async def run(self, text: str, rounds: int) -> dict[str, Any]:
        if rounds:
            workflow.continue_as_new(text, rounds - 1)
        got: dict[str, Any] = {"input": text}
        got["activity"] = await workflow.execute_activity(shout, text)
        try:
            await workflow.execute_activity(refuse, text)
        except ActivityFailedError as error:
            got["activity failure"] = list(error.details)
        try:
            await workflow.execute_activity(stall, text)
        except ActivityTimedOutError as error:
            got["heartbeat"] = json.loads(error.details or "null")
        got["marker"] = workflow.side_effect(lambda: {"effect": text})
        child = await workflow.start_child_workflow(Echo.run, text, False)
        await child.signal(Echo.hear, text)
        got["child"] = await child
        try:
            await workflow.execute_child_workflow(Echo.run, text, True)
        except ChildWorkflowFailedError as error:
            got["child failure"] = list(error.details)
        await workflow.wait_condition(lambda: self.signalled is not None)
        got["signal"] = self.signalled
        return got

    @workflow.signal
    def tell(self, text: str) -> None:
        self.signalled = text


def codecs() -> list[PayloadCodec]:
    return [ZlibCodec(), AesGcmCodec(KEY, "test")]


async def test_every_payload_kind_round_trips_through_zlib_and_encryption() -> None:
    release.clear()
    shouted.clear()
    converter = DataConverter(codecs=codecs())
    async with (
        WorkflowEnvironment(converter=converter) as env,
        Worker(
            env.client,
            task_list="coded",
            workflows=[Everything, Echo],
            activities=[shout, refuse, stall],
            decision_options=_no_cache(),
        ),
    ):
        handle = await env.client.start_workflow(
            Everything.run, SECRET, 1, workflow_id="coded", task_list="coded"
        )
        await asyncio.wait_for(shouted.wait(), 20)  # a signal to the first run ends with it
        await handle.signal(Everything.tell, SECRET)
        result = await handle.result(timeout=TIMEOUT)
        release.set()  # the stalled activity's task is long gone; let the worker stop
        runs = [("coded", run) for run in await _runs(handle)]
        child = env.client.get_workflow_handle("coded-child-1")
        runs.append(("coded-child-1", await child._run_id()))
        histories = [
            (workflow_id, run_id, [e async for e in _history(env, workflow_id, run_id)])
            for workflow_id, run_id in runs
        ]

    assert result == {
        "input": SECRET,
        "activity": SECRET.upper(),
        "activity failure": [{"why": SECRET}],
        "heartbeat": {"progress": SECRET},
        "marker": {"effect": SECRET},
        "child": f"{SECRET}|{SECRET}",
        "child failure": [{"text": SECRET}],
        "signal": SECRET,
    }
    # SWF saw none of it: every payload field is encoded.
    payloads = [value for _, _, events in histories for value in _payload_fields(events)]
    assert len(payloads) > 15
    for value in payloads:
        assert "the-secret" not in value
        plain, _ = unwrap(value)
        assert plain is not None
        assert json.loads(plain)["aioswf:encoding"] == ["zlib", "aes-gcm:test"]

    # The encoded histories replay (a cache-off replay of each run) with the same codecs…
    replayer = Replayer([Everything, Echo], converter=DataConverter(codecs=codecs()))
    for workflow_id, run_id, events in histories:
        replayer.replay({"events": events}, workflow_id=workflow_id, run_id=run_id)
    # …and a converter without the key says why it cannot read them.
    readable = await DataConverter(codecs=[ZlibCodec()]).readable(payloads[0])
    assert readable is not None
    assert readable.startswith("<encoded payload, not readable here")
    assert "'aes-gcm:test'" in readable
    # The CLI and the web view show payloads through the same converter.
    assert show_payload(DataConverter(codecs=codecs()), payloads[0]) == json.dumps([SECRET, 1])
    assert show_payload(DataConverter(), payloads[0]) == (
        "<encoded payload, not readable here: a payload was encoded with codec "
        "'aes-gcm:test', which this converter does not have (its codecs: none)>"
    )
    timeline = build_timeline(histories[1][2], converter=DataConverter(codecs=codecs()))
    shown = {(step.name, step.input, step.result, step.message) for step in timeline.steps}
    assert ("shout/1", json.dumps([SECRET]), json.dumps(SECRET.upper()), None) in shown
    assert ("stall/1", json.dumps([SECRET]), None, json.dumps({"progress": SECRET})) in shown
    marker = ("aioswf.side_effect.1", None, json.dumps({"effect": SECRET}), None)
    assert marker in shown  # a side effect's value, decoded like every other payload
    unreadable = build_timeline(histories[1][2], converter=DataConverter(codecs=[ZlibCodec()]))
    [effect] = [step for step in unreadable.steps if step.kind == "marker"]
    assert effect.result is not None
    assert effect.result.startswith("<encoded payload, not readable")


def _history(env: WorkflowEnvironment, workflow_id: str, run_id: str) -> Any:
    return env.client.get_workflow_handle(workflow_id).history(run_id=run_id)


def _no_cache() -> Any:
    from aioswf.worker import DecisionWorkerOptions

    return DecisionWorkerOptions(max_cached_workflows=0)


async def _runs(handle: Any) -> list[str]:
    runs = [handle.first_run_id]
    async for event in handle.history(run_id=runs[0]):
        attrs = event.get("workflowExecutionContinuedAsNewEventAttributes")
        if attrs:
            runs.append(attrs["newExecutionRunId"])
    return runs


_PAYLOAD_KEYS = {"input", "result", "details"}


def _payload_fields(events: list[dict[str, Any]]) -> list[str]:
    found = []
    for event in events:
        for key, attrs in event.items():
            if key.endswith("EventAttributes") and isinstance(attrs, dict):
                for name in _PAYLOAD_KEYS & set(attrs):
                    if event["eventType"] != "LambdaFunctionScheduled":
                        found.append(attrs[name])
    return found


def test_codecs_run_in_order_and_undo_in_reverse() -> None:
    converter = DataConverter(codecs=codecs())
    text = converter.encode_payload({"a": SECRET})
    assert converter.decode_payload(text) == {"a": SECRET}
    assert json.loads(text)["aioswf:encoding"] == ["zlib", "aes-gcm:test"]
    # Encryption draws a fresh nonce, yet replay compares payloads equal.
    again = converter.encode_payload({"a": SECRET})
    assert again != text
    assert converter.canonical(again) == converter.canonical(text)
    # Plain JSON written by other clients is still read.
    assert converter.decode_payload('{"a": 1}') == {"a": 1}


def test_a_payload_that_cannot_be_decoded_names_the_codec() -> None:
    text = DataConverter(codecs=codecs()).encode_payload([1])
    other_key = DataConverter(codecs=[ZlibCodec(), AesGcmCodec(AESGCM.generate_key(128), "test")])
    with pytest.raises(PayloadConversionError, match=r"codec 'aes-gcm:test' could not decode"):
        other_key.decode_payload(text, what="input of X")
    # A wrong key's InvalidTag has no message of its own: its name ends the sentence.
    with pytest.raises(PayloadConversionError, match=r"a payload: InvalidTag$"):
        other_key.decode_payload(text)
    with pytest.raises(PayloadConversionError, match=r"does not have \(its codecs: none\)"):
        DataConverter().decode_payload(text)
    with pytest.raises(ValueError, match="same name"):
        DataConverter(codecs=[ZlibCodec(), ZlibCodec()])


class _Texting:
    """A codec whose encode returns text, not bytes."""

    name = "texting"

    def encode(self, data: bytes) -> Any:
        return data.decode()

    def decode(self, data: bytes) -> bytes:
        return data


def test_what_is_not_a_codec_is_named() -> None:
    with pytest.raises(TypeError, match=r"codecs\[1\] is 'zlib', not a codec"):
        DataConverter(codecs=[ZlibCodec(), "zlib"])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"decode_only_codecs\[0\] is None, not a codec"):
        DataConverter(decode_only_codecs=[None])  # type: ignore[list-item]
    unnamed = _Texting()
    unnamed.name = ""
    with pytest.raises(TypeError, match=r"codecs\[0\] .* has no name"):
        DataConverter(codecs=[unnamed])
    with pytest.raises(TypeError, match=r"codec 'texting' returned str from encode\(\), not bytes"):
        DataConverter(codecs=[_Texting()]).encode_payload([1])


def test_headers_travel_beside_an_encoded_payload() -> None:
    from aioswf._envelope import wrap

    converter = DataConverter(codecs=codecs())
    data = wrap(converter.encode_args([SECRET, True]), {"trace": "t-1"})
    assert data is not None
    assert unwrap(data)[1] == {"trace": "t-1"}
    assert converter.decode_args(_run, data) == [SECRET, True]
    # Replay compares the decoded arguments: another nonce, no headers, the same input.
    assert converter.canonical(data) == converter.canonical(converter.encode_args([SECRET, True]))


def _run(text: str, flag: bool) -> None: ...


class XorKey:
    """A toy cipher whose name carries its key id, as a key-rotation codec's would."""

    def __init__(self, key: int) -> None:
        self.key = key
        self.name = f"xor-{key}"

    def encode(self, data: bytes) -> bytes:
        return bytes(b ^ self.key for b in data)

    def decode(self, data: bytes) -> bytes:
        return self.encode(data)


def test_a_rotated_key_is_kept_for_reading_only() -> None:
    old, new = XorKey(7), XorKey(9)
    written_before = DataConverter(codecs=[old]).encode_payload({"card": "4111"})
    rotated = DataConverter(codecs=[new], decode_only_codecs=[old])
    written_after = rotated.encode_payload({"card": "4111"})
    assert '"xor-9"' in written_after
    assert "xor-7" not in written_after
    assert rotated.decode_payload(written_before) == {"card": "4111"}
    assert DataConverter(codecs=[new]).decode_payload(written_after) == {"card": "4111"}
    with pytest.raises(ValueError, match="xor-9"):
        DataConverter(codecs=[new], decode_only_codecs=[XorKey(9)])
