"""In-process serving of a local model directory for debugging (SDK 11.2).

A ModelArts model folder holds ``customize_service.py`` whose service class derives
from one of the platform's base classes (``model_service.pytorch_model_service.
PTServingBaseService`` …) and overrides ``_preprocess``, ``_inference`` and
``_postprocess``. mafmt provides minimal stand-ins for those base modules (used only
when the real ones are not installed), loads the class and calls the three steps.
"""

from __future__ import annotations

import importlib.util
import inspect
import io
import json
import os
import sys
import types
from typing import Any

from mafmt.errors import UsageError

__all__ = ["BaseService", "LocalService", "install_shims"]


class BaseService:
    """Stand-in for the platform's service base classes."""

    def __init__(self, model_name: str = "", model_path: str = "", **_: Any) -> None:
        self.model_name = model_name
        self.model_path = model_path

    def _preprocess(self, data: Any) -> Any:
        return data

    def _inference(self, data: Any) -> Any:
        return data

    def _postprocess(self, data: Any) -> Any:
        return data


_SHIMS = {
    "model_service": {},
    "model_service.model_service": {"SingleNodeService": BaseService},
    "model_service.pytorch_model_service": {"PTServingBaseService": BaseService},
    "model_service.tfserving_model_service": {"TfServingBaseService": BaseService},
    "model_service.spark_model_service": {"SparkServingBaseService": BaseService},
    "model_service.python_model_service": {"XgSklServingBaseService": BaseService},
    "model_service.mxnet_model_service": {"MXNetBaseService": BaseService},
}


def install_shims() -> None:
    """Register the stand-in ``model_service`` modules unless real ones are importable."""
    if "model_service" in sys.modules or importlib.util.find_spec("model_service") is not None:
        return
    for name, attrs in _SHIMS.items():
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        sys.modules[name] = mod
        if "." in name:
            setattr(sys.modules["model_service"], name.rsplit(".", 1)[1], mod)


class LocalService:
    """The service class of ``model_dir/customize_service.py``, instantiated once."""

    def __init__(self, model_dir: str, model_name: str = "model") -> None:
        path = os.path.join(model_dir, "customize_service.py")
        if not os.path.isfile(path):
            raise UsageError(f"no customize_service.py in {model_dir}")
        install_shims()
        spec = importlib.util.spec_from_file_location(f"mafmt_customize_service_{abs(hash(path))}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.path.insert(0, model_dir)
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path.remove(model_dir)
        classes: list[type[Any]] = [c for _, c in inspect.getmembers(module, inspect.isclass)
                   if c.__module__ == module.__name__ and hasattr(c, "_inference")]
        if len(classes) != 1:
            raise UsageError(f"customize_service.py must define exactly one service class, found {len(classes)}")
        self.service = classes[0](model_name, model_dir)

    def run(self, request: Any) -> Any:
        """Pre-processing, inference and post-processing of a decoded request."""
        s = self.service
        return s._postprocess(s._inference(s._preprocess(request)))

    def predict(self, data: Any, data_type: str = "json", field: str | None = None) -> Any:
        """Run pre-processing, inference and post-processing on one request."""
        if data_type == "json":
            if isinstance(data, str) and os.path.isfile(data):
                with open(data, encoding="utf-8") as fh:
                    data = json.load(fh)
            request = data
        elif data_type in ("files", "images"):
            if not isinstance(data, str) or not os.path.isfile(data):
                raise UsageError(f"{data_type} data must be the path of a local file")
            with open(data, "rb") as fh:
                content = io.BytesIO(fh.read())
            request = {field or ("images" if data_type == "images" else "file"): {os.path.basename(data): content}}
        else:
            raise UsageError("data_type must be 'json', 'files' or 'images'")
        return self.run(request)
