"""The transport's SigV4 signer writes the very headers botocore's ``SigV4Auth`` writes.

Compared over many generated requests (credentials with and without a session token, regions,
services, endpoints, bodies of unicode, bytes and nothing, headers of every shape, dates far
apart and one key slot shared by all of them), at the timestamp botocore chose, and for the
requests it leaves to botocore's own algorithm.
"""

from __future__ import annotations

import io
import json
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioswf._transport.signing import (
    SIGNATURE_VERSION,
    SigningKeys,
    SWFSigV4Auth,
    choose_signer,
    derive_key,
    sign,
)

SWF_HEADERS = {
    "X-Amz-Target": "SimpleWorkflowService.RespondActivityTaskCompleted",
    "Content-Type": "application/x-amz-json-1.0",
    "User-Agent": "aioswf/1 botocore/1",
}
URLS = [
    "http://127.0.0.1:8765/",
    "http://127.0.0.1:8765",
    "https://swf.us-east-1.amazonaws.com/",
    "https://swf.eu-west-1.amazonaws.com:443/",
    "http://EXAMPLE.com:80/",
    "http://localhost:4566/a/../b//c/",
    "http://[::1]:8042/",
    "https://swf.cn-north-1.amazonaws.com.cn/~user/with space/",
]
REGIONS = ["us-east-1", "eu-west-3", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]


def botocore_sign_at(request: AWSRequest, credentials: Any, region: str, timestamp: str) -> None:
    """``SigV4Auth.add_auth`` with its clock read replaced by ``timestamp``, step for step."""
    auth = SigV4Auth(credentials, "swf", region)
    request.context["timestamp"] = timestamp
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    signature = auth.signature(auth.string_to_sign(request, canonical), request)
    auth._inject_signature_to_request(request, signature)


def make_request(
    url: str, body: bytes | str, headers: list[tuple[str, str]], method: str = "POST"
) -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=dict(SWF_HEADERS))
    for name, value in headers:  # appended: repeated names stay repeated
        request.headers[name] = value
    return request


def twins(url: str, body: bytes | str, headers: list[tuple[str, str]], method: str = "POST"):  # type: ignore[no-untyped-def]
    return make_request(url, body, headers, method), make_request(url, body, headers, method)


def signed_headers(request: AWSRequest) -> list[tuple[str, str]]:
    return list(request.headers.items())


KEYS = SigningKeys()  # one slot for every generated request: dates, regions, secrets all change

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)
bodies = st.one_of(
    st.just(b""),
    st.just(""),
    json_values.map(lambda value: json.dumps(value).encode()),
    json_values.map(lambda value: json.dumps(value, ensure_ascii=False)),
    json_values.map(lambda value: json.dumps(value, ensure_ascii=False).encode()),
)
header_names = st.sampled_from(
    [
        "X-Extra",
        "x-extra",
        "X-AMZ-META-Thing",
        "Host",
        "User-Agent",
        "Connection",
        "Expect",
        "X-Amzn-Trace-Id",
        "Authorization",
        "X-Amz-Date",
        "X-Amz-Security-Token",
        "amz-sdk-invocation-id",
    ]
)
header_values = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(" \t"),
    max_size=20,
)
timestamps = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda moment: moment.strftime(SIGV4_TIMESTAMP)
)
keys_text = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=1, max_size=20)
credentials = st.builds(
    ReadOnlyCredentials,
    access_key=keys_text,
    secret_key=st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
    token=st.none() | st.just("") | st.text(alphabet=string.printable.strip(), min_size=1),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    url=st.sampled_from(URLS),
    body=bodies,
    headers=st.lists(st.tuples(header_names, header_values), max_size=4),
    method=st.sampled_from(["POST", "post", "GET"]),
    creds=credentials,
    region=st.sampled_from(REGIONS),
    timestamp=timestamps,
)
def test_every_generated_request_is_signed_as_botocore_signs_it(
    url: str,
    body: bytes | str,
    headers: list[tuple[str, str]],
    method: str,
    creds: ReadOnlyCredentials,
    region: str,
    timestamp: str,
) -> None:
    ours, theirs = twins(url, body, headers, method)
    botocore_sign_at(theirs, creds, region, timestamp)
    assert sign(ours, creds, region, "swf", timestamp, KEYS)
    assert signed_headers(ours) == signed_headers(theirs)
    assert ours.context["timestamp"] == theirs.context["timestamp"]


def test_the_reference_is_botocores_add_auth() -> None:
    # The step-for-step reference above against add_auth itself, at the second it chose.
    creds = Credentials("AKID", "secret/é", "session-token")
    for attempt in range(5):
        theirs, ours = twins(URLS[0], b'{"domain": "d"}', [])
        SigV4Auth(creds.get_frozen_credentials(), "swf", "us-east-1").add_auth(theirs)
        botocore_sign_at(
            ours, creds.get_frozen_credentials(), "us-east-1", theirs.context["timestamp"]
        )
        assert signed_headers(ours) == signed_headers(theirs), attempt


def _same_second(build: Any, creds: Any = None, region: str = "eu-west-1") -> None:
    """``SWFSigV4Auth.add_auth`` and ``SigV4Auth.add_auth`` on twin requests write the same
    headers (tried again if the clock's second turned between the two)."""
    creds = creds or Credentials("AKID", "secret", "token").get_frozen_credentials()
    for _ in range(5):
        ours, theirs = build(), build()
        SigV4Auth(creds, "swf", region).add_auth(theirs)
        SWFSigV4Auth(creds, "swf", region).add_auth(ours)
        if ours.context["timestamp"] == theirs.context["timestamp"]:
            assert signed_headers(ours) == signed_headers(theirs)
            return
    raise AssertionError("the clock's second kept turning")


