"""What happens to a payload's bytes between the converter's JSON and SWF's text fields.

A :class:`~aioswf.converter.DataConverter` turns values into JSON; then, in order:

1. its **codecs** (:class:`PayloadCodec`: compression, encryption…) transform the bytes, each
   one the output of the previous one; the result is carried as base64 text, with the names
   of the codecs, so that a reader knows what to undo;
2. when the text is over its field's limit (or the store's threshold), a **payload store**
   (:class:`PayloadStore`, e.g. :class:`aioswf.contrib.s3.S3PayloadStore`) keeps the bytes and
   the field carries a small reference instead.

Reading undoes both, in reverse order. Payloads are every input (workflows, activities,
children, signals, continue-as-new), every result, failure details, heartbeat details and
side-effect markers. Not transformed: the execution context of ``workflow.set_state`` (what
``DescribeWorkflowExecution`` shows), Lambda inputs and results (AWS Lambda reads them), and
headers.

The wire forms, both JSON objects whose keys hold a ``:`` (no plain payload has them)::

    {"aioswf:encoding": ["zlib", "aes-gcm"], "aioswf:data": "<base64>"}
    {"aioswf:encoding": ["zlib"], "aioswf:ref": "s3://bucket/key", "aioswf:size": 1048576}
"""

from __future__ import annotations

import zlib
from typing import Protocol, runtime_checkable

__all__ = ("PayloadCodec", "PayloadStore", "ZlibCodec")


@runtime_checkable
class PayloadCodec(Protocol):
    """A reversible bytes-to-bytes transformation of every payload.

    ``encode`` and ``decode`` are called inside workflow code too, so they must be quick and
    must not do I/O (fetch keys once, up front). ``encode`` need not be deterministic (an
    encryption nonce is random): replay compares payloads decoded.

    Attributes:
        name: recorded with each payload; a reader needs a codec of the same name to decode
            it. Change it when the format changes (``"aes-gcm:key-2024"``).
    """

    name: str

    def encode(self, data: bytes) -> bytes:
        """The transformed bytes."""
        ...

    def decode(self, data: bytes) -> bytes:
        """The original bytes of what :meth:`encode` returned.

        Raises:
            Exception: anything; the converter reports it as ``PayloadConversionError``,
                naming the codec.
        """
        ...


class ZlibCodec:
    """Compresses payloads with zlib; payloads shorter than ``min_size`` bytes pass through.

    Args:
        level: zlib's compression level, 1 (fast) to 9 (small).
        min_size: payloads shorter than this are left alone (compressing them would grow
            them once base64 is added).
    """

    name = "zlib"

    def __init__(self, level: int = 6, *, min_size: int = 256) -> None:
        if not 0 <= level <= 9:
            raise ValueError(f"zlib's level is 0 to 9, got {level}")
        self.level = level
        self.min_size = min_size

    def encode(self, data: bytes) -> bytes:
        """``data`` compressed, behind one byte saying whether it was."""
        if len(data) < self.min_size:
            return b"\x00" + data
        return b"\x01" + zlib.compress(data, self.level)

    def decode(self, data: bytes) -> bytes:
        """The bytes given to :meth:`encode`."""
        if data[:1] == b"\x00":
            return data[1:]
        if data[:1] == b"\x01":
            return zlib.decompress(data[1:])
        raise ValueError("not a payload of ZlibCodec (unknown first byte)")


@runtime_checkable
class PayloadStore(Protocol):
    """Keeps payloads too large for SWF elsewhere, by reference.

    References name the stored bytes (a digest of the payload after the codecs, so never of
    its plain text when a codec encrypts): the same bytes are not written twice. Replay
    compares stored payloads by their decoded content, not by reference.

    A store may also have an ``async close()`` that releases what it holds for the running
    event loop (a client): a :class:`~aioswf.testing.Replayer`, which reads on a loop of its
    own, calls it when it is done.

    Attributes:
        threshold: payloads whose text is longer than this many characters are stored
            (never more than the field's own SWF limit).
    """

    threshold: int

    def reference(self, digest: str) -> str:
        """The reference of the payload whose stored bytes have SHA-256 hex digest ``digest``."""
        ...

    async def put(self, reference: str, data: bytes) -> None:
        """Store ``data`` under ``reference``."""
        ...

    async def get(self, reference: str) -> bytes:
        """The data stored under ``reference``.

        Raises:
            Exception: when it cannot be read; the converter names the reference.
        """
        ...
