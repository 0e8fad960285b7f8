"""Inference services, v2 (``/v2/{project_id}/services``; the official
``*InferService*`` and ``*InferDeployment*`` operations): create, list, show, update,
start, stop, delete, events, and the deployments of a service (create, list, show,
delete). The v1 services of the SDK reference stay in :mod:`mafmt.client.services`.

A v2 service runs one or more deployments, each an image with a flavor and an instance
count; the service's status goes DEPLOYING → RUNNING (or FAILED), STOPPED after a stop."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from mafmt.client._create import Identity
from mafmt.client._pages import PAGING, Page
from mafmt.client._resource import APIObject, Resource, Task, check_id
from mafmt.errors import UsageError

__all__ = ["STATUSES", "InferServices", "deployment_body", "infer_service_done", "service_body"]

BASE = "/v2/{project_id}/services"
#: service statuses of the official model
STATUSES = ("INIT", "DEPLOYING", "RUNNING", "STOPPING", "STOPPED", "FAILED", "ERROR", "CONCERNING", "UPGRADING",
            "DELETING", "INTERRUPTING")
_NAME = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff]{1,64}$")
_DEPLOYMENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def infer_service_done(state: dict[str, Any], target: str = "RUNNING") -> bool | None:
    """Waiter verdict: True at ``target``, False failed, None still moving."""
    status = state.get("status")
    if status == target:
        return True
    if status in ("FAILED", "ERROR") or (status == "STOPPED" and target == "RUNNING"):
        return False
    return None


def deployment_body(name: str, *, image: str, flavor: str | None = None, count: int = 1, weight: int = 100,
                    port: int | None = None, cmd: str | None = None, envs: dict[str, str] | None = None,
                    pool_id: str | None = None, model: dict[str, Any] | None = None,
                    description: str | None = None) -> dict[str, Any]:
    """One deployment (the official ``GroupConfig``): an SWR image run ``count`` times."""
    if not _DEPLOYMENT.match(name or ""):
        raise UsageError(f"deployment name {name!r}: 1-64 letters, digits, '_' or '-'")
    if not image:
        raise UsageError("a deployment needs an image (its SWR path)")
    if not 1 <= int(count) <= 128:
        raise UsageError("a deployment's instance count must be within 1..128")
    if not 0 <= int(weight) <= 100:
        raise UsageError("a deployment's traffic weight must be within 0..100")
    unit: dict[str, Any] = {"image": {"source": "SWR", "swr_path": image}, "count": 1}
    for key, value in (("flavor", flavor), ("port", port), ("cmd", cmd), ("envs", envs)):
        if value is not None:
            unit[key] = value
    if model is not None and (not model.get("source") or not model.get("mount_path")):
        raise UsageError("a deployment's model needs source and mount_path")
    group: dict[str, Any] = {"name": name, "weight": int(weight), "count": int(count), "unit_configs": [unit]}
    for key, value in (("pool_id", pool_id), ("model", model), ("description", description)):
        if value is not None:
            group[key] = value
    return group


def service_body(name: str, deployments: Sequence[dict[str, Any]], *, service_type: str = "REAL_TIME",
                 deploy_type: str = "SINGLE", auth_type: str = "TOKEN", port: int = 8080, protocol: str = "HTTPS",
                 rate_limit: int = 100, rate_unit: str = "SECONDS", request_size_limit: int = 12,
                 request_timeout: int = 60, custom_metrics_path: str = "", description: str | None = None,
                 version: str | None = None, tags: dict[str, str] | None = None,
                 workspace_id: str | None = None) -> dict[str, Any]:
    """The wire body of a v2 service (the official ``ServiceCreateRequest``, every
    required field filled): ``deployments`` from :func:`deployment_body`."""
    if not _NAME.match(name or ""):
        raise UsageError(f"service name {name!r}: 1-64 letters, Chinese characters, digits, '-' or '_'")
    if not deployments:
        raise UsageError("a service needs at least one deployment")
    if service_type not in ("REAL_TIME", "ASYNC_REAL_TIME"):
        raise UsageError("service type must be REAL_TIME or ASYNC_REAL_TIME")
    if deploy_type not in ("SINGLE", "MULTI"):
        raise UsageError("deploy type must be SINGLE or MULTI")
    if auth_type not in ("TOKEN", "API_KEY", "NONE"):
        raise UsageError("auth type must be TOKEN, API_KEY or NONE")
    if version is not None and not re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{1,2}", version):
        raise UsageError(f"service version {version!r}: like 1.0.0")
    names = [d.get("name") for d in deployments]
    if len(set(names)) != len(names):
        raise UsageError("two deployments of one service have the same name")
    body: dict[str, Any] = {
        "name": name, "type": service_type, "deploy_type": deploy_type, "group_configs": list(deployments),
        "runtime_config": {
            "service_invoke": {"port": int(port), "protocol": protocol, "auth_type": auth_type},
            "service_limit": {"rate_limit": {"num": int(rate_limit), "unit": rate_unit},
                              "request_size_limit": int(request_size_limit), "request_timeout": int(request_timeout)}},
        "custom_metrics_path": custom_metrics_path,
    }
    for key, value in (("description", description), ("version", version), ("workspace_id", workspace_id)):
        if value is not None:
            body[key] = value
    if tags:
        body["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
    return body


class InferServices(Resource):
    """``client.infer_services`` (v2 inference services and their deployments)."""

    def create(self, body: dict[str, Any] | None = None, *, name: str | None = None,
               deployments: Sequence[dict[str, Any]] = (), wait: bool = False, timeout: float = 1800.0,
               poll: float = 1.0, **options: Any) -> Task:
        """Create a service from a wire ``body`` or from :func:`service_body` arguments;
        returns the service (waitable until RUNNING)."""
        if body is None:
            if name is None:
                raise UsageError("a service needs a name")
            body = service_body(name, deployments, **options)
        sname = body["name"]
        ident = Identity("inference service", sname, find=lambda: self.list(name=sname),
                         created=lambda s: s.get("create_at"),
                         matches=lambda s: s.get("name") == sname and s.get("type") == body.get("type"),
                         result=lambda s: self.get(s["id"]), exists_codes=frozenset({"ModelArts.3503"}))
        out = self._post(BASE, body, create=ident)
        task = self._task(dict(out))
        if wait:
            task.wait(timeout=timeout, poll=poll)
        return task

    def _task(self, data: dict[str, Any], target: str = "RUNNING") -> Task:
        sid = data["id"]
        return Task(data).bind(lambda: self.get(sid), lambda s: infer_service_done(s, target),
                               f"inference service {sid}")

    def list(self, *, name: str | None = None, status: str | None = None, service_type: str | None = None,
             sort_key: str | None = None, sort_dir: str | None = None, limit: int = 100, offset: int | None = None,
             max_items: int | None = None, **query: Any) -> Page[APIObject]:
        """Every matching service (lazy pages; ``offset`` counts records)."""
        def fetch(p: dict[str, Any]) -> Any:
            return self._get(BASE, name=name, status=status, type=service_type, sort_key=sort_key,
                             sort_dir=sort_dir, **query, **p) or {}

        return Page(fetch, items_key="data", total_key="total", id_key="id", limit=limit,
                    style=PAGING["ListInferServices"], start=offset, convert=APIObject, max_items=max_items)

    def get(self, service_id: str) -> Task:
        """One service (waitable)."""
        return self._task(APIObject(self._get(f"{BASE}/{check_id('service_id', service_id)}")))

    def wait(self, service_id: str, status: str = "RUNNING", *, timeout: float = 1800.0, poll: float = 1.0,
             progress: Any = False) -> APIObject:
        """Wait until the service reaches ``status``."""
        return self._task({"id": service_id}, status).wait(timeout=timeout, poll=poll, progress=progress)

    def update(self, service_id: str, **fields: Any) -> APIObject:
        """Change ``description``, ``name``, ``version``, ``schedule``, ``group_configs``..."""
        body = {k: v for k, v in fields.items() if v is not None}
        if not body:
            raise UsageError("nothing to update")
        return APIObject(self._put(f"{BASE}/{check_id('service_id', service_id)}", body) or {})

    def start(self, service_id: str) -> APIObject:
        """Start a stopped (or failed) service."""
        return APIObject(self._t.request("POST", f"{BASE}/{check_id('service_id', service_id)}/start",
                                         idempotent=True) or {})

    def stop(self, service_id: str) -> APIObject:
        """Stop a service."""
        return APIObject(self._t.request("POST", f"{BASE}/{check_id('service_id', service_id)}/stop",
                                         idempotent=True) or {})

    def delete(self, *service_ids: str) -> APIObject:
        """Delete one or several services (``{service_responses}``)."""
        if not service_ids:
            raise UsageError("give at least one service ID")
        body = {"service_ids": [check_id("service_id", s) for s in service_ids]}
        return APIObject(self._t.request("POST", f"{BASE}/delete", json_body=body, idempotent=True) or {})

    def events(self, service_id: str, *, event_type: str | None = None, limit: int = 100,
               max_items: int | None = None) -> Page[APIObject]:
        """The service's events (lazy pages; ``offset`` counts records)."""
        def fetch(p: dict[str, Any]) -> Any:
            return self._get(f"{BASE}/{check_id('service_id', service_id)}/events", event_type=event_type, **p) or {}

        return Page(fetch, items_key="data", total_key="total", id_key="id", limit=limit,
                    style=PAGING["ListInferServiceEvents"], convert=APIObject, max_items=max_items)

    # ------------------------------------------------------------------ deployments

    def _deployments(self, service_id: str) -> str:
        return f"{BASE}/{check_id('service_id', service_id)}/deployments"

    def create_deployment(self, service_id: str, group: dict[str, Any]) -> APIObject:
        """Add a deployment (from :func:`deployment_body`) to a service."""
        dname = group.get("name")
        ident = Identity("deployment", dname, find=lambda: self.list_deployments(service_id),
                         created=lambda d: d.get("create_at"), matches=lambda d: d.get("name") == dname,
                         result=lambda d: self.get_deployment(service_id, d["id"]),
                         exists_codes=frozenset({"ModelArts.3525"}))
        return APIObject(self._post(self._deployments(service_id), group, create=ident))

    def list_deployments(self, service_id: str, *, status: str | None = None, limit: int = 100,
                         max_items: int | None = None) -> Page[APIObject]:
        """A service's deployments (lazy pages; ``offset`` counts records)."""
        def fetch(p: dict[str, Any]) -> Any:
            return self._get(self._deployments(service_id), status=status, **p) or {}

        return Page(fetch, items_key="data", total_key="total", id_key="id", limit=limit,
                    style=PAGING["ListInferDeployments"], convert=APIObject, max_items=max_items)

    def get_deployment(self, service_id: str, deployment_id: str) -> APIObject:
        """One deployment."""
        return APIObject(self._get(f"{self._deployments(service_id)}/{check_id('deployment_id', deployment_id)}"))

    def delete_deployment(self, service_id: str, deployment_id: str) -> APIObject:
        """Remove a deployment from a service (a service keeps at least one)."""
        return APIObject(self._delete(f"{self._deployments(service_id)}/{check_id('deployment_id', deployment_id)}")
                         or {})
