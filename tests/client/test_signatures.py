"""Every request the transport sends carries the SigV4 signature AWS would check.

A real HTTP endpoint recomputes each request's signature from what arrived on the wire, with
botocore's own ``SigV4Auth`` and the secret of the access key the request names, and refuses
any request whose ``Authorization`` differs; the transport runs over loopback against it with
session tokens, refreshing credentials, several regions and unicode or empty payloads. The
shared scenarios against moto's server (which routes by the signature's credential scope)
check the same signatures from the other side.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioRefreshableCredentials
from aiobotocore.session import AioSession
from aiohttp import web
from botocore import xform_name
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import CredentialProvider, ReadOnlyCredentials

from aioswf import ConnectionOptions
from aioswf._transport import Transport
from aioswf._transport.signing import SIGNATURE_VERSION

from .swf_by_hand import serving

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<headers>[^,]+), Signature=[0-9a-f]{64}"
)


@dataclass
class CheckingSWF:
    """An SWF endpoint that answers ``{}`` to requests signed right, and 403 to the others."""

    url: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    checked: list[tuple[str, str]] = field(default_factory=list)  # (access key, region)
    refused: list[str] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        problem = self._problem(request, body)
        if problem:
            self.refused.append(problem)
            error = {"__type": "InvalidSignatureException", "message": problem}
            return web.json_response(error, status=403)
        return web.json_response({}, content_type="application/x-amz-json-1.0")

    def _problem(self, request: web.Request, body: bytes) -> str | None:
        authorization = request.headers.get("Authorization", "")
        match = _AUTHORIZATION.fullmatch(authorization)
        if not match:
            return f"not a SigV4 Authorization header: {authorization!r}"
        if match["key"] not in self.secrets:
            return f"unknown access key {match['key']!r}"
        # Rebuild the request from the wire, with the headers the signature names, and sign it
        # as botocore does, at the time the request says it was signed.
        names = match["headers"].split(";")
        headers = [
            (name, value) for name, value in request.headers.items() if name.lower() in names
        ]
        rebuilt = AWSRequest(method=request.method, url=f"{self.url}{request.path}", data=body)
        for name, value in headers:
            rebuilt.headers[name] = value
        token = request.headers.get("X-Amz-Security-Token")
        credentials = ReadOnlyCredentials(match["key"], self.secrets[match["key"]], token)
        auth = SigV4Auth(credentials, match["service"], match["region"])
        rebuilt.context["timestamp"] = request.headers["X-Amz-Date"]
        canonical = auth.canonical_request(rebuilt)
        signature = auth.signature(auth.string_to_sign(rebuilt, canonical), rebuilt)
        auth._inject_signature_to_request(rebuilt, signature)
        if rebuilt.headers["Authorization"] != authorization:
            return f"signature mismatch: {authorization!r} != {rebuilt.headers['Authorization']!r}"
        self.checked.append((match["key"], match["region"]))
        return None


@pytest.fixture
async def checking() -> AsyncIterator[CheckingSWF]:
    swf = CheckingSWF()
    async with serving(swf.handle) as swf.url:
        yield swf


CALLS: list[tuple[str, dict[str, Any]]] = [
    ("DescribeDomain", {"name": "domaine-é"}),
    ("RespondActivityTaskCompleted", {"taskToken": "t" * 700, "result": ""}),
    ("RespondActivityTaskCompleted", {"taskToken": "t"}),
    (
        "StartWorkflowExecution",
        {
            "domain": "d",
            "workflowId": "id with  two spaces",
            "workflowType": {"name": "Flöw", "version": "1"},
            "input": '{"text": "日本語 😀 \\u0000"}',
            "tagList": ["a", "ß"],
        },
    ),
    (
        "SignalWorkflowExecution",
        {"domain": "d", "workflowId": "w", "signalName": "s", "input": "é" * 5000},
    ),
    ("RecordActivityTaskHeartbeat", {"taskToken": "t", "details": ""}),
]


def _session(access_key: str, secret: str, token: str | None) -> AioSession:
    session = AioSession()
    session.set_credentials(access_key, secret, token)
    return session


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "cn-north-1"])
async def test_temporary_credentials_sign_every_call(checking: CheckingSWF, region: str) -> None:
    checking.secrets["ASIATEMPORARY"] = "temporary/secret+é"
    session = _session("ASIATEMPORARY", "temporary/secret+é", "session//token==")
    options = ConnectionOptions(endpoint_url=checking.url, region_name=region)
    async with Transport(options, session=session) as transport:
        for operation, params in CALLS * 3:
            await transport.call(operation, params, retry=False)
    assert checking.refused == []
    assert checking.checked == [("ASIATEMPORARY", region)] * len(CALLS) * 3


class _RotatingProvider(CredentialProvider):  # type: ignore[misc]
    """Credentials that expire within botocore's mandatory refresh window, so each request
    refreshes them: a new access key and secret every time, as an STS role would hand out."""

    METHOD = "rotating-test"

    def __init__(self, secrets: dict[str, str]) -> None:
        super().__init__()
        self.secrets = secrets
        self._serial = itertools.count(1)

    def _fresh(self) -> dict[str, Any]:
        serial = next(self._serial)
        access_key, secret = f"ASIAROTATING{serial:04d}", f"secret-{serial}-ü"
        self.secrets[access_key] = secret
        expiry = datetime.now(UTC) + timedelta(minutes=5)
        return {
            "access_key": access_key,
            "secret_key": secret,
            "token": f"token-{serial}",
            "expiry_time": expiry.isoformat(),
        }

    async def _refresh(self) -> dict[str, Any]:
        return self._fresh()

    async def load(self) -> AioRefreshableCredentials:
        return AioRefreshableCredentials.create_from_metadata(
            self._fresh(), refresh_using=self._refresh, method=self.METHOD
        )


async def test_refreshing_credentials_are_read_afresh_for_each_request(
    checking: CheckingSWF,
) -> None:
    session = AioSession()
    session.get_component("credential_provider").insert_before(
        "env", _RotatingProvider(checking.secrets)
    )
    options = ConnectionOptions(endpoint_url=checking.url, region_name="us-west-2")
    async with Transport(options, session=session) as transport:
        for operation, params in CALLS * 2:
            await transport.call(operation, params, retry=False)
    assert checking.refused == []
    keys = [key for key, _ in checking.checked]
    assert len(keys) == len(CALLS) * 2
    assert len(set(keys)) == len(keys)  # every request signed with the secret of its moment


def _record_signers(client: Any, into: list[str]) -> None:
    """Record, through the client's ``before-sign`` event, the signer each request gets."""

    def record(signature_version: str, **_: Any) -> None:
        into.append(signature_version)

    client.meta.events.register("before-sign.swf", record)


