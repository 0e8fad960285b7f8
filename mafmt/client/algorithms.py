"""Algorithms, v2 (``/v2/{project_id}/algorithms``; the official ``CreateAlgorithm``,
``ListAlgorithms``, ``ShowAlgorithmByUuid``, ``ChangeAlgorithm``, ``DeleteAlgorithm``).

An algorithm is a reusable training job configuration (code or image, engine,
parameters, declared inputs and outputs); a training job uses one with
``training_jobs.create(algorithm_id=...)``."""

from __future__ import annotations

import re
from typing import Any

from mafmt.client._create import Identity
from mafmt.client._pages import PAGING, Page
from mafmt.client._resource import APIObject, Resource, check_id
from mafmt.errors import UsageError

__all__ = ["Algorithms", "algorithm_body"]

BASE = "/v2/{project_id}/algorithms"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _declared(items: list[Any] | None, kind: str) -> list[dict[str, Any]]:
    out = []
    for item in items or []:
        entry = {"name": item} if isinstance(item, str) else dict(item)
        if not entry.get("name"):
            raise UsageError(f"each algorithm {kind} needs a name")
        out.append(entry)
    return out


def algorithm_body(
    name: str,
    *,
    code_dir: str | None = None,
    boot_file: str | None = None,
    command: str | None = None,
    image_url: str | None = None,
    engine_name: str | None = None,
    engine_version: str | None = None,
    engine_id: str | None = None,
    parameters: list[dict[str, Any]] | None = None,
    inputs: list[Any] | None = None,
    outputs: list[Any] | None = None,
    description: str | None = None,
    workspace_id: str | None = None,
    parameters_customization: bool | None = None,
) -> dict[str, Any]:
    """The wire body of an algorithm (the official ``Algorithm`` model), checked first:
    code (``code_dir`` + ``boot_file``) or an image (``image_url`` + ``command``)."""
    if not _NAME.match(name or ""):
        raise UsageError(f"algorithm name {name!r}: 1-64 letters, digits, '_' or '-'")
    if description is not None and len(description) > 256:
        raise UsageError("algorithm description: at most 256 characters")
    if bool(code_dir) != bool(boot_file):
        raise UsageError("code_dir and boot_file go together")
    if not (code_dir or (image_url and command)):
        raise UsageError("an algorithm needs code_dir + boot_file, or image_url + command")
    if boot_file and code_dir and "://" not in boot_file and not boot_file.startswith("/"):
        boot_file = code_dir.rstrip("/") + "/" + boot_file
    engine = {k: v for k, v in (("engine_id", engine_id), ("engine_name", engine_name),
                                ("engine_version", engine_version), ("image_url", image_url)) if v}
    config: dict[str, Any] = {k: v for k, v in (("code_dir", code_dir), ("boot_file", boot_file),
                                                 ("command", command)) if v}
    if engine:
        config["engine"] = engine
    if parameters:
        from mafmt.client.training_bodies import parameters_wire

        config["parameters"] = parameters_wire(parameters)
    if inputs:
        config["inputs"] = _declared(inputs, "input")
    if outputs:
        config["outputs"] = _declared(outputs, "output")
    if parameters_customization is not None:
        config["parameters_customization"] = parameters_customization
    meta: dict[str, Any] = {"name": name}
    if description is not None:
        meta["description"] = description
    if workspace_id is not None:
        meta["workspace_id"] = workspace_id
    return {"metadata": meta, "job_config": config}


class Algorithms(Resource):
    """``client.algorithms``."""

    def create(self, name: str | None = None, *, body: dict[str, Any] | None = None, **options: Any) -> APIObject:
        """Create an algorithm from :func:`algorithm_body` options (or a wire ``body``)."""
        if body is None:
            if name is None:
                raise UsageError("an algorithm needs a name")
            body = algorithm_body(name, **options)
        aname = body["metadata"]["name"]
        sent = body.get("job_config") or {}
        ident = Identity("algorithm", aname, find=lambda: self.list(name=aname),
                         created=lambda a: (a.get("metadata") or {}).get("create_time"),
                         matches=lambda a: a["metadata"].get("name") == aname and all(
                             (a.get("job_config") or {}).get(k) == sent[k] for k in ("code_dir", "boot_file", "command")
                             if k in sent),
                         result=APIObject, exists_codes=frozenset({"ModelArts.2703"}))
        return APIObject(self._post(BASE, body, create=ident))

    def list(self, *, name: str | None = None, sort_by: str | None = None, order: str | None = None,
             limit: int = 50, offset: int | None = None, max_items: int | None = None,
             workspace_id: str | None = None) -> Page[APIObject]:
        """All algorithms (lazy pages; ``offset`` counts records); ``name`` filters."""
        searches = f"name:{name}" if name else None

        def fetch(p: dict[str, Any]) -> Any:
            return self._get(BASE, sort_by=sort_by, order=order, searches=searches, workspace_id=workspace_id,
                             **p) or {}

        return Page(fetch, items_key="items", total_key="count", id_key=None, limit=limit,
                    style=PAGING["ListAlgorithms"], start=offset, convert=APIObject, max_items=max_items,
                    id_of=lambda a: (a.get("metadata") or {}).get("id"))

    def get(self, algorithm_id: str) -> APIObject:
        """One algorithm."""
        return APIObject(self._get(f"{BASE}/{check_id('algorithm_id', algorithm_id)}"))

    def update(self, algorithm_id: str, *, body: dict[str, Any] | None = None, **options: Any) -> APIObject:
        """Replace an algorithm's definition: a wire ``body``, or :func:`algorithm_body`
        options merged over the current definition."""
        if body is None:
            current = self.get(algorithm_id)
            cfg = current.get("job_config") or {}
            engine = cfg.get("engine") or {}
            merged: dict[str, Any] = {
                "code_dir": cfg.get("code_dir"), "boot_file": cfg.get("boot_file"), "command": cfg.get("command"),
                "image_url": engine.get("image_url"), "engine_name": engine.get("engine_name"),
                "engine_version": engine.get("engine_version"), "engine_id": engine.get("engine_id"),
                "parameters": cfg.get("parameters"), "inputs": cfg.get("inputs"), "outputs": cfg.get("outputs"),
                "description": current["metadata"].get("description"),
            }
            merged.update(options)
            body = algorithm_body(options.pop("name", None) or current["metadata"]["name"],
                                  **{k: v for k, v in merged.items() if k != "name"})
        return APIObject(self._put(f"{BASE}/{check_id('algorithm_id', algorithm_id)}", body) or {})

    def delete(self, algorithm_id: str) -> None:
        """Delete an algorithm."""
        self._delete(f"{BASE}/{check_id('algorithm_id', algorithm_id)}")
