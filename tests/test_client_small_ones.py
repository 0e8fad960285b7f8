"""Issue 12, the small API ones: the AK masked in every repr, IAM failures that name the
IAM endpoint, and the emulator's fault endpoint (validated, authenticated, quiet drops)."""

from __future__ import annotations

import socket

import httpx
import pytest

from mafmt.client import APIConnectionError, AuthenticationError, ModelArts
from mafmt.client._auth import AkSkAuth
from mafmt.client._config import Config
from mafmt.emulator import Emulator
from mafmt.emulator._app import Principal

AK = "MAFMTTESTAK0000000001"
SK = "mafmtTestSecretKey0000000000000000000001"


def test_ak_is_masked_in_every_repr(emulator: Emulator) -> None:
    cfg = Config.resolve(env={}, ak=AK, sk=SK, project_id="p" * 32, password="pw0rd!")
    client = ModelArts(cfg)
    try:
        shown = [repr(cfg), repr(client), repr(client.transport), repr(client.transport.auth), repr(emulator),
                 repr(Principal(AK, SK, "p")), repr(emulator.app), repr(emulator.app.principals[AK])]
    finally:
        client.close()
    for text in shown:
        assert AK not in text and SK not in text and "pw0rd" not in text, text
        assert "MAFM****0001" in text or "Principal" not in text, text
    assert "MAFM****0001" in repr(cfg) and "MAFM****0001" in repr(emulator)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_iam_is_named_not_modelarts(emulator: Emulator) -> None:
    iam = f"http://127.0.0.1:{_free_port()}"
    ma = ModelArts(endpoint=emulator.url, iam_endpoint=iam, username="u", password="pw", account="a",
                   project_id=emulator.project_id, max_retries=0, timeout=2)
    try:
        with pytest.raises(APIConnectionError) as err:
            ma.datasets.list().first_page()
    finally:
        ma.close()
    assert f"IAM {iam}/v3/auth/tokens" in str(err.value) and emulator.url not in str(err.value)
    assert "pw" not in str(err.value).replace("ConnectError", "")


def test_iam_refusal_names_the_iam_endpoint(emulator: Emulator) -> None:
    ma = ModelArts(endpoint=emulator.url, iam_endpoint=emulator.url, username="nobody", password="wrong",
                   project_id=emulator.project_id, max_retries=0)
    try:
        with pytest.raises(AuthenticationError) as err:
            ma.datasets.list().first_page()
    finally:
        ma.close()
    assert str(err.value).startswith(f"IAM {emulator.url}/v3/auth/tokens: 401 IAM.0011")


def test_project_lookup_failure_names_iam(emulator: Emulator) -> None:
    iam = f"http://127.0.0.1:{_free_port()}"
    ma = ModelArts(endpoint=emulator.url, iam_endpoint=iam, ak=AK, sk=SK, max_retries=0)
    try:
        with pytest.raises(APIConnectionError) as err:
            ma.datasets.list().first_page()
    finally:
        ma.close()
    assert f"IAM {iam}/v3/projects" in str(err.value)


def _admin(emulator: Emulator, method: str, path: str, body: object = None, *, signed: bool = True
           ) -> httpx.Response:
    import json

    req = httpx.Request(method, emulator.url + path, content=json.dumps(body).encode() if body is not None else b"",
                        headers={"Content-Type": "application/json"})
    if signed:
        AkSkAuth(emulator.ak, emulator.env()["HUAWEICLOUD_SDK_SK"]).sign(req)
    with httpx.Client() as http:
        return http.send(req)


def test_fault_endpoint_needs_credentials_and_valid_input(emulator: Emulator) -> None:
    assert _admin(emulator, "POST", "/_emulator/faults", {"status": 500}, signed=False).status_code == 401
    bad = [{"path": "(unclosed"}, {"status": "x"}, {"status": 99}, {"times": -1}, {"delay": "slow"},
           {"unknown_key": 1}, {"method": 5}, [1, 2], {"delay": 1e9}]
    for spec in bad:
        resp = _admin(emulator, "POST", "/_emulator/faults", spec)
        assert resp.status_code == 400, (spec, resp.text)
        assert resp.json()["error_code"] == "ModelArts.0101"
    assert emulator.app.faults == []
    # the emulator still answers normally afterwards
    assert _admin(emulator, "GET", f"/v2/{emulator.project_id}/datasets").status_code == 200
    ok = _admin(emulator, "POST", "/_emulator/faults", {"method": "GET", "path": "/datasets$", "status": 503})
    assert ok.status_code == 200 and len(emulator.app.faults) == 1
    assert _admin(emulator, "DELETE", "/_emulator/faults", signed=False).status_code == 401
    assert _admin(emulator, "DELETE", "/_emulator/faults").status_code == 204


def test_dropped_connections_print_no_traceback(emulator: Emulator, capfd) -> None:
    emulator.add_fault(method="GET", path="/datasets$", drop=True, times=3)
    emulator.add_fault(method="POST", path="/datasets$", drop=True, after=True, times=1)
    for _ in range(3):
        with pytest.raises(httpx.HTTPError), httpx.Client() as http:
            http.get(f"{emulator.url}/v2/{emulator.project_id}/datasets")
    with pytest.raises(httpx.HTTPError), httpx.Client() as http:
        http.post(f"{emulator.url}/v2/{emulator.project_id}/datasets", content=b"{}")
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
