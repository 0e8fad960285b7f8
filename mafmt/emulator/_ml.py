"""Shared state of the emulator's training, model and service APIs: the tick that
drives their state machines, ID counters, catalogues, OBS writes and v1 error bodies."""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass, field
from typing import Any

from mafmt.emulator._http import ApiError
from mafmt.emulator._state import Store

__all__ = ["FLAVORS", "MLState", "ml_state", "v1_error"]

log = logging.getLogger("mafmt.emulator")

#: v2 training flavors (api.md §11.5)
FLAVORS: list[dict[str, Any]] = [
    {"flavor_id": f, "flavor_name": n, "flavor_type": t, "max_num": m, "billing": {"code": f, "unit_num": 1},
     "flavor_info": {"max_num": m, "cpu": {"arch": "x86", "core_num": c}, "memory": {"size": c * 4, "unit": "GB"},
                     "disk": {"size": 50, "unit": "GB"}, **({"gpu": {"unit_num": 1, "product_name": "NVIDIA-V100",
                                                                    "memory": "32GB"}} if t == "GPU" else {})},
     "attributes": {}}
    for f, n, t, m, c in (
        ("modelarts.vm.cpu.2u", "Computing CPU(2U) instance", "CPU", 1, 2),
        ("modelarts.vm.cpu.8u", "Computing CPU(8U) instance", "CPU", 16, 8),
        ("modelarts.p3.large.public", "Computing GPU(V100) instance", "GPU", 1, 8),
        ("modelarts.p3.large.public.distributed", "Computing GPU(V100) distributed", "GPU", 8, 8),
        ("modelarts.vm.gpu.p100", "Computing GPU(P100) instance", "GPU", 4, 8),
    )
]
#: v2 engines
ENGINES = [
    {"engine_id": f"{n.lower()}-{v}", "engine_name": n, "engine_version": v, "v1_compatible": False,
     "run_user": "1000", "image_info": {"cpu_image_url": f"atelier/{n.lower()}:{v}", "gpu_image_url":
                                        f"atelier/{n.lower()}-gpu:{v}", "image_version": v}}
    for n, v in (("PyTorch", "PyTorch-1.4.0-python3.6"), ("PyTorch", "PyTorch-1.8.0-python3.7"),
                 ("TensorFlow", "TensorFlow-2.1.0-python3.6"), ("MXNet", "MXNet-1.2.1-python3.6"),
                 ("Ascend-Powered-Engine", "mindspore_1.3.0-cann_5.0.2-py_3.7-euler_2.8.3-aarch64"))
]
#: v1 specs (spec_id, code, max_num)
V1_SPECS = [
    {"spec_id": i, "spec_code": code, "core": core, "cpu": f"{int(core) * 4}GiB", "gpu_num": gpu,
     "gpu_type": "P100" if gpu else "", "max_num": m, "unit_num": 1, "storage": "50GB", "interface_type": 1,
     "no_resource": False}
    for i, code, core, gpu, m in ((1, "modelarts.vm.cpu.2u", "2", 0, 1), (2, "modelarts.vm.cpu.8u", "8", 0, 16),
                                  (3, "modelarts.vm.gpu.p100", "8", 1, 4), (4, "modelarts.p3.large.public", "8", 1, 1))
]
V1_ENGINES = [
    {"engine_type": t, "engine_id": i, "engine_name": n, "engine_version": v}
    for t, i, n, v in ((1, 1, "TensorFlow", "TF-1.8.0-python3.6"), (2, 2, "MXNet", "MXNet-1.2.1-python3.6"),
                       (10, 3, "PyTorch", "PyTorch-1.0.0-python3.6"), (10, 4, "PyTorch", "PyTorch-1.3.0-python3.6"),
                       (4, 5, "Caffe", "Caffe-1.0.0-python2.7"))
]
BUILTIN = [
    {"model_id": i, "model_name": n, "model_usage": u, "model_precision": p, "model_size": s,
     "model_train_dataset": "ImageNet", "model_dataset_format": "ModelArts", "model_description_url": "",
     "parameter": '[{"label": "max_epoches", "value": "10", "placeholder_cn": "", "placeholder_en": "", '
                  '"required": false}]', "create_time": 1_550_000_000_000, "engine_id": 1,
     "engine_name": "TensorFlow", "engine_version": "TF-1.8.0-python3.6"}
    for i, n, u, p, s in ((1, "ResNet_v2_50", 1, "74.4%(top1)", 102_000_000),
                          (2, "Faster_RCNN_ResNet_v1_50", 2, "73.6%(mAP)", 180_000_000),
                          (3, "SegNet_VGG_BN_16", 3, "89%(pixel acc)", 110_000_000))
]


