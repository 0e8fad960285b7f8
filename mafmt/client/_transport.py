"""The one HTTP seam: an ``httpx.Client`` with auth, timeouts, retries and typed errors.

Retry policy (exponential back-off with full jitter, ``Retry-After`` honoured):

* connection not established (refused, connect timeout): always retried;
* 429 and 503 (the server says it did not do the work): always retried;
* other 5xx, read timeouts, dropped connections: retried only for idempotent calls
  (GET, PUT, DELETE). A create is never re-sent blindly: it names its object with an
  :class:`~mafmt.client._create.Identity`, and an unknown outcome is settled as
  :mod:`mafmt.client._create` describes (found and returned, re-sent only after a 5xx
  that made nothing, or :class:`~mafmt.client._errors.OutcomeUnknownError`).

The server's clock is learnt from the ``Date`` header of every answer, so "created
after this request started" is judged in the server's time.
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
from mafmt.client._create import Identity, settle
from mafmt.client._errors import APIConnectionError, APITimeoutError, OutcomeUnknownError, error_for, iam_call
from mafmt.client._errors import no_answer as _no_answer

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
        #: server clock minus local clock, seconds (from the last ``Date`` header)
        self.clock_offset = 0.0

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

    def server_now_ms(self) -> int:
        """The server's current time (epoch ms), as far as its ``Date`` headers tell."""
        return int((time.time() + self.clock_offset) * 1000)

    def _learn_clock(self, response: httpx.Response) -> None:
        """Each ``Date`` header (whole seconds, sent before we read it) gives a lower
        bound of the server-minus-local offset; the largest of the recent ones is the
        estimate, never later than the server's real time."""
        stamp = response.headers.get("Date")
        if stamp:
            from email.utils import parsedate_to_datetime

            try:
                sample = parsedate_to_datetime(stamp).timestamp() - time.time()
            except (TypeError, ValueError):
                return
            self._offsets = [*getattr(self, "_offsets", [])[-31:], sample]
            self.clock_offset = max(self._offsets)

    def settle_window(self) -> float:
        """How long to look for the object of a create whose answer was lost: twice the
        read timeout, so a slow first attempt has landed or failed by then."""
        if self.config.settle_timeout is not None:
            return float(self.config.settle_timeout)
        return 2.0 * float(self.config.timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        create: Identity | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Send one call and return its decoded JSON body (None for an empty body).

        ``path`` may contain ``{project_id}``. ``create`` names the object a create
        makes, so a lost answer can be settled without a duplicate. Raises a typed
        :class:`APIError` (:class:`OutcomeUnknownError` when a create may have happened).
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
        started = self.server_now_ms()  # in the server's clock, at most ~1 s early (see _learn_clock)
        uncertain = False  # an earlier attempt of this create may have taken effect
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
                self._learn_clock(response)
                if response.status_code < 400:
                    return _decode(response)
                status = response.status_code
                if create is not None and uncertain and status < 500 and self._exists(response, create):
                    found, _ = settle(create, started, min(1.0, self.settle_window()), sleep=self._sleep)
                    if found is not None:
                        log.info("%s %s: already exists, and it is the one this call made", method, path)
                        return found
                if create is not None and status in RETRY_STATUS:
                    uncertain = True
                    found, checked = settle(create, started, min(1.0, self.settle_window()), sleep=self._sleep)
                    if found is not None:
                        log.info("%s %s: answered %d, but the object was made; not sent again", method, path, status)
                        return found
                    if not checked and not create.exists_codes:
                        check = create.describe(started)
                        raise OutcomeUnknownError(
                            f"{method} {path}: answered {status}, and the {create.kind}s could not be listed to see "
                            f"whether it was made anyway: check for a {check} before creating it again",
                            kind=create.kind, name=create.name, check=check)
                retry = status in ALWAYS_RETRY_STATUS or (status in RETRY_STATUS and (idem or create is not None))
                if not retry or attempt >= self.config.max_retries:
                    raise error_for(response)
            else:
                assert error is not None
                if sent and not idem and create is not None:
                    found, _ = settle(create, started, self.settle_window(), sleep=self._sleep)
                    if found is not None:
                        log.info("%s %s: first attempt took effect; not sent again", method, path)
                        return found
                    check = create.describe(started)
                    raise OutcomeUnknownError(
                        f"{method} {path}: no answer ({_no_answer(error)}), and no {check} showed up within "
                        f"{self.settle_window():g}s: it may still appear; check for it before creating it again",
                        kind=create.kind, name=create.name, check=check) from None
                if attempt >= self.config.max_retries or (sent and not idem):
                    cls = APITimeoutError if isinstance(error, httpx.TimeoutException) else APIConnectionError
                    raise cls(f"{method} {path}: no answer from {self.config.modelarts_url}: "
                              f"{_no_answer(error)}") from None
            delay = self._delay(attempt, response)
            log.info("%s %s failed (%s); retry %d in %.2fs", method, path,
                     response.status_code if response is not None else type(error).__name__, attempt + 1, delay)
            self._sleep(delay)
            attempt += 1

    @staticmethod
    def _exists(response: httpx.Response, create: Identity) -> bool:
        """Whether an error answer says "such an object already exists"."""
        err = error_for(response)
        return response.status_code == 409 or (err.error_code or "") in create.exists_codes


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

