"""Models (api.md §13): create (import), list, get, delete, with a publish waiter."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from mafmt.client._create import Identity
from mafmt.client._pages import PAGING, Page
from mafmt.client._resource import APIObject, Resource, Task, check_id
from mafmt.errors import UsageError

__all__ = ["MODEL_TYPES", "Models", "check_dependencies", "model_body", "model_done"]

BASE = "/v1/{project_id}/models"
MODEL_TYPES = ("TensorFlow", "MXNet", "Caffe", "Spark_MLlib", "Scikit_Learn", "XGBoost", "MindSpore", "Image",
               "PyTorch", "Template")
RESTRAINTS = ("EXACT", "ATLEAST", "ATMOST")
_VERSION = re.compile(r"^(?:0|[1-9]\d?)\.(?:0|[1-9]\d?)\.(?:0|[1-9]\d?)$")
_NAME = re.compile(r"^[A-Za-z\u4e00-\u9fff][A-Za-z0-9_\-\u4e00-\u9fff]{0,63}$")
_BAD_DESC = set("&!'\"<>=")


def model_done(state: dict[str, Any]) -> bool | None:
    status = state.get("model_status")
    if status == "published":
        return True
    if status in ("failed", "building_failed"):
        return False
    return None


def check_dependencies(dependencies: list[dict[str, Any]] | None) -> None:
    """``installer`` pip only; ``restraint`` EXACT/ATLEAST/ATMOST, required iff a version is given."""
    for dep in dependencies or []:
        if dep.get("installer", "pip") != "pip":
            raise UsageError(f"dependency installer must be 'pip', not {dep.get('installer')!r}")
        for pkg in dep.get("packages") or []:
            if not pkg.get("package_name"):
                raise UsageError("each package needs a package_name")
            version, restraint = pkg.get("package_version"), pkg.get("restraint")
            if version and restraint not in RESTRAINTS:
                raise UsageError(f"package {pkg['package_name']}: restraint must be one of {', '.join(RESTRAINTS)}")
            if restraint and not version:
                raise UsageError(f"package {pkg['package_name']}: restraint given without package_version")


def model_body(
    *,
    model_version: str,
    source_location: str,
    model_type: str,
    model_name: str | None = None,
    runtime: str | None = None,
    model_algorithm: str | None = None,
    description: str | None = None,
    execution_code: str | None = None,
    source_job_id: str | None = None,
    source_job_version: str | None = None,
    source_type: str | None = None,
    input_params: list[dict[str, Any]] | None = None,
    output_params: list[dict[str, Any]] | None = None,
    dependencies: list[dict[str, Any]] | None = None,
    apis: Any = None,
    workspace_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The wire body of ``POST /v1/{project_id}/models`` (api.md §13.1), validated first."""
    name = model_name or f"model-{datetime.now():%m%d-%H%M%S}"
    if not _NAME.match(name):
        raise UsageError(f"model_name {name!r}: 1-64 characters, starting with a letter; letters, digits, _ or -")
    if not _VERSION.match(str(model_version or "")):
        raise UsageError(f"model_version {model_version!r}: N.N.N with 1-2 digit numbers, no leading zeros")
    if model_type not in MODEL_TYPES:
        raise UsageError(f"model_type must be one of {', '.join(MODEL_TYPES)}, not {model_type!r}")
    if not source_location and model_type != "Template":
        raise UsageError("source_location is required")
    if description is not None and (len(description) > 100 or set(description) & _BAD_DESC):
        raise UsageError("description: at most 100 characters, none of &!'\"<>=")
    if source_type not in (None, "auto"):
        raise UsageError("source_type can only be 'auto'")
    for params in (input_params, output_params):
        for p in params or []:
            if not p.get("param_name") or not p.get("url") or not p.get("param_type"):
                raise UsageError("each input/output param needs url, param_name and param_type")
    check_dependencies(dependencies)
    body: dict[str, Any] = {"model_name": name, "model_version": model_version, "model_type": model_type,
                            "source_location": source_location}
    for key, value in (("runtime", runtime), ("model_algorithm", model_algorithm), ("description", description),
                       ("execution_code", execution_code), ("source_job_id", source_job_id),
                       ("source_job_version", source_job_version), ("source_type", source_type),
                       ("input_params", input_params), ("output_params", output_params),
                       ("dependencies", dependencies), ("apis", apis), ("workspace_id", workspace_id)):
        if value is not None:
            body[key] = value
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


class Models(Resource):
    """``client.models``."""

    def create(self, *, wait: bool = False, timeout: float = 600.0, poll: float = 1.0, **options: Any) -> Task:
        """Import a model (see :func:`model_body`); returns ``{model_id}`` (waitable until published)."""
        body = model_body(**options)

        ident = Identity("model", f"{body['model_name']} {body['model_version']}",
                         find=lambda: self.list(model_name=body["model_name"], model_version=body["model_version"],
                                                exact_match=True),
                         created=lambda m: m.get("create_at"),
                         matches=lambda m: m.get("model_name") == body["model_name"]
                         and m.get("model_version") == body["model_version"]
                         and m.get("source_location") in (None, body["source_location"]),
                         result=lambda m: {"model_id": m["model_id"]}, exists_codes=frozenset({"ModelArts.3002"}))
        out = APIObject(self._post(BASE, body, create=ident))
        task = self._task(out["model_id"], out)
        if wait:
            task.wait(timeout=timeout, poll=poll)
        return task

    def _task(self, model_id: str, data: dict[str, Any]) -> Task:
        return Task(data).bind(lambda: self.get(model_id), model_done, f"model {model_id}")

    def list_page(self, **query: Any) -> APIObject:
        """One page: ``{total_count, count, models}``."""
        return APIObject(self._get(BASE, **query) or {})

    def list(self, *, model_name: str | None = None, model_version: str | None = None,
             model_status: str | None = None, description: str | None = None, sort_by: str | None = None,
             order: str | None = None, limit: int = 100, offset: int | None = None, max_items: int | None = None,
             **query: Any) -> Page[APIObject]:
        """All matching models (lazy pages; ``offset`` is a page index)."""
        if "exact_match" in query and isinstance(query["exact_match"], bool):
            query["exact_match"] = str(query["exact_match"]).lower()

        def fetch(p: dict[str, Any]) -> dict[str, Any]:
            return self.list_page(model_name=model_name, model_version=model_version, model_status=model_status,
                                  description=description, sort_by=sort_by, order=order, **query, **p)

        return Page(fetch, items_key="models", total_key="total_count", id_key="model_id", limit=limit, style=PAGING["ListModels"],
                    start=offset, convert=APIObject, max_items=max_items)

    def get(self, model_id: str) -> Task:
        return self._task(model_id, APIObject(self._get(f"{BASE}/{check_id('model_id', model_id)}")))

    def delete(self, model_id: str, *, cascade: bool = False) -> APIObject:
        """Delete a model; raises when the service reports it in ``delete_failed_list``."""
        from mafmt.client._errors import BadRequestError

        out = APIObject(self._t.request("DELETE", f"{BASE}/{check_id('model_id', model_id)}",
                                        params={"cascade": "true"} if cascade else None) or {})
        failed = out.get("delete_failed_list") or []
        if failed:
            first = failed[0]
            raise BadRequestError(first.get("error_msg") or "model not deleted", error_code=first.get("error_code"),
                                  body=out)
        return out
