"""SigV4 signing of SWF's requests: the same bytes as botocore's signer, for a fraction of its CPU.

botocore's ``SigV4Auth`` spends about a sixth of an SWF call's client CPU: it derives the
signing key with four HMACs on every request, although the key only changes with the date,
the region, the service and the secret; it builds the header list twice through
``email.message``; and it prepares the whole request once more to read its body. SWF's
requests are all alike (``POST /`` with a JSON body and a handful of headers), so
:class:`SWFSigV4Auth` builds the canonical request for them directly, with the derived key
kept per client (:class:`SigningKeys`), and leaves every other request (a query string,
a file-like body, a ``Date`` header, an unsigned payload…) to botocore's own algorithm.

The output is byte-identical to ``SigV4Auth``'s (``Authorization``, ``X-Amz-Date`` and
``X-Amz-Security-Token``); the tests compare the two over many requests. It plugs in through
botocore's event system, for one client only: the client's ``choose-signer`` event names
:data:`SIGNATURE_VERSION`, and botocore then builds this signer as it would its own, with
the credentials it froze for this request, so refreshing credentials (roles, SSO) refresh
here too; a signer botocore or the caller's session chooses still wins. The derived key never
outlives its secret: it is replaced by the first request signed after a refresh.
"""

from __future__ import annotations

import functools
import hmac
from hashlib import sha256
from typing import Any
from urllib.parse import quote, urlsplit

import botocore.auth
from botocore.auth import EMPTY_SHA256_HASH, SIGNED_HEADERS_BLACKLIST, SIGV4_TIMESTAMP, SigV4Auth
from botocore.compat import get_current_datetime
from botocore.exceptions import NoCredentialsError
from botocore.utils import is_valid_ipv6_endpoint_url, normalize_url_path

SIGNATURE_VERSION = "aioswf-v4"
"""The name under which botocore finds :class:`SWFSigV4Auth` (``botocore.auth.AUTH_TYPE_MAPS``)."""

_KEYS = "aioswf_signing_keys"
"""Where, in a request's context, its client's :class:`SigningKeys` travel to the signer."""

_ALGORITHM = "AWS4-HMAC-SHA256"
_UNSIGNED_HEADERS = frozenset(SIGNED_HEADERS_BLACKLIST)
_DEFAULT_PORTS = {"http": 80, "https": 443}


class SigningKeys:
    """One client's latest SigV4 signing key and the scope it was derived for.

    One slot, not a cache of many: a client signs with one secret at a time, and a new date,
    region or secret (after a refresh) replaces the old key at once.
    """

    __slots__ = ("_key", "_scope")

    def __init__(self) -> None:
        self._scope: tuple[str, str, str, str] | None = None
        self._key = b""

    def key(self, secret: str, date: str, region: str, service: str) -> bytes:
        """The key for ``date`` (``YYYYMMDD``), ``region`` and ``service``, derived once."""
        scope = (secret, date, region, service)
        if scope != self._scope:
            self._key = derive_key(secret, date, region, service)
            self._scope = scope
        return self._key


