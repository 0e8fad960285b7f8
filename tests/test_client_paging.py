"""Paging follows the service (issue 14, item 1): every list operation declares its
paging model, the client's lazy iterator follows it, the emulator serves the same, and
iterating a listing of three pages or more yields every record exactly once — against
the emulator and against an independent page-index server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mafmt.client import ModelArts
from mafmt.client._pages import MARKER, ONE_BASED, PAGE_INDEX, PAGING, RECORD_OFFSET, UNPAGED, Page
from mafmt.client.infer_services import deployment_body

PID = "0123456789abcdef0123456789abcdef"
JOB = {"code_dir": "obs://b/code/", "boot_file": "train.py", "framework_type": "PyTorch",
       "framework_version": "PyTorch-1.4.0-python3.6", "flavor_id": "modelarts.vm.cpu.8u"}


def test_every_list_operation_declares_a_paging_model() -> None:
    assert set(PAGING.values()) <= {PAGE_INDEX, RECORD_OFFSET, ONE_BASED, MARKER, UNPAGED}
    assert PAGING["ListTrainingJobs"] == PAGE_INDEX  # the official JobSearches.offset: a page number
    assert PAGING["ListAlgorithms"] == RECORD_OFFSET and PAGING["ListInferServices"] == RECORD_OFFSET
    assert PAGING["ShowTrainingJobLogsFromAom"] == MARKER and PAGING["ListTrainingJobTasks"] == UNPAGED


def _ids(items: Page, key) -> list:  # type: ignore[type-arg]
    out = [key(i) for i in items]
    assert items.pages_fetched >= 3, f"only {items.pages_fetched} page(s): the listing must span three"
    # no page overlapped another: each record came over the wire once (the iterator's
    # de-duplication would hide a client that reads offset the other way round)
    assert items.pages_fetched == -(-len(out) // items.limit), f"{items.pages_fetched} pages for {len(out)} records"
    return out


def test_three_page_listings_against_the_emulator(ma, ml_tick) -> None:
    made = {"datasets": [], "jobs": [], "algorithms": [], "services": [], "models": []}
    for i in range(5):
        made["datasets"].append(ma.datasets.create(f"d{i}", dataset_type=1, data_path="/b/in/",
                                                   work_path="/b/out/").dataset_id)
        made["jobs"].append(ma.training_jobs.create(name=f"job{i}", **JOB).metadata["id"])
        made["algorithms"].append(ma.algorithms.create(f"algo{i}", code_dir="obs://b/c/", boot_file="t.py",
                                                       engine_name="PyTorch",
                                                       engine_version="PyTorch-1.4.0-python3.6").metadata["id"])
        made["services"].append(ma.infer_services.create(
            name=f"svc{i}", deployments=[deployment_body("d", image="swr.example.com/o/i:1")])["id"])
        made["models"].append(ma.models.create(model_name=f"m{i}", model_version="1.0.0",
                                               source_location="/b/m/", model_type="Image").model_id)
    cases = {
        "datasets": (ma.datasets.list(limit=2), lambda d: d.dataset_id),
        "jobs": (ma.training_jobs.list(limit=2), lambda j: j.metadata["id"]),
        "algorithms": (ma.algorithms.list(limit=2), lambda a: a.metadata["id"]),
        "services": (ma.infer_services.list(limit=2), lambda s: s.id),
        "models": (ma.models.list(limit=2), lambda m: m.model_id),
    }
    for what, (page, key) in cases.items():
        got = _ids(page, key)
        assert sorted(got) == sorted(made[what]) and len(got) == len(set(got)), what
    job = made["jobs"][0]
    ma.training_jobs.wait(job, poll=0.02, timeout=5)
    events = ma.training_jobs.events(job, limit=1)  # created, then Pending, Running, Completed: four pages
    messages = _ids(events, lambda e: e.message)
    assert messages == [e.message for e in ma.training_jobs.events(job, limit=100)] and len(messages) == 4
    lines = ma.training_jobs.log_lines(job, page_lines=2)
    got_lines = list(lines)
    assert lines.pages_fetched >= 3
    assert "\n".join(got_lines) + "\n" == ma.training_jobs.logs(job)["content"]  # every line once, in order


# --------------------------------------------------------------------------- a page-index server


class PageIndexServer:
    """A stand-in for the service that reads ``offset`` strictly as a page index, for
    the training-job search (JSON body) and the dataset list (query), and strictly as a
    record offset for the algorithm list."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a) -> None:
                pass

            def _send(self, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # training-job-searches
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                page, limit = req.get("offset", 0), req.get("limit", 10)
                rows = outer.items[page * limit:(page + 1) * limit]
                self._send({"total": len(outer.items), "count": len(outer.items), "items": [
                    {"kind": "job", "metadata": {"id": r["id"], "name": r["id"]}} for r in rows]})

            def do_GET(self) -> None:  # datasets (page index); algorithms (record offset)
                q = parse_qs(urlsplit(self.path).query)
                page, limit = int(q.get("offset", ["0"])[0]), int(q.get("limit", ["10"])[0])
                if "/algorithms" in self.path:  # ListAlgorithms: offset 1 = "from the second record"
                    rows = outer.items[page:page + limit]
                    self._send({"total": len(outer.items), "count": len(outer.items), "items": [
                        {"metadata": {"id": r["id"]}} for r in rows]})
                    return
                rows = outer.items[page * limit:(page + 1) * limit]
                self._send({"total_number": len(outer.items), "datasets": [{"dataset_id": r["id"]} for r in rows]})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def page_index_server() -> Iterator[PageIndexServer]:
    srv = PageIndexServer()
    yield srv
    srv.server.shutdown()
    srv.server.server_close()


@pytest.fixture(scope="module")
def mock_client(page_index_server: PageIndexServer) -> Iterator[ModelArts]:
    ma = ModelArts(endpoint=page_index_server.url, ak="AK", sk="SK", project_id=PID, max_retries=0)
    yield ma
    ma.close()


def test_three_pages_from_a_page_index_server(page_index_server: PageIndexServer, mock_client: ModelArts) -> None:
    page_index_server.items = [{"id": f"r{i}"} for i in range(7)]
    jobs = mock_client.training_jobs.list(limit=3)
    assert _ids(jobs, lambda j: j.metadata["id"]) == [f"r{i}" for i in range(7)]
    datasets = mock_client.datasets.list(limit=3)
    assert _ids(datasets, lambda d: d.dataset_id) == [f"r{i}" for i in range(7)]
    algorithms = mock_client.algorithms.list(limit=3)  # and a record-offset operation
    assert _ids(algorithms, lambda a: a.metadata["id"]) == [f"r{i}" for i in range(7)]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 23), limit=st.integers(1, 6))
def test_any_listing_from_a_page_index_server(page_index_server: PageIndexServer, mock_client: ModelArts,
                                              n: int, limit: int) -> None:
    page_index_server.items = [{"id": f"r{i}"} for i in range(n)]
    got = [j.metadata["id"] for j in mock_client.training_jobs.list(limit=limit)]
    assert got == [f"r{i}" for i in range(n)]
