"""Training jobs, new version (api.md §11 and the official v2 operations): create,
search, get, update, delete and batch delete, terminate, tasks, log preview and AOM log
pages, events, metrics, name validation, tags, flavors and engines, with a waiter that
can stream logs."""

from __future__ import annotations

import builtins
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from mafmt.client._create import Identity
from mafmt.client._errors import TaskFailedError, WaitTimeoutError
from mafmt.client._pages import PAGING, Page
from mafmt.client._resource import APIObject, Resource, Task, check_id
from mafmt.client.training_bodies import FAILED_PHASES, PHASES, TERMINAL_PHASES, job_body, job_done, phase_of
from mafmt.errors import UsageError

__all__ = ["FAILED_PHASES", "PHASES", "TERMINAL_PHASES", "TrainingJobs", "job_body", "job_done", "phase_of"]

BASE = "/v2/{project_id}/training-jobs"
TAGS = "/v2/{project_id}/modelarts-training-job"


class TrainingJobs(Resource):
    """``client.training_jobs`` (v2)."""

    def create(self, body: dict[str, Any] | None = None, *, wait: bool = False, timeout: float = 3600.0,
               poll: float = 1.0, **options: Any) -> Task:
        """Create a job from a wire ``body`` or from :func:`job_body` options; returns the
        job object (waitable)."""
        body = body or job_body(**options)
        name = body["metadata"]["name"]

        flavor = ((body.get("spec") or {}).get("resource") or {}).get("flavor_id")

        def matches(job: dict[str, Any]) -> bool:
            sent, got = body.get("algorithm") or {}, job.get("algorithm") or {}
            return (job.get("metadata", {}).get("name") == name and job.get("kind", "job") == body.get("kind", "job")
                    and ((job.get("spec") or {}).get("resource") or {}).get("flavor_id") == flavor
                    and all(got.get(k) == sent[k] for k in ("code_dir", "boot_file", "command", "id") if k in sent))

        ident = Identity("training job", name,
                         find=lambda: self.list(filters=[{"key": "name", "operator": "in", "value": [name]}],
                                                max_items=200),
                         created=lambda job: (job.get("metadata") or {}).get("create_time"), matches=matches,
                         result=dict)
        job = self._task(APIObject(self._post(BASE, body, create=ident)))
        if wait:
            job.wait(timeout=timeout, poll=poll)
        return job

    def _task(self, data: dict[str, Any]) -> Task:
        job_id = data["metadata"]["id"]
        return Task(data).bind(lambda: self.get(job_id), job_done, f"training job {job_id}")

    def search(self, *, offset: int = 0, limit: int = 10, sort_by: str | None = None, order: str | None = None,
               group_by: str | None = None, filters: list[dict[str, Any]] | None = None) -> APIObject:
        """One page of ``training-job-searches`` (``offset`` is a page index from 0, as the
        official ``JobSearches`` model says)."""
        body = {k: v for k, v in {"offset": offset, "limit": limit, "sort_by": sort_by, "order": order,
                                  "group_by": group_by, "filters": filters}.items() if v is not None}
        return APIObject(self._t.request("POST", "/v2/{project_id}/training-job-searches", json_body=body,
                                         idempotent=True) or {})

    def list(self, *, filters: list[dict[str, Any]] | None = None, sort_by: str | None = None,
             order: str | None = None, limit: int = 50, offset: int | None = None,
             max_items: int | None = None) -> Page[APIObject]:
        """All matching jobs (lazy pages)."""

        def fetch(p: dict[str, Any]) -> dict[str, Any]:
            return self.search(offset=p["offset"], limit=p["limit"], sort_by=sort_by, order=order, filters=filters)

        return Page(fetch, items_key="items", total_key="count", id_key=None, limit=limit,
                    style=PAGING["ListTrainingJobs"], start=offset, convert=APIObject, max_items=max_items,
                    id_of=lambda j: (j.get("metadata") or {}).get("id"))

    def get(self, job_id: str) -> Task:
        """One job."""
        return self._task(APIObject(self._get(f"{BASE}/{check_id('job_id', job_id)}")))

    def update(self, job_id: str, description: str) -> None:
        """Change the description (0–256 characters)."""
        if len(description) > 256:
            raise UsageError("description: at most 256 characters")
        self._put(f"{BASE}/{check_id('job_id', job_id)}", {"description": description})

    def delete(self, job_id: str) -> None:
        self._delete(f"{BASE}/{check_id('job_id', job_id)}")

    def stop(self, job_id: str) -> APIObject:
        """Terminate a job (Creating, Pending or Running); returns the job object."""
        return APIObject(self._t.request("POST", f"{BASE}/{check_id('job_id', job_id)}/actions",
                                         json_body={"action_type": "terminate"}, idempotent=True) or {})

    def logs(self, job_id: str, task_id: str = "worker-0") -> APIObject:
        """Log preview ``{content, current_size, full_size}`` (latest 5 MB)."""
        body = self._get(f"{BASE}/{check_id('job_id', job_id)}/tasks/{check_id('task_id', task_id)}/logs/preview")
        body = APIObject(body or {"content": "", "current_size": 0, "full_size": 0})
        if "content" not in body and "context" in body:  # deployments before 2022-03
            body["content"] = body["context"]
        return body

    def log_url(self, job_id: str, task_id: str = "worker-0") -> str:
        """A short-lived link to the full log."""
        return (self._get(f"{BASE}/{check_id('job_id', job_id)}/tasks/{check_id('task_id', task_id)}/logs/url")
                or {}).get("obs_url", "")

    def tasks(self, job_id: str) -> builtins.list[APIObject]:
        """The job's tasks ``[{task, ip, host_ip, schedule_count}]`` (unpaged)."""
        body = self._get(f"{BASE}/{check_id('job_id', job_id)}/tasks") or []
        return [APIObject(t) for t in body]

    def aom_log(self, job_id: str, task_id: str = "worker-0", *, base_line: str | int | None = None,
                lines: int = 50, order: str = "desc") -> APIObject:
        """One page of a task's log from AOM: ``{start_line, end_line, lines, content}``;
        ``base_line`` is the line to continue from (the previous page's ``end_line``)."""
        if not 1 <= lines <= 500:
            raise UsageError("lines must be within 1..500")
        if order not in ("asc", "desc"):
            raise UsageError("order must be asc or desc")
        return APIObject(self._get(f"{BASE}/{check_id('job_id', job_id)}/logs/{check_id('task_id', task_id)}",
                                   base_line=base_line, lines=lines, order=order) or {})

    def log_lines(self, job_id: str, task_id: str = "worker-0", *, page_lines: int = 500) -> Page[str]:
        """Every log line of a task, oldest first, fetched from AOM page by page (the
        marker model: each page continues from the last one's ``end_line``)."""
        def fetch(p: dict[str, Any]) -> dict[str, Any]:
            page = self.aom_log(job_id, task_id, base_line=p.get("base_line"), lines=page_lines, order="asc")
            text = page.get("content") or ""
            return {"lines": text.splitlines(), "end_line": page.get("end_line") or None}

        return Page(fetch, items_key="lines", total_key=None, id_key=None, limit=page_lines,
                    style=PAGING["ShowTrainingJobLogsFromAom"], marker=("base_line", lambda b: b.get("end_line")))

    def events(self, job_id: str, *, level: str | None = None, pattern: str | None = None, order: str = "asc",
               start_time: str | None = None, end_time: str | None = None, limit: int = 50,
               max_items: int | None = None) -> Page[APIObject]:
        """The job's events ``{time, level, message, source}`` (lazy pages, page index)."""
        def fetch(p: dict[str, Any]) -> Any:
            return self._get(f"{BASE}/{check_id('job_id', job_id)}/events", level=level, pattern=pattern,
                             order=order, start_time=start_time, end_time=end_time, **p) or {}

        return Page(fetch, items_key="events", total_key="total", id_key=None, limit=limit,
                    style=PAGING["ListTrainingJobEvents"], convert=APIObject, max_items=max_items)

    def name_taken(self, name: str, workspace_id: str | None = None) -> bool:
        """Whether a job of that name exists (``GET …/training-job-names``)."""
        body = self._get("/v2/{project_id}/training-job-names", job_name=check_id("name", name),
                         workspace_id=workspace_id) or {}
        return bool(body.get("is_duplicate"))

    def batch_delete(self, job_ids: Sequence[str], kind: str = "job") -> None:
        """Delete several jobs in one call."""
        if not job_ids:
            raise UsageError("give at least one job ID")
        jobs = [{"kind": kind, "metadata": {"id": check_id("job_id", j)}} for j in job_ids]
        self._t.request("POST", f"{BASE}/batch-delete", json_body={"jobs": jobs}, idempotent=True)

    def add_tags(self, job_id: str, tags: dict[str, str]) -> None:
        """Add (or overwrite) tags ``{key: value}`` of a job."""
        if not tags:
            raise UsageError("give at least one tag")
        body = {"tags": [{"key": k, "value": v} for k, v in tags.items()]}
        self._t.request("POST", f"{TAGS}/{check_id('job_id', job_id)}/tags/create", json_body=body,
                        idempotent=True)

    def tags(self, job_id: str) -> dict[str, str]:
        """A job's tags as ``{key: value}``."""
        body = self._get(f"{TAGS}/{check_id('job_id', job_id)}/tags") or {}
        return {t["key"]: t.get("value", "") for t in body.get("tags") or []}

    def remove_tags(self, job_id: str, keys: Sequence[str]) -> None:
        """Remove tags of a job by key."""
        if not keys:
            raise UsageError("give at least one tag key")
        self._t.request("DELETE", f"{TAGS}/{check_id('job_id', job_id)}/tags/delete",
                        json_body={"tags": [{"key": k} for k in keys]})

    def project_tags(self, *, limit: int = 1000) -> Page[APIObject]:
        """Every tag key used on training jobs, with its values ``{key, values}``."""
        return Page(lambda p: self._get(f"{TAGS}/tags", **p) or {}, items_key="tags", total_key=None,
                    id_key="key", limit=limit, style=PAGING["ListTrainingJobTags"], convert=APIObject)

    def metrics(self, job_id: str, task_id: str = "worker-0") -> APIObject:
        """``{metrics: [{metric, value: [...]}]}``."""
        return APIObject(self._get(f"{BASE}/{check_id('job_id', job_id)}/metrics/{check_id('task_id', task_id)}")
                         or {"metrics": []})

    def flavors(self, flavor_type: str | None = None) -> APIObject:
        """``{total_count, flavors}``; ``flavor_type``: CPU, GPU or Ascend."""
        return APIObject(self._get("/v2/{project_id}/training-job-flavors", flavor_type=flavor_type) or {})

    def engines(self) -> APIObject:
        """``{total, items}`` of preset engines."""
        return APIObject(self._get("/v2/{project_id}/training-job-engines") or {})

    def wait(self, job_id: str, *, timeout: float = 3600.0, poll: float = 1.0, show_log: bool | TextIO = False,
             max_poll: float = 10.0, progress: Callable[[dict[str, Any]], None] | None = None) -> APIObject:
        """Poll until a terminal phase, printing new log text when ``show_log``;
        ``progress`` is called with every state of the job.

        Raises:
            TaskFailedError: the job ended Failed or Abnormal.
            WaitTimeoutError: ``timeout`` passed first.
        """
        out = (sys.stdout if show_log is True else show_log) or None
        deadline = time.monotonic() + timeout
        shown = 0
        delay = poll
        while True:
            job = self.get(job_id)
            if out is not None:
                text = self.logs(job_id).get("content") or ""
                if len(text) > shown:
                    out.write(text[shown:])
                    out.flush()
                    shown = len(text)
            if progress is not None:
                progress(job)
            verdict = job_done(job)
            if verdict is True:
                return job
            if verdict is False:
                msgs = [t.get("message") for t in (job.get("status") or {}).get("task_statuses") or []]
                msg = "; ".join(m for m in msgs if m) or "training job failed"
                raise TaskFailedError(f"training job {job_id} {phase_of(job)}: {msg}", result=job)
            if time.monotonic() + delay > deadline:
                raise WaitTimeoutError(f"training job {job_id} still {phase_of(job)} after {timeout:g}s", result=job)
            time.sleep(delay)
            delay = min(max_poll, delay * 2)
