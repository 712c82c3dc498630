from __future__ import annotations

import dataclasses
import enum
import json
from datetime import UTC, datetime

import pydantic
import pytest

from aioswf import PayloadConversionError, PayloadTooLargeError
from aioswf.converter import MAX_DATA_LENGTH, DataConverter, check_size, truncate


@dataclasses.dataclass
class Address:
    street: str
    number: int


class Customer(pydantic.BaseModel):
    name: str
    address: Address
    since: datetime


class Tier(enum.Enum):
    GOLD = "gold"


def takes(customer: Customer, tier: Tier, count: int, tags: list[str] | None = None) -> Address:
    raise NotImplementedError


converter = DataConverter()


def test_models_and_dataclasses_round_trip_typed_by_annotations() -> None:
    customer = Customer(
        name="ada", address=Address("Main", 1), since=datetime(2024, 1, 2, tzinfo=UTC)
    )
    data = converter.encode_args([customer, Tier.GOLD, 3])
    assert data is not None
    assert converter.decode_args(takes, data) == [customer, Tier.GOLD, 3]
    assert converter.decode_result(takes, converter.encode_result(Address("x", 2))) == Address(
        "x", 2
    )


def test_no_arguments_is_no_input() -> None:
    assert converter.encode_args([]) is None
    assert converter.decode_args(lambda: None, None) == []


def test_keyword_object_input_from_other_tools_binds_by_name() -> None:
    data = '{"count": 2, "tier": "gold", "customer": {"name": "a", "address": {"street": "s", "number": 1}, "since": 0}}'
    values = converter.decode_args(takes, data)
    assert values[1] is Tier.GOLD
    assert values[2] == 2


def test_a_value_that_does_not_fit_names_the_parameter() -> None:
    with pytest.raises(PayloadConversionError, match=r"argument 'count' of takes.*valid integer"):
        converter.decode_args(
            takes,
            converter.encode_args(
                [{"name": "a", "address": {"street": "s", "number": 1}, "since": 0}, "gold", "many"]
            ),
        )


def test_missing_arguments_are_named() -> None:
    with pytest.raises(PayloadConversionError, match="missing a required argument: 'tier'"):
        converter.decode_args(takes, converter.encode_args([{}]))


def test_not_json_is_reported() -> None:
    with pytest.raises(PayloadConversionError, match="input of takes is not valid JSON"):
        converter.decode_args(takes, "{nope")


@pytest.mark.parametrize(
    "text",
    [
        '"\\ud800"',
        '"\ud800"',
        "NaN",
        "123456789012345678901234567890",
        '{"a": 1, "a": 2}',
        " [1.5e3] ",
    ],
)
def test_json_reads_as_the_standard_library_reads_it(text: str) -> None:
    decoded = DataConverter().decode(text)
    assert repr(decoded) == repr(json.loads(text))


def test_unencodable_value_is_reported() -> None:
    with pytest.raises(PayloadConversionError, match="cannot encode a object"):
        converter.encode(object())


def test_size_limit_names_field_size_and_limit() -> None:
    text = "x" * (MAX_DATA_LENGTH + 1)
    with pytest.raises(PayloadTooLargeError) as info:
        check_size("input", text)
    assert info.value.field == "input"
    assert info.value.size == MAX_DATA_LENGTH + 1
    assert "32,769 characters" in str(info.value)
    assert "32,768" in str(info.value)
    assert check_size("input", "x" * MAX_DATA_LENGTH) == "x" * MAX_DATA_LENGTH


def test_truncate_keeps_within_limit_and_marks_it() -> None:
    assert truncate("abc", 10) == "abc"
    cut = truncate("a" * 500, 256)
    assert len(cut) == 256
    assert cut.endswith("[truncated]")


def untyped():  # type: ignore[no-untyped-def]
    raise NotImplementedError


def counts() -> int:
    raise NotImplementedError


@pytest.mark.parametrize(
    "text",
    ['"\\ud800"', '"\ud800"', "NaN", "123456789012345678901234567890", '{"a": 1, "a": 2}', "7"],
)
def test_a_result_reads_as_its_payload_does(text: str) -> None:
    assert repr(converter.decode_result(untyped, text)) == repr(converter.decode_payload(text))


def test_a_result_that_does_not_fit_names_the_function() -> None:
    with pytest.raises(PayloadConversionError, match=r"result of counts does not fit int"):
        converter.decode_result(counts, '"many"')
    with pytest.raises(PayloadConversionError, match=r"result of counts is not valid JSON"):
        converter.decode_result(counts, "{nope")
    for empty in (None, ""):
        with pytest.raises(PayloadConversionError, match=r"result of counts does not fit int"):
            converter.decode_result(counts, empty)


def _spying(method: str, seen: list[str]) -> DataConverter:
    """A converter whose ``method`` is overridden by one that notes each call in ``seen``."""
    base = getattr(DataConverter, method)

    def spy(self: DataConverter, *args: object, **kwargs: object) -> object:
        seen.append(method)
        return base(self, *args, **kwargs)

    converter: DataConverter = type("Spying", (DataConverter,), {method: spy})()
    return converter


@pytest.mark.parametrize("method", ["decode", "_validate", "decode_payload", "payload_json"])
def test_a_result_goes_through_what_a_subclass_overrides(method: str) -> None:
    seen: list[str] = []
    assert _spying(method, seen).decode_result(counts, "3") == 3
    assert seen == [method]


@pytest.mark.parametrize("method", ["encode", "encode_payload"])
def test_arguments_go_through_what_a_subclass_overrides(method: str) -> None:
    seen: list[str] = []
    assert _spying(method, seen).encode_args([1, "a"]) == DataConverter().encode_args([1, "a"])
    assert seen == [method]


def test_an_argument_that_cannot_be_encoded_is_named() -> None:
    with pytest.raises(PayloadConversionError, match="argument 2: cannot encode a object"):
        converter.encode_args([1, object()])
