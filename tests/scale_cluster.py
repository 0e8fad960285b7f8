"""A Dask ``LocalCluster`` of 2 worker processes for the sharding tests; its workers reach the
test S3 server (moto) with credentials from their own environment, as a real cluster's would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def worker_env(ep: Any) -> dict[str, str]:
    """The environment a worker reads OBS with (never pickled into a task)."""
    return {"HUAWEICLOUD_SDK_AK": ep.access_key, "HUAWEICLOUD_SDK_SK": ep.secret_key,
            "MAFMT_OBS_ENDPOINT": ep.endpoint, "MAFMT_OBS_REGION": ep.region, "MAFMT_OBS_SIGNATURE": ep.signature,
            "MAFMT_OBS_RETRIES": "2"}


@pytest.fixture(scope="module")
def cluster(_moto_server: Any) -> Iterator[Any]:
    """A client of a 2-worker cluster, for the module."""
    import dask
    import distributed

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                      env=worker_env(_moto_server.endpoint), silence_logs=50)
    client = distributed.Client(lc)
    yield client
    client.close()
    lc.close()
