"""When to retry a storage request, and when an endpoint counts as down.

One :class:`Health` per backend counts the requests in a row, across all threads, that got
no answer at all (connection refused or reset, connect timeout, read timeout); any answer,
even an error status, resets it. The rules (:meth:`Retry.should_retry`):

- an error status is retried when it is transient (408, 429, 5xx);
- a request that got no answer is retried while the endpoint is not down, i.e. fewer than
  ``down_after`` requests in a row went unanswered;
- a read timeout is retried only when the endpoint answered another request meanwhile:
  otherwise the server accepted the connection and stayed silent, and waiting again would
  only double the time to the error.

With the defaults (3 unanswered requests, 5 s connect timeout, 20 s read timeout) a dead or
black-hole endpoint gives a clear error within about 20 s, and a folder transfer stops
scheduling files once the endpoint is down (see :mod:`mafmt.storage.transfer`).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from mafmt.errors import StorageError

__all__ = ["NO_ANSWER", "Health", "Retry", "is_transient"]

T = TypeVar("T")

#: StorageError codes of requests that got no answer
NO_ANSWER = ("ConnectionError", "Timeout")
_TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


def is_transient(exc: BaseException) -> bool:
    """Whether retrying the failed operation may help (ignoring the endpoint's health)."""
    if not isinstance(exc, StorageError):
        return False
    if exc.status is None:
        return exc.code in NO_ANSWER
    return exc.status in _TRANSIENT_STATUS


class Health:
    """Consecutive unanswered requests to one endpoint, shared by every thread."""

    def __init__(self, down_after: int = 3) -> None:
        self.down_after = down_after
        self.unanswered_in_a_row = 0
        self.answers = 0  # answers seen so far (a retry asks whether one came meanwhile)
        self._lock = threading.Lock()

    def answered(self) -> None:
        with self._lock:
            self.unanswered_in_a_row = 0
            self.answers += 1

    def unanswered(self) -> None:
        with self._lock:
            self.unanswered_in_a_row += 1

    @property
    def down(self) -> bool:
        """Whether the last ``down_after`` requests all went unanswered."""
        return self.unanswered_in_a_row >= self.down_after


class Retry:
    """Retries with exponential backoff (``backoff`` s, doubled each time, with jitter)
    that give up as soon as the endpoint is down."""

    def __init__(self, retries: int, backoff: float, health: Health | None = None) -> None:
        self.retries = retries
        self.backoff = backoff
        self.health = health

    def should_retry(self, exc: StorageError, attempt: int, answers_before: int) -> bool:
        """Whether to try again after attempt number ``attempt`` (0-based) failed with ``exc``;
        ``answers_before`` is ``health.answers`` when that attempt started."""
        if attempt >= self.retries or not is_transient(exc):
            return False
        if exc.status is not None or self.health is None:
            return True
        if self.health.down:
            return False
        return exc.code != "Timeout" or self.health.answers > answers_before

    def sleep(self, attempt: int) -> None:
        """Back off before retry number ``attempt + 1``."""
        time.sleep(self.backoff * (2**attempt) * (0.5 + random.random()))

    def run(self, fn: Callable[[], T], on_failure: Callable[[StorageError], None] | None = None) -> T:
        """``fn()``, retried by these rules; ``on_failure`` sees every failed attempt."""
        attempt = 0
        while True:
            seen = self.health.answers if self.health is not None else 0
            try:
                return fn()
            except StorageError as exc:
                if on_failure is not None:
                    on_failure(exc)
                if not self.should_retry(exc, attempt, seen):
                    raise
            self.sleep(attempt)
            attempt += 1