def test_add_auth_signs_a_plain_request_as_botocore_does() -> None:
    _same_second(lambda: make_request(URLS[0], b'{"taskToken": "t"}', []))


def _with_context(request: AWSRequest, **context: Any) -> AWSRequest:
    request.context.update(context)
    return request


@pytest.mark.parametrize(
    "build",
    [
        lambda: AWSRequest("GET", URLS[2], params={"b": "2 3", "a": "é"}, headers=SWF_HEADERS),
        lambda: make_request("https://swf.us-east-1.amazonaws.com/?b=1&a=2", b"{}", []),
        lambda: make_request(URLS[0], b"{}", [("Date", "Mon, 30 Nov 2026 01:00:00 GMT")]),
        lambda: make_request(URLS[0], b"{}", [("X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD")]),
        lambda: _with_context(make_request(URLS[2], b"{}", []), payload_signing_enabled=False),
        lambda: _with_context(
            make_request(URLS[2], b"{}", []),
            checksum={"request_algorithm": {"in": "trailer", "name": "x-amz-checksum-crc32"}},
        ),
        lambda: AWSRequest("POST", URLS[0], data=io.BytesIO(b'{"a": 1}'), headers=SWF_HEADERS),
        lambda: AWSRequest("POST", URLS[0], data={"a": "b c", "é": "1"}, headers=SWF_HEADERS),
        lambda: make_request(URLS[0], b"{}", [(" X-Padded ", "v")]),
    ],
    ids=[
        "params",
        "query",
        "date-header",
        "content-sha256",
        "unsigned-payload",
        "checksum-trailer",
        "file-body",
        "form-body",
        "padded-name",
    ],
)
def test_other_requests_get_botocores_own_algorithm(build: Any) -> None:
    _same_second(build)


def test_a_header_botocore_cannot_sign_fails_alike() -> None:
    creds = Credentials("AKID", "secret").get_frozen_credentials()
    for auth_class in (SigV4Auth, SWFSigV4Auth):
        request = make_request(URLS[0], b"{}", [("X-Bytes", b"raw")])  # type: ignore[list-item]
        with pytest.raises(TypeError):
            auth_class(creds, "swf", "us-east-1").add_auth(request)


def test_the_key_slot_follows_dates_regions_and_refreshed_secrets() -> None:
    keys = SigningKeys()
    midnight = datetime(2026, 11, 30, tzinfo=UTC)
    steps = [
        ("AKID1", "first secret", "us-east-1", midnight - timedelta(seconds=1)),
        ("AKID1", "first secret", "us-east-1", midnight),  # the date turns
        ("AKID1", "first secret", "eu-west-1", midnight),  # another region
        ("AKID2", "refreshed secret", "eu-west-1", midnight),  # credentials refreshed
        ("AKID2", "refreshed secret", "eu-west-1", midnight + timedelta(hours=23)),
        ("AKID1", "first secret", "eu-west-1", midnight + timedelta(days=1)),
    ]
    for access_key, secret, region, moment in steps:
        creds = ReadOnlyCredentials(access_key, secret, "token")
        timestamp = moment.strftime(SIGV4_TIMESTAMP)
        ours, theirs = twins(URLS[0], '{"é": "😀"}', [])
        botocore_sign_at(theirs, creds, region, timestamp)
        assert sign(ours, creds, region, "swf", timestamp, keys)
        assert signed_headers(ours) == signed_headers(theirs), (access_key, region, moment)


def test_a_refreshed_secret_replaces_the_old_one_in_the_slot() -> None:
    keys = SigningKeys()
    old = keys.key("old secret", "20261130", "us-east-1", "swf")
    new = keys.key("new secret", "20261130", "us-east-1", "swf")
    assert old != new == derive_key("new secret", "20261130", "us-east-1", "swf")
    assert "old secret" not in repr(keys._scope)


def test_the_slot_derives_a_key_once_per_scope() -> None:
    keys = SigningKeys()
    first = keys.key("secret", "20261130", "us-east-1", "swf")
    assert keys.key("secret", "20261130", "us-east-1", "swf") is first


@pytest.mark.parametrize(
    ("signature_version", "context", "expected"),
    [
        ("v4", {"auth_type": "v4"}, SIGNATURE_VERSION),
        ("v4", {"auth_type": "v4", "unsigned_payload": True}, None),
        ("v4-unsigned-body", {"auth_type": "v4-unsigned-body"}, None),
        ("v4a", {"auth_type": "v4a"}, None),
        ("bearer", {"auth_type": "bearer"}, None),
        ("v4", {"auth_type": "none"}, None),
        ("v4", {}, SIGNATURE_VERSION),  # SWF's operations name no auth type
        ("v4", {"auth_type": None}, SIGNATURE_VERSION),
        ("v4a", {}, None),
    ],
)
def test_only_plain_sigv4_is_taken_over(
    signature_version: str, context: dict[str, Any], expected: str | None
) -> None:
    keys = SigningKeys()
    assert choose_signer(signature_version, context, keys) == expected
    assert (context.get("aioswf_signing_keys") is keys) == (expected is not None)
