"""The landmarker's settling of a new track (callcoach/vision/landmarker.py), on a scripted task: its clock
only moves on, and a face lost while settling is still read."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from callcoach.vision import landmarker as lm
from callcoach.vision.landmarker import SETTLE_FRAMES, Landmarker


def _result(face: bool) -> Any:
    point = SimpleNamespace(x=0.5, y=0.5, z=0.0)
    shape = SimpleNamespace(category_name="jawOpen", score=0.1)
    if not face:
        return SimpleNamespace(face_landmarks=[], face_blendshapes=[], facial_transformation_matrixes=[])
    return SimpleNamespace(
        face_landmarks=[[point] * 478], face_blendshapes=[[shape]], facial_transformation_matrixes=[np.eye(4)]
    )


class _Task:
    """Finds a face on the calls listed in ``faces`` (by call number), and records each timestamp."""

    def __init__(self, faces: set[int]) -> None:
        self.faces: set[int] = faces
        self.stamps: list[int] = []

    def detect_for_video(self, image: Any, ts: int) -> Any:
        self.stamps.append(ts)
        return _result(len(self.stamps) - 1 in self.faces)


def _landmarker(task: _Task, settle: bool = True) -> Landmarker:
    marker = Landmarker.__new__(Landmarker)
    marker._mp = SimpleNamespace(Image=lambda **_: None, ImageFormat=SimpleNamespace(SRGB=1))
    marker._task = task
    marker._video, marker._settle, marker._last_ts, marker._calls = True, settle, -1, 0
    marker._offset_ms, marker._tracking = 0, False
    return marker


def test_a_new_track_is_settled_on_its_first_frame_and_the_clock_only_moves_on(monkeypatch: Any) -> None:
    monkeypatch.setattr(lm, "aligned_rgb", lambda rgb: rgb)
    frame = np.zeros((4, 4, 3), np.uint8)
    task = _Task(faces=set(range(100)))
    marker = _landmarker(task)
    for i in range(3):
        assert len(marker.detect(frame, i / 30)) == 1
    assert len(task.stamps) == 1 + SETTLE_FRAMES + 2  # settled once, on the track's first frame
    assert all(b > a for a, b in zip(task.stamps, task.stamps[1:], strict=False))
    # Unsettled, every frame is one call at its own time.
    plain = _Task(faces=set(range(100)))
    unsettled = _landmarker(plain, settle=False)
    for i in range(3):
        unsettled.detect(frame, i / 30)
    assert plain.stamps == [0, 33, 67]


def test_a_face_lost_while_settling_is_still_read(monkeypatch: Any) -> None:
    monkeypatch.setattr(lm, "aligned_rgb", lambda rgb: rgb)
    task = _Task(faces={0})  # found on the first call only
    marker = _landmarker(task)
    assert len(marker.detect(np.zeros((4, 4, 3), np.uint8), 0.0)) == 1
