"""Shared fixtures. Test servers (S3-compatible, ModelArts emulator) run on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"

settings.register_profile("ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture()
def golden() -> Path:
    """Folder of the real ModelArts files from Huawei's dataset SDK (read-only)."""
    return GOLDEN
