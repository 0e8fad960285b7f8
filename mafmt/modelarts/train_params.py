"""``modelarts.train_params``: where a training job's code, inputs and outputs live."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["InputData", "OutputData", "TrainingFiles"]


@dataclass
class TrainingFiles:
    """The code: ``code_dir`` (``obs://…/`` or, for local runs, a local folder), the
    ``boot_file`` (relative to it or absolute), and ``obs_path`` where a local code folder
    is uploaded before a remote run."""

    code_dir: str
    boot_file: str
    obs_path: str | None = None


@dataclass
class InputData:
    """An input channel: ``obs_path`` (folder or ``.zip``), the argument ``name`` the
    script receives, and for local runs the ``local_path`` it is downloaded to;
    ``is_local_source``: the data is already in ``local_path`` (uploaded for remote runs)."""

    obs_path: str
    name: str | None = None
    local_path: str | None = None
    is_local_source: bool = False


@dataclass
class OutputData:
    """An output channel: ``obs_path``, the argument ``name``, and the ``local_path``
    a local run writes to (uploaded to ``obs_path`` afterwards)."""

    obs_path: str | None = None
    name: str | None = None
    local_path: str | None = None
