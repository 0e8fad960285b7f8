"""The storage layer on obs:// against moto on 127.0.0.1 (fixture ``s3``): readers and
writers round-trip, listing pages, append mode, typed errors, secrets kept out."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from conftest import GOLDEN
from lxml import etree
from s3servers import TEST_AK, TEST_SK, S3Endpoint, raw_client, use_endpoint

import mafmt
from mafmt import manifest, storage, voc
from mafmt.errors import StorageError


def _canonical(el: etree._Element) -> tuple:
    kids = sorted((_canonical(c) for c in el if isinstance(c.tag, str)), key=repr)
    return (el.tag, (el.text or "").strip(), tuple(kids))


def _lines(data: bytes) -> list[object]:
    return [json.loads(x) for x in data.decode("utf-8").splitlines() if x.strip()]


# --------------------------------------------------------------------------- readers and writers


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("*.manifest")))
def test_manifest_round_trip_through_obs(s3, name):
    data = (GOLDEN / name).read_bytes()
    src = s3.uri(f"in/{name}")
    storage.write_bytes(src, data)
    samples = list(mafmt.read(src))
    assert samples and all(s.origin.file == src for s in samples if s.origin)
    dst = s3.uri(f"out/{name}")
    report = manifest.write(samples, dst, locs="keep")
    assert report.written == len(samples)
    assert _lines(storage.read_bytes(dst)) == _lines(data)
    assert [manifest.sample_to_dict(s) for s in mafmt.read(dst)] == [manifest.sample_to_dict(s) for s in samples]


def test_manifest_write_then_read_detection_with_voc_on_obs(s3):
    """mafmt.manifest.write(samples, "obs://bucket/x.manifest") writes the VOC files beside it."""
    storage.copy(str(GOLDEN / "voc"), s3.uri("src/"), keep_last_dir=True)
    storage.write_bytes(s3.uri("src/d.manifest"), (GOLDEN / "detect-multi-local-voc.manifest").read_bytes())
    samples = list(mafmt.read(s3.uri("src/d.manifest")))
    docs = [a.load() for s in samples for a in s.annotations if hasattr(a, "load")]
    assert docs and all(d.objects for d in docs)
    report = manifest.write(samples, s3.uri("x/x.manifest"), write_voc=True)
    assert report.written == len(samples)
    back = list(mafmt.read(s3.uri("x/x.manifest")))
    assert len(back) == len(samples)
    again = [a.load() for s in back for a in s.annotations if hasattr(a, "load")]
    assert [voc.document_to_bytes(d) for d in again] == [voc.document_to_bytes(d) for d in docs]
    assert any(u.endswith(".xml") for u in storage.iter_files(s3.uri("x/Annotations/x/")))  # the manifest's own folder


@pytest.mark.parametrize("name", ["2007_000027.xml", "polyline.xml", "000000089955_1556180702627.xml"])
def test_voc_round_trip_through_obs(s3, name):
    path = GOLDEN / "voc" / name
    src = s3.uri(f"voc/{name}")
    storage.write_bytes(src, path.read_bytes())
    doc = voc.read_document(src)
    dst = s3.uri(f"back/{name}")
    voc.write_document(doc, dst)
    got = etree.fromstring(storage.read_bytes(dst))
    assert _canonical(got) == _canonical(etree.parse(str(path)).getroot())
    assert [e for e in mafmt.validate(dst, "voc") if e.severity == "error"] == []


def _normalised(fmt, target):
    """What writing then reading ``target`` gives, locations removed (or the error type)."""
    from mafmt.errors import MafmtError

    try:
        written = fmt.write(SAMPLES_FOR_FORMATS, target).written
        if not written:
            return "nothing written"  # (an empty folder does not exist on object storage)
        got = [manifest.sample_to_dict(s) for s in fmt.read(target)]
    except MafmtError as exc:
        return type(exc).__name__
    for g in got:
        g.pop("source", None)
        for a in g.get("annotation", []):
            a.pop("annotation-loc", None)
    return written, got


SAMPLES_FOR_FORMATS: list = []


def test_every_registered_format_round_trips_through_obs(s3, tmp_path):
    """Whatever converters exist behave on obs:// exactly as on local folders."""
    from mafmt import converters

    storage.copy(str(GOLDEN / "voc"), s3.uri("g/"), keep_last_dir=True)
    storage.write_bytes(s3.uri("g/d.manifest"), (GOLDEN / "detect-multi-local-voc.manifest").read_bytes())
    SAMPLES_FOR_FORMATS[:] = list(mafmt.read(s3.uri("g/d.manifest")))
    for fmt in converters.FORMATS.values():
        ext = fmt.extensions[0] if fmt.extensions and not fmt.directory else ""
        remote = s3.uri(f"fmt/{fmt.name}/out{ext}")
        local = str(tmp_path / fmt.name / f"out{ext}")
        assert _normalised(fmt, remote) == _normalised(fmt, local), fmt.name


