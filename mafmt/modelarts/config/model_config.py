"""``modelarts.config.model_config``: model and service configuration objects.

Each is a ``dict`` of its wire fields (``None`` arguments left out), so lists of them
are sent as they are; fields are also readable as attributes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Dependencies", "Packages", "Params", "Schedule", "ServiceConfig", "TransformerConfig"]


class _Wire(dict):  # type: ignore[type-arg]
    def __init__(self, **fields: Any) -> None:
        super().__init__({k: v for k, v in fields.items() if v is not None})

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class ServiceConfig(_Wire):
    """A real-time model config: ``model_id``, ``weight`` (percent; the configs of a
    service sum to 100), ``specification``, ``instance_count``, ``envs``."""

    def __init__(self, model_id: str | None = None, weight: int | str | None = None,
                 specification: str | None = None, instance_count: int | None = None,
                 envs: dict[str, str] | None = None, **extra: Any) -> None:
        if isinstance(weight, str) and weight.strip().isdigit():
            weight = int(weight)
        super().__init__(model_id=model_id, weight=weight, specification=specification,
                         instance_count=instance_count, envs=envs, **extra)


class TransformerConfig(_Wire):
    """A batch config: model, specification, instances, ``src_path``/``dest_path`` on OBS,
    ``req_uri``, ``mapping_type`` (``file`` or ``csv``) and the csv ``mapping_rule``."""

    def __init__(self, model_id: str | None = None, specification: str | None = None,
                 instance_count: int | None = None, src_path: str | None = None, dest_path: str | None = None,
                 req_uri: str | None = None, mapping_type: str | None = None, mapping_rule: Any = None,
                 envs: dict[str, str] | None = None, src_type: str | None = None, **extra: Any) -> None:
        super().__init__(model_id=model_id, specification=specification, instance_count=instance_count,
                         src_path=src_path, dest_path=dest_path, req_uri=req_uri, mapping_type=mapping_type,
                         mapping_rule=mapping_rule, envs=envs, src_type=src_type, **extra)


class Schedule(_Wire):
    """Stop the service after ``duration`` ``time_unit`` (DAYS, HOURS, MINUTES)."""

    def __init__(self, op_type: str = "stop", time_unit: str = "HOURS", duration: int = 1) -> None:
        super().__init__(type=op_type, time_unit=time_unit, duration=duration)


class Params(_Wire):
    """A model input/output parameter."""

    def __init__(self, url: str | None = None, param_name: str | None = None, param_type: str | None = None,
                 min: float | None = None, max: float | None = None, param_desc: str | None = None,
                 protocol: str | None = None, method: str | None = None) -> None:
        super().__init__(url=url, param_name=param_name, param_type=param_type, min=min, max=max,
                         param_desc=param_desc, protocol=protocol, method=method)


class Packages(_Wire):
    """A pip package: ``restraint`` EXACT, ATLEAST or ATMOST with ``package_version``."""

    def __init__(self, package_name: str, package_version: str | None = None, restraint: str | None = None) -> None:
        super().__init__(package_name=package_name, package_version=package_version, restraint=restraint)


class Dependencies(_Wire):
    """``installer`` (pip) and its ``packages``."""

    def __init__(self, installer: str = "pip", packages: list[Any] | None = None) -> None:
        super().__init__(installer=installer, packages=[dict(p) for p in packages or []])
