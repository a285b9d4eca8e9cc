"""The pixel-sequence bench (callcoach_bench/xfade.py): its frames, its sample of the split, and one real
pair through `callcoach analyze` (skipped when the real labelled set is absent)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_real_bench import realfaces

from callcoach_bench import xfade
from callcoach_bench.posed import SIX
from callcoach_bench.real import Row, load_manifest, photos_by_person
from callcoach_bench.xfade import analyze, frames, sample


def test_frames_are_lead_then_pixel_blends_then_hold() -> None:
    a = np.zeros((4, 4, 3), np.uint8)
    b = np.full((4, 4, 3), 200, np.uint8)
    out = frames(a, b, lead=2, ramp=4, hold=3)
    assert len(out) == 2 + 3 + 3
    assert all((f == a).all() for f in out[:2]) and all((f == b).all() for f in out[-3:])
    assert [int(f[0, 0, 0]) for f in out[2:5]] == [50, 100, 150]
    jump = frames(a, b, lead=2, ramp=1, hold=1)
    assert len(jump) == 3 and (jump[-1] == b).all()


def test_the_sample_keeps_to_one_half_and_draws_each_label() -> None:
    data = realfaces()
    _, splits = photos_by_person(load_manifest(data), ("kdef", "jaffe"))
    pairs = sample(data, "dev", 2, seed=1)
    assert [e.label for _, e in pairs] == [label for label in SIX for _ in range(2)]
    for neutral, expression in pairs:
        assert neutral.label == "neutral" and neutral.subject == expression.subject
        assert splits[expression.source][expression.subject] == "dev"
    assert sample(data, "dev", 2, seed=1) == pairs  # seeded
    assert {e.subject for _, e in sample(data, "report", 2, seed=1)}.isdisjoint({e.subject for _, e in pairs})
    # A run on some labels draws the same pairs as the full run.
    assert sample(data, "dev", 2, seed=1, labels=("fear",)) == [p for p in pairs if p[1].label == "fear"]


@pytest.mark.slow
def test_a_real_smile_rising_in_pixels_reads_as_happiness_through_the_command() -> None:
    import cv2

    data = realfaces()
    smile = next(pair for pair in sample(data, "dev", 12, seed=3) if pair[1].label == "happiness")
    a, b = (cv2.imread(str(r.path)) for r in smile)
    out = analyze(frames(a, b, 10, 12, 4))
    assert "error" not in out
    assert out["top"] == "happiness"
    assert out["emotion"] == "happiness" and out["cue"] == "duchenne_smile"


def test_a_failed_command_is_counted_apart_not_scored_as_a_miss(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import cv2

    photo = tmp_path / "a.png"
    cv2.imwrite(str(photo), np.zeros((8, 8, 3), np.uint8))
    pair = (Row(photo, "photo", "neutral", "kdef", "kdef_X"), Row(photo, "photo", "anger", "kdef", "kdef_X"))

    def fail(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", "callcoach: error: cannot load the models\n")

    monkeypatch.setattr(subprocess, "run", fail)
    out = xfade.run([pair])
    assert out["scores"]["jump"] == {"n": 0, "apex": 0, "cue": 0, "no_cue": 0, "errors": 1}
    assert set(xfade.run([pair], forms=("jump",))["forms"]) == {"jump"}  # only the forms that ran
    assert analyze([np.zeros((8, 8, 3), np.uint8)]) == {
        "error": "callcoach analyze failed: callcoach: error: cannot load the models"
    }
    unreadable = (pair[0], Row(tmp_path / "missing.png", "photo", "anger", "kdef", "kdef_X"))
    assert xfade.run([unreadable])["scores"]["cross-fade"]["errors"] == 1


def test_the_looks_turn_the_frames_grey_or_into_a_small_jpeg_tile() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (300, 240, 3), dtype=np.uint8)
    b = rng.integers(0, 255, (300, 240, 3), dtype=np.uint8)
    colour = xfade.shown(a, b, "cross-fade")
    assert len(colour) == sum(xfade.FORMS["cross-fade"]) - 1 and (colour[0] == a).all()
    grey = xfade.shown(a, b, "cross-fade", "grey")
    assert all((f[..., 0] == f[..., 1]).all() and (f[..., 1] == f[..., 2]).all() for f in grey)
    tiles = xfade.shown(a, b, "slow", "tile")
    assert len(tiles) == sum(xfade.FORMS["slow"]) - 1
    assert {f.shape for f in tiles} == {(200, 160, 3)}  # the longer side 200 px, the aspect kept
    assert (tiles[-1] == xfade.tile(b)).all() and (tiles[0] == xfade.tile(a)).all()  # each frame its own
    with pytest.raises(ValueError, match="gray"):
        xfade.shown(a, b, "cross-fade", "gray")


@pytest.mark.slow
def test_a_morph_moves_the_landmarks_part_of_the_way_instead_of_showing_two_faces() -> None:
    import cv2

    from callcoach_bench.faces import detect_mesh

    data = realfaces()
    pair = next(p for p in sample(data, "dev", 12, seed=3) if p[1].label == "surprise")
    a, b = (cv2.imread(str(r.path)) for r in pair)
    assert a is not None and b is not None
    out = xfade.shown(a, b, "morph")
    lead, ramp, hold = xfade.FORMS["morph"]
    assert len(out) == lead + ramp - 1 + hold
    assert (out[0] == a).all() and (out[-1] == b).all()

    def mesh(image: np.ndarray) -> np.ndarray:
        found: np.ndarray = detect_mesh(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)).xy
        return found

    start, end = mesh(a), mesh(b)
    moved = float(np.linalg.norm(end - start, axis=1).mean())
    assert moved > 3.0  # a surprise pose moves the landmarks (pixels, mean over the mesh)
    # On each in-between frame the landmarker finds the mesh moved that part of the way (within 0.8 px on
    # this pair, mean over the ramp); on the plain cross-fade of the same pair it strays 1.5 px.
    strays = [
        float(np.linalg.norm(mesh(out[lead + k - 1]) - (start + k / ramp * (end - start)), axis=1).mean())
        for k in range(1, ramp)
    ]
    assert sum(strays) / len(strays) < moved / 6
    # The mouth opens on the way: the lip gap grows over the ramp (the first, middle and last in-between).
    gaps = [float(mesh(out[i])[14, 1] - mesh(out[i])[13, 1]) for i in (lead, lead + 5, lead + 10)]
    assert gaps[0] < gaps[1] < gaps[2]


def test_a_morph_without_a_face_is_an_error_for_that_pair_not_a_crash() -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (120, 100, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="no face"):
        xfade.shown(noise, noise, "morph")
