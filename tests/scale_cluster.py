"""What the sharding tests share: a Dask ``LocalCluster`` of 2 worker processes whose workers
reach the test S3 server (moto) with credentials from their own environment, as a real
cluster's would; shards small enough that small inputs make several; a folder as bytes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from mafmt import shards


def worker_env(ep: Any) -> dict[str, str]:
    """The environment a worker reads OBS with (never pickled into a task)."""
    return {"HUAWEICLOUD_SDK_AK": ep.access_key, "HUAWEICLOUD_SDK_SK": ep.secret_key,
            "MAFMT_OBS_ENDPOINT": ep.endpoint, "MAFMT_OBS_REGION": ep.region, "MAFMT_OBS_SIGNATURE": ep.signature,
            "MAFMT_OBS_RETRIES": "2"}


@contextmanager
def _two_workers(ep: Any) -> Iterator[Any]:
    import dask
    import distributed

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                      env=worker_env(ep), silence_logs=50)
    client = distributed.Client(lc)
    yield client
    client.close()
    lc.close()


@pytest.fixture(scope="module")
def cluster(_moto_server: Any) -> Iterator[Any]:
    """A client of a 2-worker cluster, for the module."""
    with _two_workers(_moto_server.endpoint) as client:
        yield client


@pytest.fixture()
def dying_cluster(_moto_server: Any) -> Iterator[Any]:
    """A client of a 2-worker cluster of its own, for a test that kills workers: a nanny whose
    restarted worker is killed again while it starts gives up on it (distributed logs "Failed
    to restart worker"), and a cluster left without workers must not fail the tests after."""
    with _two_workers(_moto_server.endpoint) as client:
        yield client


@pytest.fixture()
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shards of a few hundred bytes, files or images, so small inputs make several."""
    monkeypatch.setattr(shards, "MIN_SPAN_BYTES", 512)
    monkeypatch.setattr(shards, "MIN_RUN_FILES", 3)
    monkeypatch.setattr(shards, "MIN_RUN_IMAGES", 3)


def tree(path: Path) -> dict[str, bytes]:
    """A file's bytes, or every file below a folder by its relative path."""
    if path.is_file():
        return {"": path.read_bytes()}
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
