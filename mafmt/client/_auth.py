"""Authentication: SDK-HMAC-SHA256 request signing and IAM tokens, as ``httpx.Auth``.

The signing functions are pure (method, path, query pairs, headers, body) so the
emulator verifies with exactly the code the client signs with. Standard library only.

Which headers are signed: a fixed, documented set, :data:`SIGNED_HEADERS` — the ones the
official signer (huaweicloudsdkcore) signs on the SDK's own requests (``content-type``,
``host``, ``user-agent``, ``x-project-id``, ``x-sdk-date``), plus ``x-security-token``
(temporary credentials) and ``x-sdk-content-sha256`` (unsigned payloads) when present.
Hop-by-hop headers (``Connection``, ``Keep-Alive``, ``TE``, ...) and transport-negotiated
ones (``Accept``, ``Accept-Encoding``, ``Content-Length``) are never signed, so a gateway
or TLS-terminating proxy that rewrites them does not break the signature.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Generator, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

import httpx

__all__ = [
    "ALGORITHM",
    "EMPTY_HASH",
    "SIGNED_HEADERS",
    "AkSkAuth",
    "TokenAuth",
    "authorization",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "parse_authorization",
    "signature",
    "split_query",
]

ALGORITHM = "SDK-HMAC-SHA256"
EMPTY_HASH = hashlib.sha256(b"").hexdigest()
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
UNSIGNED = "UNSIGNED-PAYLOAD"


def _enc(s: str) -> str:
    return quote(s, safe="~")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def canonical_uri(path: str) -> str:
    """Percent-decode, re-encode each segment, always end with ``/``."""
    uri = "/".join(_enc(seg) for seg in unquote(path).split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(pairs: Iterable[tuple[str, Any]]) -> str:
    """Pairs sorted by name then value, both encoded; lists give one pair per element."""
    flat: list[tuple[str, str]] = []
    for name, value in pairs:
        if isinstance(value, (list, tuple)):
            flat.extend((name, _text(v)) for v in value)
        elif value is not None:
            flat.append((name, _text(value)))
    flat.sort()
    return "&".join(f"{_enc(k)}={_enc(v)}" for k, v in flat)


def split_query(raw: str) -> list[tuple[str, str]]:
    """Decoded (name, value) pairs of a raw query string (``+`` is literal)."""
    pairs = []
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote(name), unquote(value)))
    return pairs


#: the headers a request is signed with, when present (lower case)
SIGNED_HEADERS = frozenset({"content-type", "host", "user-agent", "x-project-id", "x-sdk-content-sha256",
                            "x-sdk-date", "x-security-token"})


def signed_header_names(headers: Mapping[str, str]) -> list[str]:
    """Every header name without ``_``, lower-cased and sorted."""
    return sorted({k.lower() for k in headers if "_" not in k})


def signable(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers of ``headers`` that :data:`SIGNED_HEADERS` names (nothing hop-by-hop)."""
    return {k: v for k, v in headers.items() if k.lower() in SIGNED_HEADERS}


def canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, Any]],
    headers: Mapping[str, str],
    body: bytes | None,
    signed: list[str] | None = None,
) -> tuple[str, list[str]]:
    """The canonical request and the signed header names."""
    lower = {k.lower(): str(v).strip() for k, v in headers.items()}
    names = signed if signed is not None else signed_header_names(headers)
    block = "".join(f"{n}:{lower.get(n, '')}\n" for n in names)
    if not body:
        payload = EMPTY_HASH
    else:
        payload = lower.get("x-sdk-content-sha256") or hashlib.sha256(body).hexdigest()
    text = "\n".join(
        [method.upper(), canonical_uri(path), canonical_query(query), block, ";".join(names), payload]
    )
    return text, names


def signature(canonical: str, date: str, sk: str) -> str:
    """Hex HMAC-SHA256, keyed with the SK, of the string to sign."""
    to_sign = f"{ALGORITHM}\n{date}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    return hmac.new(sk.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def authorization(
    method: str,
    path: str,
    query: Iterable[tuple[str, Any]],
    headers: Mapping[str, str],
    body: bytes | None,
    ak: str,
    sk: str,
) -> str:
    """The ``Authorization`` value for a request whose headers already hold ``X-Sdk-Date``
    and ``Host`` (and ``X-Sdk-Content-Sha256`` when needed)."""
    date = next((v for k, v in headers.items() if k.lower() == "x-sdk-date"), None)
    if date is None:
        raise ValueError("X-Sdk-Date header is required")
    text, names = canonical_request(method, path, query, headers, body)
    return f"{ALGORITHM} Access={ak}, SignedHeaders={';'.join(names)}, Signature={signature(text, date, sk)}"


def parse_authorization(value: str) -> dict[str, str] | None:
    """``{"Access", "SignedHeaders", "Signature"}`` of an Authorization value, or None."""
    if not value.startswith(ALGORITHM + " "):
        return None
    parts: dict[str, str] = {}
    for item in value[len(ALGORITHM) + 1 :].split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts[key] = val
    if not {"Access", "SignedHeaders", "Signature"} <= parts.keys():
        return None
    return parts


def sdk_date(now: float | None = None) -> str:
    """UTC time in the ``X-Sdk-Date`` format."""
    t = datetime.fromtimestamp(time.time() if now is None else now, tz=UTC)
    return t.strftime(DATE_FORMAT)


