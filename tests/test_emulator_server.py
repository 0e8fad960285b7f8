"""The emulator's own behaviour over raw HTTP: authentication answers, routing, admin."""

from __future__ import annotations

import httpx

from mafmt.client._auth import AkSkAuth
from mafmt.emulator import Emulator

PID = "0123456789abcdef0123456789abcdef"


def test_authentication_answers(emulator: Emulator) -> None:
    url = f"{emulator.url}/v2/{PID}/datasets"
    r = httpx.get(url)
    assert r.status_code == 401 and r.json()["error_code"] == "ModelArts.0205" and r.headers["X-Request-Id"]
    r = httpx.get(url, headers={"Authorization": "Basic abc"})
    assert r.status_code == 401 and r.json()["error_code"] == "ModelArts.0206"
    r = httpx.get(url, headers={"X-Auth-Token": "MIInotatoken"})
    assert r.status_code == 401 and r.json()["error_code"] == "ModelArts.0203"
    auth = AkSkAuth(emulator.ak, emulator.env()["HUAWEICLOUD_SDK_SK"], project_id=PID)
    assert httpx.get(url, auth=auth).status_code == 200
    req = httpx.Request("GET", url)
    auth.sign(req)
    req.headers["X-Sdk-Date"] = "20200101T000000Z"  # signed with another date, and far too old
    assert httpx.Client().send(req).json()["error_code"] == "ModelArts.0206"
    signed_then_dropped = httpx.Request("GET", url)
    auth.sign(signed_then_dropped)
    del signed_then_dropped.headers["X-Project-Id"]
    r = httpx.Client().send(signed_then_dropped)
    assert r.status_code == 401 and "missing" in r.json()["error_msg"]


def test_signature_covers_the_body(emulator: Emulator) -> None:
    auth = AkSkAuth(emulator.ak, emulator.env()["HUAWEICLOUD_SDK_SK"], project_id=PID)
    req = httpx.Request("POST", f"{emulator.url}/v2/{PID}/datasets", content=b'{"dataset_name":"a"}',
                        headers={"Content-Type": "application/json"})
    auth.sign(req)
    tampered = httpx.Request("POST", req.url, content=b'{"dataset_name":"b"}', headers=req.headers)
    r = httpx.Client().send(tampered)
    assert r.status_code == 403 and r.json()["error_code"] == "ModelArts.0206"


def test_routing_and_admin(emulator: Emulator) -> None:
    auth = AkSkAuth(emulator.ak, emulator.env()["HUAWEICLOUD_SDK_SK"], project_id=PID)
    r = httpx.get(f"{emulator.url}/v2/{PID}/nothing-here", auth=auth)
    assert r.status_code == 404
    r = httpx.patch(f"{emulator.url}/v2/{PID}/datasets", auth=auth)
    assert r.status_code == 405
    state = httpx.get(f"{emulator.url}/_emulator/state", auth=auth).json()
    assert state["datasets"] == 0 and state["requests"][f"GET /v2/{PID}/nothing-here"] == 1
    assert httpx.delete(f"{emulator.url}/_emulator/faults").status_code == 401  # needs the credentials
    assert httpx.delete(f"{emulator.url}/_emulator/faults", auth=auth).status_code == 204
    assert emulator.env()["HUAWEICLOUD_SDK_SK"] not in repr(emulator)


def test_iam_token_and_projects(tmp_path) -> None:
    from mafmt.emulator import User

    with Emulator(ak="A", sk="S", project_id="d" * 32, users=[User("u", "p", "acct")], obs_root=str(tmp_path)) as emu:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "u", "password": "p", "domain": {"name": "acct"}}}}, "scope": {"project": {"name": "cn-north-4"}}}}
        r = httpx.post(emu.url + "/v3/auth/tokens?nocatalog=true", json=body)
        assert r.status_code == 201 and r.headers["X-Subject-Token"].startswith("MII")
        assert r.json()["token"]["project"]["id"] == "d" * 32
        token = r.headers["X-Subject-Token"]
        r = httpx.get(emu.url + "/v3/projects?name=cn-north-4", headers={"X-Auth-Token": token})
        assert r.json()["projects"][0]["id"] == "d" * 32
        assert httpx.get(emu.url + f"/v2/{'d' * 32}/datasets", headers={"X-Auth-Token": token}).status_code == 200
        r = httpx.get(emu.url + f"/v2/{'e' * 32}/datasets", headers={"X-Auth-Token": token})
        assert r.status_code == 403 and r.json()["error_code"] == "ModelArts.0210"
        body["auth"]["identity"]["password"]["user"]["password"] = "nope"
        r = httpx.post(emu.url + "/v3/auth/tokens", json=body)
        assert r.status_code == 401 and r.json()["error_code"].startswith("IAM.")
