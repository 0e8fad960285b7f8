"""Shared pieces of the resource modules: response objects, waiting, reconciling."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from mafmt.client._create import Identity
from mafmt.client._errors import TaskFailedError, WaitTimeoutError
from mafmt.client._pages import PAGING, Page
from mafmt.errors import UsageError

if TYPE_CHECKING:
    from mafmt.client._transport import Transport

__all__ = ["APIObject", "DatasetTasks", "Resource", "StateHook", "Task", "obs_path", "wait_for"]

#: called with every state a waiter sees
StateHook = Callable[[dict[str, Any]], None]


class APIObject(dict):  # type: ignore[type-arg]
    """A decoded response object: a plain dict (every field kept, JSON-ready) whose
    keys are also readable as attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Task(APIObject):
    """An asynchronous object (task, version, dataset) that can be waited for."""

    _refresh: Callable[[], dict[str, Any]] | None = None
    _done: Callable[[dict[str, Any]], bool | None] | None = None
    _label = "task"

    def bind(self, refresh: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool | None],
             label: str) -> Task:
        object.__setattr__(self, "_refresh", refresh)
        object.__setattr__(self, "_done", done)
        object.__setattr__(self, "_label", label)
        return self

    def wait(self, timeout: float = 3600.0, poll: float = 1.0, *, progress: bool | TextIO | StateHook = False,
             max_poll: float = 30.0) -> APIObject:
        """Poll until a terminal state; returns the final state. ``progress``: True or a
        stream for a status line, or a function called with every state seen.

        Raises:
            TaskFailedError: the object ended in a failure state.
            WaitTimeoutError: ``timeout`` seconds passed first.
        """
        if self._refresh is None or self._done is None:
            raise UsageError("this object cannot be waited for")
        final = wait_for(self._refresh, self._done, timeout=timeout, poll=poll, max_poll=max_poll,
                         progress=progress, label=self._label)
        self.update(final)
        return final


def wait_for(
    refresh: Callable[[], dict[str, Any]],
    done: Callable[[dict[str, Any]], bool | None],
    *,
    timeout: float = 3600.0,
    poll: float = 1.0,
    max_poll: float = 30.0,
    progress: bool | TextIO | StateHook = False,
    label: str = "task",
    sleep: Callable[[float], None] = time.sleep,
) -> APIObject:
    """Call ``refresh`` with capped exponential back-off until ``done(state)`` is True
    (success) or False (failure); None means still running. ``progress`` is True or a
    stream (a status line) or a function called with each state (e.g. to feed a bar)."""
    hook: StateHook | None = None
    out: TextIO | None = None
    if progress is True:
        out = sys.stderr
    elif hasattr(progress, "write"):
        out = progress  # type: ignore[assignment]
    elif callable(progress):
        hook = progress
    deadline = time.monotonic() + timeout
    delay = poll
    while True:
        state = APIObject(refresh())
        verdict = done(state)
        if hook is not None:
            hook(state)
        if out is not None:
            out.write(f"\r{label}: {_describe(state)}" + ("\n" if verdict is not None else ""))
            out.flush()
        if verdict is True:
            return state
        if verdict is False:
            msg = state.get("error_msg") or state.get("message") or f"status {state.get('status')!r}"
            raise TaskFailedError(f"{label} failed: {msg}", result=state, error_code=state.get("error_code"))
        if time.monotonic() + delay > deadline:
            raise WaitTimeoutError(f"{label} not finished after {timeout:g}s (last status {state.get('status')!r})",
                                   result=state)
        sleep(delay)
        delay = min(max_poll, delay * 2)


def _describe(state: dict[str, Any]) -> str:
    status = state.get("status")
    extra = ""
    if state.get("progress") is not None:
        extra = f" {float(state['progress']):.0f}%"
    elif state.get("total_sample_count") is not None:
        extra = f" {state.get('imported_sample_count', state.get('finished_sample_count', 0))}/" \
                f"{state['total_sample_count']} samples"
    return f"{status}{extra}"


def obs_path(path: str) -> str:
    """A dataset-API OBS path: ``obs://b/k`` and ``s3://b/k`` become ``/b/k``."""
    for prefix in ("obs://", "s3://", "s3a://"):
        if path.startswith(prefix):
            return "/" + path[len(prefix):]
    return path


class Resource:
    """Base of the resource classes: binds the transport's ``request``."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _get(self, path: str, **params: Any) -> Any:
        return self._t.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def _post(self, path: str, body: Any, *, create: Identity | None = None) -> Any:
        return self._t.request("POST", path, json_body=body, create=create)

    def _put(self, path: str, body: Any) -> Any:
        return self._t.request("PUT", path, json_body=body)

    def _delete(self, path: str) -> Any:
        return self._t.request("DELETE", path)


def now_ms() -> int:
    return int(time.time() * 1000)


def check_id(name: str, value: Any) -> str:
    """Refuse an empty path parameter before any request is sent."""
    if not isinstance(value, str) or not value:
        raise UsageError(f"expected a non-empty value for {name}, got {value!r}")
    return value


class DatasetTasks(Resource):
    """Asynchronous tasks under a dataset (import, export): start, list, get, all waitable.

    Subclasses name the URL segment (``kind``), the list's items key, the body key that
    identifies a task when a lost create response must be reconciled, and ``done``.
    """

    kind: str = ""
    operation: str = ""
    items_key: str = ""
    match_key: str = ""
    label: str = ""

    @staticmethod
    def done(state: dict[str, Any]) -> bool | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _path(self, dataset_id: str) -> str:
        return f"/v2/{{project_id}}/datasets/{check_id('dataset_id', dataset_id)}/{self.kind}"

    def _start(self, dataset_id: str, body: dict[str, Any], *, wait: bool, timeout: float, poll: float) -> Task:
        ident = Identity(self.label + " task", body[self.match_key],
                         find=lambda: self.list(dataset_id, max_items=200),
                         created=lambda t: t.get("create_time"),
                         matches=lambda t: t.get(self.match_key) == body[self.match_key],
                         result=lambda t: {"task_id": t["task_id"]}, exists_codes=frozenset({"ModelArts.4356"}))
        task = self._bind(dataset_id, self._post(self._path(dataset_id), body, create=ident))
        if wait:
            task.wait(timeout=timeout, poll=poll)
        return task

    def _bind(self, dataset_id: str, data: dict[str, Any]) -> Task:
        tid = data["task_id"]
        return Task(data).bind(lambda: self.get(dataset_id, tid), self.done, f"{self.label} {tid}")

    def list(self, dataset_id: str, *, limit: int = 100, max_items: int | None = None) -> Page[APIObject]:
        """All tasks of this kind of a dataset (lazy pages)."""
        return Page(lambda p: self._get(self._path(dataset_id), **p) or {}, items_key=self.items_key,
                    total_key="total_count", id_key="task_id", limit=limit, style=PAGING[self.operation], convert=APIObject,
                    max_items=max_items)

    def get(self, dataset_id: str, task_id: str) -> Task:
        """One task (waitable)."""
        return self._bind(dataset_id, self._get(f"{self._path(dataset_id)}/{check_id('task_id', task_id)}"))
