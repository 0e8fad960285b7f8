"""The one HTTP seam: an ``httpx.Client`` with auth, timeouts, retries and typed errors.

Retry policy (exponential back-off with full jitter, ``Retry-After`` honoured):

* connection not established (refused, connect timeout): always retried;
* 429 and 503 (the server says it did not do the work): always retried;
* other 5xx, read timeouts, dropped connections: retried only for idempotent calls
  (GET, PUT, DELETE). A non-idempotent call (a create) is never re-sent blindly: when
  the caller gives ``reconcile``, it is asked whether the first attempt took effect
  (e.g. a dataset with that name now exists) and its answer is returned instead.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Self

import httpx

from mafmt.client._auth import AkSkAuth, TokenAuth, canonical_query
from mafmt.client._config import Config, mask
from mafmt.client._errors import APIConnectionError, APITimeoutError, error_for, iam_call

__all__ = ["Transport"]

log = logging.getLogger("mafmt.client")

JSON_TYPE = "application/json;charset=UTF-8"
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
ALWAYS_RETRY_STATUS = frozenset({429, 503})
RETRY_STATUS = frozenset({500, 502, 504})


class Transport:
    """Sends ModelArts requests; ``request`` returns the decoded JSON body (or None).

    Args:
        config: resolved configuration (credentials, endpoints, timeout, retries).
        http: an existing ``httpx.Client`` (tests may inject one); otherwise one is made.
        backoff: first back-off in seconds; doubles per attempt up to ``max_backoff``.
    """

    def __init__(
        self,
        config: Config,
        *,
        http: httpx.Client | None = None,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._own = http is None
        self.http = http or httpx.Client(timeout=config.timeout, headers={"User-Agent": "mafmt"})
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self.auth = self._make_auth()
        self.last_request_id: str | None = None

    def __repr__(self) -> str:
        return f"Transport(endpoint={self.config.modelarts_url!r}, ak={mask(self.config.ak)!r})"

    def _make_auth(self) -> httpx.Auth | None:
        cfg = self.config
        if cfg.mode == "aksk":
            assert cfg.ak and cfg.sk
            return AkSkAuth(cfg.ak, cfg.sk, project_id=cfg.project_id, security_token=cfg.security_token)
        if cfg.mode == "password":
            assert cfg.username and cfg.password
            return TokenAuth(
                cfg.iam_url,
                username=cfg.username,
                password=cfg.password,
                account=cfg.account,
                project_id=cfg.project_id,
                region=cfg.region,
                http=self.http,
                timeout=cfg.timeout,
            )
        return None

    @property
    def project_id(self) -> str:
        """The project ID (from the configuration, or from the IAM token)."""
        pid = self.config.project_id or getattr(self, "_looked_up", None)
        if not pid and isinstance(self.auth, TokenAuth):
            self.auth.token()
            pid = self.auth.project_id
        if not pid and isinstance(self.auth, AkSkAuth):
            pid = self._lookup_project()
        if not pid:
            from mafmt.errors import UsageError

            raise UsageError("no project ID: pass project_id or set HUAWEICLOUD_SDK_PROJECT_ID")
        return pid

    def _lookup_project(self) -> str | None:
        """The region's project ID from IAM (``GET /v3/projects?name=<region>``, auth.md §2.5)."""
        url = f"{self.config.iam_url}/v3/projects"
        resp = iam_call(lambda: self.http.get(url, params={"name": self.config.region},
                                              auth=self.auth or httpx.USE_CLIENT_DEFAULT), url)
        projects = (resp.json() or {}).get("projects") or []
        if len(projects) != 1:
            from mafmt.errors import UsageError

            raise UsageError(f"IAM knows {len(projects)} projects named {self.config.region!r}; pass project_id")
        self._looked_up: str = projects[0]["id"]
        if isinstance(self.auth, AkSkAuth):
            self.auth.project_id = self._looked_up
        return self._looked_up

    def close(self) -> None:
        """Close the HTTP client if this transport created it."""
        if self._own:
            self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None:
            after = response.headers.get("Retry-After")
            if after:
                try:
                    return min(float(after), self.max_backoff)
                except ValueError:
                    pass
        cap = min(self.max_backoff, self.backoff * (2**attempt))
        return random.uniform(cap / 2, cap)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        reconcile: Callable[[], Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one call and return its decoded JSON body (None for an empty body).

        ``path`` may contain ``{project_id}``. Raises a typed :class:`APIError`.
        """
        method = method.upper()
        if "{project_id}" in path:
            path = path.replace("{project_id}", self.project_id)
        idem = method in IDEMPOTENT if idempotent is None else idempotent
        query = canonical_query((params or {}).items())
        url = self.config.modelarts_url + path + (f"?{query}" if query else "")
        content = None
        headers = {"Content-Type": "application/json"}
        if json_body is not None:
            content = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = JSON_TYPE
        attempt = 0
        while True:
            response: httpx.Response | None = None
            error: Exception | None = None
            sent = True
            try:
                response = self.http.request(
                    method, url, content=content, headers=headers, auth=self.auth or httpx.USE_CLIENT_DEFAULT,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                error, sent = exc, False
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                error = exc
            if response is not None:
                self.last_request_id = response.headers.get("X-Request-Id")
                if response.status_code < 400:
                    return _decode(response)
                retry = response.status_code in ALWAYS_RETRY_STATUS or (
                    response.status_code in RETRY_STATUS and (idem or reconcile is not None)
                )
                if not retry or attempt >= self.config.max_retries:
                    raise error_for(response)
                if not idem and response.status_code not in ALWAYS_RETRY_STATUS and reconcile is not None:
                    found = reconcile()
                    if found is not None:
                        return found
            else:
                assert error is not None
                if attempt >= self.config.max_retries or (sent and not idem and reconcile is None):
                    cls = APITimeoutError if isinstance(error, httpx.TimeoutException) else APIConnectionError
                    raise cls(f"{method} {path}: {type(error).__name__}: {error}") from None
                if sent and not idem and reconcile is not None:
                    found = reconcile()
                    if found is not None:
                        log.info("%s %s: first attempt took effect; not sent again", method, path)
                        return found
            delay = self._delay(attempt, response)
            log.info("%s %s failed (%s); retry %d in %.2fs", method, path,
                     response.status_code if response is not None else type(error).__name__, attempt + 1, delay)
            self._sleep(delay)
            attempt += 1


def _decode(response: httpx.Response) -> Any:
    text = response.text
    if not text.strip():
        return None
    try:
        body = json.loads(text)
    except ValueError:
        return text
    if isinstance(body, dict) and body.get("is_success") is False:
        raise error_for(response)
    return body
