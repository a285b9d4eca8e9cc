"""The synthetic benchmark set: deterministic, complete, and visible to the landmark model."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("skimage")

from callcoach.cues.vocabulary import CUE_NAMES, MICRO_MAX_S
from callcoach.vision.landmarker import Landmarker
from callcoach_bench import actions
from callcoach_bench.accuracy import print_table, score_clips
from callcoach_bench.check import apex_frame
from callcoach_bench.faces import base_face
from callcoach_bench.megc import Prediction
from callcoach_bench.synth import SynthClip, build_clip_set, save_clip


@pytest.fixture(scope="module")
def small() -> list[SynthClip]:
    return build_clip_set(seed=0, size="small")


@pytest.fixture(scope="module")
def standard() -> list[SynthClip]:
    return build_clip_set(seed=0, size="standard")


@pytest.fixture(scope="module")
def landmarker(photo_landmarker: Landmarker) -> Landmarker:
    return photo_landmarker  # the session's (tests/conftest.py)


def _signature(clips: list[SynthClip]) -> list[tuple[object, ...]]:
    return [(c.name, c.kind, c.base, c.n_frames, c.events, c.distractors) for c in clips]


def test_small_set_is_deterministic(small: list[SynthClip]) -> None:
    again = build_clip_set(seed=0, size="small")
    assert _signature(small) == _signature(again)
    for a, b in zip(small, again, strict=True):
        for ta, tb in zip(a.tracks, b.tracks, strict=True):
            np.testing.assert_array_equal(ta.weights, tb.weights)
    other = build_clip_set(seed=1, size="small")
    assert _signature(other) != _signature(small)


def test_rendering_is_deterministic(small: list[SynthClip]) -> None:
    clip = next(c for c in small if "jpeg" in c.distractors)
    first = [f.image for f in clip.iter_frames()][::25]
    second = [f.image for f in clip.iter_frames()][::25]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_every_cue_is_labelled(small: list[SynthClip], standard: list[SynthClip]) -> None:
    assert set(CUE_NAMES) <= {e.cue for c in small for e in c.events}
    counts = Counter((e.cue, e.scale) for c in standard for e in c.events)
    for cue in CUE_NAMES:
        assert counts[(cue, "micro")] + counts[(cue, "macro")] >= 5, cue
        assert counts[(cue, "macro")] >= 2, cue
        if cue != "blink_cluster":  # a cluster of 3-4 blinks cannot fit in half a second
            assert counts[(cue, "micro")] >= 3, cue


def test_clip_layout(standard: list[SynthClip]) -> None:
    kinds = Counter(c.kind for c in standard)
    assert 40 <= len(standard) <= 60 and kinds["distractor"] >= 12
    for clip in standard:
        assert 4.0 <= clip.duration_s <= 8.5, clip.name
        assert clip.fps == 25.0
        if clip.kind == "distractor":
            assert clip.events == () and clip.distractors
            continue
        assert clip.events and clip.events[0].onset_s >= 2.0, clip.name
        for e in clip.events:
            assert e.onset_s < e.apex_s < e.offset_s <= clip.duration_s
            assert e.face == 0
            assert (e.offset_s - e.onset_s <= MICRO_MAX_S) == (e.scale == "micro")
        for a, b in zip(clip.events, clip.events[1:], strict=False):
            assert b.onset_s - a.offset_s >= 1.0, clip.name


def test_frames_are_rgb_tiles(small: list[SynthClip]) -> None:
    clip = small[0]
    frames = list(clip.iter_frames())
    assert len(frames) == clip.n_frames
    f = frames[10]
    assert f.image.shape == (360, 640, 3) and f.image.dtype == np.uint8 and f.image.flags.c_contiguous
    assert f.index == 10 and f.t_s == pytest.approx(10 / clip.fps)


def _brow_height(landmarks: np.ndarray, w: int, h: int) -> float:
    """Brows above the eye centres, in eye-centre distances (positive = up)."""
    p = landmarks[:, :2] * [w, h]
    eye_r = p[list(actions.LIDS["r"][0] + actions.LIDS["r"][1])].mean(axis=0)
    eye_l = p[list(actions.LIDS["l"][0] + actions.LIDS["l"][1])].mean(axis=0)
    brows = p[list(actions.BROWS["r"] + actions.BROWS["l"])].mean(axis=0)
    return float(((eye_r + eye_l) / 2)[1] - brows[1]) / float(np.linalg.norm(eye_l - eye_r))


def _aperture(landmarks: np.ndarray, w: int, h: int) -> float:
    p = landmarks[:, :2] * [w, h]
    return float(np.mean([p[145, 1] - p[159, 1], p[374, 1] - p[386, 1]]))


def test_brow_flash_apex_moves_the_detected_brows(small: list[SynthClip], landmarker: Landmarker) -> None:
    clip = next(c for c in small if any(e.cue == "eyebrow_flash" for e in c.events))
    event = next(e for e in clip.events if e.cue == "eyebrow_flash")
    apex_i = round(event.apex_s * clip.fps)
    frames = {f.index: f.image for f in clip.iter_frames() if f.index in (0, apex_i)}
    neutral, apex = (landmarker.detect(frames[i])[0].landmarks for i in (0, apex_i))
    rise = _brow_height(apex, 640, 360) - _brow_height(neutral, 640, 360)
    assert rise > 0.04  # the warp lifts the brows ~0.09-0.13 eye distances; the model sees most of it


def test_blink_and_gaze_are_seen(landmarker: Landmarker) -> None:
    base = base_face("neutral").image
    neutral = landmarker.detect(base)[0]
    blink = landmarker.detect(apex_frame("neutral", "blink_cluster"))[0]
    assert _aperture(blink.landmarks, 640, 360) < 0.4 * _aperture(neutral.landmarks, 640, 360)
    gaze = landmarker.detect(apex_frame("neutral", "gaze_aversion"))[0]
    eye_width = neutral.landmarks[133, 0] - neutral.landmarks[33, 0]
    assert (gaze.landmarks[468, 0] - neutral.landmarks[468, 0]) / eye_width > 0.08


def test_save_clip_writes_a_video(small: list[SynthClip], tmp_path: Path) -> None:
    clip = min(small, key=lambda c: c.n_frames)
    path = save_clip(clip, tmp_path / "clip.mp4")
    cap = cv2.VideoCapture(str(path))
    try:
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == clip.n_frames
        assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (640, 360)
    finally:
        cap.release()


def test_score_clips_with_a_fake_detector(small: list[SynthClip]) -> None:
    def oracle(clip: SynthClip) -> list[Prediction]:
        spotted = [Prediction(e.cue, e.onset_s, e.apex_s, e.offset_s) for e in clip.events]
        if clip.kind == "distractor":  # and one false alarm per distractor clip
            spotted.append(Prediction("polite_smile", 1.0, 1.1, 1.3))
        return spotted

    report = score_clips(small, oracle)
    assert report.aware.overall.fn == 0 and report.aware.overall.tp == sum(len(c.events) for c in small)
    assert report.aware.overall.fp == sum(c.kind == "distractor" for c in small)
    assert report.distractors["talking"].false_positives == 1
    assert report.distractors["talking"].by_cue["polite_smile"] == 1
    out = io.StringIO()
    print_table(report, out)
    assert "cue-agnostic" in out.getvalue() and "talking" in out.getvalue()
    assert report.as_dict()["frames"] == sum(c.n_frames for c in small)
