"""Transport behaviour against the emulator: retries, timeouts, dropped connections,
no duplicate creates, authentication failures, IAM tokens."""

from __future__ import annotations

import pytest

from mafmt.client import (
    APIConnectionError,
    AuthenticationError,
    ModelArts,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from mafmt.emulator import Emulator, User

DS = "/v2/0123456789abcdef0123456789abcdef/datasets"


def client(emu: Emulator, **over) -> ModelArts:
    env = emu.env()
    opts = {"ak": env["HUAWEICLOUD_SDK_AK"], "sk": env["HUAWEICLOUD_SDK_SK"], "endpoint": emu.url,
            "project_id": emu.project_id, "iam_endpoint": emu.url, "max_retries": 3, **over}
    ma = ModelArts(**opts)
    ma.transport.backoff = 0.01
    return ma


def create(ma: ModelArts, name: str):
    return ma.datasets.create(name, dataset_type=1, data_path="/bkt/in/", work_path="/bkt/out/")


def names(ma: ModelArts) -> list[str]:
    return [d.dataset_name for d in ma.datasets.list(limit=100)]


def test_429_and_503_are_retried_even_for_creates(emulator: Emulator) -> None:
    ma = client(emulator)
    f1 = emulator.add_fault(method="POST", path="/datasets$", status=429, times=1, retry_after=0)
    f2 = emulator.add_fault(method="POST", path="/datasets$", status=503, times=1)
    create(ma, "one")
    assert f1.hits == 1 and f2.hits == 1
    assert names(ma) == ["one"] and emulator.request_count("POST", DS) == 1


def test_500_on_get_is_retried_then_surfaces(emulator: Emulator) -> None:
    ma = client(emulator)
    emulator.add_fault(method="GET", status=500, times=2)
    assert list(ma.datasets.list()) == []
    emulator.add_fault(method="GET", status=502, times=10)
    with pytest.raises(ServerError) as err:
        ma.datasets.get("abc")
    assert err.value.status_code == 502 and err.value.error_code == "ModelArts.0010"
    emulator.clear_faults()
    emulator.add_fault(method="GET", status=429, times=10)
    with pytest.raises(RateLimitError):
        list(ma.datasets.list())


def test_dropped_response_after_create_does_not_duplicate(emulator: Emulator) -> None:
    ma = client(emulator)
    fault = emulator.add_fault(method="POST", path="/datasets$", drop=True, after=True, times=1)
    result = create(ma, "once")
    assert fault.hits == 1 and result.dataset_id
    assert names(ma) == ["once"] and emulator.request_count("POST", DS) == 1


def test_timeout_after_create_does_not_duplicate(emulator: Emulator) -> None:
    ma = client(emulator, timeout=0.5)
    emulator.add_fault(method="POST", path="/datasets$", delay=1.0, times=1)
    result = create(ma, "slow")
    assert result.dataset_id
    emulator.wait_idle()
    import time

    time.sleep(0.7)  # let the delayed request finish on the server
    assert names(ma) == ["slow"]


def test_drop_before_handling_on_get_is_retried(emulator: Emulator) -> None:
    ma = client(emulator)
    emulator.add_fault(method="GET", drop=True, times=2)
    assert list(ma.datasets.list()) == []


def test_5xx_on_create_reconciles_instead_of_resending_blindly(emulator: Emulator) -> None:
    ma = client(emulator)
    emulator.add_fault(method="POST", path="/datasets$", status=500, times=1)
    create(ma, "five")  # nothing was created: the reconcile finds nothing and the POST is re-sent
    assert names(ma) == ["five"]


def test_without_reconcile_a_dropped_post_raises(emulator: Emulator) -> None:
    ma = client(emulator)
    emulator.add_fault(method="POST", drop=True, times=1)
    with pytest.raises(APIConnectionError):
        ma.transport.request("POST", "/v2/{project_id}/datasets", json_body={})
    assert emulator.request_count("POST", DS) == 0


def test_wrong_secret_is_a_typed_403(emulator: Emulator) -> None:
    ma = client(emulator, sk="not-the-secret")
    with pytest.raises(PermissionDeniedError) as err:
        list(ma.datasets.list())
    assert err.value.status_code == 403 and err.value.error_code == "ModelArts.0206"
    assert "not-the-secret" not in str(err.value)


def test_unknown_ak_and_wrong_project(emulator: Emulator) -> None:
    with pytest.raises(AuthenticationError) as err:
        list(client(emulator, ak="NOSUCHAK").datasets.list())
    assert err.value.error_code == "ModelArts.3801"
    with pytest.raises(PermissionDeniedError) as err:
        list(client(emulator, project_id="f" * 32).datasets.list())
    assert err.value.error_code == "ModelArts.0210"


def test_token_login_refresh_and_wrong_password(tmp_path) -> None:
    now = [1_700_000_000.0]
    emu = Emulator(ak="AK", sk="SK", project_id="a" * 32, obs_root=str(tmp_path),
                   users=[User("alice", "pw-1", "acme")], clock=lambda: now[0], max_skew=10**10)
    with emu:
        ma = ModelArts(username="alice", password="pw-1", account="acme", project_id="a" * 32,
                       endpoint=emu.url, iam_endpoint=emu.url)
        assert list(ma.datasets.list()) == []
        first = ma.transport.auth._token
        now[0] += 25 * 3600  # the token expired on the server
        ma.transport.auth._expires = float("inf")  # ... but the client does not know it yet
        assert list(ma.datasets.list()) == []
        assert ma.transport.auth._token != first
        bad = ModelArts(username="alice", password="wrong", account="acme", project_id="a" * 32,
                        endpoint=emu.url, iam_endpoint=emu.url)
        with pytest.raises(AuthenticationError) as err:
            list(bad.datasets.list())
        assert "wrong" not in str(err.value) and "wrong" not in repr(bad)


def test_emulator_verifies_golden_vector() -> None:
    """auth.md §5: the verifier accepts the vectors at their date and rejects a changed byte."""
    import datetime as dt

    import httpx

    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC).timestamp()
    emu = Emulator(ak="MAFMTTESTAK0000000001", sk="mafmtTestSecretKey0000000000000000000001",
                   project_id="0123456789abcdef0123456789abcdef", clock=lambda: when)
    auth = ("SDK-HMAC-SHA256 Access=MAFMTTESTAK0000000001, SignedHeaders=content-type;host;x-project-id;x-sdk-date, "
            "Signature=fb7775dc6dc7e96b189402d9219e1ae0da8ae37f2da12ec8e83299375cb8009d")
    with emu:
        url = emu.url + DS + "?limit=10&offset=0&search_content=cat%20dog"
        headers = {"Content-Type": "application/json", "X-Project-Id": "0123456789abcdef0123456789abcdef",
                   "X-Sdk-Date": "20240102T030405Z", "Host": "modelarts.cn-north-4.myhuaweicloud.com",
                   "Authorization": auth}
        assert httpx.get(url, headers=headers).status_code == 200
        assert httpx.get(url.replace("dog", "dof"), headers=headers).status_code == 403
        assert httpx.get(url, headers={**headers, "X-Sdk-Date": "20240102T030406Z"}).status_code == 403


