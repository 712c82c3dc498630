"""Headers beside an input: present only when set, invisible to argument decoding."""

from __future__ import annotations

import json

import pytest

from aioswf._envelope import unwrap, wrap
from aioswf.converter import DataConverter


def greet(name: str, times: int = 1) -> str:
    return name * times


def test_no_headers_leaves_the_input_as_other_clients_send_it() -> None:
    assert wrap('["ann",2]', {}) == '["ann",2]'
    assert wrap(None, {}) is None
    assert unwrap('["ann",2]') == ('["ann",2]', {})
    assert unwrap(None) == (None, {})


@pytest.mark.parametrize("plain", ['["ann",2]', '{"name":"ann","times":2}', None])
def test_headers_round_trip_and_arguments_decode_unchanged(plain: str | None) -> None:
    wrapped = wrap(plain, {"traceparent": "00-abc-01", "ünïcode": "✓"})
    assert wrapped is not None
    assert json.loads(wrapped)["aioswf:headers"]["ünïcode"] == "✓"
    data, headers = unwrap(wrapped)
    assert headers == {"traceparent": "00-abc-01", "ünïcode": "✓"}
    assert json.loads(data or "[]") == json.loads(plain or "[]")
    expected = [] if plain is None else ["ann", 2]
    if plain is None:
        assert DataConverter().decode_args(lambda: None, wrapped) == expected
    else:
        assert DataConverter().decode_args(greet, wrapped) == expected


def test_an_object_of_named_arguments_is_never_taken_for_headers() -> None:
    named = '{"name":"aioswf:headers","times":3}'
    assert unwrap(named) == (named, {})
    assert DataConverter().decode_args(greet, named) == ["aioswf:headers", 3]


def test_text_that_is_not_json_is_left_for_the_decoder_to_report() -> None:
    assert unwrap('{"aioswf:headers": oops') == ('{"aioswf:headers": oops', {})


def test_headers_that_are_not_an_object_are_set_aside_saying_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = '{"aioswf:headers":"trace-1","aioswf:args":["ann",2]}'
    assert unwrap(text) == ('["ann",2]', {})
    assert "aioswf:headers is a str, not an object" in caplog.text
