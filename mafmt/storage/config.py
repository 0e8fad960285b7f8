"""OBS connection settings: from arguments, the environment or a session object.

Environment (public contract)::

    HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN
    MAFMT_OBS_ENDPOINT     e.g. https://obs.cn-north-4.myhuaweicloud.com or http://127.0.0.1:9000
    MAFMT_OBS_REGION       region id; gives the endpoint when MAFMT_OBS_ENDPOINT is unset
    MAFMT_OBS_SIGNATURE    obs | v2 | v4
    MAFMT_OBS_PATH_STYLE   1/true/yes to address buckets as server/bucket/key
    MAFMT_OBS_CONNECT_TIMEOUT, MAFMT_OBS_TIMEOUT   seconds (defaults 5 and 20)
    MAFMT_OBS_RETRIES      retries of a failed request (default 3)

A missing endpoint or a malformed setting raises :class:`ObsConfigError` (a usage error:
exit code 2 on the command line) naming the variable to set. Secrets (SK, security token)
are never part of ``repr`` or ``str``; the AK is shown masked.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from mafmt.errors import StorageError, UsageError

__all__ = ["DEFAULT_REGION_ENDPOINT", "ObsConfig", "ObsConfigError", "mask"]

#: endpoint pattern used when only a region is known
DEFAULT_REGION_ENDPOINT = "https://obs.{region}.myhuaweicloud.com"
SIGNATURES = ("obs", "v2", "v4")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ObsConfigError(StorageError, UsageError):
    """OBS settings missing or malformed; the message names the variable or argument to set.

    A :class:`StorageError` with ``code="ConfigError"`` and a :class:`UsageError` (exit code 2).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = "ConfigError"  # not shown in the message: it says what to set instead


def mask(ak: str | None) -> str:
    """An access key shown as ``ABCD****0001`` (or ``****`` when short)."""
    if not ak:
        return ""
    return f"{ak[:4]}****{ak[-4:]}" if len(ak) > 12 else "****"


_NUMBERS = (("MAFMT_OBS_CONNECT_TIMEOUT", "connect_timeout", float), ("MAFMT_OBS_TIMEOUT", "timeout", float),
            ("MAFMT_OBS_RETRIES", "retries", int))


def _number(var: str, text: str, kind: type) -> Any:
    try:
        value = kind(text.strip())
    except ValueError:
        value = None
    if value is None or not value >= 0:  # also refuses NaN
        raise ObsConfigError(f"{var} must be a non-negative number, not {text!r}")
    return value