def test_append_mode_on_obs_keeps_existing_content(s3):
    uri = s3.uri("a/train.manifest")
    samples = list(manifest.read(str(GOLDEN / "V002.manifest")))
    manifest.write(samples[:2], uri)
    manifest.write(samples[2:4], uri, mode="a")
    assert len(list(mafmt.read(uri))) == 4
    with storage.atomic_write(uri, "a") as fh:
        fh.seek(0)
        assert fh.read().count(b"\n") == 4  # the old content is there to read
        fh.write(b"")
    storage.write_bytes(s3.uri("a/log.txt"), b"one\n")
    storage.write_bytes(s3.uri("a/log.txt"), b"two\n", mode="a")
    storage.write_bytes(s3.uri("a/new.txt"), b"first\n", mode="a")  # append to nothing = create
    assert storage.read_bytes(s3.uri("a/log.txt")) == b"one\ntwo\n"
    assert storage.read_bytes(s3.uri("a/new.txt")) == b"first\n"


def test_failed_write_leaves_object_untouched(s3):
    uri = s3.uri("keep.txt")
    storage.write_bytes(uri, b"old")
    with pytest.raises(RuntimeError), storage.atomic_write(uri) as fh:
        fh.write(b"half")
        raise RuntimeError("boom")
    assert storage.read_bytes(uri) == b"old"


# --------------------------------------------------------------------------- the storage interface


def test_stat_exists_is_dir_ls_glob_delete(s3):
    for key in ("d/a.txt", "d/b.json", "d/sub/c.txt", "d/sub/deeper/e.txt", "other.txt"):
        storage.write_bytes(s3.uri(key), key.encode())
    info = storage.stat(s3.uri("d/a.txt"))
    assert (info.size, info.is_dir, info.name) == (7, False, "a.txt") and info.etag and info.mtime
    assert storage.stat(s3.uri("d")).is_dir and storage.stat(s3.uri("d/sub/")).is_dir
    assert storage.exists(s3.uri("d/a.txt")) and storage.exists(s3.uri("d"))
    assert not storage.exists(s3.uri("d/zz")) and not storage.is_dir(s3.uri("d/a.txt"))
    assert [i.name for i in storage.ls(s3.uri("d/"))] == ["a.txt", "b.json", "sub"]
    assert [i.uri for i in storage.ls(s3.uri("d"), recursive=True)] == [
        s3.uri(k) for k in ("d/a.txt", "d/b.json", "d/sub/c.txt", "d/sub/deeper/e.txt")]
    assert [i.name for i in storage.ls(s3.uri("d/"), prefix="b")] == ["b.json"]
    assert list(storage.ls(s3.uri("d/a.txt"))) == [info]
    assert list(storage.glob(s3.uri("d/*.txt"))) == [s3.uri("d/a.txt")]
    assert list(storage.glob(s3.uri("d/**/*.txt"))) == [s3.uri(k) for k in
                                                       ("d/a.txt", "d/sub/c.txt", "d/sub/deeper/e.txt")]
    assert list(storage.glob(s3.uri("d/s?b/[c]*"))) == [s3.uri("d/sub/c.txt")]
    assert list(storage.iter_files(s3.uri("d/"))) == [s3.uri("d/a.txt"), s3.uri("d/b.json")]
    with storage.open_read(s3.uri("d/sub/c.txt")) as fh:
        assert fh.read(2) == b"d/" and fh.read() == b"sub/c.txt"
    with pytest.raises(StorageError, match="folder"):
        storage.delete(s3.uri("d"))
    assert storage.delete(s3.uri("d/a.txt")) == 1
    assert storage.delete(s3.uri("d"), recursive=True) == 3
    assert not storage.exists(s3.uri("d")) and storage.exists(s3.uri("other.txt"))
    with pytest.raises(StorageError) as err:
        storage.delete(s3.uri("nothing.txt"))
    assert err.value.code == "NoSuchKey"


def test_s3_and_s3a_schemes_are_the_same_store(s3):
    storage.write_bytes(f"s3://{s3.bucket}/x.txt", b"x")
    assert storage.read_bytes(f"obs://{s3.bucket}/x.txt") == b"x"
    assert storage.exists(f"s3a://{s3.bucket}/x.txt")


def test_listing_more_objects_than_one_page(s3, tmp_path):
    backend = use_endpoint(s3.endpoint, list_page_size=50)
    client = s3.client()
    for i in range(237):
        assert client.putContent(s3.bucket, f"many/f{i:04d}.txt", str(i)).status < 300
    for i in range(3):
        assert client.putContent(s3.bucket, f"many/sub{i}/x.txt", "x").status < 300
    requests = []
    original = backend.client.listObjects

    def counting(*args, **kwargs):  # count the real requests the lazy listing makes
        requests.append(kwargs.get("marker"))
        return original(*args, **kwargs)

    backend.client.listObjects = counting
    flat = storage.ls(s3.uri("many/"))
    first = next(flat)
    assert first.name == "f0000.txt" and len(requests) == 1  # lazy: one page so far
    rest = list(flat)
    assert [i.name for i in [first, *rest]] == [f"f{i:04d}.txt" for i in range(237)] + ["sub0", "sub1", "sub2"]
    assert len(requests) == 5
    assert len(list(storage.ls(s3.uri("many"), recursive=True))) == 240


