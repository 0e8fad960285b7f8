"""Shared fixtures. Test servers (S3-compatible, ModelArts emulator) run on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"

# S3-compatible test servers (moto, SeaweedFS) and their fixtures: s3_server, s3,
# obs_dialect_server, seaweedfs_server (see tests/s3servers.py).
import sys

sys.path.insert(0, str(Path(__file__).parent))
pytest_plugins = ["s3servers"]

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture()
def golden() -> Path:
    """Folder of the real ModelArts files from Huawei's dataset SDK (read-only)."""
    return GOLDEN


@pytest.fixture()
def emulator(tmp_path: Path):
    """A ModelArts emulator on 127.0.0.1 whose OBS is the local folder ``tmp_path/obs``
    (``/bucket/key`` -> ``tmp_path/obs/bucket/key``); stopped after the test."""
    from mafmt.emulator import Emulator

    root = tmp_path / "obs"
    root.mkdir()
    emu = Emulator(ak="MAFMTTESTAK0000000001", sk="mafmtTestSecretKey0000000000000000000001",
                   project_id="0123456789abcdef0123456789abcdef", obs_root=str(root))
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture()
def emulator_s3(s3):
    """A ModelArts emulator whose OBS is the ``s3`` fixture's local S3 server (moto):
    ``obs://``, ``s3://`` and ``/bucket/key`` paths in API bodies go there."""
    from mafmt.emulator import Emulator

    emu = Emulator(ak="MAFMTTESTAK0000000001", sk="mafmtTestSecretKey0000000000000000000001",
                   project_id="0123456789abcdef0123456789abcdef", obs_endpoint=s3.endpoint.endpoint)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture()
def ml_tick(emulator):
    """The ``emulator`` with its training/model/service state machines on a 0.05 s tick."""
    from mafmt.emulator._ml import ml_state

    ml_state(emulator.store).tick = 0.05
    return emulator


@pytest.fixture()
def ma(ml_tick):
    """A :class:`mafmt.client.ModelArts` client for the fast-ticking emulator."""
    from mafmt.client import ModelArts

    env = ml_tick.env()
    client = ModelArts(endpoint=env["MAFMT_MODELARTS_ENDPOINT"], ak=env["HUAWEICLOUD_SDK_AK"],
                       sk=env["HUAWEICLOUD_SDK_SK"], project_id=env["HUAWEICLOUD_SDK_PROJECT_ID"],
                       region=env["HUAWEICLOUD_SDK_REGION"], iam_endpoint=env["MAFMT_IAM_ENDPOINT"])
    try:
        yield client
    finally:
        client.close()


@pytest.fixture()
def ml_book(s3, emulator_s3, monkeypatch):
    """Run SDK-reference snippets: ``ml_book(code, scope=None, **placeholders)`` executes
    ``code`` (placeholders replaced) with the environment pointing at ``emulator_s3``
    (state machines on a 0.05 s tick, facade polling at 0.02 s); buckets ``bucket`` and
    ``bucket-name`` exist on the local S3 server."""
    for bucket in ("bucket", "bucket-name"):
        s3.backend.create_bucket(bucket)
    from mafmt.emulator._ml import ml_state

    ml_state(emulator_s3.store).tick = 0.05
    for key, value in emulator_s3.env().items():
        monkeypatch.setenv(key, value)
    from mafmt.modelarts import estimator, estimatorV2, model

    for mod in (estimator, estimatorV2, model):
        monkeypatch.setattr(mod, "POLL", 0.02)

    def run(code: str, scope: dict | None = None, **names: str) -> dict:
        import textwrap

        code = textwrap.dedent(code)
        for placeholder, real in names.items():
            code = code.replace(placeholder, str(real))
        scope = scope if scope is not None else {}
        scope.setdefault("print", lambda *a, **k: None)
        exec(compile(code, "<book example>", "exec"), scope)  # noqa: S102 - the book's examples
        return scope

    run.emulator = emulator_s3  # type: ignore[attr-defined]
    run.s3 = s3  # type: ignore[attr-defined]
    return run
