"""Error-body parsing (api.md §1.4), paging styles (§1.5) and waiter output, plus
batch sample upload against the emulator."""

from __future__ import annotations

import io

import httpx
import pytest

from mafmt.client import (
    AuthenticationError,
    BadRequestError,
    ModelArts,
    NotFoundError,
    RateLimitError,
    ServerError,
    TaskFailedError,
)
from mafmt.client._errors import error_for
from mafmt.client._pages import ONE_BASED, RECORD_OFFSET, Page
from mafmt.client._resource import wait_for
from mafmt.client._transport import _decode
from mafmt.errors import APIError


def resp(status: int, body: object, rid: str = "r1") -> httpx.Response:
    import json

    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={"X-Request-Id": rid},
                          request=httpx.Request("GET", "http://x/"))


@pytest.mark.parametrize(("status", "body", "cls", "code", "msg"), [
    (400, {"error_code": "ModelArts.4352", "error_msg": "Dataset does not exist"}, BadRequestError,
     "ModelArts.4352", "Dataset does not exist"),
    (401, {"error_msg": "bad password", "error_code": "IAM.0011"}, AuthenticationError, "IAM.0011", "bad password"),
    (401, {"error": {"code": 401, "message": "The request you have made requires authentication.",
                     "title": "Unauthorized"}}, AuthenticationError, "401", "The request you have made"),
    (404, {"errorCode": "X.1", "errorMsg": "nope"}, NotFoundError, "X.1", "nope"),
    (429, {"error_code": "ModelArts.2799", "error_msg": "slow down"}, RateLimitError, "ModelArts.2799", "slow"),
    (503, "not json at all", ServerError, "503", "not json"),
])
def test_error_shapes(status, body, cls, code, msg) -> None:
    err = error_for(resp(status, body))
    assert isinstance(err, cls) and isinstance(err, APIError)
    assert err.error_code == code and err.error_msg.startswith(msg) and err.request_id == "r1"
    assert err.status_code == status


def test_v1_envelope_failure_on_200_raises() -> None:
    with pytest.raises(BadRequestError) as err:
        _decode(resp(200, {"is_success": False, "error_code": "ModelArts.0105", "error_message": "job failed"}))
    assert err.value.error_code == "ModelArts.0105" and err.value.error_msg == "job failed"
    assert _decode(resp(200, {"is_success": True, "job_id": 10}))["job_id"] == 10


def test_paging_styles() -> None:
    items = list(range(7))
    seen = []

    def one_based(p: dict) -> dict:
        seen.append(p)
        start = (p["page"] - 1) * p["per_page"]
        return {"job_total_count": 7, "jobs": [{"id": i} for i in items[start:start + p["per_page"]]]}

    got = list(Page(one_based, items_key="jobs", total_key="job_total_count", id_key="id", limit=3, style=ONE_BASED))
    assert [g["id"] for g in got] == items and seen[0] == {"page": 1, "per_page": 3} and len(seen) == 3

    def records(p: dict) -> dict:
        return {"total": 7, "items": [{"id": i} for i in items[p["offset"]:p["offset"] + p["limit"]]]}

    got = list(Page(records, items_key="items", total_key="total", id_key="id", limit=2, style=RECORD_OFFSET))
    assert [g["id"] for g in got] == items
    assert len(Page(records, items_key="items", total_key="total", id_key="id", limit=2, style=RECORD_OFFSET,
                    max_items=3).to_list()) == 3


def test_waiter_progress_and_failure() -> None:
    states = iter([{"status": "QUEUING"}, {"status": "RUNNING", "progress": 50}, {"status": "SUCCESSED"}])
    out = io.StringIO()
    final = wait_for(lambda: next(states), lambda s: True if s["status"] == "SUCCESSED" else None,
                     poll=0.0, progress=out, label="export x", sleep=lambda _: None)
    assert final["status"] == "SUCCESSED" and "RUNNING 50%" in out.getvalue()
    with pytest.raises(TaskFailedError) as err:
        wait_for(lambda: {"status": "FAILED", "error_code": "E", "error_msg": "bad"}, lambda s: False,
                 sleep=lambda _: None)
    assert err.value.error_code == "E" and err.value.result["status"] == "FAILED"


def test_batch_add_samples(emulator) -> None:
    env = emulator.env()
    with ModelArts(ak=env["HUAWEICLOUD_SDK_AK"], sk=env["HUAWEICLOUD_SDK_SK"], project_id=emulator.project_id,
                   endpoint=emulator.url) as ma:
        ds = ma.datasets.create("up", dataset_type=0, data_path="/bkt/in/", work_path="/bkt/out/", wait=True,
                                poll=0.05)
        result = ma.samples.add(ds.dataset_id, [{"name": "cat.jpg", "data": b"\xff\xd8cat",
                                                  "labels": [{"name": "cat", "type": 0}]}])
        sid = result.results[0]["info"]
        sample = ma.samples.get(ds.dataset_id, sid)
        assert sample.labels[0]["name"] == "cat" and sample.sample_name == "cat.jpg"
        with pytest.raises(BadRequestError):
            ma.samples.add(ds.dataset_id, [{"name": "bad<name>.jpg", "data": b"x"}])