def derive_key(secret: str, date: str, region: str, service: str) -> bytes:
    """SigV4's signing key: HMAC-SHA256 chained over the date, region, service and request."""
    key = hmac.digest(f"AWS4{secret}".encode(), date.encode(), "sha256")
    for part in (region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


class SWFSigV4Auth(SigV4Auth):  # type: ignore[misc]
    """botocore's SigV4 signer, with a direct path for requests shaped like SWF's.

    botocore creates one per request (``RequestSigner.get_auth_instance``) with that
    request's frozen credentials, region and signing name.
    """

    def add_auth(self, request: Any) -> None:
        if self.credentials is None:
            raise NoCredentialsError()
        timestamp = get_current_datetime().strftime(SIGV4_TIMESTAMP)
        keys = request.context.get(_KEYS)
        signed = _is_plain(request) and sign(
            request, self.credentials, self._region_name, self._service_name, timestamp, keys
        )
        if not signed:
            super().add_auth(request)


def _is_plain(request: Any) -> bool:
    """Whether ``request`` is one :func:`sign` covers; the rest keep botocore's algorithm.

    Covered: no query string, a body of bytes or text, the payload signed, no ``Date`` or
    ``X-Amz-Content-SHA256`` header of the caller's, no checksum. :func:`sign` checks the
    headers themselves as it reads them.
    """
    context = request.context
    headers = request.headers
    return (
        not request.params
        and isinstance(request.data, bytes | str)
        and context.get("payload_signing_enabled", True)
        and not context.get("checksum")
        and "?" not in request.url
        and "Date" not in headers
        and "X-Amz-Content-SHA256" not in headers
    )


def sign(
    request: Any,
    credentials: Any,
    region: str,
    service: str,
    timestamp: str,
    keys: SigningKeys | None = None,
) -> bool:
    """Sign ``request`` (a plain one, see :func:`_is_plain`) as ``SigV4Auth.add_auth`` does.

    Args:
        request: a botocore ``AWSRequest``; its headers are replaced as botocore's signer
            replaces them (``Authorization``, ``X-Amz-Date``, ``X-Amz-Security-Token``).
        credentials: frozen botocore credentials (``access_key``, ``secret_key``, ``token``).
        region: the signing region.
        service: the signing name (``swf``).
        timestamp: the signing time, ``YYYYMMDDTHHMMSSZ`` in UTC.
        keys: the client's key slot; ``None`` derives the key afresh.

    Returns:
        ``False``, with no signature, for a header this does not canonicalise exactly as
        botocore does (a value that is not text, a name with blanks around it): the caller
        then signs with botocore's algorithm, which redoes the headers set here alike.
    """
    headers = request.headers
    request.context["timestamp"] = timestamp
    del headers["Authorization"]  # a retry's previous signature
    del headers["X-Amz-Date"]
    headers["X-Amz-Date"] = timestamp
    if credentials.token:
        del headers["X-Amz-Security-Token"]
        headers["X-Amz-Security-Token"] = credentials.token

    to_sign: dict[str, list[str]] = {}
    for name, value in headers.items():
        if not isinstance(value, str) or name != name.strip():
            return False
        lowered = name.lower()
        if lowered not in _UNSIGNED_HEADERS:
            to_sign.setdefault(lowered, []).append(" ".join(value.split()))
    host, path = _host_and_path(request.url)
    if "host" not in to_sign:
        to_sign["host"] = [host]
    names = sorted(to_sign)
    signed_headers = ";".join(names)
    canonical_headers = "".join(f"{name}:{','.join(to_sign[name])}\n" for name in names)

    body = request.data
    if isinstance(body, str):
        body = body.encode()
    payload_hash = sha256(body).hexdigest() if body else EMPTY_SHA256_HASH
    canonical_request = (
        f"{request.method.upper()}\n{path}\n\n{canonical_headers}\n{signed_headers}\n{payload_hash}"
    )

    date = timestamp[:8]
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = (
        f"{_ALGORITHM}\n{timestamp}\n{scope}\n{sha256(canonical_request.encode()).hexdigest()}"
    )
    secret = credentials.secret_key
    key = (keys or SigningKeys()).key(secret, date, region, service)
    signature = hmac.new(key, string_to_sign.encode(), sha256).hexdigest()
    headers["Authorization"] = (
        f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return True


@functools.lru_cache(maxsize=64)
def _host_and_path(url: str) -> tuple[str, str]:
    """The ``host`` header botocore signs for ``url``, and its canonical path."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if is_valid_ipv6_endpoint_url(url):
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host, quote(normalize_url_path(parts.path), safe="/~")


def choose_signer(signature_version: str, context: dict[str, Any], keys: SigningKeys) -> str | None:
    """A ``choose-signer`` answer: this module's signer where botocore would sign plain SigV4.

    Asked last, after botocore's own handlers have all left the choice to the client's
    default (for SWF: ``v4``, its operations name no auth type of their own). Anything else
    (an auth type of the operation's, an unsigned payload) is left alone, by answering
    ``None``.
    """
    if signature_version != "v4" or context.get("auth_type") not in (None, "v4"):
        return None
    if context.get("unsigned_payload"):
        return None
    context[_KEYS] = keys
    return SIGNATURE_VERSION


class ClientSigning:
    """The signer of one botocore client: its key slot and its ``choose-signer`` handler."""

    def __init__(self) -> None:
        self.keys = SigningKeys()

    def attach(self, client: Any) -> None:
        """Make ``client`` (an aiobotocore client) sign with :class:`SWFSigV4Auth`.

        Only this client's events are touched (botocore gives each client its own copy of
        the session's), so other clients of the same session keep botocore's signer.
        """
        # Last, and on the least specific name: botocore's handlers (an auth type of the
        # operation's, a preferred auth scheme, a bearer token) and any of the caller's
        # session answer first; an answer of theirs stands.
        client.meta.events.register_last("choose-signer", self.choose_signer)

    def choose_signer(
        self, signature_version: str, context: dict[str, Any], **_: Any
    ) -> str | None:
        return choose_signer(signature_version, context, self.keys)


# Under a name of our own: only a client whose choose-signer handler names it gets it.
botocore.auth.AUTH_TYPE_MAPS.setdefault(SIGNATURE_VERSION, SWFSigV4Auth)
