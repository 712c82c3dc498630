"""Payload conversion between Python values and SWF's string fields.

Values travel as JSON. On the way out anything pydantic can serialise is accepted (scalars,
lists, dicts, dataclasses, pydantic models, datetimes, enums…); on the way in a value is
validated against the annotation of the parameter or return value it is meant for, so a
dataclass or a pydantic model comes back as itself.

Payloads (inputs, results, details) then pass through the converter's codecs and payload
store, if it has any (:mod:`aioswf.payloads`).

Arguments are encoded as one JSON array. Input written by other tools may also be a JSON
object, whose keys are then parameter names. Headers that travel beside the arguments
(:mod:`aioswf._envelope`) are set aside before the arguments are decoded.

SWF's size limits are checked here, before any request is sent.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pydantic
import pydantic_core

from aioswf._envelope import unwrap, wrap
from aioswf._payload_wire import ENCODING_KEY, WIRE_HEAD, PayloadWire, _wire_form
from aioswf.exceptions import PayloadConversionError, PayloadError, PayloadTooLargeError
from aioswf.payloads import PayloadCodec, PayloadStore

MAX_DATA_LENGTH = 32_768
"""Input, result, details, control, signal input, execution context, marker details."""
MAX_HEARTBEAT_DETAILS_LENGTH = 2_048
"""Details of RecordActivityTaskHeartbeat."""
MAX_REASON_LENGTH = 256
"""Reasons of failures and terminations."""

_TRUNCATION_MARK = "…[truncated]"


def check_size(field: str, text: str | None, limit: int = MAX_DATA_LENGTH) -> str | None:
    """Return ``text`` unchanged, or raise if SWF would refuse it.

    Raises:
        PayloadTooLargeError: naming the field, its size and the limit.
    """
    if text is not None and len(text) > limit:
        raise PayloadTooLargeError(field, len(text), limit)
    return text


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with a visible mark, for reports that must fit."""
    if len(text) <= limit:
        return text
    return text[: limit - len(_TRUNCATION_MARK)] + _TRUNCATION_MARK


