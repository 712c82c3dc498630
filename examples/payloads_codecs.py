"""Payload codecs: compress and encrypt every payload before it reaches SWF.

SWF keeps inputs, results, signals and heartbeat details in its history, readable by anyone
with access to the console. With these codecs on the converter, SWF only ever sees
compressed, encrypted text; workers and clients with the same codecs read it transparently.
Run it with `python examples/payloads_codecs.py`; it needs no AWS account.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aioswf import Client, DataConverter, Worker, activity, workflow
from aioswf.local import LocalSWF
from aioswf.payloads import ZlibCodec


class AesGcmCodec:
    """Encrypts payloads with AES-GCM, a fresh nonce each time.

    The key's id is part of the codec's name, so payloads say which key they need: to rotate,
    add a codec with the new key for writing and keep the old one for reading.
    """

    def __init__(self, key: bytes, key_id: str) -> None:
        self.name = f"aes-gcm:{key_id}"
        self._aead = AESGCM(key)

    def encode(self, data: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, None)

    def decode(self, data: bytes) -> bytes:
        return self._aead.decrypt(data[:12], data[12:], None)


@activity.defn(start_to_close_timeout=timedelta(seconds=30))
async def charge(card: str, amount: int) -> str:
    activity.heartbeat({"charging": card[-4:]})
    return f"receipt for {amount} on card ending {card[-4:]}"


@workflow.defn
class Payment:
    @workflow.run
    async def run(self, card: str, amount: int) -> str:
        return await workflow.execute_activity(charge, card, amount)


DEMO_KEY = bytes(range(32))
"""A key for this example only: in production, read it from your key store."""


def converter(key: bytes = DEMO_KEY) -> DataConverter:
    """The converter every client and worker of the application uses: zlib, then AES.

    Replayers of its histories need it too.
    """
    return DataConverter(codecs=[ZlibCodec(), AesGcmCodec(key, "2024-06")])


async def main() -> None:
    key = DEMO_KEY
    async with (
        LocalSWF(long_poll_seconds=1) as swf,
        Client("examples", endpoint_url=swf.endpoint_url, converter=converter(key)) as client,
    ):
        await client.register_domain()
        async with Worker(client, task_list="payments", workflows=[Payment], activities=[charge]):
            handle = await client.start_workflow(
                Payment.run, "4111111111111111", 42, workflow_id="pay-1", task_list="payments"
            )
            print(await handle.result())
        started = await anext(handle.history())
        stored = started["workflowExecutionStartedEventAttributes"]["input"]
        print("SWF holds:", stored[:70], "…")
        assert "4111" not in stored
        print("we read: ", await client.converter.readable(stored))
        # Without the key, the payload stays unreadable, and says why.
        print("others:  ", await DataConverter(codecs=[ZlibCodec()]).readable(stored))


if __name__ == "__main__":
    asyncio.run(main())