@dataclass(frozen=True)
class ObsConfig:
    """How to reach OBS. Build it with :meth:`from_env` or :meth:`resolve`.

    Attributes:
        access_key / secret_key / security_token: credentials (empty = anonymous).
        endpoint: server URL; a plain ``http://127.0.0.1:PORT`` works.
        region: region id (endpoint derivation and the v4 credential scope).
        signature: ``obs`` (Huawei native), ``v2`` or ``v4`` (S3 dialects). ``obs`` stays
            ``obs`` with IP endpoints and path style too (esdk-obs-python alone would
            silently switch to v2): the SDK asks the server once per bucket and uses v2
            only when the server does not speak the OBS dialect.
        path_style: address buckets as ``server/bucket`` (forced for IP endpoints).
        connect_timeout: seconds to open a connection (TCP and TLS) before giving up.
        timeout: read timeout: the longest a server may stay silent on an open connection.
        sdk_retries: retries done inside esdk-obs-python for one request (0..5; default 0:
            mafmt retries instead, so the two layers do not multiply).
        retries / backoff: retries of whole operations by mafmt on transient errors, and
            the first pause in seconds (doubled each time).
        down_after: requests in a row without any answer after which the endpoint counts as
            down: retries stop and transfers schedule no new file (:mod:`mafmt.storage.retry`).
        workers: threads for folder transfers and multipart parts.
        multipart_threshold / part_size: files at least this large go by multipart in parts
            of ``part_size`` bytes (OBS minimum part size is 5 MiB except for the last).
        list_page_size: keys per listing request (1..1000).
    """

    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)
    security_token: str | None = field(default=None, repr=False)
    endpoint: str | None = None
    region: str | None = None
    signature: str = "obs"
    path_style: bool = False
    connect_timeout: float = 5.0
    timeout: float = 20.0
    sdk_retries: int = 0
    retries: int = 3
    backoff: float = 0.5
    down_after: int = 3
    workers: int = 16
    multipart_threshold: int = 64 * 1024 * 1024
    part_size: int = 16 * 1024 * 1024
    list_page_size: int = 1000

    def __post_init__(self) -> None:
        if self.signature not in SIGNATURES:
            raise ObsConfigError(f"unknown OBS signature {self.signature!r} (use obs, v2 or v4)")
        if self.part_size <= 0 or self.workers <= 0 or self.retries < 0 or self.down_after <= 0:
            raise ObsConfigError("part_size, workers and down_after must be positive, retries not negative")
        if not (self.connect_timeout > 0 and self.timeout > 0):
            raise ObsConfigError("connect_timeout and timeout must be positive numbers of seconds")
        if bool(self.access_key) != bool(self.secret_key):
            missing = "HUAWEICLOUD_SDK_SK" if self.access_key else "HUAWEICLOUD_SDK_AK"
            raise ObsConfigError(f"OBS credentials need both the access key and the secret key: set {missing}")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr
        )
        return f"ObsConfig(access_key={mask(self.access_key)!r}, {shown})"

    __str__ = __repr__

    @property
    def server(self) -> str:
        """The endpoint to connect to (explicit, else derived from the region)."""
        if self.endpoint:
            return self.endpoint.rstrip("/")
        if self.region:
            return DEFAULT_REGION_ENDPOINT.format(region=self.region)
        raise ObsConfigError("no OBS endpoint: set MAFMT_OBS_ENDPOINT (or MAFMT_OBS_REGION), or pass endpoint=")

    @property
    def unreachable_within(self) -> float:
        """Upper bound in seconds for one operation to fail on an endpoint that never answers
        (port closed, packets dropped, or connections accepted and left silent): at most
        ``down_after`` attempts, each ending within ``connect_timeout``, with the backoff
        pauses between them, or a connection and one read ``timeout`` (silence is not
        retried). 25 s with the defaults."""
        attempts = max(1, min(self.retries + 1, self.down_after))
        pauses = sum(self.backoff * 2**i * 1.5 for i in range(attempts - 1))
        return max(attempts * self.connect_timeout + pauses, self.connect_timeout + self.timeout)

    @property
    def anonymous(self) -> bool:
        """Whether no credentials are set (requests go unsigned)."""
        return not self.access_key

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never be printed (used to scrub messages)."""
        return tuple(s for s in (self.secret_key, self.security_token, self.access_key) if s and len(s) >= 4)

    def replace(self, **changes: Any) -> ObsConfig:
        """A copy with some settings changed."""
        return replace(self, **changes)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> ObsConfig:
        """Settings from the environment (see the module docstring), then ``overrides``."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {
            "access_key": env.get("HUAWEICLOUD_SDK_AK", ""),
            "secret_key": env.get("HUAWEICLOUD_SDK_SK", ""),
            "security_token": env.get("HUAWEICLOUD_SDK_SECURITY_TOKEN") or None,
            "endpoint": env.get("MAFMT_OBS_ENDPOINT") or None,
            "region": env.get("MAFMT_OBS_REGION") or env.get("HUAWEICLOUD_SDK_REGION") or None,
        }
        sig = env.get("MAFMT_OBS_SIGNATURE")
        if sig:
            values["signature"] = sig.strip().lower()
        style = env.get("MAFMT_OBS_PATH_STYLE")
        if style is not None:
            low = style.strip().lower()
            if low not in _TRUE | _FALSE:
                raise ObsConfigError(f"MAFMT_OBS_PATH_STYLE must be true or false, not {style!r}")
            values["path_style"] = low in _TRUE
        for var, key, kind in _NUMBERS:
            text = env.get(var)
            if text:
                values[key] = _number(var, text, kind)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @classmethod
    def from_session(cls, session: Any, **overrides: Any) -> ObsConfig:
        """Settings taken from a session-like object (``access_key``, ``secret_key``,
        ``security_token``, ``region_name``, ``obs_endpoint`` attributes, any may be
        missing); the environment fills the gaps."""
        picked: dict[str, Any] = {}
        for attr, key in (
            ("access_key", "access_key"),
            ("secret_key", "secret_key"),
            ("security_token", "security_token"),
            ("region_name", "region"),
            ("obs_endpoint", "endpoint"),
        ):
            value = getattr(session, attr, None)
            if value:
                picked[key] = value
        picked.update(overrides)
        return cls.from_env(**picked)