@functools.lru_cache(maxsize=1024)
def _adapter(hint: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(hint)


def _adapter_for(hint: Any) -> pydantic.TypeAdapter[Any]:
    try:
        return _adapter(hint)
    except TypeError:  # an unhashable annotation: build it each time
        return pydantic.TypeAdapter(hint)


class DataConverter:
    """Turns values into SWF payload strings and back. Subclass it to change the format.

    Args:
        codecs: transform every payload's bytes, in order (compression, encryption…);
            readers need the same codecs. See :mod:`aioswf.payloads`.
        payload_store: where payloads over SWF's limits go, replaced by a reference (e.g.
            :class:`aioswf.contrib.s3.S3PayloadStore`). Without one, an oversized payload
            raises ``PayloadTooLargeError``.
        decode_only_codecs: codecs kept only to read what was written with them (the old
            key after a key rotation): never applied when writing.

    Raises:
        ValueError: two codecs (for writing or reading) share a name.
    """

    wire: PayloadWire = PayloadWire((), None)
    """The codecs and store, and the payloads in transit (for subclasses without
    ``__init__``: none)."""

    _plain_results = True
    """Whether results decode as this class does (no override of the methods a result goes
    through): :meth:`decode_result` may then take its shortcut for plain JSON."""
    _plain_args = True
    """Whether arguments encode as this class does: :meth:`encode_args` may then take its
    shortcut when there are no codecs or store."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_results = _inherits(cls, _RESULT_PATH)
        cls._plain_args = _inherits(cls, _ARGS_PATH)

    def __init__(
        self,
        *,
        codecs: Sequence[PayloadCodec] = (),
        payload_store: PayloadStore | None = None,
        decode_only_codecs: Sequence[PayloadCodec] = (),
    ) -> None:
        self.wire = PayloadWire(codecs, payload_store, decode_only_codecs)

    def scoped(self) -> DataConverter:
        """This converter, holding what it encodes for upload apart from any other user's.

        A workflow run encodes with its own: the payloads its decisions refer to wait for
        the answer that carries them, whatever else the worker encodes meanwhile.
        """
        scoped = copy.copy(self)
        scoped.wire = self.wire.scoped()
        return scoped

    # --- payloads: JSON, then codecs and store ---------------------------------------------------

    def encode_payload(self, value: Any, *, limit: int = MAX_DATA_LENGTH) -> str:
        """The wire text of one payload: its JSON through the codecs, stored if over ``limit``.

        Raises:
            PayloadConversionError: if the value cannot be represented as JSON.
        """
        return self.wire.to_wire(self.encode(value), limit)

    def fit_input(self, field: str, data: str | None, headers: Mapping[str, str]) -> str | None:
        """``data`` (from :meth:`encode_args`) with ``headers`` beside it, within SWF's limit:
        stored when the headers are what make it too long and there is a payload store.

        Raises:
            PayloadTooLargeError: naming ``field``, and the headers when they are the reason.
        """
        text = wrap(data, headers)
        if text is None or len(text) <= MAX_DATA_LENGTH:
            return text
        if data is not None and self.wire.store is not None:
            data = self.wire.to_store(data)
            text = wrap(data, headers)
            if text is not None and len(text) <= MAX_DATA_LENGTH:
                return text
        assert text is not None
        if data is not None and len(data) <= MAX_DATA_LENGTH:
            size = len(text) - len(data)
            raise PayloadTooLargeError(
                f"{field} with its headers ({', '.join(map(repr, headers))}: {size:,} characters)",
                len(text),
                MAX_DATA_LENGTH,
                advice="The headers, set by interceptors, are what make it too long: carry "
                "less in them.",
            )
        raise PayloadTooLargeError(field, len(text), MAX_DATA_LENGTH)

    def decode_payload(self, data: str | None, hint: Any = Any, *, what: str = "payload") -> Any:
        """The value of wire text written by :meth:`encode_payload` (or plain JSON).

        Raises:
            PayloadConversionError: naming ``what``, when a codec or the store cannot give
                the JSON back, or when it does not fit ``hint``.
        """
        return self.decode(self.payload_json(data, what=what), hint, what=what)

    def payload_json(self, data: str | None, *, what: str = "payload") -> str | None:
        """The JSON text behind wire text: codecs undone, stored payload read back.

        Raises:
            PayloadConversionError: naming ``what``, when that is not possible here.
        """
        if data is None:
            return None
        try:
            return self.wire.from_wire(data)
        except PayloadConversionError as error:
            raise PayloadConversionError(f"{what}: {error}") from error

    async def upload(self, *texts: Any) -> None:
        """Store the payloads ``texts`` refer to (strings, or dicts and lists holding them),
        before a request carrying them is sent. Nothing to do without a payload store.

        Raises:
            PayloadStoreError: the store failed, naming the reference.
            PayloadError: a reference whose payload is not held for upload.
        """
        await self.wire.upload(texts)

    async def download(self, *texts: Any) -> None:
        """Read the stored payloads ``texts`` refer to, so that decoding them needs no I/O.

        Raises:
            PayloadConversionError: there is no store, naming the reference.
            PayloadStoreError: the store failed, naming the reference.
        """
        await self.wire.download(texts)

    async def close(self) -> None:
        """Release what the payload store holds for the running event loop (its client), if
        it has a ``close()``: for a loop that is done with the converter (a command's, a
        replayer's). Workers and clients leave the store to its owner."""
        close = getattr(self.wire.store, "close", None)
        if close is not None:
            await close()

    async def readable(self, data: str | None) -> str | None:
        """Payload text as a person should see it: JSON, or a placeholder saying why not.

        For views (the CLI, the web view): headers are set aside, stored payloads read, and
        codecs undone; what this converter cannot decode shows as ``<…>`` with the reason.
        """
        plain, _ = unwrap(data)
        if plain is None:
            return None
        try:
            await self.download(plain)
            return self.wire.from_wire(plain)
        except PayloadError as error:
            return f"<encoded payload, not readable here: {error}>"

    def canonical(self, value: Any) -> Any:
        """What replay compares of a decided payload: headers set aside, codecs undone."""
        return self.wire.canonical(value)

    # --- JSON --------------------------------------------------------------------------------

    def encode(self, value: Any) -> str:
        """The JSON text of one value.

        Raises:
            PayloadConversionError: if the value cannot be represented as JSON.
        """
        try:
            return pydantic_core.to_json(value).decode()
        except pydantic_core.PydanticSerializationError as exc:
            raise PayloadConversionError(
                f"cannot encode a {type(value).__name__} as JSON: {exc}"
            ) from exc

    def decode(self, data: str | None, hint: Any = Any, *, what: str = "payload") -> Any:
        """The value of JSON ``data``, validated against the annotation ``hint``.

        Raises:
            PayloadConversionError: naming ``what`` when the data is not JSON or does not fit.
        """
        if data is None or data == "":
            return self._validate(None, hint, what)
        try:
            # pydantic's parser is the fast one; what it refuses is the standard library's to
            # judge (it also takes the lone surrogates that other JSON writers send), with its
            # error messages.
            raw = pydantic_core.from_json(data)
        except (ValueError, TypeError):  # TypeError: a lone surrogate, which is not UTF-8
            try:
                raw = json.loads(data)
            except json.JSONDecodeError as exc:
                raise PayloadConversionError(f"{what} is not valid JSON: {exc}") from exc
        return self._validate(raw, hint, what)

    def _validate(self, raw: Any, hint: Any, what: str) -> Any:
        if hint is Any or hint is inspect.Parameter.empty:
            return raw
        try:
            return _adapter_for(hint).validate_python(raw)
        except pydantic.ValidationError as exc:
            problems = "; ".join(_describe(error) for error in exc.errors())
            raise PayloadConversionError(
                f"{what} does not fit {_type_name(hint)}: {problems}"
            ) from exc

    def encode_args(self, args: Sequence[Any]) -> str | None:
        """The JSON array of ``args``; ``None`` when there are none (SWF's input is optional).

        Raises:
            PayloadConversionError: naming the first argument (by position) that cannot be
                encoded.
        """
        if not args:
            return None
        wire = self.wire
        if (
            self._plain_args
            and type(wire) is PayloadWire
            and not wire.codecs
            and wire.store is None
        ):
            # What `encode_payload` does without codecs or store, in fewer calls: every
            # activity call of a replay encodes its arguments. A failure takes the long way,
            # which words the error.
            try:
                return pydantic_core.to_json(list(args)).decode()
            except pydantic_core.PydanticSerializationError:
                pass
        try:
            return self.encode_payload(list(args))
        except PayloadConversionError:
            for position, arg in enumerate(args, 1):
                try:
                    self.encode(arg)
                except PayloadConversionError as error:
                    raise PayloadConversionError(f"argument {position}: {error}") from error
            raise

    def decode_args(self, fn: Callable[..., Any], data: str | None) -> list[Any]:
        """The positional arguments for ``fn`` from ``data``, each typed by its annotation.

        ``fn`` is a plain function or a bound method (``self`` already bound). Headers that
        travel with the input are ignored here; :func:`aioswf._envelope.unwrap` reads them.

        Raises:
            PayloadConversionError: naming the function and the parameter that did not fit.
        """
        where = _qualname(fn)
        data, _headers = unwrap(data)
        raw = self.decode_payload(data, what=f"input of {where}")
        if raw is None:
            raw = []
        signature, hints = signature_and_hints(fn)
        try:
            bound = signature.bind(*raw) if isinstance(raw, list) else signature.bind(**raw)
        except (TypeError, AttributeError) as exc:
            raise PayloadConversionError(
                f"input of {where} does not fit its parameters {signature}: {exc}"
            ) from exc
        values: list[Any] = []
        for name, value in bound.arguments.items():
            param = signature.parameters[name]
            what = f"argument {name!r} of {where}"
            if param.kind is inspect.Parameter.VAR_POSITIONAL:
                values.extend(self._validate(v, hints.get(name, Any), what) for v in value)
            elif param.kind is inspect.Parameter.VAR_KEYWORD:
                raise PayloadConversionError(f"{where} takes **{name}; pass arguments positionally")
            else:
                values.append(self._validate(value, hints.get(name, Any), what))
        return values

    def encode_result(self, value: Any) -> str | None:
        """The JSON of a return value; ``None`` for ``None``."""
        return None if value is None else self.encode_payload(value)

    def decode_result(self, fn: Callable[..., Any] | None, data: str | None) -> Any:
        """The return value of ``fn`` from ``data``, typed by its return annotation."""
        if fn is None:
            return self.decode_payload(data, what="result")
        hint, what, validate = _result_of(fn)
        if (
            self._plain_results
            and data
            and type(self.wire) is PayloadWire
            # Plain JSON when the wire form's key is not even near the start.
            and (ENCODING_KEY not in data[:WIRE_HEAD] or _wire_form(data) is None)
        ):
            # What `decode_payload` does with plain JSON, in fewer calls: replay decodes every
            # activity result of the history. Anything unusual takes the long way, which also
            # words its errors.
            try:
                raw = pydantic_core.from_json(data)
                return raw if validate is None else validate(raw)
            except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
                pass
        return self.decode_payload(data, hint, what=what)


def return_type(fn: Callable[..., Any]) -> Any:
    """The return annotation of ``fn`` with awaitables unwrapped, or ``Any``."""
    _, hints = signature_and_hints(fn)
    return hints.get("return", Any)


_RESULT_PATH = ("decode_result", "decode_payload", "payload_json", "decode", "_validate")
"""The methods a result goes through, in :class:`DataConverter`."""
_ARGS_PATH = ("encode_args", "encode_payload", "encode")
"""The methods arguments go through."""


def _inherits(cls: type, names: Sequence[str]) -> bool:
    """Whether ``cls`` has :class:`DataConverter`'s own methods ``names``."""
    return all(getattr(cls, name) is getattr(DataConverter, name) for name in names)


_Validate = Callable[[Any], Any]


def _result_of(fn: Callable[..., Any]) -> tuple[Any, str, _Validate | None]:
    """The return annotation of ``fn``, how errors name its result, and what validates it
    (``None`` for ``Any``): every activity result of a replay asks for them."""
    function = getattr(fn, "__func__", fn)  # bound methods are new objects at each access
    try:
        return _function_result(function)
    except TypeError:  # unhashable callables are rare: work it out each time
        return _function_result.__wrapped__(function)


@functools.lru_cache(maxsize=1024)
def _function_result(function: Callable[..., Any]) -> tuple[Any, str, _Validate | None]:
    hint = return_type(function)
    if hint is Any or hint is inspect.Parameter.empty:
        return hint, f"result of {_qualname(function)}", None
    adapter = _adapter_for(hint)
    # What `TypeAdapter.validate_python` calls with its defaults, without the frame it costs
    # each result of a replay; the adapter's own method if it builds its validator late.
    validator = adapter.validator
    if isinstance(validator, pydantic_core.SchemaValidator):
        return hint, f"result of {_qualname(function)}", validator.validate_python
    return hint, f"result of {_qualname(function)}", adapter.validate_python


def signature_and_hints(fn: Callable[..., Any]) -> tuple[inspect.Signature, dict[str, Any]]:
    """The signature of ``fn`` (without ``self`` when bound) and its type hints (none when
    they cannot be resolved), worked out once per function."""
    # Bound methods are new objects at each attribute access: key the cache on the function.
    function = getattr(fn, "__func__", fn)
    try:
        return _function_signature(function, bound=function is not fn)
    except TypeError:  # unhashable callables are rare: work it out each time
        return _function_signature.__wrapped__(function, bound=function is not fn)


@functools.lru_cache(maxsize=1024)
def _function_signature(
    function: Callable[..., Any], *, bound: bool
) -> tuple[inspect.Signature, dict[str, Any]]:
    """The signature (without ``self`` when bound) and type hints; every task asks for them."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # unresolvable forward references: fall back to untyped
        hints = {}
    signature = inspect.signature(function)
    if bound:
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    return signature, hints


def _qualname(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", repr(fn))


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or repr(hint)


def _describe(error: Any) -> str:
    location = ".".join(str(part) for part in error.get("loc", ()))
    where = f" at {location}" if location else ""
    return f"{error['msg']}{where} (got {error.get('input')!r})"
