"""The SDK-HMAC-SHA256 signer: golden vectors and equality with huaweicloudsdkcore."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mafmt.client._auth import AkSkAuth, authorization, canonical_query, canonical_uri, parse_authorization
from mafmt.client._config import Config

AK, SK = "AKEXAMPLE0123456789", "SKEXAMPLEsecret0123456789abcdefghijklmnop"
PID = "0123456789abcdef0123456789abcdef"
HOST = "modelarts.cn-north-4.myhuaweicloud.com"


def test_golden_vector_infrastructure_notes() -> None:
    body = b'{"dataset_name":"demo","data_format":"Default"}'
    headers = {"Content-Type": "application/json", "X-Sdk-Date": "20240101T000000Z", "Host": HOST}
    query = [("limit", 10), ("offset", 0), ("search_content", "a b/c")]
    value = authorization("POST", f"/v2/{PID}/datasets", query, headers, body, AK, SK)
    assert value.endswith(
        "SignedHeaders=content-type;host;x-sdk-date, "
        "Signature=504e3c25370853c4274818297b10544a897969f3a72c9475dec7c923b2ee44c4"
    )
    headers["X-Project-Id"] = PID
    value = authorization("POST", f"/v2/{PID}/datasets", query, headers, body, AK, SK)
    assert value == (
        f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=content-type;host;x-project-id;x-sdk-date, "
        "Signature=bfc97c4c685016d58a7e86fefb8bc9e9e64d32068392c3267aee4ddaadb3f8d5"
    )


AK2, SK2 = "MAFMTTESTAK0000000001", "mafmtTestSecretKey0000000000000000000001"
BASE = {"X-Project-Id": PID, "X-Sdk-Date": "20240102T030405Z", "Host": HOST}


@pytest.mark.parametrize(
    ("method", "path", "query", "ctype", "body", "sig"),
    [
        ("GET", f"/v2/{PID}/datasets", [("limit", 10), ("offset", 0), ("search_content", "cat dog")],
         "application/json", b"", "fb7775dc6dc7e96b189402d9219e1ae0da8ae37f2da12ec8e83299375cb8009d"),
        ("POST", f"/v2/{PID}/datasets/ds0001/import-tasks", [], "application/json;charset=UTF-8",
         b'{"dataset_name":"flowers","description":"demo"}',
         "92eefcbf7dc12de9a96bdc771db2d06e3731c1bdedb9d000630185d4390a6901"),
        ("GET", f"/v1/{PID}/training-job-configs",
         [("sortBy", "create_time"), ("per_page", 10), ("page", 1), ("search_content", "猫/dog")],
         "application/json", b"", "5323bdd7375be1cf3dde4d7e2b3d0d313ac3787f4a9edd7f00ff81b3bcf42518"),
    ],
)
def test_auth_md_vectors(method: str, path: str, query: list, ctype: str, body: bytes, sig: str) -> None:
    headers = {"Content-Type": ctype, **BASE}
    value = authorization(method, path, query, headers, body, AK2, SK2)
    assert value.endswith(f"Signature={sig}")
    assert parse_authorization(value) == {
        "Access": AK2, "SignedHeaders": "content-type;host;x-project-id;x-sdk-date", "Signature": sig}


def test_canonical_pieces() -> None:
    assert canonical_uri("/v2/p/datasets") == "/v2/p/datasets/"
    assert canonical_uri("/a%20b/c/") == "/a%20b/c/"
    assert canonical_query([("sortBy", "x"), ("page", 1), ("per_page", 10), ("b", True)]) == (
        "b=true&page=1&per_page=10&sortBy=x")


def test_httpx_auth_signs_sent_request() -> None:
    auth = AkSkAuth(AK, SK, project_id=PID)
    req = httpx.Request("GET", f"https://{HOST}/v2/{PID}/datasets?search_content=a%20b&limit=5")
    auth.sign(req)
    assert req.url.query == b"limit=5&search_content=a%20b"
    assert req.headers["X-Project-Id"] == PID
    assert req.headers["Authorization"].startswith(f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=")
    assert SK not in repr(auth)


def test_config_repr_hides_secrets() -> None:
    cfg = Config.resolve(env={"HUAWEICLOUD_SDK_SK": "s3cr3t-key", "HUAWEICLOUD_SDK_AK": "AKID"}, password="pw0rd!")
    assert "s3cr3t" not in repr(cfg) and "pw0rd" not in repr(cfg)
    assert cfg.ak == "AKID" and cfg.mode == "aksk"
    assert Config.resolve(env={"HUAWEICLOUD_SDK_AK": "A"}, ak="B").ak == "B"


# --------------------------------------------------------------------------- vs huaweicloudsdkcore

_segment = st.text(st.characters(codec="utf-8", exclude_characters="/?#%\x00"), min_size=1, max_size=8)
_name = st.text(st.sampled_from("abcXYZ_-.~09 猫é/&="), min_size=1, max_size=8)
_value = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=10),
    st.integers(0, 10**6),
    st.booleans(),
)
_hname = st.text(st.sampled_from("abcdefXYZ-_"), min_size=1, max_size=10).filter(
    lambda s: s.lower() not in {"host", "x-sdk-date", "content-type", "authorization", "x-sdk-content-sha256"})
_hvalue = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)


@settings(max_examples=220, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    segments=st.lists(_segment, min_size=1, max_size=5),
    trailing=st.booleans(),
    query=st.dictionaries(_name, _value, max_size=5),
    extra=st.dictionaries(_hname, _hvalue, max_size=3),
    ctype=st.sampled_from(["application/json", "application/json;charset=UTF-8", "text/plain", "application/bson",
                           "multipart/form-data"]),
    body=st.binary(max_size=64),
    project=st.booleans(),
)
def test_signer_matches_huaweicloudsdkcore(method, segments, trailing, query, extra, ctype, body, project) -> None:
    from urllib.parse import quote

    core_signer = pytest.importorskip("huaweicloudsdkcore.signer.signer")
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.sdk_request import SdkRequest

    path = "/" + "/".join(quote(s, safe="") for s in segments) + ("/" if trailing else "")
    headers = {"Content-Type": ctype, "X-Sdk-Date": "20240102T030405Z", **extra}
    if "x-sdk-content-sha256" not in {k.lower() for k in headers} and not ctype.startswith(
            ("application/json", "application/bson")):
        headers["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD"
    creds = BasicCredentials(AK, SK, PID if project else None)
    req = SdkRequest(method=method, schema="https", host=HOST, resource_path=path,
                     query_params=list(query.items()), header_params=dict(headers), body=body)
    if project:
        headers["X-Project-Id"] = PID
        req = creds.sign_request(req)
    else:
        req = core_signer.Signer(creds).sign(req)
    ours = authorization(method, path, list(query.items()), {**headers, "Host": HOST}, body, AK, SK)
    assert ours == req.header_params["Authorization"]
    _check_sent_request(method, path, query, extra, ctype, body, project)


HOP = {"Connection": "keep-alive", "Keep-Alive": "timeout=5", "Accept": "*/*", "Accept-Encoding": "gzip, br",
       "TE": "trailers", "Via": "1.1 proxy", "X-Forwarded-For": "10.0.0.1"}


def _check_sent_request(method, path, query, extra, ctype, body, project) -> None:
    """What AkSkAuth puts on a real request (with hop-by-hop and arbitrary extra headers)
    equals what the official signer gives the SDK's own header set."""
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.sdk_request import SdkRequest

    from mafmt.client._auth import SIGNED_HEADERS, canonical_query

    q = canonical_query(list(query.items()))
    url = f"https://{HOST}{path}" + (f"?{q}" if q else "")
    sent = httpx.Request(method, url, content=body,
                         headers={**extra, **HOP, "Content-Type": ctype, "User-Agent": "mafmt"})
    AkSkAuth(AK, SK, project_id=PID if project else None).sign(sent)
    parts = parse_authorization(sent.headers["Authorization"])
    assert parts is not None
    signed = parts["SignedHeaders"].split(";")
    assert set(signed) <= SIGNED_HEADERS and not set(signed) & {h.lower() for h in HOP}
    official = {"Content-Type": ctype, "User-Agent": "mafmt", "X-Sdk-Date": sent.headers["X-Sdk-Date"]}
    if "X-Sdk-Content-Sha256" in sent.headers:
        official["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD"
    creds = BasicCredentials(AK, SK, PID if project else None)
    req = SdkRequest(method=method, schema="https", host=HOST, resource_path=sent.url.raw_path.decode().split("?")[0],
                     query_params=list(query.items()), header_params=official, body=body)
    req = creds.sign_request(req)
    assert sent.headers["Authorization"] == req.header_params["Authorization"]


class _RewritingProxy:
    """A reverse proxy on 127.0.0.1 that forwards to ``target`` the way gateways do:
    ``Connection`` and ``Accept-Encoding`` rewritten, a ``Via`` added."""

    def __init__(self, target: str) -> None:
        import http.client
        import http.server
        import threading
        from urllib.parse import urlsplit

        host, port = urlsplit(target).hostname, urlsplit(target).port

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "accept-encoding", "keep-alive")}
                headers.update({"Connection": "close", "Accept-Encoding": "identity", "Via": "1.1 gateway"})
                conn = http.client.HTTPConnection(host, port, timeout=10)
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_signature_survives_an_intermediary_rewriting_connection_and_accept_encoding(emulator) -> None:
    from mafmt.client import ModelArts
    from mafmt.client._auth import sdk_date, signed_header_names

    proxy = _RewritingProxy(emulator.url)
    try:
        env = emulator.env()
        ma = ModelArts(endpoint=proxy.url, ak=env["HUAWEICLOUD_SDK_AK"], sk=env["HUAWEICLOUD_SDK_SK"],
                       project_id=env["HUAWEICLOUD_SDK_PROJECT_ID"], max_retries=0)
        with ma:
            assert ma.datasets.list().to_list() == []
            assert ma.training_jobs.flavors()["total_count"] >= 1
        # control: a request signed over every header it carries (the old signer) is refused
        sent = httpx.Request("GET", f"{proxy.url}/v2/{emulator.project_id}/datasets",
                             headers={"Connection": "keep-alive", "Accept-Encoding": "gzip", "Content-Type":
                                      "application/json", "X-Sdk-Date": sdk_date(), "Host": proxy.url.split("//")[1]})
        every = {k: v for k, v in sent.headers.items()}
        assert "connection" in signed_header_names(every)
        sent.headers["Authorization"] = authorization("GET", sent.url.path, [], every, b"", env["HUAWEICLOUD_SDK_AK"],
                                                      env["HUAWEICLOUD_SDK_SK"])
        with httpx.Client() as http:
            answer = http.send(sent)
        assert answer.status_code == 403 and answer.json()["error_code"] == "ModelArts.0206"
    finally:
        proxy.close()


