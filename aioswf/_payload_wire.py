"""Codecs and the payload store applied to payload text: see :mod:`aioswf.payloads`.

Encoding is synchronous (workflow code encodes inside its deterministic step): a payload
going to the store is *held* with its reference, and uploaded by whoever sends the request
that carries the reference (:meth:`PayloadWire.upload`). A workflow run holds its payloads
apart (:meth:`PayloadWire.scoped`), so that no other work can push them out before its
decisions are sent. Decoding is synchronous too: the
payloads a task refers to are *downloaded* before its code runs (:meth:`PayloadWire.download`).
"""

from __future__ import annotations

import base64
import binascii
import collections
import copy
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from aioswf import _sandbox as sandbox
from aioswf._envelope import unwrap
from aioswf.exceptions import PayloadConversionError, PayloadError, PayloadStoreError
from aioswf.payloads import PayloadCodec, PayloadStore

ENCODING_KEY = "aioswf:encoding"
DATA_KEY = "aioswf:data"
REF_KEY = "aioswf:ref"
SIZE_KEY = "aioswf:size"
WIRE_HEAD = 40
"""Characters from the start of a payload in which its wire form's encoding key is looked
for: plain JSON has none there."""

_REFERENCE = re.compile(r'"aioswf:ref"\s*:\s*"([^"\\]+)"')
_STORED_LIMIT = 4096
"""References known to be in the store already (most recent), so they are not put again."""
_CACHE_BYTES = 64 * 1024 * 1024
"""Downloaded payloads kept (least recently used out)."""
_FAILURES_LIMIT = 256
"""Why the most recent reads that failed did, kept to say so when the payload is decoded."""


def references(texts: Iterable[Any]) -> set[str]:
    """The store references in ``texts`` and in the strings nested in them."""
    found: set[str] = set()
    for text in _strings(texts):
        if REF_KEY in text:
            found.update(_REFERENCE.findall(text))
    return found


