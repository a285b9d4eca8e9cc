"""Live scheduling in vision, with fakes instead of models: the staggered appearance CNN and the spread search.

No timing here: these check which face or region is worked on in which frame. The figures are printed by
`callcoach bench live`.
"""

from __future__ import annotations

import itertools
import math
import sys
from typing import Any, ClassVar

import numpy as np
import pytest

from callcoach.sources.base import Frame
from callcoach.vision import pipeline as pipeline_mod
from callcoach.vision.appearance import StaggeredAppearance
from callcoach.vision.finder import FaceFinder, SearchSweep, search_regions, tiles
from callcoach.vision.landmarker import RawFace
from callcoach.vision.pipeline import VisionConfig, VisionPipeline
from callcoach.vision.types import HeadPose

# --- staggered appearance ---------------------------------------------------------------------------


class FakeCNN:
    """Records which faces (by their first landmark's x) it is asked about; returns a fresh dict each time."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, rgb: np.ndarray, faces_px: list[np.ndarray]) -> list[dict[str, float]]:
        keys = [int(f[0, 0]) for f in faces_px]
        self.calls.append(keys)
        return [{"face": float(k), "call": float(len(self.calls))} for k in keys]


def _faces(ids: list[int]) -> list[np.ndarray]:
    return [np.full((478, 3), float(i), dtype=np.float32) for i in ids]


def test_each_face_is_refreshed_every_second_frame_and_reused_between() -> None:
    cnn = FakeCNN()
    stag = StaggeredAppearance(cnn)
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    ids: list[int | None] = [0, 1, 2, 3]
    outs = [stag.predict(image, _faces([0, 1, 2, 3]), ids, period=2) for _ in range(9)]
    assert cnn.calls[0] == [0, 1, 2, 3]  # nothing to reuse yet
    for frame, call in enumerate(cnn.calls[1:], start=1):
        assert call == [f for f in range(4) if (frame + f) % 2 == 0]  # half the faces each frame
    for face in range(4):
        fresh = [n for n, out in enumerate(outs) if (out[face] or {}).get("call") == n + 1]
        assert fresh == [0] + [n for n in range(1, 9) if (n + face) % 2 == 0]
        for n in range(1, 9):
            if n not in fresh:  # in between, the last probabilities, unchanged
                assert outs[n][face] is outs[n - 1][face]


def test_period_one_runs_every_confirmed_face_every_frame_and_skips_unconfirmed() -> None:
    cnn = FakeCNN()
    stag = StaggeredAppearance(cnn)
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    for _ in range(3):
        out = stag.predict(image, _faces([0, 7, 1]), [0, None, 1], period=1)
        assert out[1] is None
    assert cnn.calls == [[0, 1]] * 3


def test_a_new_or_returning_face_is_run_at_once() -> None:
    cnn = FakeCNN()
    stag = StaggeredAppearance(cnn)
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    stag.predict(image, _faces([0]), [0], period=2)
    stag.predict(image, _faces([0, 1]), [0, 1], period=2)  # face 1 is new: run although off its phase
    assert cnn.calls[-1] == [1]
    stag.predict(image, _faces([1]), [1], period=2)  # face 0 missing
    out = stag.predict(image, _faces([0, 1]), [0, 1], period=2)
    assert 0 in cnn.calls[-1] and out[0] is not None and out[0]["call"] == len(cnn.calls)


def test_an_id_handed_to_a_face_elsewhere_is_run_again_not_reused() -> None:
    cnn = FakeCNN()
    stag = StaggeredAppearance(cnn)
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    spread = np.stack([np.linspace(100, 140, 478), np.linspace(100, 150, 478), np.zeros(478)], axis=1)
    stag.predict(image, [spread.astype(np.float32)], [4], period=2)  # frame 0: face 4 is new, runs at once
    moved = spread.copy()
    moved[:, 0] += 6.0  # frame 1, off face 4's phase: a small drift is still the same face, so reused
    out = stag.predict(image, [moved.astype(np.float32)], [4], period=2)
    assert len(cnn.calls) == 1 and out[0] is not None and out[0]["call"] == 1
    stag.predict(image, [moved.astype(np.float32)], [4], period=2)  # frame 2: on its phase
    assert len(cnn.calls) == 2
    elsewhere = spread.copy()
    elsewhere[:, 0] += 200.0  # frame 3, off phase: id 4 handed to a face far away, whose result may differ
    out = stag.predict(image, [elsewhere.astype(np.float32)], [4], period=2)
    assert len(cnn.calls) == 3 and out[0] is not None and out[0]["call"] == 3


def test_no_face_no_call() -> None:
    cnn = FakeCNN()
    assert StaggeredAppearance(cnn).predict(np.zeros((8, 8, 3), dtype=np.uint8), [], [], period=2) == []
    assert cnn.calls == []


# --- spread search ----------------------------------------------------------------------------------


def test_a_sweep_covers_every_region_once_in_parts() -> None:
    sweep = SearchSweep(per_frame=4)
    sweep.start(1280, 720, faces=4)
    parts = []
    while sweep.active:
        parts.append(sweep.next_part(1280, 720))
    everything = search_regions(1280, 720)
    assert [r for part in parts for r in part] == everything
    assert len(everything) == 1 + len(list(tiles(1280, 720)))
    assert all(1 <= len(p) <= 4 for p in parts) and len(parts) == math.ceil(len(everything) / 4)
    assert sweep.faces_at_start == 4


def test_without_a_limit_the_sweep_is_the_whole_search_in_one_frame() -> None:
    sweep = SearchSweep(per_frame=None)
    sweep.start(640, 360, faces=0)
    assert sweep.next_part(640, 360) == search_regions(640, 360)
    assert not sweep.active


def test_a_new_frame_size_abandons_the_sweep() -> None:
    sweep = SearchSweep(per_frame=4)
    sweep.start(1280, 720, faces=1)
    sweep.next_part(1280, 720)
    assert sweep.next_part(1920, 1080) == [] and not sweep.active
    with pytest.raises(ValueError):
        SearchSweep(per_frame=0)


class CoordDetector:
    """Fake detector on an image whose pixels encode their own coordinates: sees a face at ``faces``."""

    def __init__(self, faces: list[tuple[int, int]]) -> None:
        self.faces = faces
        self.regions: list[tuple[int, int, int, int]] = []

    def detect(self, rgb: np.ndarray) -> list[tuple[float, float, float, float, float]]:
        lo_x, lo_y, hi = (int(v) for v in rgb[0, 0])
        x0, y0 = (hi // 16) * 256 + lo_x, (hi % 16) * 256 + lo_y
        h, w = rgb.shape[:2]
        self.regions.append((x0, y0, w, h))
        return [
            (float(fx - x0), float(fy - y0), 24.0, 24.0, 0.9)
            for fx, fy in self.faces
            if x0 <= fx and fx + 24 <= x0 + w and y0 <= fy and fy + 24 <= y0 + h
        ]


def _coord_image(width: int, height: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    return np.stack([xs % 256, ys % 256, (xs // 256) * 16 + ys // 256], axis=-1).astype(np.uint8)


def test_a_search_in_parts_finds_what_the_whole_search_finds() -> None:
    image = _coord_image(1280, 720)
    faces = [(200, 160), (1000, 600)]
    whole, parted = FaceFinder(), FaceFinder()
    whole._detector, parted._detector = CoordDetector(faces), CoordDetector(faces)  # type: ignore[assignment]
    sweep = SearchSweep(per_frame=4)
    sweep.start(1280, 720, faces=0)
    found = []
    while sweep.active:
        found += parted.search_regions(image, sweep.next_part(1280, 720))
    expected = whole.search(image)
    assert len(expected) == 2
    # Each part is de-duplicated on its own; across parts the pipeline drops faces it already knows.
    assert {b[:2] for b in found} == {b[:2] for b in expected}
    assert parted._detector.regions == search_regions(1280, 720)  # type: ignore[union-attr]


# --- the pipeline's schedule, with fake models -------------------------------------------------------


def _raw_face(x: float, y: float, size: float, width: int, height: int) -> RawFace:
    marks = np.zeros((478, 3), dtype=np.float32)
    marks[:, 0] = np.linspace(x, x + size, 478) / width
    marks[:, 1] = np.linspace(y, y + size, 478) / height
    return RawFace(marks, {"browInnerUp": 0.0}, np.eye(4, dtype=np.float32))


GALLERY = [(100.0, 60.0), (740.0, 60.0), (100.0, 420.0), (740.0, 420.0)]


class FakeLandmarker:
    #: How many of the gallery's faces the full-frame landmarker sees (the rest only the search finds).
    visible = 4

    def __init__(
        self, max_faces: int = 1, video: bool = True, min_confidence: float = 0.4, settle: bool = False
    ) -> None:
        self.max_faces = max_faces

    def detect(self, rgb: np.ndarray, t_s: float = 0.0) -> list[RawFace]:
        h, w = rgb.shape[:2]
        return [_raw_face(x, y, 150.0, w, h) for x, y in GALLERY[: min(self.max_faces, self.visible)]]

    def close(self) -> None:
        pass


class FakeFinder:
    #: Boxes the first search part finds.
    finds: ClassVar[list[tuple[float, float, float, float]]] = []

    def __init__(self) -> None:
        self.parts: list[list[tuple[int, int, int, int]]] = []
        self.warmed = False
        self.frame = 0
        self.crops: list[tuple[int, Any]] = []

    def search_regions(self, rgb: np.ndarray, regions: list[tuple[int, int, int, int]]) -> list[Any]:
        self.parts.append(list(regions))
        return list(self.finds) if len(self.parts) == 1 else []

    def landmark_crop(self, rgb: np.ndarray, box: Any) -> RawFace | None:
        self.crops.append((self.frame, box))
        h, w = rgb.shape[:2]
        # The mesh lands inside the detector's box, so a followed face's crops are told from the search's.
        return _raw_face(box[0] + 5, box[1] + 5, box[2] - 10, w, h)

    def warm_up(self) -> None:
        self.warmed = True

    def close(self) -> None:
        pass


class FakeAppearance:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def predict(self, rgb: np.ndarray, faces_px: list[np.ndarray]) -> list[dict[str, float]]:
        self.batches.append(len(faces_px))
        return [{"neutral": 1.0} for _ in faces_px]


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline_mod, "Landmarker", FakeLandmarker)
    monkeypatch.setattr(pipeline_mod, "FaceFinder", FakeFinder)
    monkeypatch.setattr(pipeline_mod, "AppearanceModel", FakeAppearance)
    monkeypatch.setattr(pipeline_mod, "canonical_points", lambda *a: None)
    monkeypatch.setattr(pipeline_mod, "measures", lambda canon: {})
    monkeypatch.setattr(pipeline_mod, "head_pose", lambda m: HeadPose(0.0, 0.0, 0.0))


def _run(vision: VisionPipeline, frames: int, fps: float = 15.0) -> list[Any]:
    image = np.zeros((720, 1280, 3), dtype=np.uint8)
    out = []
    for i in range(frames):
        vision._finder.frame = i  # type: ignore[attr-defined]
        out.append(vision.observe(Frame(index=i, t_s=i / fps, image=image)))
    return out


@pytest.mark.usefixtures("fake_models")
def test_live_spreads_the_search_and_analyze_does_it_at_once() -> None:
    everything = search_regions(1280, 720)
    live = VisionPipeline(live=True)
    live._go_multi_face()
    _run(live, 30)
    finder: FakeFinder = live._finder  # type: ignore[assignment]
    assert finder.warmed
    assert all(len(p) <= 4 for p in finder.parts)
    assert [r for p in finder.parts[: math.ceil(len(everything) / 4)] for r in p] == everything

    offline = VisionPipeline(live=False)
    offline._go_multi_face()
    _run(offline, 1)
    assert offline._finder.parts == [everything]  # type: ignore[attr-defined]


@pytest.mark.usefixtures("fake_models")
def test_live_gallery_refreshes_each_face_every_second_frame() -> None:
    vision = VisionPipeline(live=True)
    vision._go_multi_face()
    cnn: FakeAppearance = vision._appearance  # type: ignore[assignment]
    cnn.batches.clear()  # the warm-up run
    observed = _run(vision, 12)
    assert all(len(o.faces) == 4 and all(f.emotion is not None for f in o.faces) for o in observed)
    assert cnn.batches[0] == 4 and set(cnn.batches[1:]) == {2}


@pytest.mark.usefixtures("fake_models")
def test_one_face_live_runs_the_appearance_model_every_frame() -> None:
    vision = VisionPipeline(live=True, config=VisionConfig(max_faces=1))
    cnn: FakeAppearance = vision._appearance  # type: ignore[assignment]
    cnn.batches.clear()
    _run(vision, 6)
    assert cnn.batches == [1] * 6
    assert not vision._finder.warmed  # type: ignore[attr-defined]  # one face: no search to warm up


@pytest.mark.usefixtures("fake_models")
def test_live_landmarks_one_new_face_per_frame_and_keeps_the_rest_for_the_next_frames(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(FakeLandmarker, "visible", 1)  # the other three are small: only the search sees them
    # Under 18% of the frame's height: followed on crops once found.
    monkeypatch.setattr(FakeFinder, "finds", [(x, y, 100.0, 100.0) for x, y in GALLERY[1:]])
    live = VisionPipeline(live=True)
    observed = _run(live, 8)
    finder: FakeFinder = live._finder  # type: ignore[assignment]
    found = [(frame, box) for frame, box in finder.crops if box in FakeFinder.finds]
    assert [frame for frame, _ in found] == [0, 1, 2]  # one a frame, none lost
    assert {box for _, box in found} == set(FakeFinder.finds)
    assert len(observed[-1].faces) == 4

    offline = VisionPipeline(live=False)
    _run(offline, 1)
    assert [frame for frame, box in offline._finder.crops if box in FakeFinder.finds] == [0, 0, 0]  # type: ignore[attr-defined]


@pytest.mark.usefixtures("fake_models")
def test_analyze_runs_the_appearance_model_every_second_frame_and_reports_every_frame() -> None:
    vision = VisionPipeline(live=False, config=VisionConfig(max_faces=1))
    cnn: FakeAppearance = vision._appearance  # type: ignore[assignment]
    assert cnn.batches == []  # analyze has no warm-up run
    observed = _run(vision, 9)
    # Frame 0 confirms the face at once (first frame of a source) and runs the CNN on it; then every second.
    assert cnn.batches == [1] * 5
    assert all(len(o.faces) == 1 and o.faces[0].emotion is not None for o in observed)
    for before, after in itertools.pairwise(observed):
        if after.index % 2 == 1:  # off its phase: the last probabilities, not a new run
            assert after.faces[0].emotion is before.faces[0].emotion


@pytest.mark.usefixtures("fake_models")
def test_analyze_with_period_one_runs_the_appearance_model_on_every_frame() -> None:
    vision = VisionPipeline(live=False, config=VisionConfig(max_faces=1, appearance_period=1))
    cnn: FakeAppearance = vision._appearance  # type: ignore[assignment]
    _run(vision, 6)
    assert cnn.batches == [1] * 6


@pytest.mark.usefixtures("fake_models")
def test_analyze_runs_the_appearance_model_at_once_on_a_face_that_jumped(monkeypatch: pytest.MonkeyPatch) -> None:
    vision = VisionPipeline(live=False, config=VisionConfig(max_faces=1))
    cnn: FakeAppearance = vision._appearance  # type: ignore[assignment]
    _run(vision, 1)  # frame 0: run
    # Frame 1 is off the face's phase, but the face moved over half its width (it keeps its id: boxes still
    # overlap): the id may have been handed to someone else, so the last probabilities are not reused.
    moved = [(GALLERY[0][0] + 80.0, GALLERY[0][1]), *GALLERY[1:]]
    monkeypatch.setattr(sys.modules[__name__], "GALLERY", moved)
    vision.observe(Frame(index=1, t_s=1 / 15, image=np.zeros((720, 1280, 3), dtype=np.uint8)))
    assert cnn.batches == [1, 1]
