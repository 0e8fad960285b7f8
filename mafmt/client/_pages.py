"""Lazy pagination over the four paging styles of ModelArts (api.md §1.5).

``Page`` is an iterator of items that fetches the next page only when needed. It stops
on an empty or short page or when the running count reaches the reported total, and
drops items whose ID it has already yielded, so a server that reads ``offset`` the
other way round can neither loop it nor repeat items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

__all__ = ["ONE_BASED", "PAGE_INDEX", "RECORD_OFFSET", "Page"]

T = TypeVar("T")

#: ``offset`` = page index from 0 (datasets, samples, tasks, versions, models, services)
PAGE_INDEX = "page-index"
#: ``offset`` = number of records to skip (training v2 searches)
RECORD_OFFSET = "record-offset"
#: ``page`` / ``per_page``, pages from 1 (v1 training, visualization)
ONE_BASED = "one-based"

Fetch = Callable[[dict[str, Any]], dict[str, Any]]


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
    ) -> None:
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

    def _params(self, index: int, seen: int) -> dict[str, Any]:
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
            raw = body.get(self.items_key) or []
            if self.total_key and isinstance(body.get(self.total_key), int):
                self.total = body[self.total_key]
            raw_seen += len(raw)
            fresh = []
            for item in raw:
                key = item.get(self.id_key) if self.id_key and isinstance(item, dict) else None
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
            if (
                not raw
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