@pytest.mark.parametrize("ctype", ["application/json", "application/json;charset=UTF-8", "text/plain"])
def test_temporary_credentials_sign_like_the_official_signer(ctype: str) -> None:
    """With a security token, AkSkAuth signs ``x-security-token`` too, and nothing
    hop-by-hop: the same Authorization as huaweicloudsdkcore's temporary credentials."""
    pytest.importorskip("huaweicloudsdkcore")
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.sdk_request import SdkRequest

    body = '{"name": "猫", "q": "a b"}'.encode()
    query = [("offset", "0"), ("search_content", "a b/c~é")]
    sent = httpx.Request("POST", f"https://{HOST}/v2/{PID}/training-job-searches?{canonical_query(query)}", content=body,
                         headers={"Content-Type": ctype, "User-Agent": "mafmt", **HOP})
    AkSkAuth(AK, SK, project_id=PID, security_token="tmp-token/+=").sign(sent)
    assert parse_authorization(sent.headers["Authorization"])["SignedHeaders"].split(";")[-1] == "x-security-token"
    official = {"Content-Type": ctype, "User-Agent": "mafmt", "X-Sdk-Date": sent.headers["X-Sdk-Date"]}
    if "X-Sdk-Content-Sha256" in sent.headers:
        official["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD"
    creds = BasicCredentials(AK, SK, PID).with_security_token("tmp-token/+=")
    req = creds.sign_request(SdkRequest(method="POST", schema="https", host=HOST,
                                        resource_path=f"/v2/{PID}/training-job-searches", query_params=query,
                                        header_params=official, body=body))
    assert sent.headers["X-Security-Token"] == req.header_params["X-Security-Token"]
    assert sent.headers["Authorization"] == req.header_params["Authorization"]