@dataclass
class MLState:
    """Training, model and service records. ``tick`` (seconds) is the time each state
    of a job, model or service lasts; ``run_ticks`` how many ticks a training run takes."""

    tick: float = 0.5
    run_ticks: int = 3
    #: answer inference calls with the model's own ``customize_service.py`` (run in this
    #: process) instead of an echo; opt-in (``MAFMT_EMULATOR_RUN_MODELS=1``)
    run_models: bool = False
    services_code: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    v1_jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    v1_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    vis_jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: v2 algorithms (``/v2/{project_id}/algorithms``) and v2 inference services
    algorithms: dict[str, dict[str, Any]] = field(default_factory=dict)
    infer_services: dict[str, dict[str, Any]] = field(default_factory=dict)
    ids: Any = field(default_factory=lambda: itertools.count(1000))

    def ticks(self, store: Store, since: float) -> float:
        """Ticks elapsed since ``since`` (clock seconds)."""
        return (store.clock() - since) / max(self.tick, 1e-6)


def ml_state(store: Store) -> MLState:
    """The store's :class:`MLState` (created on first use; ``MAFMT_EMULATOR_TICK`` sets the tick)."""
    state = getattr(store, "ml", None)
    if state is None:
        state = MLState(tick=float(os.environ.get("MAFMT_EMULATOR_TICK") or 0.5),
                        run_models=os.environ.get("MAFMT_EMULATOR_RUN_MODELS", "").lower() in ("1", "true", "yes"))
        store.ml = state  # type: ignore[attr-defined]
    return state


def v1_error(status: int, code: str, msg: str) -> ApiError:
    """A v1-envelope failure: ``{"is_success": false, "error_code", "error_message"}``."""
    return ApiError(status, code, msg, body={"is_success": False, "error_code": code, "error_message": msg})


def write_obs(store: Store, path: str, data: bytes) -> bool:
    """Write an object at an OBS path (``/b/k``, ``obs://``, ``s3://``); False when it cannot."""
    from mafmt import storage

    try:
        storage.write_bytes(store.uri(path), data)
        return True
    except Exception:
        log.warning("emulator could not write %s", path, exc_info=True)
        return False


def obs_files(store: Store, folder: str) -> list[tuple[str, bytes]]:
    """(relative name, bytes) of the objects under an OBS folder (empty when unreadable)."""
    from mafmt import storage

    try:
        base = store.uri(folder.rstrip("/") + "/")
        out = []
        for uri in storage.iter_files(base, recursive=True):
            out.append((storage.relative_to(uri, base).removeprefix("./"), storage.read_bytes(uri)))
        return out
    except Exception:
        log.warning("emulator could not list %s", folder, exc_info=True)
        return []


def obs_exists(store: Store, path: str) -> bool:
    from mafmt import storage

    try:
        uri = store.uri(path)
        return storage.exists(uri) or storage.is_dir(uri.rstrip("/") + "/") or any(
            True for _ in storage.iter_files(uri.rstrip("/") + "/", recursive=True))
    except Exception:  # noqa: BLE001
        return False
