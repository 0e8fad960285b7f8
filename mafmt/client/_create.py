"""Creates that happen exactly once, or say honestly that they might have.

A create (``POST``) whose answer is lost — a read timeout, a dropped connection, a 5xx —
may or may not have made its object. Re-sending it blindly can make a second one;
taking "an object with that name" as the answer can return an older one. So every
create names its object with an :class:`Identity`, and the transport, when the outcome
is unknown:

1. looks for the object this very request made: one whose fields match what was sent
   **and** that was created at or after the moment the request started, in the
   server's clock (learnt from the ``Date`` header of its answers). No ModelArts
   operation in mafmt's areas takes a client token, and none of the metadata fields
   that would hold one is free for a client to use (``annotations`` of a training job
   are feature switches), so time plus fields is the identification;
2. keeps looking for a while (:func:`settle`; by default twice the read timeout) when
   the server may still be working on the first attempt (timeout, dropped answer);
3. returns what it found; re-sends only when the server answered (5xx) and nothing was
   made (or, when the candidates could not be listed, only for objects with a unique
   name, which the service itself refuses to make twice); and raises
   :class:`~mafmt.client._errors.OutcomeUnknownError`, naming the object to check, when
   the answer was lost and nothing showed up, or nothing could be checked.

An "already exists" answer to a re-sent create is success when the existing object is
the one this call made (created after the call started, with the sent fields).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mafmt.client._errors import OutcomeUnknownError

__all__ = ["Identity", "settle"]


@dataclass
class Identity:
    """What identifies the object one create call makes.

    Args:
        kind: what it is, for messages (``"dataset"``, ``"training job"``).
        name: its name, when it has one.
        find: the candidates (e.g. the list filtered by name); raw API objects.
        created: a candidate's creation time in epoch milliseconds (server clock).
        matches: whether a candidate carries the fields this call sent.
        result: what the create call returns for the found object (default: itself).
        exists_codes: error codes that mean "an object like this already exists".
    """

    kind: str
    name: str | None
    find: Callable[[], Iterable[dict[str, Any]]]
    created: Callable[[dict[str, Any]], Any]
    matches: Callable[[dict[str, Any]], bool] = lambda c: True
    result: Callable[[dict[str, Any]], Any] = lambda c: c
    exists_codes: frozenset[str] = field(default_factory=frozenset)

    def mine(self, since_ms: int) -> list[dict[str, Any]]:
        """The candidates this call made: matching fields, created at or after ``since_ms``."""
        out = []
        for cand in self.find():
            try:
                when = int(self.created(cand) or 0)
            except (TypeError, ValueError):
                continue
            if when >= since_ms and self.matches(cand):
                out.append(cand)
        return out

    def describe(self, since_ms: int) -> str:
        """What a person should look for: ``dataset 'cars' created after 2024-…``."""
        stamp = datetime.fromtimestamp(since_ms / 1000).astimezone().isoformat(timespec="seconds")
        named = f" {self.name!r}" if self.name else ""
        return f"{self.kind}{named} created after {stamp}"


def settle(identity: Identity, since_ms: int, window: float, *, sleep: Callable[[float], None] = time.sleep
           ) -> tuple[Any | None, bool]:
    """Look for the object of ``identity`` for up to ``window`` seconds. Returns (the
    create's result for it or None, whether the candidates could be listed at all — a
    listing that fails is "not known", not "not there").

    Raises:
        OutcomeUnknownError: more than one object could be this call's.
    """
    from mafmt.errors import APIError

    deadline = time.monotonic() + window
    delay = min(0.1, window) or 0.05
    checked = False
    while True:
        try:
            found = identity.mine(since_ms)
            checked = True
        except APIError:
            found = []
        if len(found) > 1:
            raise OutcomeUnknownError(
                f"{len(found)} objects could be the one this create made: check each {identity.describe(since_ms)}",
                kind=identity.kind, name=identity.name, check=identity.describe(since_ms))
        if found:
            return identity.result(found[0]), True
        left = deadline - time.monotonic()
        if left <= 0:
            return None, checked
        sleep(min(delay, left))  # the last look is at the deadline itself
        delay = min(delay * 2, 2.0)
