"""Lazy pagination over the paging models of ModelArts (api.md §1.5).

Every list operation declares its paging model in :data:`PAGING` (checked against the
official ``huaweicloudsdkmodelarts`` request models where they cover it); the client's
iterators and the emulator's handlers both read it from there:

* :data:`PAGE_INDEX` — ``offset`` is a page number from 0 (skip ``offset * limit``);
* :data:`RECORD_OFFSET` — ``offset`` is the number of records to skip;
* :data:`ONE_BASED` — ``page``/``per_page``, pages from 1 (v1 training);
* :data:`MARKER` — the next request carries a value the previous answer gave (AOM logs:
  ``base_line`` = the last ``end_line``);
* :data:`UNPAGED` — one answer holds everything.

``Page`` is an iterator of items that fetches the next page only when needed. It stops
on an empty or short page or when the running count reaches the reported total, and
drops items whose ID it has already yielded, so a server that reads ``offset`` the
other way round can neither loop it nor repeat items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["MARKER", "ONE_BASED", "PAGE_INDEX", "PAGING", "RECORD_OFFSET", "UNPAGED", "Page"]

T = TypeVar("T")

#: ``offset`` = page index from 0 (datasets, samples, tasks, versions, models, v1 services,
#: training v2 searches and job events)
PAGE_INDEX = "page-index"
#: ``offset`` = number of records to skip (algorithms, v2 services, deployments, service
#: events, training job tags)
RECORD_OFFSET = "record-offset"
#: ``page`` / ``per_page``, pages from 1 (v1 training, visualization)
ONE_BASED = "one-based"
#: the next request carries a marker taken from the previous answer
MARKER = "marker"
#: no paging parameters: one answer holds every item
UNPAGED = "unpaged"

#: operation (the official SDK's name where it has one) -> paging model
PAGING: dict[str, str] = {
    # data management (api.md §4-§9): "offset: start page of the paging list"
    "ListDatasets": PAGE_INDEX,
    "ListSamples": PAGE_INDEX,
    "ListImportTasks": PAGE_INDEX,
    "ListExportTasks": PAGE_INDEX,
    "ListDatasetVersions": PAGE_INDEX,
    "ListWorkforceTasks": PAGE_INDEX,
    # models and v1 services (api.md §13-§14): "index of the query page"
    "ListModels": PAGE_INDEX,
    "ListServices": PAGE_INDEX,
    "ListServiceSpecifications": PAGE_INDEX,
    # training v2: JobSearches.offset "the page number, from 0" (official model)
    "ListTrainingJobs": PAGE_INDEX,
    # ListTrainingJobEventsRequest.offset "start page of the paging list, from 0"
    "ListTrainingJobEvents": PAGE_INDEX,
    # ShowTrainingJobLogsFromAomRequest.base_line "baseline line number, for paging"
    "ShowTrainingJobLogsFromAom": MARKER,
    # ListTrainingJobTasksResponse is a bare list
    "ListTrainingJobTasks": UNPAGED,
    # ShowTrainJobTagsResponse: every tag of one job
    "ShowTrainJobTags": UNPAGED,
    # ListTrainingJobTagsRequest.offset "offset of the paged query, >= 0"
    "ListTrainingJobTags": RECORD_OFFSET,
    # ListAlgorithmsRequest.offset "1 means start from the second record"
    "ListAlgorithms": RECORD_OFFSET,
    # ListInferServicesRequest.offset "must be a multiple of limit" (a record offset)
    "ListInferServices": RECORD_OFFSET,
    "ListInferDeployments": RECORD_OFFSET,
    "ListInferServiceEvents": RECORD_OFFSET,
    # flavors and engines of training v2: one answer
    "ShowTrainingJobFlavors": UNPAGED,
    "ShowTrainingJobEngines": UNPAGED,
    # v1 training (api.md §12): page / per_page from 1
    "ListTrainingJobsV1": ONE_BASED,
    "ListTrainingJobConfigs": ONE_BASED,
    "ListVisualizationJobs": ONE_BASED,
    "ListBuiltinAlgorithms": ONE_BASED,
    "ListTrainingJobVersions": ONE_BASED,
}

Fetch = Callable[[dict[str, Any]], Any]


class Page(Generic[T]):
    """Iterate all items of a list call lazily.

    Args:
        fetch: called with the paging parameters, returns the decoded response body.
        items_key: response key holding the list (``"datasets"``, ``"samples"``...).
        total_key: response key holding the total (or None).
        id_key: item key used to de-duplicate (or None).
        limit: page size.
        style: one of :data:`PAGE_INDEX`, :data:`RECORD_OFFSET`, :data:`ONE_BASED`.
        start: first page index / record offset / page number.
        convert: turns each raw item into ``T``.
        max_items: stop after this many items (None: all).
        id_of: the de-duplication key of a raw item (default: ``item[id_key]``).
        marker: for :data:`MARKER`: (request parameter, function giving the next marker
            from an answer, or None when there is no next page).
    """

    def __init__(
        self,
        fetch: Fetch,
        *,
        items_key: str,
        total_key: str | None,
        id_key: str | None,
        limit: int,
        style: str = PAGE_INDEX,
        start: int | None = None,
        convert: Callable[[dict[str, Any]], T] = lambda x: x,  # type: ignore[assignment,return-value]
        max_items: int | None = None,
        id_of: Callable[[dict[str, Any]], Any] | None = None,
        marker: tuple[str, Callable[[dict[str, Any]], Any]] | None = None,
    ) -> None:
        if style not in (PAGE_INDEX, RECORD_OFFSET, ONE_BASED, MARKER, UNPAGED):
            raise ValueError(f"unknown paging model {style!r}")
        if (style == MARKER) != (marker is not None):
            raise ValueError("the marker paging model needs marker=(param, next_marker)")
        self._fetch = fetch
        self.items_key = items_key
        self.total_key = total_key
        self.id_key = id_key
        self.limit = limit
        self.style = style
        self.start = start if start is not None else (1 if style == ONE_BASED else 0)
        self._convert = convert
        self.max_items = max_items
        self.total: int | None = None
        self.pages_fetched = 0
        self._id_of = id_of or ((lambda item: item.get(id_key)) if id_key else None)
        self._marker = marker
        self._next: Any = start

    def _params(self, index: int, seen: int) -> dict[str, Any]:
        if self.style == UNPAGED:
            return {}
        if self.style == MARKER:
            assert self._marker is not None
            return {} if self._next is None else {self._marker[0]: self._next}
        if self.style == ONE_BASED:
            return {"page": self.start + index, "per_page": self.limit}
        if self.style == RECORD_OFFSET:
            return {"offset": self.start + seen, "limit": self.limit}
        return {"offset": self.start + index, "limit": self.limit}

    def iter_pages(self) -> Iterator[list[T]]:
        """Yield one list of items per page."""
        seen_ids: set[Any] = set()
        count = 0
        index = 0
        raw_seen = 0
        while True:
            body = self._fetch(self._params(index, raw_seen))
            self.pages_fetched += 1
            if isinstance(body, list):  # an unpaged answer that is a bare list
                body = {self.items_key: body}
            raw = body.get(self.items_key) or []
            if self.total_key and isinstance(body.get(self.total_key), int):
                self.total = body[self.total_key]
            raw_seen += len(raw)
            fresh = []
            for item in raw:
                key = self._id_of(item) if self._id_of is not None and isinstance(item, dict) else None
                if key is not None:
                    if key in seen_ids:
                        continue
                    seen_ids.add(key)
                fresh.append(self._convert(item))
                count += 1
                if self.max_items is not None and count >= self.max_items:
                    break
            if fresh:
                yield fresh
            if self.style == MARKER:
                assert self._marker is not None
                following = self._marker[1](body)
                if not raw or following is None or following == self._next:
                    return
                self._next = following
                index += 1
                continue
            if (
                self.style == UNPAGED
                or not raw
                or not fresh
                or len(raw) < self.limit
                or (self.total is not None and count >= self.total)
                or (self.max_items is not None and count >= self.max_items)
            ):
                return
            index += 1

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page

    def first_page(self) -> list[T]:
        """Only the first page (one request)."""
        for page in self.iter_pages():
            return page
        return []

    def to_list(self) -> list[T]:
        """Every item (fetches all pages)."""
        return list(self)
