"""Services (api.md §14): deploy real-time and batch services, list, get, update,
monitor, logs, delete, predict, and waiters for deploying → running."""

from __future__ import annotations

import json
import mimetypes
import os
import re
from datetime import datetime
from typing import Any

import httpx

from mafmt.client._create import Identity
from mafmt.client._errors import error_for
from mafmt.client._pages import PAGING, Page
from mafmt.client._resource import APIObject, Resource, Task, check_id
from mafmt.errors import UsageError

__all__ = ["MAX_INSTANCES", "Services", "check_configs", "service_done"]

BASE = "/v1/{project_id}/services"
INFER_TYPES = ("real-time", "batch", "edge")
#: instance_count limit per model config (REST: 128; the SDK's quota without a ticket is 5)
MAX_INSTANCES = 128
_NAME = re.compile(r"^[A-Za-z\u4e00-\u9fff][A-Za-z0-9_\-\u4e00-\u9fff]{0,63}$")
_BAD_DESC = set("!<>+&\"'")
_TIME_UNITS = ("DAYS", "HOURS", "MINUTES")
Configs = list[dict[str, Any]]


def service_done(state: dict[str, Any], target: str = "running") -> bool | None:
    """Waiter verdict: True at ``target`` (running; finished for batch), False failed."""
    status = state.get("status")
    if status == target or (target == "running" and status == "finished"):
        return True
    if status in ("failed", "stopped") and status != target:
        return False
    return None


def check_configs(configs: list[dict[str, Any]], infer_type: str, *, max_instances: int = MAX_INSTANCES) -> None:
    """Weights sum to 100 with distinct models (real-time), one config (batch/edge),
    instance counts in 1..``max_instances``, mapping rules for csv batch jobs."""
    if not configs:
        raise UsageError("at least one model config is required")
    for c in configs:
        if not c.get("model_id"):
            raise UsageError("each config needs a model_id")
        if not c.get("specification"):
            raise UsageError("each config needs a specification")
        count = c.get("instance_count")
        if not isinstance(count, int) or not 1 <= count <= max_instances:
            raise UsageError(f"instance_count must be an integer in 1..{max_instances}, got {count!r}")
    if infer_type == "real-time":
        try:
            total = sum(int(c.get("weight")) for c in configs)  # type: ignore[arg-type,misc]
        except (TypeError, ValueError):
            raise UsageError("each real-time config needs an integer weight") from None
        if total != 100:
            raise UsageError(f"the weights of the model configs must sum to 100, not {total}")
        ids = [c["model_id"] for c in configs]
        if len(set(ids)) != len(ids):
            raise UsageError("two configs of one service use the same model version")
    else:
        if len(configs) != 1:
            raise UsageError(f"a {infer_type} service takes exactly one model config")
    if infer_type == "batch":
        c = configs[0]
        for key in ("src_path", "dest_path", "req_uri", "mapping_type"):
            if not c.get(key):
                raise UsageError(f"a batch config needs {key}")
        if c["mapping_type"] not in ("file", "csv"):
            raise UsageError("mapping_type must be 'file' or 'csv'")
        if c["mapping_type"] == "csv" and not c.get("mapping_rule"):
            raise UsageError("mapping_type 'csv' needs a mapping_rule")


