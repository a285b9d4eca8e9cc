"""The demo plays a shipped, pinned clip: it works from a plain install, without the bench extra."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest
from plain_install import BLOCKED, run_blocked

from callcoach.errors import SourceError
from callcoach.ui.demo_clip import CROP, DEMO_CLIP, DEMO_CLIP_SHA256, build, check_clip, read_frames


def test_the_shipped_clip_is_small_pinned_and_decodes_to_the_cropped_face() -> None:
    assert check_clip() == DEMO_CLIP
    assert DEMO_CLIP.stat().st_size < 400 * 1024
    first = next(read_frames(DEMO_CLIP))
    _, _, w, h = CROP
    assert first.shape == (h, w, 3) and first.dtype.name == "uint8"
    assert sum(1 for _ in read_frames(DEMO_CLIP)) > 25 * 30  # the whole small set: every cue once, ~42 s


def test_a_missing_or_altered_clip_is_refused_in_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot be read"):
        check_clip(tmp_path / "gone.mp4")
    altered = tmp_path / "demo_clips.mp4"
    data = bytearray(DEMO_CLIP.read_bytes())
    data[len(data) // 2] ^= 0xFF
    altered.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="sha256 differs"):
        check_clip(altered)


@pytest.mark.slow
def test_demo_headless_check_runs_without_scikit_image_scipy_or_the_bench() -> None:
    # Fails if the demo's path imports any of them, even inside a try: the blocker notes every attempt.
    assert set(BLOCKED) == {"skimage", "scipy", "callcoach_bench"}
    result, report = run_blocked("demo", "--headless-check", "14")
    assert report == {"asked": [], "loaded": []}, report
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cue     " in result.stdout and "suggest " in result.stdout
    assert "synthetic" in result.stdout.splitlines()[0]  # the header says the clips are not a real person


@pytest.mark.slow
def test_the_blocker_does_block_what_the_other_seeds_need() -> None:
    # Seed 1 is rendered on the fly: under the same blocker it must fail, in one clear line.
    result, report = run_blocked("demo", "--headless-check", "5", "--seed", "1")
    assert report["asked"], report  # the blocker saw the attempt: the test above would see one too
    assert result.returncode != 0
    assert result.stderr.startswith("callcoach: error: ") and "bench extra" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("skimage") is None, reason="rebuilding needs the bench extra")
def test_the_rebuild_is_byte_identical(tmp_path: Path) -> None:
    path = build(tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == DEMO_CLIP_SHA256