def _raw_path(request: httpx.Request) -> tuple[str, str]:
    raw = request.url.raw_path.decode("ascii")
    path, _, query = raw.partition("?")
    return path, query


class AkSkAuth(httpx.Auth):
    """Signs every request with SDK-HMAC-SHA256 (adds ``X-Sdk-Date``, ``X-Project-Id``,
    ``X-Security-Token``); rewrites the query to its canonical form so that client and
    server agree byte for byte."""

    requires_request_body = True

    def __init__(
        self, ak: str, sk: str, *, project_id: str | None = None, security_token: str | None = None
    ) -> None:
        self.ak = ak
        self._sk = sk
        self.project_id = project_id
        self._security_token = security_token

    def __repr__(self) -> str:
        from mafmt.client._config import mask

        return f"AkSkAuth(ak={mask(self.ak)!r}, project_id={self.project_id!r})"

    def sign(self, request: httpx.Request) -> None:
        """Sign ``request`` in place."""
        path, raw_query = _raw_path(request)
        pairs = split_query(raw_query)
        query = canonical_query(pairs)
        if query != raw_query:
            request.url = request.url.copy_with(query=query.encode("ascii") if query else None)
        headers = request.headers
        for name in ("Authorization", "X-Sdk-Date"):
            headers.pop(name, None)
        headers["X-Sdk-Date"] = sdk_date()
        if self.project_id:
            headers["X-Project-Id"] = self.project_id
        if self._security_token:
            headers["X-Security-Token"] = self._security_token
        ctype = headers.get("Content-Type")
        if ctype and not ctype.startswith(("application/json", "application/bson")):
            headers["X-Sdk-Content-Sha256"] = UNSIGNED
        if "host" not in {k.lower() for k in headers}:
            headers["Host"] = request.url.netloc.decode("ascii")
        plain = signable(headers)
        headers["Authorization"] = authorization(
            request.method, path, pairs, plain, request.content, self.ak, self._sk
        )

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request


#: 401 error codes that mean "get a new token" (auth.md §2.3)
TOKEN_ERRORS = frozenset(
    {"ModelArts.0201", "ModelArts.0202", "ModelArts.0203", "ModelArts.0204", "ModelArts.4127", "ModelArts.5001",
     "ModelArts.5002"}
)
REFRESH_MARGIN = 300.0


class TokenAuth(httpx.Auth):
    """IAM password login: fetches a project-scoped token, caches it, refreshes it
    five minutes before expiry and once on a token-related 401."""

    def __init__(
        self,
        iam_url: str,
        *,
        username: str,
        password: str,
        account: str | None = None,
        project_id: str | None = None,
        region: str | None = None,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.iam_url = iam_url.rstrip("/")
        self.username = username
        self._password = password
        self.account = account
        self.project_id = project_id
        self.region = region
        self._http = http
        self._timeout = timeout
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenAuth(iam_url={self.iam_url!r}, username={self.username!r}, account={self.account!r})"

    def _body(self) -> dict[str, Any]:
        domain = self.account or self.username
        scope = {"id": self.project_id} if self.project_id else {"name": self.region}
        return {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"name": self.username, "password": self._password, "domain": {"name": domain}}},
                },
                "scope": {"project": scope},
            }
        }

    def token(self, *, force: bool = False) -> str:
        """A valid token, logging in when none is cached, it expires soon, or ``force``."""
        with self._lock:
            if force or self._token is None or time.time() > self._expires - REFRESH_MARGIN:
                self._login()
            assert self._token is not None
            return self._token

    def _login(self) -> None:
        from mafmt.client._errors import iam_call

        url = f"{self.iam_url}/v3/auth/tokens"
        http = self._http or httpx.Client(timeout=self._timeout)
        try:
            resp = iam_call(lambda: http.post(
                url,
                params={"nocatalog": "true"},
                content=json.dumps(self._body()).encode(),
                headers={"Content-Type": "application/json;charset=utf8"},
            ), url)
        finally:
            if self._http is None:
                http.close()
        token = resp.headers.get("X-Subject-Token")
        if not token:
            from mafmt.client._errors import error_for

            raise error_for(resp, message=f"IAM {url} answered without an X-Subject-Token header")
        expires = time.time() + 24 * 3600
        try:
            info = resp.json().get("token", {})
            stamp = info.get("expires_at")
            if stamp:
                expires = datetime.fromisoformat(stamp).timestamp()
            self.project_id = self.project_id or info.get("project", {}).get("id")
        except (ValueError, AttributeError):
            pass
        self._token, self._expires = token, expires

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Auth-Token"] = self.token()
        response = yield request
        if response.status_code == 401 and self._token_problem(response):
            request.headers["X-Auth-Token"] = self.token(force=True)
            yield request

    @staticmethod
    def _token_problem(response: httpx.Response) -> bool:
        try:
            response.read()
            body = response.json()
        except (ValueError, httpx.HTTPError):
            return False
        code = str(body.get("error_code", "")) if isinstance(body, dict) else ""
        msg = str(body.get("error_msg", "")) if isinstance(body, dict) else ""
        return code in TOKEN_ERRORS or "token" in msg.lower()