def test_missing_object_is_a_typed_error_with_code_and_request_id(s3):
    with pytest.raises(StorageError) as err:
        storage.read_bytes(s3.uri("nope.txt"))
    e = err.value
    assert (e.code, e.status, e.uri) == ("NoSuchKey", 404, s3.uri("nope.txt")) and e.request_id
    with pytest.raises(StorageError) as err:
        storage.read_bytes("obs://no-such-bucket-here/x")
    assert err.value.code == "NoSuchBucket" and err.value.status == 404
    with pytest.raises(StorageError) as err:
        storage.stat(s3.uri("nope/"))
    assert err.value.code == "NoSuchKey"


def test_server_down_gives_typed_error_quickly():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ep = S3Endpoint(f"http://127.0.0.1:{port}")
    use_endpoint(ep, retries=1, backoff=0.01)
    try:
        with pytest.raises(StorageError) as err:
            storage.read_bytes("obs://bucket/key.txt")
        assert err.value.code == "ConnectionError" and err.value.status is None
        assert "refused" in str(err.value).lower()
        with pytest.raises(StorageError):
            storage.write_bytes("obs://bucket/key.txt", b"x")
        with pytest.raises(StorageError):
            list(storage.ls("obs://bucket/"))
    finally:
        storage._BACKENDS.pop("obs", None)


def test_credentials_never_in_logs_errors_or_reprs(s3, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    backend = use_endpoint(s3.endpoint)
    with pytest.raises(StorageError) as err:
        storage.read_bytes(s3.uri("missing"))
    wrong = use_endpoint(S3Endpoint("http://127.0.0.1:1", secret_key=TEST_SK + "x"), retries=0)
    with pytest.raises(StorageError) as down:
        storage.stat("obs://b/k")
    texts = [str(err.value), repr(err.value), str(down.value), repr(backend), repr(wrong), repr(backend.config),
             str(wrong.config), caplog.text, *capfd.readouterr()]
    for text in texts:
        assert TEST_SK not in text and TEST_AK not in text
    assert "MAFM****0001" in repr(backend.config)


def test_obs_header_dialect_end_to_end(obs_dialect_server):
    """signature="obs": OBS-native Authorization and x-obs-* headers, negotiation probe."""
    ep = obs_dialect_server.endpoint
    assert ep.signature == "obs"
    backend = use_endpoint(ep)
    try:
        backend.create_bucket("dialect")
        storage.write_bytes("obs://dialect/a/x.manifest", (GOLDEN / "V002.manifest").read_bytes())
        storage.copy("obs://dialect/a/x.manifest", "obs://dialect/b/y.manifest")
        assert storage.read_bytes("obs://dialect/b/y.manifest") == (GOLDEN / "V002.manifest").read_bytes()
        assert len(list(mafmt.read("obs://dialect/b/y.manifest"))) > 0
        assert [i.name for i in storage.ls("obs://dialect/")] == ["a", "b"]
        with pytest.raises(StorageError) as err:
            storage.read_bytes("obs://dialect/zz")
        assert err.value.code == "NoSuchKey" and err.value.request_id
        schemes = {scheme for _, scheme in obs_dialect_server.middleware.requests if scheme}
        assert schemes == {"OBS"}
        client = raw_client(ep, signature="v4")
        meta = client.getObjectMetadata("dialect", "b/y.manifest")
        assert meta.status == 200 and meta.body.contentLength == len((GOLDEN / "V002.manifest").read_bytes())
    finally:
        backend.close()
        storage._BACKENDS.pop("obs", None)


def test_transient_server_errors_are_retried_with_backoff(s3, tmp_path):
    use_endpoint(s3.endpoint, retries=2, backoff=0.01)
    s3.server.faults.extend([503, 500])
    storage.write_bytes(s3.uri("r.txt"), b"ok")  # two failures, then success
    assert storage.read_bytes(s3.uri("r.txt")) == b"ok"
    use_endpoint(s3.endpoint, retries=0)
    s3.server.faults.append(503)
    with pytest.raises(StorageError) as err:
        storage.read_bytes(s3.uri("r.txt"))
    assert (err.value.status, err.value.code, err.value.request_id) == (503, "SlowDown", "fault-503")
    # folder transfers retry whole files
    for i in range(20):
        (tmp_path / f"f{i}.txt").write_text(str(i))
    use_endpoint(s3.endpoint, retries=3, backoff=0.01)
    s3.server.faults.extend([503] * 6)
    summary = storage.copy(str(tmp_path), s3.uri("retry/"), workers=4)
    assert (summary.transferred, summary.failed) == (20, 0)
