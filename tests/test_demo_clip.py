"""The demo plays a shipped, pinned clip: it works from a plain install, without the bench extra."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from callcoach.errors import SourceError
from callcoach.ui.demo_clip import CROP, DEMO_CLIP, DEMO_CLIP_SHA256, build, check_clip, read_frames

#: Run ``callcoach demo`` with the bench extra's packages made unimportable, and say which were asked for.
BLOCKED_RUN = textwrap.dedent(
    """
    import json, runpy, sys
    from importlib.abc import MetaPathFinder

    BLOCKED = ("skimage", "callcoach_bench")
    asked = []

    class Blocker(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                asked.append(name)
                raise ImportError(f"No module named {name!r} (blocked: not in a plain install)")
            return None

    sys.meta_path.insert(0, Blocker())
    sys.argv = ["callcoach", *sys.argv[1:]]
    code = 0
    try:
        runpy.run_module("callcoach", run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    loaded = sorted(m for m in sys.modules if any(m == b or m.startswith(b + ".") for b in BLOCKED))
    print("BLOCKED-REPORT " + json.dumps({"asked": asked, "loaded": loaded}), flush=True)
    sys.exit(code)
    """
)


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
def test_demo_headless_check_runs_without_scikit_image_or_the_bench() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCKED_RUN, "demo", "--headless-check", "14"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    report_line = [line for line in result.stdout.splitlines() if line.startswith("BLOCKED-REPORT ")]
    assert report_line, result.stdout + result.stderr
    report = json.loads(report_line[0].removeprefix("BLOCKED-REPORT "))
    assert report == {"asked": [], "loaded": []}, report
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cue     " in result.stdout and "suggest " in result.stdout


@pytest.mark.slow
def test_the_blocker_does_block_what_the_other_seeds_need() -> None:
    # Seed 1 is rendered on the fly: under the same blocker it must fail, in one clear line.
    result = subprocess.run(
        [sys.executable, "-c", BLOCKED_RUN, "demo", "--headless-check", "5", "--seed", "1"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode != 0
    assert "callcoach: error: " in result.stderr and "bench extra" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("skimage") is None, reason="rebuilding needs the bench extra")
def test_the_rebuild_is_byte_identical(tmp_path: Path) -> None:
    path = build(tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == DEMO_CLIP_SHA256
