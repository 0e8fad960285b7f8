"""The emulator's in-memory state, IDs, clock and OBS path mapping."""

from __future__ import annotations

import os
import queue
import re
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mafmt.emulator._http import ApiError

__all__ = ["DatasetRec", "SampleRec", "Store", "new_id", "new_sample_id"]

_ALNUM = string.ascii_letters + string.digits


def new_id() -> str:
    """19 random letters/digits (dataset, version, task IDs)."""
    return "".join(secrets.choice(_ALNUM) for _ in range(19))


def new_sample_id() -> str:
    """32 lower-case hex characters."""
    return secrets.token_hex(16)


@dataclass
class SampleRec:
    """A sample: its wire object and the mafmt model behind it (for exports)."""

    wire: dict[str, Any]
    model: Any = None

    @property
    def id(self) -> str:
        return self.wire["sample_id"]


@dataclass
class DatasetRec:
    """A dataset and everything under it."""

    wire: dict[str, Any]
    samples: dict[str, SampleRec] = field(default_factory=dict)
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    snapshots: dict[str, list[SampleRec]] = field(default_factory=dict)
    imports: dict[str, dict[str, Any]] = field(default_factory=dict)
    exports: dict[str, dict[str, Any]] = field(default_factory=dict)
    label_tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    last_publish: float = -1e18

    @property
    def id(self) -> str:
        return self.wire["dataset_id"]


_PATH = re.compile(r"^(?:(?:obs|s3|s3a)://|/)([^/]+)/?(.*)$")


class Store:
    """All state, one lock, a clock, a background worker for asynchronous tasks."""

    def __init__(self, *, clock: Callable[[], float] = time.time, obs_root: str | None = None,
                 task_delay: float = 0.0, publish_interval: float = 0.0) -> None:
        self.clock = clock
        self.obs_root = obs_root
        self.task_delay = task_delay
        self.publish_interval = publish_interval
        self.lock = threading.RLock()
        self.datasets: dict[str, DatasetRec] = {}
        self.forced_failures: list[dict[str, Any]] = []
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._run, daemon=True, name="mafmt-emulator-worker")
        self._pending = 0
        self._idle = threading.Condition()
        self._worker.start()

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # ---------------------------------------------------------------- worker

    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the worker thread (after ``task_delay``)."""
        with self._idle:
            self._pending += 1
        self._queue.put(job)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self.task_delay:
                time.sleep(self.task_delay)
            try:
                job()
            except Exception:
                import logging

                logging.getLogger("mafmt.emulator").exception("background job failed")
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no task is queued or running; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self) -> None:
        self._queue.put(None)

    def take_failure(self, kind: str) -> dict[str, Any] | None:
        """The next forced failure for ``kind`` (import, export, version, dataset), if any."""
        with self.lock:
            for i, f in enumerate(self.forced_failures):
                if f.get("kind") == kind:
                    return self.forced_failures.pop(i)
        return None

    # ---------------------------------------------------------------- lookups

    def dataset(self, dataset_id: str) -> DatasetRec:
        rec = self.datasets.get(dataset_id)
        if rec is None:
            raise ApiError(400, "ModelArts.4352", f"Dataset {dataset_id} does not exist")
        return rec

    # ---------------------------------------------------------------- OBS paths

    def split_obs(self, path: str, *, code: str = "ModelArts.4205") -> tuple[str, str]:
        """(bucket, key) of ``/bucket/key``, ``obs://`` or ``s3://`` forms; a bucket root is refused."""
        m = _PATH.match(path or "")
        if not m or not m.group(2):
            raise ApiError(400, code, f"{path!r}: a sub-directory (not a bucket root) must be given")
        return m.group(1), m.group(2)

    def uri(self, path: str) -> str:
        """The storage URI (or local path under ``obs_root``) for an OBS path."""
        bucket, key = self.split_obs(path)
        if self.obs_root:
            return os.path.join(self.obs_root, bucket, *[p for p in key.split("/") if p]) + (
                "/" if key.endswith("/") else "")
        return f"obs://{bucket}/{key}"

    def obs_form(self, uri: str) -> str:
        """Back from a storage location to ``obs://bucket/key``."""
        if self.obs_root and not re.match(r"^[a-z0-9]+://", uri):
            rel = os.path.relpath(os.path.abspath(uri), os.path.abspath(self.obs_root)).replace(os.sep, "/")
            return "obs://" + rel
        if uri.startswith(("s3://", "s3a://")):
            return "obs://" + uri.split("://", 1)[1]
        return uri