def _strings(values: Iterable[Any]) -> Iterator[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            yield from _strings(value.values())
        elif isinstance(value, list | tuple):
            yield from _strings(value)


def _check_codecs(where: str, codecs: Sequence[Any]) -> None:
    """Refuse, by position, what is not a :class:`PayloadCodec` (a name, encode, decode)."""
    for index, codec in enumerate(codecs):
        if not (
            callable(getattr(codec, "encode", None)) and callable(getattr(codec, "decode", None))
        ):
            raise TypeError(
                f"{where}[{index}] is {codec!r}, not a codec: a PayloadCodec has a name and "
                "encode() and decode() methods from bytes to bytes"
            )
        name = getattr(codec, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"{where}[{index}] ({type(codec).__name__}) has no name: payloads record the "
                "name of each codec they went through, for readers to find it"
            )


class PayloadWire:
    """The codecs and store of one converter, and the payloads in transit to and from it."""

    def __init__(
        self,
        codecs: Sequence[PayloadCodec],
        store: PayloadStore | None,
        decode_only: Sequence[PayloadCodec] = (),
    ) -> None:
        self.codecs = tuple(codecs)
        self.store = store
        _check_codecs("codecs", self.codecs)
        _check_codecs("decode_only_codecs", decode_only)
        readers = (*self.codecs, *decode_only)
        self._by_name = {codec.name: codec for codec in readers}
        if len(self._by_name) != len(readers):
            names = [codec.name for codec in readers]
            twice = sorted({name for name in names if names.count(name) > 1})
            raise ValueError(
                f"two codecs have the same name, {', '.join(map(repr, twice))}: a reader could "
                "not tell them apart (a codec used for writing need not be kept for reading too)"
            )
        self._lock = threading.Lock()  # workflow code encodes on its own thread
        self._held: dict[str, bytes] = {}
        self._cache = _Cache()

    def scoped(self) -> PayloadWire:
        """A wire sharing this one's codecs, store and caches, holding its own payloads.

        A workflow run encodes with one: what it holds for upload is uploaded with the
        decisions that refer to it, and let go by :meth:`release` - never pushed out by
        another run's payloads.
        """
        wire = copy.copy(self)
        wire._held = {}
        return wire

    def release(self, keep: Iterable[Any] = ()) -> None:
        """Let go of the held payloads, but those that ``keep`` refers to.

        After a decision task is answered, what is still held belongs to decisions that were
        never sent (replayed ones, already stored) or to decisions that wait (``keep``).
        """
        wanted = references(keep)
        with self._lock:
            self._held = {r: d for r, d in self._held.items() if r in wanted}

    @property
    def codec_names(self) -> list[str]:
        """The names of the codecs this wire reads."""
        return list(self._by_name)

    @property
    def active(self) -> bool:
        """Whether payload text is transformed at all."""
        return bool(self.codecs) or self.store is not None

    # --- writing ----------------------------------------------------------------------------

    def to_wire(self, text: str, limit: int) -> str:
        """``text`` through the codecs, then replaced by a reference if over ``limit``."""
        if not self.active:
            return text
        data = text.encode()
        names = []
        # Codecs work for the runtime, not for the workflow's logic (an encryption nonce is
        # random by design): the sandbox lets them through.
        with sandbox.unguarded():
            for codec in self.codecs:
                data = codec.encode(data)
                if not isinstance(data, bytes):
                    raise TypeError(
                        f"codec {codec.name!r} returned {type(data).__name__} from encode(), "
                        "not bytes"
                    )
                names.append(codec.name)
        wire = text
        if names:
            wire = _dumps({ENCODING_KEY: names, DATA_KEY: base64.b64encode(data).decode()})
        store = self.store
        if store is not None and len(wire) > min(limit, store.threshold):
            # Named by the bytes it holds (encrypted ones, if a codec encrypts): never by the
            # plain text. Replay compares stored payloads by content (see canonical()).
            digest = hashlib.sha256(data).hexdigest()
            reference = store.reference(digest)
            with self._lock:
                self._held[reference] = data
            wire = _dumps({ENCODING_KEY: names, REF_KEY: reference, SIZE_KEY: len(data)})
        return wire

    def to_store(self, wire: str) -> str:
        """``wire`` (written by :meth:`to_wire`) as a stored payload's reference, held for
        upload: for a payload that fits alone but not with what is sent beside it."""
        store = self.store
        form = _wire_form(wire)
        if store is None or (form is not None and REF_KEY in form):
            return wire
        names: list[str] = []
        data = wire.encode()
        if form is not None:
            names = list(form[ENCODING_KEY])
            data = base64.b64decode(form[DATA_KEY])
        reference = store.reference(hashlib.sha256(data).hexdigest())
        with self._lock:
            self._held[reference] = data
        return _dumps({ENCODING_KEY: names, REF_KEY: reference, SIZE_KEY: len(data)})

    async def upload(self, texts: Iterable[Any]) -> None:
        """Store every held payload that ``texts`` refer to, before they are sent.

        Raises:
            PayloadError: a reference whose payload is not held here.
            PayloadStoreError: the store failed to write (transient: the request is retried).
        """
        store = self.store
        if store is None:
            return
        for reference in references(texts):
            with self._lock:
                data = self._held.pop(reference, None)
                known = self._cache.knows(reference)
            if known:  # the same content, under its own name: once is enough
                continue
            if data is None:
                raise PayloadError(
                    f"the payload of {reference} is not held for upload: it was encoded by "
                    "another converter, or already sent"
                )
            try:
                await store.put(reference, data)
            except Exception as error:  # a retried request encodes it again
                raise PayloadStoreError(
                    f"storing the payload {reference} failed: {error}"
                ) from error
            with self._lock:  # its echo in history is compared by content: keep it at hand
                self._cache.stored(reference)
                self._cache.fetched(reference, data)

    # --- reading ----------------------------------------------------------------------------

    async def download(self, texts: Iterable[Any]) -> None:
        """Fetch every stored payload ``texts`` refer to, so that decoding needs no I/O.

        Raises:
            PayloadConversionError: a reference with no store to read it from.
            PayloadStoreError: a read that failed, naming the reference (transient: the
                task that needs it is retried).
        """
        missing = self.unfetched(texts)
        if not missing:
            return
        store = self.store
        if store is None:
            raise PayloadConversionError(
                f"a payload is stored at {missing[0]}, but this converter has no payload "
                "store: create it with DataConverter(payload_store=...)"
            )
        for reference in missing:
            try:
                data = await store.get(reference)
            except Exception as error:
                failure = PayloadStoreError(
                    f"reading the payload stored at {reference} failed: {error}"
                )
                with self._lock:  # a reader that decodes it anyway is told why it cannot
                    self._cache.failed(reference, str(failure))
                raise failure from error
            with self._lock:
                self._cache.fetched(reference, data)

    def unfetched(self, texts: Iterable[Any]) -> list[str]:
        """The store references in ``texts`` whose payloads are not at hand yet."""
        wanted = references(texts)
        with self._lock:
            return [r for r in wanted if not self._cache.has(r) and r not in self._held]

    def from_wire(self, text: str) -> str:
        """The payload's JSON text, its reference resolved and its codecs undone.

        Raises:
            PayloadConversionError: a codec this converter lacks or that fails, or a
                reference that was not downloaded.
        """
        form = _wire_form(text)
        if form is None:
            return text
        names = form[ENCODING_KEY]
        if DATA_KEY in form:
            try:
                data = base64.b64decode(form[DATA_KEY], validate=True)
            except (binascii.Error, TypeError) as error:
                raise PayloadConversionError(f"an encoded payload is not base64: {error}") from None
        else:
            data = self._fetched_data(str(form[REF_KEY]))
        for name in reversed(names):
            codec = self._by_name.get(name)
            if codec is None:
                have = ", ".join(repr(n) for n in self._by_name) or "none"
                raise PayloadConversionError(
                    f"a payload was encoded with codec {name!r}, which this converter does not "
                    f"have (its codecs: {have})"
                )
            try:
                with sandbox.unguarded():
                    data = codec.decode(data)
            except Exception as error:
                said = f": {error}" if str(error) else ""  # a wrong key's InvalidTag says nothing
                raise PayloadConversionError(
                    f"codec {name!r} could not decode a payload: {type(error).__name__}{said}"
                ) from error
        try:
            return data.decode()
        except UnicodeDecodeError as error:
            raise PayloadConversionError(f"a decoded payload is not UTF-8 text: {error}") from None

    def _fetched_data(self, reference: str) -> bytes:
        with self._lock:
            data = self._cache.get(reference)
            if data is None:
                data = self._held.get(reference)
        if data is None:
            if self.store is None:
                raise PayloadConversionError(
                    f"a payload is stored at {reference}, but this converter has no payload "
                    "store: create it with DataConverter(payload_store=...)"
                )
            with self._lock:
                failure = self._cache.failure(reference)
            raise PayloadConversionError(
                failure or f"the payload stored at {reference} was not downloaded"
            )
        return data

    def missing_codec(self, value: Any) -> str | None:
        """The name of a codec that payload text ``value`` was encoded with and this wire
        lacks; ``None`` when it has them all (or ``value`` is no encoded payload)."""
        if not isinstance(value, str):
            return None
        plain, _ = unwrap(value)
        form = _wire_form(plain) if plain is not None else None
        if form is None:
            return None
        return next((str(n) for n in form[ENCODING_KEY] if n not in self._by_name), None)

    def canonical(self, value: Any) -> Any:
        """What replay compares of a payload: headers set aside, codecs undone, a stored
        payload read back (so that changing the codecs, or a random nonce, changes nothing).

        A payload this converter cannot decode compares as it is written.
        """
        if not isinstance(value, str):
            return value
        plain, _ = unwrap(value)
        if plain is None:
            return None
        if _wire_form(plain) is None:
            return plain
        try:
            return self.from_wire(plain)
        except PayloadError:
            return plain


class _Cache:
    """What one converter knows of its store, shared by its scoped wires (under their lock):
    the payloads read back (least recently used out), and references known to be stored."""

    def __init__(self) -> None:
        self._fetched: collections.OrderedDict[str, bytes] = collections.OrderedDict()
        self._fetched_bytes = 0
        self._stored: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._failures: collections.OrderedDict[str, str] = collections.OrderedDict()

    def has(self, reference: str) -> bool:
        return reference in self._fetched

    def knows(self, reference: str) -> bool:
        return reference in self._stored or reference in self._fetched

    def get(self, reference: str) -> bytes | None:
        data = self._fetched.get(reference)
        if data is not None:
            self._fetched.move_to_end(reference)
        return data

    def failed(self, reference: str, why: str) -> None:
        self._failures[reference] = why
        while len(self._failures) > _FAILURES_LIMIT:
            self._failures.popitem(last=False)

    def failure(self, reference: str) -> str | None:
        return self._failures.get(reference)

    def fetched(self, reference: str, data: bytes) -> None:
        self._failures.pop(reference, None)
        self._fetched[reference] = data
        self._fetched_bytes += len(data)
        while self._fetched_bytes > _CACHE_BYTES and len(self._fetched) > 1:
            _, old = self._fetched.popitem(last=False)
            self._fetched_bytes -= len(old)

    def stored(self, reference: str) -> None:
        self._stored[reference] = None
        while len(self._stored) > _STORED_LIMIT:
            self._stored.popitem(last=False)


def _wire_form(text: str) -> dict[str, Any] | None:
    """The parsed wire form of an encoded or stored payload; ``None`` for plain JSON."""
    head = text[:WIRE_HEAD].lstrip()
    if not head.startswith("{") or ENCODING_KEY not in head:
        return None
    try:
        form = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(form, dict) or not isinstance(form.get(ENCODING_KEY), list):
        return None
    if set(form) not in ({ENCODING_KEY, DATA_KEY}, {ENCODING_KEY, REF_KEY, SIZE_KEY}):
        return None
    return form


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
