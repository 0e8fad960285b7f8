"""``modelarts.model``: models (SDK chapter 10) and services (chapter 11) on
:mod:`mafmt.client.models` and :mod:`mafmt.client.services`. ``Model(publish=False,
source_location_type="LOCAL_SOURCE")`` is a local model; deploying it with
``specification="local"`` gives a :class:`LocalPredictor` that serves it in-process."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from mafmt.errors import UsageError
from mafmt.modelarts.estimatorV2 import _client, _obs_ready

__all__ = ["LocalPredictor", "Model", "Predictor"]

#: first polling interval while waiting for a model or service (seconds)
POLL = 1.0
MAX_OBJECTS = 150


def _obs_uri(path: str) -> str:
    """``/bucket/key`` (the model API's spelling) as ``obs://bucket/key``."""
    return path if "://" in path else "obs://" + path.lstrip("/")


class Model:
    """A model: ``Model(session, model_id=…)`` binds an existing one (checked); otherwise
    the arguments describe a model that is imported at once (``publish=True``, waiting
    until published) or kept local (``publish=False``)."""

    def __init__(self, session: Any, model_id: str | None = None, model_name: str | None = None,
                 model_version: str | None = None, publish: bool = True, source_location_type: str = "OBS_SOURCE",
                 source_location: str | None = None, environment: Any = None, model_type: str | None = None,
                 wait: bool = True, timeout: float = 600.0, **options: Any) -> None:
        self.session = session
        self.model_id = model_id
        self.model_name, self.model_version = model_name, model_version
        self.source_location_type, self.source_location = source_location_type, source_location
        self.environment, self.model_type = environment, model_type
        self.options = options
        if source_location_type not in ("OBS_SOURCE", "LOCAL_SOURCE"):
            raise UsageError("source_location_type must be OBS_SOURCE or LOCAL_SOURCE")
        if model_id:
            _client(session).models.get(model_id)  # raises NotFoundError for an unknown model
        elif publish:
            self.publish_model(wait=wait, timeout=timeout)
        elif source_location_type != "LOCAL_SOURCE" or not source_location or not os.path.isdir(source_location):
            raise UsageError("a local model (publish=False) needs LOCAL_SOURCE and an existing source_location folder")

    def __repr__(self) -> str:
        return f"Model(model_id={self.model_id!r}, model_name={self.model_name!r}, version={self.model_version!r})"

    @property
    def _models(self) -> Any:
        return _client(self.session).models

    def _local_model_dir(self) -> str:
        loc = self.source_location or ""
        inner = os.path.join(loc, "model")
        return inner if os.path.isfile(os.path.join(inner, "customize_service.py")) else loc

    def publish_model(self, obs_location: str | None = None, *, wait: bool = True, timeout: float = 600.0) -> str:
        """Import the model; a LOCAL_SOURCE folder is first uploaded to ``obs_location``
        (default: a timestamped folder ``model-<mmdd-HHMMSS>`` in the bucket
        ``modelarts-<region>-<project[:8]>``) as ``<obs_location>/model/``. Returns the ID."""
        location = self.source_location
        if not location:
            raise UsageError("source_location is required")
        if self.source_location_type == "LOCAL_SOURCE":
            from mafmt.local_training import upload

            if not obs_location:
                project = (getattr(self.session, "project_id", None) or "default")[:8]
                region = getattr(self.session, "region_name", None) or "cn-north-4"
                obs_location = f"obs://modelarts-{region}-{project}/model-{datetime.now():%m%d-%H%M%S}/"
            _obs_ready(self.session)
            upload(self._local_model_dir(), obs_location.rstrip("/") + "/model/")
            print(f"Successfully upload file {self._local_model_dir()} to OBS {obs_location}")
            location = obs_location
            self.source_location, self.source_location_type = location, "OBS_SOURCE"
        opts = dict(self.options)
        if self.environment is not None and not opts.get("dependencies"):
            opts["dependencies"] = self.environment.pip_dependencies() or None
        task = self._models.create(model_name=self.model_name, model_version=self.model_version,
                                   source_location=location, model_type=self.model_type, **opts)
        self.model_id = task["model_id"]
        if wait:
            task.wait(timeout=timeout, poll=POLL)
        return self.model_id

    def get_model_id(self) -> str | None:
        return self.model_id

    def get_model_info(self) -> dict[str, Any]:
        if not self.model_id:
            raise UsageError("a local model has no model_id (publish it first)")
        return dict(self._models.get(self.model_id))

    def delete_model(self, cascade: bool = False) -> dict[str, Any]:
        if not self.model_id:
            raise UsageError("a local model has no model_id")
        return dict(self._models.delete(self.model_id, cascade=cascade))

    @staticmethod
    def get_model_list(session: Any, model_name: str | None = None, model_version: str | None = None,
                       model_status: str | None = None, description: str | None = None, offset: int = 0,
                       limit: int = 280, sort_by: str | None = None, order: str | None = None,
                       workspace_id: str | None = None, **query: Any) -> dict[str, Any]:
        """One page ``{total_count, count, models}`` (``offset`` is a page index)."""
        return dict(_client(session).models.list_page(
            model_name=model_name, model_version=model_version, model_status=model_status, description=description,
            offset=offset, limit=limit, sort_by=sort_by, order=order, workspace_id=workspace_id, **query))

    @staticmethod
    def get_model_object_list(session: Any, **query: Any) -> list[Model]:
        """The listed models as bound objects (at most 150)."""
        models = Model.get_model_list(session, **query).get("models") or []
        out = []
        for m in models[:MAX_OBJECTS]:
            obj = Model.__new__(Model)
            obj.__dict__.update(session=session, model_id=m["model_id"], model_name=m.get("model_name"),
                                model_version=m.get("model_version"), source_location_type="OBS_SOURCE",
                                source_location=m.get("source_location"), environment=None,
                                model_type=m.get("model_type"), options={})
            out.append(obj)
        return out

    @staticmethod
    def configure_tf_infer_environ(device_type: str = "CPU") -> None:
        """Accepted for compatibility: mafmt serves local models in-process through their
        ``customize_service.py`` and installs no TensorFlow Serving binary."""
        if device_type not in ("CPU", "GPU"):
            raise UsageError("device_type must be CPU or GPU")

    def deploy_predictor(self, service_name: str | None = None, description: str | None = None,
                         infer_type: str = "real-time", configs: list[Any] | None = None, vpc_id: str | None = None,
                         subnet_network_id: str | None = None, security_group_id: str | None = None,
                         schedule: list[Any] | None = None, cluster_id: str | None = None,
                         pool_name: str | None = None, wait: bool = True, timeout: float = 1800.0) -> Any:
        """Deploy a service and wait until it runs; ``specification="local"`` gives a
        :class:`LocalPredictor` (weight 100, one instance) without any HTTP call."""
        configs = [dict(c) for c in configs or []]
        if configs and configs[0].get("specification") == "local":
            if len(configs) != 1 or int(configs[0].get("weight", 100)) != 100 or configs[0].get(
                    "instance_count", 1) != 1:
                raise UsageError("a local predictor takes one config with weight 100 and instance_count 1")
            if not self.source_location:
                self.source_location = self.get_model_info().get("source_location")
            if self.source_location_type == "LOCAL_SOURCE":
                return LocalPredictor(self._local_model_dir(), self.model_name or "model")
            import tempfile

            from mafmt.local_training import download

            _obs_ready(self.session)
            obs_dir = _obs_uri(str(self.source_location)).rstrip("/") + "/model/"
            local = tempfile.mkdtemp(prefix="mafmt-local-model-")
            download(obs_dir, local)
            return LocalPredictor(local, self.model_name or "model")
        task = _client(self.session).services.deploy(
            configs, service_name=service_name, infer_type=infer_type, description=description,
            schedule=[dict(s) for s in schedule or []] or None, vpc_id=vpc_id, subnet_network_id=subnet_network_id,
            security_group_id=security_group_id, cluster_id=cluster_id, pool_name=pool_name)
        if wait:
            task.wait(timeout=timeout, poll=POLL)
        return Predictor(self.session, task["service_id"])

    def deploy_transformer(self, service_name: str | None = None, description: str | None = None,
                           infer_type: str = "batch", configs: list[Any] | None = None, **options: Any) -> Predictor:
        """Deploy a batch service (``TransformerConfig``) and wait until it finishes."""
        return self.deploy_predictor(service_name, description, infer_type, configs, **options)


class Predictor:
    """A deployed service: ``Predictor(session, service_id)`` (checked to exist)."""

    def __init__(self, session: Any, service_id: str, *, check: bool = True) -> None:
        self.session = session
        self.service_id = service_id
        if check:
            self.get_service_info()

    def __repr__(self) -> str:
        return f"Predictor(service_id={self.service_id!r})"

    @property
    def _services(self) -> Any:
        return _client(self.session).services

    def get_service_info(self) -> dict[str, Any]:
        return dict(self._services.get(self.service_id))

    def predict(self, data: Any, data_type: str = "json", path: str = "/") -> Any:
        """Send one inference request (``json``: a dict or .json file; ``files``/``images``: a file)."""
        address = self.get_service_info().get("access_address")
        return self._services.predict(address, data, data_type, path=path)

    def update_service_config(self, description: str | None = None, status: str | None = None,
                              configs: list[Any] | None = None) -> dict[str, Any]:
        """Change the description, start/stop, or replace the configs. Like the service,
        when both ``status`` and ``configs`` are given only ``status`` is applied."""
        if status is not None and configs is not None:
            configs = None
        current = self.get_service_info()
        if status is not None and status == current.get("status"):
            status = None  # already there: nothing to change
        return dict(self._services.update(self.service_id, description=description, status=status,
                                          configs=[dict(c) for c in configs] if configs is not None else None,
                                          infer_type=current.get("infer_type")))

    def get_service_monitor(self) -> dict[str, Any]:
        return dict(self._services.monitor(self.service_id))

    def get_service_logs(self) -> dict[str, Any]:
        return dict(self._services.logs(self.service_id))

    def delete_service(self) -> dict[str, Any]:
        return dict(self._services.delete(self.service_id))

    def wait(self, status: str = "running", timeout: float = 1800.0) -> dict[str, Any]:
        return dict(self._services.wait(self.service_id, status, timeout=timeout, poll=POLL))

    @staticmethod
    def get_service_list(session: Any, service_id: str | None = None, service_name: str | None = None,
                         infer_type: str | None = None, offset: int | str = 0, limit: int = 1000,
                         service_status: str | None = None, sort_by: str | None = None, order: str | None = None,
                         model_id: str | None = None, **query: Any) -> dict[str, Any]:
        """One page ``{total_count, count, services}``."""
        return dict(_client(session).services.list_page(
            service_id=service_id, service_name=service_name, infer_type=infer_type, offset=int(offset),
            limit=limit, status=service_status, sort_by=sort_by, order=order, model_id=model_id, **query))

    @staticmethod
    def get_service_object_list(session: Any, is_show: bool = False, **query: Any) -> list[Predictor]:
        services = Predictor.get_service_list(session, **query).get("services") or []
        if is_show:
            print(services)
        return [Predictor(session, s["service_id"], check=False) for s in services]


class LocalPredictor:
    """A local model served in-process (``customize_service.py``) for debugging."""

    def __init__(self, model_dir: str, model_name: str = "model") -> None:
        from mafmt.modelarts._local_serving import LocalService

        self.model_dir = model_dir
        self._service = LocalService(model_dir, model_name)

    def __repr__(self) -> str:
        return f"LocalPredictor(model_dir={self.model_dir!r})"

    def predict(self, data: Any, data_type: str = "json", path: str = "/") -> Any:
        return self._service.predict(data, data_type)

    def get_service_info(self) -> dict[str, Any]:
        return {"service_id": None, "infer_type": "local", "status": "running", "model_dir": self.model_dir}
