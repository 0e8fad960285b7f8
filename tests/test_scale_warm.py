"""A job sent to a client the caller owns has its workers import the job's modules first,
before this process imports and detects anything (``mafmt.distributed.warm``), so the first
shards start on workers that are ready. A recording stand-in for the Dask client stops the
job at its first shard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scale_helpers import voc_dataset

import mafmt
from mafmt import converters, distributed, scale


class _Stop(Exception):
    pass


class Recording:
    """What :class:`mafmt.distributed.Engine` asks of a Dask client, recorded; the first
    shard ends the job."""

    def __init__(self, calls: list[tuple[Any, ...]]) -> None:
        self.calls = calls

    def run(self, func: Any, *args: Any, wait: bool = True) -> dict[str, Any]:
        self.calls.append(("run", func.__name__, *args, wait))
        return {}

    def submit(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("submit", func.__name__))
        raise _Stop

    def cancel(self, futures: Any) -> None:
        pass

    def scheduler_info(self) -> dict[str, Any]:
        return {"workers": {"a": {"nthreads": 1}, "b": {"nthreads": 1}}}


def _recorded(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, calls: list[tuple[Any, ...]]) -> None:
    real = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append((name,))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)


def test_convert_warms_the_workers_before_it_detects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []
    _recorded(monkeypatch, converters, "detect", calls)
    with pytest.raises(_Stop):
        mafmt.convert(voc_dataset(tmp_path / "voc", 3), tmp_path / "out.json", scheduler=Recording(calls))
    assert calls[0] == ("run", "_import", distributed.JOB_MODULES["convert"], False)
    assert [c for c in calls if c[:2] == ("run", "_import")] == [calls[0]]  # (the engine does not ask again)
    assert calls.index(("detect",)) < calls.index(("submit", "_convert_shard"))


@pytest.mark.parametrize("job", ["validate", "qa", "stats"])
def test_the_other_jobs_warm_the_workers_before_they_start(job: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []
    _recorded(monkeypatch, scale, job, calls)
    with pytest.raises(_Stop):
        getattr(mafmt, job)(voc_dataset(tmp_path / "voc", 3), scheduler=Recording(calls))
    assert calls[0] == ("run", "_import", distributed.JOB_MODULES[job], False)
    assert [c for c in calls if c[:2] == ("run", "_import")] == [calls[0]]
    assert calls.index((job,)) < [c[0] for c in calls].index("submit")



@pytest.mark.parametrize("job", ["convert", "qa", "stats"])
def test_a_sharded_job_lists_its_source_once_for_detecting_and_cutting(job: str, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from mafmt.storage import local

    src = voc_dataset(tmp_path / "voc", 3)
    listed: list[str] = []
    scandir = os.scandir

    def counting(path: Any) -> Any:
        listed.append(os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(local.os, "scandir", counting)
    args = (src, tmp_path / "out.json") if job == "convert" else (src,)
    with pytest.raises(_Stop):
        getattr(mafmt, job)(*args, scheduler=Recording([]))
    assert os.path.join(src, "Annotations") in listed
    assert len(listed) == len(set(listed)), listed
