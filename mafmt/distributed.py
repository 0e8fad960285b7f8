"""The engine behind ``--workers`` / ``--scheduler``: Dask, imported only when asked for.

:func:`engine` gives a :class:`Engine` that runs a list of shard tasks and returns their
results in input order:

* ``workers=N`` (N > 1) starts a :class:`distributed.LocalCluster` of N single-threaded
  worker processes on this machine (the parsers hold the GIL, so threads would not help);
* ``scheduler="tcp://host:8786"`` sends the same tasks to an existing Dask cluster, whose
  workers read the sources themselves through :mod:`mafmt.storage`, with the credentials of
  their own environment (``MAFMT_OBS_*``/``OBS_*``): a task holds URIs and numbers, never a
  secret;
* ``scheduler=`` also takes a :class:`distributed.Client` (or anything with ``submit`` and
  ``gather``) that the caller owns, as the tests do.

A worker that dies while running a shard is retried by Dask on another worker
(``distributed.scheduler.allowed-failures`` times); after that the job fails with a
:class:`~mafmt.errors.MafmtError` that names the shard, and the target is left as it was.

Dask is the optional extra ``mafmt[dask]``; without it, asking for workers is a usage error
that says how to install it.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from mafmt.errors import MafmtError, UsageError

__all__ = ["INSTALL_HINT", "JOB_MODULES", "LOCAL_CLUSTER_CONFIG", "Engine", "cpu_count", "engine", "local_cluster",
           "parse_workers", "require", "wanted", "warm"]

INSTALL_HINT = "pip install 'mafmt[dask]'"


def cpu_count() -> int:
    """The cores this process may use (its CPU affinity where the system says it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def parse_workers(value: str | int | None) -> int:
    """``--workers``: a positive number or ``auto`` (the cores available).

    Raises:
        UsageError: anything else.
    """
    if value is None:
        return 1
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str) and value.strip().lower() == "auto":
        return cpu_count()
    else:
        try:
            n = int(str(value).strip())
        except ValueError:
            raise UsageError(f"--workers must be a number or 'auto', not {value!r}") from None
    if n < 1:
        raise UsageError(f"--workers must be 1 or more, not {n}")
    return n


def wanted(workers: str | int | None, scheduler: Any) -> bool:
    """Whether a call asks for Dask at all (``workers=1`` without a scheduler does not)."""
    return scheduler is not None or parse_workers(workers) > 1


def require() -> Any:
    """The ``distributed`` module, or a usage error that says how to install it."""
    try:
        import distributed
    except ImportError:
        raise UsageError(f"--workers/--scheduler run on Dask, which is not installed: {INSTALL_HINT}") from None
    return distributed


#: what the workers of each kind of job import (ahead of its first shard: :func:`warm`,
#: :meth:`Engine.prepare`)
JOB_MODULES: dict[str, tuple[str, ...]] = {
    "convert": ("mafmt.scale", "mafmt.converters"),
    "validate": ("mafmt.scale", "mafmt.validation"),
    "qa": ("mafmt.scale", "mafmt.converters", "mafmt.quality"),
    "stats": ("mafmt.scale", "mafmt.converters", "mafmt.dataset_stats"),
}


def warm(scheduler: Any, job: str) -> None:
    """When ``scheduler`` is a client the caller owns (its cluster already runs), have its
    workers import the modules of ``job`` (:data:`JOB_MODULES`) now, while this process still
    imports and detects what the job needs: the first shards then start on workers that are
    ready (the job's engine then prepares nothing again). Anything else waits for
    :meth:`Engine.prepare`."""
    if scheduler is not None and not isinstance(scheduler, str):
        Engine(scheduler, 1).prepare(*JOB_MODULES[job])


class Engine:
    """Runs shard tasks on a Dask client and gives their results in input order."""

    def __init__(self, client: Any, workers: int, *, warmed: bool = False) -> None:
        self.client = client
        self.workers = workers
        self.warmed = warmed

    def prepare(self, *modules: str) -> None:
        """Have each worker import ``modules`` now, without waiting, while the client still lists
        the source: the first shards then start without paying for the imports. Nothing when
        the workers were warmed already (a caller's client: :func:`warm`)."""
        run = getattr(self.client, "run", None)
        if run is not None and not self.warmed:
            with contextlib.suppress(Exception):  # (only a head start: a worker that cannot is left alone)
                run(_import, modules, wait=False)

    def map(self, func: Callable[..., Any], items: Sequence[Any], *args: Any, name: str = "mafmt") -> list[Any]:
        """``[func(item, *args) for item in items]``, run on the workers (see :meth:`stream`)."""
        with self.stream(func, items, *args, name=name) as results:
            return list(results)

    @contextmanager
    def stream(self, func: Callable[..., Any], items: Sequence[Any], *args: Any,
               name: str = "mafmt") -> Iterator[Iterator[Any]]:
        """The results of ``func(item, *args)`` for ``items``, run on the workers, in input
        order, each as soon as it and those before it are done (so the client merges while
        the workers work). The first failure in input order is raised as the error it was,
        a dead worker as a MafmtError. On leaving (done or failed), no task of the call
        is still running: the caller may then undo what the tasks wrote."""
        futures: list[Any] = []
        try:
            for i, item in enumerate(items):  # (items may still be cut: the first ones start meanwhile)
                futures.append(self.client.submit(func, item, *args, key=f"{name}-{i}-{os.urandom(6).hex()}",
                                                  pure=False))
            yield self._results(futures, name)
        except BaseException:
            self._settle(futures)
            raise
        finally:
            for f in futures:
                with contextlib.suppress(Exception):  # (a dead worker's futures may fail to release)
                    f.release()

    def _results(self, futures: list[Any], name: str) -> Iterator[Any]:
        for future in futures:
            try:
                yield future.result()
            except MafmtError:
                raise
            except Exception as exc:
                # a worker that died: Dask gave up retrying its task (KilledWorker), or the result
                # was being fetched from it when it went (CommClosedError, or tornado's
                # StreamClosedError when the stream closes before distributed wraps it)
                if type(exc).__name__ not in ("KilledWorker", "CommClosedError", "StreamClosedError"):
                    raise
                raise MafmtError(f"a Dask worker died while running {name} shard {_shard_of(futures, exc)} "
                                 f"(retried {_allowed_failures()} times on other workers; out of memory, or "
                                 "killed?); nothing was written") from None

    def _settle(self, futures: list[Any]) -> None:
        """After a failure: every task of the call not done is cancelled (so none is retried,
        and a task that kills its worker does not kill the next), and the job waits (at most
        :data:`SETTLE_SECONDS`) until no worker still runs one, so none writes into a target
        being undone."""
        run = getattr(self.client, "run", None)
        if run is None:
            return
        keys = {str(f.key) for f in futures}
        with contextlib.suppress(Exception):
            self.client.cancel([f for f in futures if not f.done()])
        deadline = time.monotonic() + SETTLE_SECONDS
        while time.monotonic() < deadline:
            try:
                running = run(_executing)
            except Exception:  # noqa: BLE001 - a worker going away: nothing to wait for there
                return
            if keys.isdisjoint(k for ks in running.values() for k in ks):
                return
            time.sleep(0.05)