def _schedule(schedule: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    out = []
    for s in schedule or []:
        kind = s.get("type", s.get("op_type"))
        if kind != "stop" or s.get("time_unit") not in _TIME_UNITS or not isinstance(s.get("duration"), int):
            raise UsageError("schedule: type 'stop', time_unit DAYS/HOURS/MINUTES and an integer duration")
        out.append({"type": "stop", "time_unit": s["time_unit"], "duration": s["duration"]})
    return out or None


class Services(Resource):
    """``client.services``."""

    def deploy(self, configs: list[dict[str, Any]], *, service_name: str | None = None, infer_type: str = "real-time",
               description: str | None = None, schedule: list[dict[str, Any]] | None = None,
               vpc_id: str | None = None, subnet_network_id: str | None = None, security_group_id: str | None = None,
               cluster_id: str | None = None, pool_name: str | None = None, wait: bool = False,
               timeout: float = 1800.0, poll: float = 1.0, **extra: Any) -> Task:
        """Deploy a service; returns ``{service_id, resource_ids}`` (waitable until running)."""
        name = service_name or f"service-{datetime.now():%m%d-%H%M%S}"
        if not _NAME.match(name):
            raise UsageError(f"service_name {name!r}: 1-64 characters starting with a letter")
        if infer_type not in INFER_TYPES:
            raise UsageError(f"infer_type must be one of {', '.join(INFER_TYPES)}")
        if description is not None and (len(description) > 100 or set(description) & _BAD_DESC):
            raise UsageError("description: at most 100 characters, none of !<>+&\"'")
        if vpc_id and not cluster_id and not (subnet_network_id and security_group_id):
            raise UsageError("vpc_id needs subnet_network_id and security_group_id")
        if schedule and infer_type != "real-time":
            raise UsageError("schedule applies to real-time services only")
        check_configs(configs, infer_type)
        body: dict[str, Any] = {"service_name": name, "infer_type": infer_type, "config": configs}
        for key, value in (("description", description), ("schedule", _schedule(schedule)), ("vpc_id", vpc_id),
                           ("subnet_network_id", subnet_network_id), ("security_group_id", security_group_id),
                           ("cluster_id", cluster_id), ("pool_name", pool_name)):
            if value is not None:
                body[key] = value
        body.update({k: v for k, v in extra.items() if v is not None})

        ident = Identity("service", name, find=lambda: self.list(service_name=name),
                         created=lambda s: s.get("publish_at"),
                         matches=lambda s: s.get("service_name") == name and s.get("infer_type") == infer_type,
                         result=lambda s: {"service_id": s["service_id"], "resource_ids": []},
                         exists_codes=frozenset({"ModelArts.3503"}))
        out = APIObject(self._post(BASE, body, create=ident))
        task = self._task(out["service_id"], out)
        if wait:
            task.wait(timeout=timeout, poll=poll)
        return task

    def _task(self, service_id: str, data: dict[str, Any], target: str = "running") -> Task:
        return Task(data).bind(lambda: self.get(service_id), lambda s: service_done(s, target),
                               f"service {service_id}")

    def list_page(self, **query: Any) -> APIObject:
        """One page: ``{total_count, count, services}`` (SDK ``service_status`` → ``status``)."""
        if "service_status" in query:
            query["status"] = query.pop("service_status")
        return APIObject(self._get(BASE, **query) or {})

    def list(self, *, limit: int = 100, offset: int | None = None, max_items: int | None = None,
             **query: Any) -> Page[APIObject]:
        """All matching services (lazy pages; ``offset`` is a page index)."""
        return Page(lambda p: self.list_page(**query, **p), items_key="services", total_key="total_count",
                    id_key="service_id", limit=limit, style=PAGING["ListServices"], start=offset, convert=APIObject, max_items=max_items)

    def get(self, service_id: str) -> Task:
        return self._task(service_id, APIObject(self._get(f"{BASE}/{check_id('service_id', service_id)}")))

    def wait(self, service_id: str, status: str = "running", *, timeout: float = 1800.0,
             poll: float = 1.0) -> APIObject:
        """Wait until the service reaches ``status`` (running, stopped, finished)."""
        return self._task(service_id, {"service_id": service_id}, status).wait(timeout=timeout, poll=poll)

    def update(self, service_id: str, *, description: str | None = None, status: str | None = None,
               configs: Configs | None = None, schedule: Configs | None = None,
               infer_type: str | None = None) -> APIObject:
        """Change description, start/stop (``status``) or replace the configs — not
        ``status`` and ``configs`` together (the service would drop the configs)."""
        if status is not None and configs is not None:
            raise UsageError("change status or configs, not both in one update")
        if status not in (None, "running", "stopped"):
            raise UsageError("status must be 'running' or 'stopped'")
        if configs is not None:
            check_configs(configs, infer_type or self.get(service_id).get("infer_type", "real-time"))
        body = {k: v for k, v in {"description": description, "status": status, "config": configs,
                                  "schedule": _schedule(schedule)}.items() if v is not None}
        return APIObject(self._put(f"{BASE}/{check_id('service_id', service_id)}", body) or {})

    def monitor(self, service_id: str, node_id: str | None = None) -> APIObject:
        return APIObject(self._get(f"{BASE}/{check_id('service_id', service_id)}/monitor", node_id=node_id))

    def logs(self, service_id: str, update_time: int | None = None) -> APIObject:
        return APIObject(self._get(f"{BASE}/{check_id('service_id', service_id)}/logs", update_time=update_time))

    def events(self, service_id: str) -> APIObject:
        return APIObject(self._get(f"{BASE}/{check_id('service_id', service_id)}/events"))

    def specifications(self, **query: Any) -> APIObject:
        return APIObject(self._get(f"{BASE}/specifications", **query))

    def delete(self, *service_ids: str) -> APIObject:
        """Delete one or several services."""
        ids = ",".join(check_id("service_id", s) for s in service_ids)
        return APIObject(self._delete(f"{BASE}/{ids}") or {})

    def predict(self, access_address: str, data: Any, data_type: str = "json", *, path: str = "/",
                field: str | None = None) -> Any:
        """Call a service's inference URL: ``json`` (dict or .json file), ``files`` or
        ``images`` (a local file sent as multipart; form field ``file``/``images``)."""
        if not access_address:
            raise UsageError("the service has no access address (not a running real-time service)")
        url = access_address.rstrip("/") + ("" if path in ("", "/") else "/" + path.lstrip("/"))
        http = self._t.http
        auth = self._t.auth or httpx.USE_CLIENT_DEFAULT
        if data_type == "json":
            if isinstance(data, str) and os.path.isfile(data):
                with open(data, encoding="utf-8") as fh:
                    data = json.load(fh)
            if not isinstance(data, (dict, list)):
                raise UsageError("json data must be a dict, a list or the path of a .json file")
            content = json.dumps(data, ensure_ascii=False).encode("utf-8")
            resp = http.post(url, content=content, headers={"Content-Type": "application/json"}, auth=auth)
        elif data_type in ("files", "images"):
            if not isinstance(data, str) or not os.path.isfile(data):
                raise UsageError(f"{data_type} data must be the path of a local file")
            name = field or ("images" if data_type == "images" else "file")
            ctype = mimetypes.guess_type(data)[0] or "application/octet-stream"
            with open(data, "rb") as fh:
                files = {name: (os.path.basename(data), fh.read(), ctype)}
            resp = http.post(url, files=files, auth=auth)
        else:
            raise UsageError("data_type must be 'json', 'files' or 'images'")
        if resp.status_code >= 400:
            raise error_for(resp)
        try:
            return resp.json()
        except ValueError:
            return resp.text
