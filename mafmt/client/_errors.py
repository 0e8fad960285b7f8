"""Typed API errors, built in one place from any of the three error-body shapes.

::

    APIError (mafmt.errors)
    ├── APIConnectionError         no response (refused, dropped, timed out)
    │   └── APITimeoutError
    ├── BadRequestError            400 (also most "not found" errors of the dataset API)
    ├── AuthenticationError        401
    ├── PermissionDeniedError      403
    ├── NotFoundError              404
    ├── ConflictError              409
    ├── RateLimitError             429
    ├── ServerError                5xx
    ├── TaskFailedError            an asynchronous task ended in a failure state
    ├── WaitTimeoutError           a waiter gave up
    └── OutcomeUnknownError        a create may or may not have taken effect (names what to check)
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from mafmt.errors import APIError

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "TaskFailedError",
    "WaitTimeoutError",
    "error_for",
    "iam_call",
    "parse_error_body",
]


class _StatusError(APIError):
    """Base of the HTTP status families; adds ``error_solution`` and the raw ``body``."""

    def __init__(
        self,
        error_msg: str,
        *,
        status_code: int | None = None,
        error_code: str | None = None,
        request_id: str | None = None,
        error_solution: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(error_msg, status_code=status_code, error_code=error_code, request_id=request_id)
        self.error_solution = error_solution
        self.body = body

    @property
    def status(self) -> int | None:
        """Alias of ``status_code``."""
        return self.status_code


class BadRequestError(_StatusError):
    """HTTP 400 (and other 4xx without a family of their own)."""


class AuthenticationError(_StatusError):
    """HTTP 401: missing, wrong or expired credentials."""


class PermissionDeniedError(_StatusError):
    """HTTP 403: credentials valid but not allowed (wrong AK/SK, wrong project)."""


class NotFoundError(_StatusError):
    """HTTP 404."""


class ConflictError(_StatusError):
    """HTTP 409."""


class RateLimitError(_StatusError):
    """HTTP 429: throttled."""


class ServerError(_StatusError):
    """HTTP 5xx."""


class APIConnectionError(APIError):
    """No usable response: connection refused or dropped."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class TaskFailedError(APIError):
    """An asynchronous task or object reached a failure state; ``result`` is its last state."""

    def __init__(self, error_msg: str, *, result: Any = None, error_code: str | None = None) -> None:
        super().__init__(error_msg, error_code=error_code)
        self.result = result


class WaitTimeoutError(APIError):
    """A waiter ran out of time; ``result`` is the last state seen."""

    def __init__(self, error_msg: str, *, result: Any = None) -> None:
        super().__init__(error_msg)
        self.result = result


class OutcomeUnknownError(APIError):
    """A create whose answer was lost (timeout, dropped connection, 5xx) and whose effect
    could not be established: the object may exist. ``check`` says what to look for (for
    example ``training job named 'x' created after 2024-01-01T10:00:00``); ``kind`` and
    ``name`` identify it. Re-sending blindly could make a second object, so mafmt does not."""

    def __init__(self, error_msg: str, *, kind: str, name: str | None, check: str) -> None:
        super().__init__(error_msg)
        self.kind = kind
        self.name = name
        self.check = check


_FAMILIES: dict[int, type[_StatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}

#: (code key, message keys) in huaweicloudsdkcore's order; ``error_message`` is the v1 synonym
_PAIRS = (("error_code", ("error_msg", "error_message")), ("errorCode", ("errorMsg",)), ("code", ("message",)))


def parse_error_body(body: Any, depth: int = 0) -> tuple[str | None, str | None, str | None]:
    """(code, message, solution) from a decoded error body, in huaweicloudsdkcore's
    order of key pairs, recursing into nested objects (the IAM ``{"error": {...}}``)."""
    if not isinstance(body, dict) or depth > 4:
        return None, None, None
    for code_key, msg_keys in _PAIRS:
        code = body.get(code_key)
        msg = next((body[k] for k in msg_keys if body.get(k) is not None), None)
        if code is not None or msg is not None:
            return (None if code is None else str(code)), (None if msg is None else str(msg)), body.get("error_solution")
    for value in body.values():
        if isinstance(value, dict):
            found = parse_error_body(value, depth + 1)
            if found[0] or found[1]:
                return found
    return None, None, None


def error_for(response: httpx.Response, *, message: str | None = None) -> APIError:
    """The typed error for an error response (status >= 400, or a v1 ``is_success: false``)."""
    response.read()
    text = response.text
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = None
    code, msg, solution = parse_error_body(body)
    status = response.status_code
    if code is None and msg is None:
        code, msg = str(status), (text.strip()[:500] or response.reason_phrase or "error")
    cls = _FAMILIES.get(status) or (ServerError if status >= 500 else BadRequestError)
    return cls(
        message or msg or "",
        status_code=status,
        error_code=code,
        request_id=response.headers.get("X-Request-Id"),
        error_solution=solution,
        body=body,
    )


def iam_call(send: Any, url: str) -> httpx.Response:
    """Run ``send()`` (one IAM request) and return its response; a connection problem or
    an error status becomes a typed error whose message names the IAM endpoint ``url``
    (not the ModelArts one the caller was about to reach)."""
    try:
        resp = send()
    except httpx.TimeoutException as exc:
        raise APITimeoutError(f"IAM {url}: {no_answer(exc)}") from None
    except httpx.HTTPError as exc:
        raise APIConnectionError(f"IAM {url}: no answer: {no_answer(exc)}") from None
    if resp.status_code >= 400:
        err = error_for(resp)
        err.args = (f"IAM {url}: {err}",)
        raise err
    return resp


def no_answer(error: Exception) -> str:
    """Why a request got no answer, in plain words (no exception class names)."""
    text = str(error).strip()
    low = text.lower()
    if isinstance(error, httpx.ConnectTimeout):
        return "no connection in time"
    if isinstance(error, httpx.TimeoutException):
        return "no answer in time"
    if any(w in low for w in ("name or service not known", "nodename nor servname", "name resolution",
                               "getaddrinfo", "no address associated")):
        return "unknown host name"
    if "connection refused" in low:
        return "connection refused"
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect ({text})" if text else "cannot connect"
    return f"connection lost ({text})" if text else "connection lost"
