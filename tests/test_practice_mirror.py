"""The mirror drill: feedback from the cues the engine spotted (unit), and the command on synthetic clips of
the project's warped face (end to end through the real vision and cue stages)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from callcoach.cues.vocabulary import Cue
from callcoach.practice.mirror import PROMPT_BY_CUE, active_aus, judge, parts_involved

REPO = Path(__file__).resolve().parents[1]


def cue(name: str, onset: float = 3.0, length: float | None = 0.3, confidence: float = 0.7) -> Cue:
    return Cue(name, None, "micro", onset, onset + 0.1, None if length is None else onset + length, 0.5, confidence, 0)


def test_a_brief_eyebrow_flash_is_clear_and_a_slow_one_is_told_to_be_quicker() -> None:
    ok = judge(PROMPT_BY_CUE["eyebrow_flash"], [cue("eyebrow_flash", length=0.32)])
    assert ok.appeared and ok.duration_s == pytest.approx(0.32) and ok.parts == ("brows",)
    assert ok.feedback.startswith("clear: quick eyebrow raise")
    slow = judge(PROMPT_BY_CUE["eyebrow_flash"], [cue("eyebrow_flash", length=0.9)])
    assert slow.appeared and "lasted 0.90 s: aim for under 0.5 s" in slow.feedback


def test_a_smile_without_the_eyes_reads_as_polite() -> None:
    a = judge(PROMPT_BY_CUE["duchenne_smile"], [cue("polite_smile")])
    assert not a.appeared and a.feedback == "the eyes did not take part: that reads as a polite smile"
    assert a.parts == ("mouth",)


def test_the_action_units_that_took_part_are_named_in_au_order() -> None:
    peaks = {"AU12": 0.8, "AU6": 0.1, "AU25": 0.45, "AU1": 0.29, "AU2": 0.3}
    assert active_aus(peaks) == ("AU2", "AU12", "AU25")  # AU1 at 0.29 is under the 0.3 mark
    assert active_aus(None) == () and active_aus({}) == ()
    polite = judge(PROMPT_BY_CUE["duchenne_smile"], [cue("polite_smile")], peaks)
    assert polite.aus == ("AU2", "AU12", "AU25") and polite.as_json()["aus"] == ["AU2", "AU12", "AU25"]
    assert polite.feedback == "the eyes did not take part (AU12 without AU6): that reads as a polite smile"
    flash = judge(PROMPT_BY_CUE["eyebrow_flash"], [cue("eyebrow_flash", length=0.32)], {"AU1": 0.6, "AU2": 0.7})
    assert flash.feedback == "clear: quick eyebrow raise (brows, AU1+AU2) for 0.32 s"


def test_other_cues_or_nothing_are_named_plainly() -> None:
    other = judge(PROMPT_BY_CUE["lip_compression"], [cue("micro_anger"), cue("blink_cluster")])
    assert other.feedback == "that read as brief tightening of brows and lips, burst of blinks instead"
    assert other.parts == ("brows", "mouth", "eyes")
    assert judge(PROMPT_BY_CUE["micro_frown"], []).feedback.startswith("nothing showed clearly")
    assert parts_involved([cue("duchenne_smile"), cue("polite_smile")]) == ("mouth", "eyes")


def _clip(tmp_path: Path, name: str) -> Path:
    pytest.importorskip("skimage", reason="the synthetic face needs scikit-image (the bench extra)")
    from callcoach_bench.synth import cue_clip, save_clip

    clip = cue_clip(f"mirror_{name}", "cue", "neutral", [(name, "micro")], np.random.default_rng(1))
    return save_clip(clip, tmp_path / f"{name}.mp4")


def _mirror(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "callcoach", "practice", "mirror", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_mirror_on_a_video_reports_the_flash_its_length_and_the_brows(tmp_path: Path) -> None:
    proc = _mirror("--video", str(_clip(tmp_path, "eyebrow_flash")), "--target", "eyebrow_flash", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    result = json.loads(line)
    assert result["appeared"] and result["parts"] == ["brows"], result
    assert 0.1 < result["duration_s"] <= 0.5  # the clip's flash lasts about 0.3 s


@pytest.mark.slow
def test_mirror_tells_a_polite_smile_from_one_that_reaches_the_eyes(tmp_path: Path) -> None:
    proc = _mirror("--video", str(_clip(tmp_path, "polite_smile")), "--target", "duchenne_smile")
    assert proc.returncode == 0, proc.stderr
    polite = "  -> the eyes did not take part (AU12 without AU6): that reads as a polite smile"
    assert polite in proc.stdout.splitlines()
    assert proc.stdout.splitlines()[-1] == "0 of 1 shown clearly. Nothing was recorded."


def test_mirror_bad_options_are_one_clear_line(tmp_path: Path) -> None:
    proc = _mirror("--video", str(tmp_path / "missing.mp4"), "--target", "eyebrow_flash")
    assert proc.returncode != 0 and proc.stderr.startswith("callcoach: error: ") and "Traceback" not in proc.stderr
    proc = _mirror("--video", "x.mp4", "--target", "wink")
    assert proc.returncode == 2 and "--target is one of eyebrow_flash" in proc.stderr