def test_project_id_looked_up_from_iam(emulator: Emulator, monkeypatch) -> None:
    monkeypatch.delenv("HUAWEICLOUD_SDK_PROJECT_ID", raising=False)
    env = emulator.env()
    ma = ModelArts(ak=env["HUAWEICLOUD_SDK_AK"], sk=env["HUAWEICLOUD_SDK_SK"], endpoint=emulator.url,
                   iam_endpoint=emulator.url, region="cn-north-4", project_id=None)
    assert ma.transport.project_id == emulator.project_id
    assert list(ma.datasets.list()) == []


def test_temporary_credentials_need_the_security_token(tmp_path) -> None:
    with Emulator(ak="TMPAK", sk="TMPSK", project_id="b" * 32, security_token="tok-123", obs_root=str(tmp_path)) as emu:
        good = ModelArts(ak="TMPAK", sk="TMPSK", security_token="tok-123", project_id="b" * 32, endpoint=emu.url)
        assert list(good.datasets.list()) == []
        assert "tok-123" not in repr(good) and "tok-123" not in repr(good.transport.auth)
        bad = ModelArts(ak="TMPAK", sk="TMPSK", project_id="b" * 32, endpoint=emu.url)
        with pytest.raises(AuthenticationError):
            list(bad.datasets.list())


def test_admin_endpoint_injects_faults(emulator: Emulator) -> None:
    import httpx

    from mafmt.client._auth import AkSkAuth

    auth = AkSkAuth(emulator.ak, emulator.env()["HUAWEICLOUD_SDK_SK"])
    assert httpx.post(emulator.url + "/_emulator/faults", json={"method": "GET", "status": 503, "times": 1},
                      auth=auth).status_code == 200
    ma = client(emulator)
    assert list(ma.datasets.list()) == []
    assert emulator.app.faults[0].hits == 1
    ds = create(ma, "adm")
    emulator.wait_idle()
    httpx.post(emulator.url + "/_emulator/fail", json={"kind": "import", "error_msg": "forced"}, auth=auth)
    from mafmt.client import TaskFailedError

    with pytest.raises(TaskFailedError, match="forced"):
        ma.import_tasks.create(ds.dataset_id, "/bkt/in/", wait=True, poll=0.05, timeout=10)


def test_read_timeout_on_get_is_retried(emulator: Emulator) -> None:
    ma = client(emulator, timeout=0.3)
    fault = emulator.add_fault(method="GET", delay=0.6, times=1)
    assert list(ma.datasets.list()) == []
    assert fault.hits == 1
