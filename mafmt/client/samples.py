"""Samples (api.md §6): list, get, batch delete, batch add."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

from mafmt.client._errors import BadRequestError
from mafmt.client._pages import PAGING, Page
from mafmt.client._resource import APIObject, Resource, check_id

__all__ = ["Samples"]


def _path(dataset_id: str) -> str:
    return f"/v2/{{project_id}}/datasets/{check_id('dataset_id', dataset_id)}/data-annotations/samples"


def _check_batch(result: dict[str, Any], ids: list[str] | None = None) -> APIObject:
    results = result.get("results") or []
    failed = [(ids[i] if ids and i < len(ids) else r.get("name") or str(i), r) for i, r in enumerate(results)
              if not r.get("success", True)]
    if result.get("success") is False or failed:
        detail = "; ".join(f"{key}: {r.get('error_msg') or r.get('error_code')}" for key, r in failed)
        raise BadRequestError(f"batch partly failed: {detail or result.get('error_msg')}",
                              error_code=result.get("error_code") or (failed[0][1].get("error_code") if failed
                                                                      else None), body=result)
    return APIObject(result)


class Samples(Resource):
    """``client.samples``."""

    def list(self, dataset_id: str, *, version_id: str | None = None, limit: int = 100,
             offset: int | None = None, max_items: int | None = None, **query: Any) -> Page[APIObject]:
        """All samples of a dataset or of one of its versions (lazy pages).
        ``query`` takes the documented filters (``sample_state``, ``label_name``...)."""
        def fetch(paging: dict[str, Any]) -> dict[str, Any]:
            return self._get(_path(dataset_id), version_id=version_id, **query, **paging) or {}

        return Page(fetch, items_key="samples", total_key="sample_count", id_key="sample_id", limit=limit, style=PAGING["ListSamples"],
                    start=offset, convert=APIObject, max_items=max_items)

    def get(self, dataset_id: str, sample_id: str) -> APIObject:
        """One sample."""
        return APIObject(self._get(f"{_path(dataset_id)}/{check_id('sample_id', sample_id)}"))

    def delete(self, dataset_id: str, sample_ids: Iterable[str], *, delete_source: bool = False) -> APIObject:
        """Delete samples by ID; raises listing the IDs that failed."""
        ids = list(sample_ids)
        result = self._t.request("POST", f"{_path(dataset_id)}/delete",
                                 json_body={"samples": ids, "delete_source": delete_source}, idempotent=True)
        return _check_batch(result or {}, ids)

    def add(self, dataset_id: str, samples: Iterable[dict[str, Any]], *, final_annotation: bool = True
            ) -> APIObject:
        """Upload samples: dicts with ``name`` and ``data`` (bytes or base64 text) or
        ``data_source``, optional ``labels``/``metadata``/``sample_type``."""
        items = []
        for s in samples:
            item = dict(s)
            if isinstance(item.get("data"), (bytes, bytearray)):
                item["data"] = base64.b64encode(item["data"]).decode("ascii")
            items.append(item)
        result = self._post(_path(dataset_id), {"samples": items, "final_annotation": final_annotation})
        return _check_batch(result or {})
