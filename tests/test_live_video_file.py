"""``callcoach live --video`` end to end: a damaged file ends in one error line, and the summary's ``duration_s``
means what ``analyze``'s means (the span of the frames analysed, start-up left out)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from session_fakes import data_dir

from callcoach.playbook.guardrails import record_headless_notice

__all__ = ["data_dir"]
REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, timeout: float = 240) -> tuple[subprocess.CompletedProcess[str], float]:
    # os.environ carries data_dir's private CALLCOACH_DATA_DIR and XDG_CONFIG_HOME.
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "callcoach", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    return proc, time.monotonic() - started


@pytest.fixture
def quiet_notice(data_dir: Path) -> Path:
    """The one-time note for runs without the panel already shown: stderr then holds only what the run says."""
    record_headless_notice()
    return data_dir


def summary_of(proc: subprocess.CompletedProcess[str]) -> dict[str, object]:
    last = json.loads(proc.stdout.splitlines()[-1])
    assert last["type"] == "summary", last
    return dict(last)


@pytest.mark.slow
def test_a_truncated_video_played_live_ends_in_one_error_line(
    real_media: Path, tmp_path: Path, quiet_notice: Path
) -> None:
    clip = (real_media / "WolfgangLanger_Pexels.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip[: len(clip) // 4])  # the index is at the front: about a quarter of the 472 frames decode
    proc, took = run_cli("live", "--video", str(cut), "--headless", "--no-record-session")
    assert proc.returncode == 1, proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith("callcoach: error: ") and "of the 472 frames" in lines[0] and "truncated" in lines[0]
    assert "Traceback" not in proc.stderr
    summary = summary_of(proc)  # what was read is still summarised, as analyze does
    assert summary["complete"] is False and summary["end"] == "source_lost"
    frames = summary["frames"]
    assert isinstance(frames, int) and 0 < frames < 472
    assert str(summary["error"]) in lines[0]
    # Played at the file's own rate: the error comes as the readable part ends, not after a long wait.
    assert took < 120


@pytest.mark.slow
def test_a_whole_video_played_live_ends_without_an_error(real_media: Path, quiet_notice: Path) -> None:
    proc, _ = run_cli("live", "--video", str(real_media / "single_face.mp4"), "--headless", "--no-record-session")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr == ""
    summary = summary_of(proc)
    assert summary["end"] == "source_lost" and "error" not in summary


@pytest.mark.slow
def test_live_and_analyze_measure_duration_the_same_way(real_media: Path, quiet_notice: Path) -> None:
    clip = str(real_media / "single_face.mp4")  # 72 frames, about 2.4 s
    analysed, _ = run_cli("analyze", clip, "--quiet")
    assert analysed.returncode == 0, analysed.stderr[-2000:]
    offline = summary_of(analysed)["duration_s"]
    live_run, _ = run_cli("live", "--video", clip, "--headless", "--no-record-session")
    assert live_run.returncode == 0, live_run.stderr[-2000:]
    live = summary_of(live_run)
    duration, run_s, first = live["duration_s"], live["run_s"], live["first_frame_s"]
    assert isinstance(offline, float) and isinstance(duration, float)
    assert isinstance(run_s, float) and isinstance(first, float)
    # Start-up (model loading, up to the first analysed frame) is in run_s and not in duration_s.
    assert duration <= run_s - first + 0.01
    # The clip is played no faster than its own rate, so the analysed span is at least the clip's, less
    # what a slow first frame (cold caches) can take off it; on a loaded machine it can only be longer.
    assert duration >= offline - 1.0, (duration, offline)
