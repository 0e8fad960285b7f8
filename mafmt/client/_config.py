"""Client configuration: credentials, region, project and endpoints.

Arguments win over the environment. Environment variables (the same names the
Huawei SDKs read, plus mafmt's endpoint overrides):

``HUAWEICLOUD_SDK_AK``, ``HUAWEICLOUD_SDK_SK``, ``HUAWEICLOUD_SDK_SECURITY_TOKEN``,
``HUAWEICLOUD_SDK_PROJECT_ID``, ``HUAWEICLOUD_SDK_REGION``, ``HUAWEICLOUD_SDK_USERNAME``,
``HUAWEICLOUD_SDK_PASSWORD``, ``HUAWEICLOUD_SDK_ACCOUNT``, ``MAFMT_MODELARTS_ENDPOINT``,
``MAFMT_IAM_ENDPOINT``, ``MAFMT_OBS_ENDPOINT``.

Secrets (SK, password, security token) are excluded from ``repr`` and never logged; the AK
is shown masked (``MAFM****0001``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from mafmt.errors import UsageError

__all__ = ["ENV", "Config", "mask"]

#: attribute -> environment variable
ENV: dict[str, str] = {
    "ak": "HUAWEICLOUD_SDK_AK",
    "sk": "HUAWEICLOUD_SDK_SK",
    "security_token": "HUAWEICLOUD_SDK_SECURITY_TOKEN",
    "project_id": "HUAWEICLOUD_SDK_PROJECT_ID",
    "region": "HUAWEICLOUD_SDK_REGION",
    "username": "HUAWEICLOUD_SDK_USERNAME",
    "password": "HUAWEICLOUD_SDK_PASSWORD",
    "account": "HUAWEICLOUD_SDK_ACCOUNT",
    "endpoint": "MAFMT_MODELARTS_ENDPOINT",
    "iam_endpoint": "MAFMT_IAM_ENDPOINT",
    "obs_endpoint": "MAFMT_OBS_ENDPOINT",
}

DEFAULT_REGION = "cn-north-4"


def mask(value: str | None) -> str:
    """An identifier shown in logs: ``MAFM****0001`` (never use it for secrets)."""
    if not value:
        return "<none>"
    if len(value) <= 8:
        return "****"
    return f"{value[:4]}****{value[-4:]}"


@dataclass(frozen=True, slots=True)
class Config:
    """Everything a client needs to reach ModelArts. Build it with :meth:`resolve`."""

    ak: str | None = None
    sk: str | None = field(default=None, repr=False)
    security_token: str | None = field(default=None, repr=False)
    project_id: str | None = None
    region: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    account: str | None = None
    endpoint: str | None = None
    iam_endpoint: str | None = None
    obs_endpoint: str | None = None
    timeout: float = 30.0
    max_retries: int = 3
    #: seconds to look for the object of a create whose answer was lost (None: 2 x timeout)
    settle_timeout: float | None = None

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={(mask(getattr(self, f.name)) if f.name == 'ak' else getattr(self, f.name))!r}"
            for f in fields(self) if f.repr and getattr(self, f.name) is not None
        )
        return f"Config({shown})"

    @classmethod
    def resolve(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        """Arguments (non-None) over environment variables over defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for attr, var in ENV.items():
            given = overrides.pop(attr, None)
            values[attr] = given if given not in (None, "") else (env.get(var) or None)
        unknown = set(overrides) - {"timeout", "max_retries", "settle_timeout"}
        if unknown:
            raise UsageError(f"unknown configuration option(s): {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        cfg = cls(**values)
        if cfg.region is None:
            cfg = replace(cfg, region=DEFAULT_REGION)
        return cfg

    @property
    def mode(self) -> str:
        """``"aksk"``, ``"password"`` or ``"none"``."""
        if self.ak and self.sk:
            return "aksk"
        if self.username and self.password:
            return "password"
        return "none"

    @property
    def modelarts_url(self) -> str:
        """Base URL of the ModelArts API (no trailing slash)."""
        return (self.endpoint or f"https://modelarts.{self.region}.myhuaweicloud.com").rstrip("/")

    @property
    def iam_url(self) -> str:
        """Base URL of IAM (no trailing slash)."""
        return (self.iam_endpoint or f"https://iam.{self.region}.myhuaweicloud.com").rstrip("/")

    @property
    def obs_url(self) -> str:
        """Base URL of OBS (no trailing slash)."""
        return (self.obs_endpoint or f"https://obs.{self.region}.myhuaweicloud.com").rstrip("/")

    def require_credentials(self) -> None:
        """Raise a usage error naming the variables to set when no credentials are known."""
        if self.mode == "none":
            raise UsageError(
                "no credentials: pass access_key/secret_key (or username/password), or set "
                "HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK"
            )
        if self.ak and not self.sk or self.sk and not self.ak:
            raise UsageError("AK/SK authentication needs both the access key and the secret key")
