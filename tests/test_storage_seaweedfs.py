"""Integration against SeaweedFS, a real S3 server that verifies signatures."""

from __future__ import annotations

import pytest
from conftest import GOLDEN
from s3servers import S3Endpoint, use_endpoint

import mafmt
from mafmt import manifest, storage
from mafmt.errors import StorageError


@pytest.fixture()
def weed(seaweedfs_server: S3Endpoint):
    previous = storage._BACKENDS.get("obs")
    backend = use_endpoint(seaweedfs_server)
    yield seaweedfs_server, backend
    backend.close()
    if previous is not None:
        storage.register_backend("obs", previous)
    else:
        storage._BACKENDS.pop("obs", None)


@pytest.mark.parametrize("signature", ["v4", "v2"])
def test_correct_keys_work(weed, tmp_path, signature):
    ep, _ = weed
    backend = use_endpoint(S3Endpoint(ep.endpoint, signature=signature, kind=ep.kind))
    bucket = f"weed-{signature}"
    if not storage.exists(f"obs://{bucket}/"):
        backend.create_bucket(bucket)
    uri = f"obs://{bucket}/data/train.manifest"
    samples = list(manifest.read(str(GOLDEN / "V002.manifest")))
    manifest.write(samples, uri, locs="keep")
    manifest.write(samples[:1], uri, mode="a", locs="keep")
    assert len(list(mafmt.read(uri))) == len(samples) + 1
    for i in range(30):
        (tmp_path / "up" / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "up" / f"d{i % 3}" / f"{i}.txt").write_text(str(i) * (i + 1))
    assert storage.copy(str(tmp_path / "up"), f"obs://{bucket}/data/").transferred == 30
    assert storage.copy(f"obs://{bucket}/data/up", str(tmp_path / "down")).transferred == 30
    assert (tmp_path / "down/up/d2/29.txt").read_text() == "29" * 30
    assert len(list(storage.ls(f"obs://{bucket}/data/", recursive=True))) == 31
    assert [i.name for i in storage.ls(f"obs://{bucket}/data/")] == ["train.manifest", "up"]
    assert storage.delete(f"obs://{bucket}/data/up", recursive=True) == 30
    assert storage.stat(uri).size > 0


def test_wrong_secret_key_is_rejected_with_a_typed_error(weed):
    ep, backend = weed
    if not storage.exists("obs://weed-auth/"):
        backend.create_bucket("weed-auth")
    storage.write_bytes("obs://weed-auth/x.txt", b"x")
    bad = S3Endpoint(ep.endpoint, secret_key=ep.secret_key[:-1] + "X", kind=ep.kind)
    use_endpoint(bad)
    for action in (lambda: storage.read_bytes("obs://weed-auth/x.txt"),
                   lambda: storage.write_bytes("obs://weed-auth/y.txt", b"y"),
                   lambda: list(storage.ls("obs://weed-auth/"))):
        with pytest.raises(StorageError) as err:
            action()
        assert err.value.status == 403 and err.value.code == "SignatureDoesNotMatch"
        assert ep.secret_key not in str(err.value) and bad.secret_key not in str(err.value)
    with pytest.raises(StorageError) as err:
        storage.stat("obs://weed-auth/x.txt")  # HEAD: no body, status still typed
    assert err.value.status == 403
