"""The ModelArts API client, organised by resource::

    from mafmt.client import ModelArts
    with ModelArts() as ma:                      # configured from HUAWEICLOUD_SDK_* / MAFMT_*
        ds = ma.datasets.create("flowers", data_type="IMAGE", data_path="/b/in/", work_path="/b/out/")
        ma.import_tasks.create(ds.dataset_id, "obs://b/in/train.manifest", {}, wait=True)
        for sample in ma.samples.list(ds.dataset_id):
            ...

Every call goes through one :class:`~mafmt.client._transport.Transport` (signing or
IAM token, retries, typed errors from :mod:`mafmt.client._errors`).

Importing this package is cheap: the names below load on first use (``httpx`` only then), so
the CLI starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mafmt.client._config import Config
    from mafmt.client._errors import (
        APIConnectionError,
        APIError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        NotFoundError,
        OutcomeUnknownError,
        PermissionDeniedError,
        RateLimitError,
        ServerError,
        TaskFailedError,
        WaitTimeoutError,
    )
    from mafmt.client._modelarts import ModelArts
    from mafmt.client._pages import Page
    from mafmt.client._resource import APIObject, Task
    from mafmt.client._transport import Transport

#: public name -> the module that defines it
_EXPORTS = {
    "APIConnectionError": "_errors",
    "APIError": "_errors",
    "APIObject": "_resource",
    "APITimeoutError": "_errors",
    "AuthenticationError": "_errors",
    "BadRequestError": "_errors",
    "Config": "_config",
    "ConflictError": "_errors",
    "ModelArts": "_modelarts",
    "NotFoundError": "_errors",
    "OutcomeUnknownError": "_errors",
    "Page": "_pages",
    "PermissionDeniedError": "_errors",
    "RateLimitError": "_errors",
    "ServerError": "_errors",
    "Task": "_resource",
    "TaskFailedError": "_errors",
    "Transport": "_transport",
    "WaitTimeoutError": "_errors",
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIObject",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "Config",
    "ConflictError",
    "ModelArts",
    "NotFoundError",
    "OutcomeUnknownError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "Task",
    "TaskFailedError",
    "Transport",
    "WaitTimeoutError",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mafmt.client' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"mafmt.client.{module}"), name)
    globals()[name] = value
    return value
