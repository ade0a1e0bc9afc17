"""Shared fixtures: the real samples in ../shared, and (in tests/services.py) the real services."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BUZON_SHARED", REPO.parent / "shared"))
SAMPLES = SHARED / "samples"


def require_services() -> bool:
    """True when CI demands every service: a missing one is then a failure, not a skip."""
    return os.environ.get("BUZON_REQUIRE_SERVICES") == "1"


def missing(reason: str) -> None:
    """Skip the test for a missing service or input, or fail it under BUZON_REQUIRE_SERVICES=1."""
    if require_services():
        pytest.fail(f"required but missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """The folder of real DIAN documents; they are read in place and never copied."""
    if not SAMPLES.is_dir():
        missing(f"the real samples are not at {SAMPLES}")
    return SAMPLES


def sample_bytes(name: str) -> bytes:
    """The bytes of one real sample by file name."""
    path = SAMPLES / name
    if not path.is_file():
        missing(f"sample {name} is not at {SAMPLES}")
    return path.read_bytes()


pytest_plugins = ["tests.services"]