async def test_other_clients_of_the_session_keep_botocores_signer(checking: CheckingSWF) -> None:
    checking.secrets["AKIDSHARED"] = "shared"
    session = _session("AKIDSHARED", "shared", None)
    options = ConnectionOptions(endpoint_url=checking.url, region_name="us-east-1")
    ours: list[str] = []
    theirs: list[str] = []
    async with (
        Transport(options, session=session) as transport,
        session.create_client(
            "swf",
            endpoint_url=checking.url,
            region_name="us-east-1",
            config=AioConfig(retries={"total_max_attempts": 1}),
        ) as plain,
    ):
        _record_signers(transport._client, ours)
        _record_signers(plain, theirs)
        for operation, params in CALLS:
            await transport.call(operation, params, retry=False)
            await getattr(plain, xform_name(operation))(**params)
    assert checking.refused == []
    assert len(checking.checked) == 2 * len(CALLS)
    assert ours == [SIGNATURE_VERSION] * len(CALLS)
    assert theirs == ["v4"] * len(CALLS)


async def test_a_signer_chosen_by_the_callers_session_stands(checking: CheckingSWF) -> None:
    checking.secrets["AKIDCHOSEN"] = "chosen"
    session = _session("AKIDCHOSEN", "chosen", None)
    session.register("choose-signer.swf", lambda **_: "v4")  # the caller insists on botocore's
    options = ConnectionOptions(endpoint_url=checking.url, region_name="us-east-1")
    signers: list[str] = []
    async with Transport(options, session=session) as transport:
        _record_signers(transport._client, signers)
        await transport.call("DescribeDomain", {"name": "d"}, retry=False)
    assert signers == ["v4"]
    assert checking.refused == []


async def test_a_wrong_secret_is_refused(checking: CheckingSWF) -> None:
    # The check itself can fail: a request signed with another secret is caught.
    checking.secrets["AKIDWRONG"] = "the real secret"
    session = _session("AKIDWRONG", "not the secret", None)
    options = ConnectionOptions(endpoint_url=checking.url, region_name="us-east-1")
    async with Transport(options, session=session) as transport:
        with pytest.raises(Exception, match="signature mismatch"):
            await transport.call("DescribeDomain", {"name": "d"}, retry=False)
    assert len(checking.refused) == 1


async def test_moto_reads_our_credential_scope_as_botocores(moto_endpoint: str) -> None:
    # moto routes each request by its signature's credential scope (service and region): a
    # domain registered through the transport in one region is the one a plain aiobotocore
    # client, signing with botocore's signer, finds there, and only there.
    options = ConnectionOptions(endpoint_url=moto_endpoint, region_name="eu-west-3")
    async with Transport(options, session=_session("AKIDMOTO", "moto", "token")) as transport:
        await transport.call(
            "RegisterDomain", {"name": "scoped", "workflowExecutionRetentionPeriodInDays": "1"}
        )
    session = _session("AKIDMOTO", "moto", "token")
    config = AioConfig(retries={"total_max_attempts": 1})
    async with (
        session.create_client(
            "swf", endpoint_url=moto_endpoint, region_name="eu-west-3", config=config
        ) as same_region,
        session.create_client(
            "swf", endpoint_url=moto_endpoint, region_name="us-east-1", config=config
        ) as other_region,
    ):
        found = await same_region.describe_domain(name="scoped")
        assert found["domainInfo"]["name"] == "scoped"
        with pytest.raises(other_region.exceptions.UnknownResourceFault):
            await other_region.describe_domain(name="scoped")
