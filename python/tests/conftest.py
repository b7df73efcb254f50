"""Shared fixtures. Files beside the repository (../shared/reference) are required under CI=true:
a test that cannot find them fails there, and is skipped with the reason elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
IN_CI = os.environ.get("CI") == "true"


def require_path(path: Path, what: str) -> Path:
    """``path`` when it exists; otherwise a failure under CI=true and a skip naming it elsewhere."""
    if path.exists():
        return path
    reason = f"{what} not found at {path}"
    if IN_CI:
        pytest.fail(f"CI=true: {reason}")
    pytest.skip(reason)
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def reference_file() -> Path:
    return require_path(SHARED / "reference" / "public.json", "the reference vectors (they live in ../shared)")


@pytest.fixture
def no_host(monkeypatch) -> None:
    """No GRADCRAFT_* variables from a surrounding run: the Studio under test was not started by VS Code."""
    for name in ("GRADCRAFT_PROTOCOL", "GRADCRAFT_CONFIG", "GRADCRAFT_RUNS_FOLDER", "GRADCRAFT_LISTEN"):
        monkeypatch.delenv(name, raising=False)