async def _import(modules: Sequence[str]) -> None:
    """Worker (in its event loop: Dask runs only coroutines without waiting for them)."""
    import importlib

    for module in modules:
        importlib.import_module(module)


def _executing(dask_worker: Any) -> list[str]:
    """Worker: the keys of the tasks its threads run now (cancelled ones too, until they end)
    or may still start (one it was given before a cancel that has not reached it yet)."""
    return [str(key) for key, ts in dask_worker.state.tasks.items() if ts.state in _ACTIVE]


#: a worker's task states (distributed.worker_state_machine) in which it runs or may start a task
_ACTIVE = frozenset({"waiting", "ready", "constrained", "executing", "long-running", "cancelled", "resumed"})


#: how long a failed job waits for its shards still running before it undoes the target
SETTLE_SECONDS = 60


def _shard_of(futures: list[Any], exc: BaseException) -> str:
    key = str(exc.args[0]) if exc.args else ""
    for i, f in enumerate(futures):
        if f.key == key or str(f.key) in str(exc):
            return str(i + 1) + f" of {len(futures)}"
    return f"? of {len(futures)}"


def _allowed_failures() -> int:
    try:
        import dask

        return int(dask.config.get("distributed.scheduler.allowed-failures"))
    except Exception:  # noqa: BLE001 - only for the message
        return 3


@contextmanager
def engine(workers: str | int | None = 1, scheduler: Any = None) -> Iterator[Engine]:
    """The engine for ``workers`` local processes, or for ``scheduler`` (an address or a client)."""
    n = parse_workers(workers)
    if scheduler is not None and not isinstance(scheduler, str):  # (mafmt's entry points warmed it)
        yield Engine(scheduler, _worker_count(scheduler, n), warmed=True)
        return
    distributed = require()
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout="10s")
        except OSError as exc:
            raise UsageError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({exc})") from None
        try:
            yield Engine(client, _worker_count(client, n))
        finally:
            client.close()
        return
    with local_cluster(n) as cluster:
        client = distributed.Client(cluster)
        try:
            yield Engine(client, n)
        finally:
            client.close()


@contextmanager
def local_cluster(n: int) -> Iterator[Any]:
    """A :class:`distributed.LocalCluster` of ``n`` single-threaded worker processes, with
    :data:`LOCAL_CLUSTER_CONFIG`, closed on leaving."""
    import logging
    import warnings

    import dask

    distributed = require()
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        with warnings.catch_warnings():  # "port 8787 is already in use": no dashboard is wanted anyway
            warnings.simplefilter("ignore", UserWarning)
            cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                               dashboard_address=None, silence_logs=logging.ERROR)
        try:
            yield cluster
        finally:
            cluster.close()


#: Dask settings of the local cluster mafmt starts (a cluster given by ``--scheduler`` keeps its
#: own):
#:
#: * nobody looks at its dashboard, so its workers do not sample their stacks every 10 ms for
#:   it, and its housekeeping runs less often. Measured on the 2-core machine: the idle
#:   cluster's CPU fell from 0.43 s (client) + 0.35 s (each worker) per 7 s to 0.10 + 0.05 s,
#:   the client's CPU in a VOC -> COCO job from 1.3 to 1.05 s;
#: * its workers keep glibc's own heap trimming: Dask's nannies set ``MALLOC_TRIM_THRESHOLD_``
#:   to 64 KiB before they start a worker, which hands freed memory back to the system at
#:   once and takes it again page by page: on a manifest ``validate`` that is 220 times the
#:   page faults and 25-30 % more CPU for the same shard. A shard's memory is bounded
#:   (:data:`mafmt.shards.MAX_SPAN_BYTES`), so there is little to hand back;
#: * a task goes to a worker only when it has a free thread (``worker-saturation`` 1.0),
#:   so the last shards go to whichever worker is free first.
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "500ms",
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.nanny.pre-spawn-environ": {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1},
}


def _worker_count(client: Any, default: int) -> int:
    try:
        info = client.scheduler_info()
        return max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))
    except Exception:  # noqa: BLE001 - a client-like object without scheduler_info
        return max(1, default)
