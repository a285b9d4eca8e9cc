"""MediaPipe Face Landmarker behind a small interface that returns numpy arrays.

Everything mediapipe-specific lives here so the rest of vision works on plain arrays, and so a failure
inside mediapipe is translated into ``VisionError`` at this boundary.
"""

from __future__ import annotations

import contextlib
import logging
import os
import zipfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from callcoach.core.contain import contained
from callcoach.errors import ModelError, VisionError
from callcoach.vision.models import model_path
from callcoach.vision.thirdparty import contained_caches

_log = logging.getLogger(__name__)

# Names of the 52 blendshape categories, in MediaPipe's output order (index 0 is "_neutral").
BLENDSHAPE_COUNT = 52


@dataclass(frozen=True, eq=False)
class RawFace:
    """Landmarks (478 x 3: x, y in frame-normalised units, z scaled like x), blendshapes, 4x4 pose matrix."""

    landmarks: np.ndarray
    blendshapes: dict[str, float]
    matrix: np.ndarray


_ALIGN = 64


def aligned_rgb(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` as a C-contiguous array whose data starts on a 64-byte boundary.

    LiteRT wants 64-byte aligned input; otherwise it copies the frame and logs a warning straight to the
    terminal. Frames from OpenCV already are; tiles and small crops from numpy often are not.
    """
    if rgb.flags.c_contiguous and rgb.ctypes.data % _ALIGN == 0:
        return rgb
    raw = np.empty(rgb.nbytes + _ALIGN, dtype=np.uint8)
    start = -raw.ctypes.data % _ALIGN
    out = raw[start : start + rgb.nbytes].view(rgb.dtype).reshape(rgb.shape)
    np.copyto(out, rgb)
    return out


def native_log_levels() -> contextlib.AbstractContextManager[None]:
    """Turn native logging down before MediaPipe loads; file descriptors are left alone.

    The native libraries write straight to file descriptor 2 from their own threads, at any moment. The
    ``callcoach`` command points fd 2 at a log file for the whole process (``callcoach.cli.terminal``); a
    redirect here, around single calls, swallowed our own messages written meanwhile and, racing another
    thread, could leave fd 2 on /dev/null for good.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return contextlib.nullcontext()


def _import_mediapipe() -> tuple[Any, Any, Any]:
    with native_log_levels(), contained_caches():
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as exc:  # pragma: no cover - a broken install
            raise VisionError(f"mediapipe cannot be imported ({exc}); reinstall with `pip install -e .`") from exc
    return mp, BaseOptions, vision


#: A new track in VIDEO mode with ``settle``: its first frame is shown this many more times, this far apart
#: on the landmarker's own clock (0.5 s at 30 fps; docs/detector.md, "The landmarker's first frames").
SETTLE_FRAMES = 15
SETTLE_STEP_MS = 33


class Landmarker:
    """Face Landmarker in VIDEO mode (tracks between frames) or IMAGE mode (detects on every call).

    ``settle``: start a track settled when it begins with no other face tracked (see ``detect``); for files,
    where every frame is read. A face found again after being lost pays the settling calls again."""

    def __init__(
        self, max_faces: int = 1, video: bool = True, min_confidence: float = 0.4, settle: bool = False
    ) -> None:
        self._mp, base_options, vision = _import_mediapipe()
        self._video = video
        self._settle = settle and video
        self._last_ts = -1
        self._calls = 0
        # Added to every frame's time: each settling run moves the landmarker's own clock on, never back.
        self._offset_ms = 0
        self._tracking = False
        path = model_path("face_landmarker")
        options = vision.FaceLandmarkerOptions(
            base_options=base_options(model_asset_path=str(path)),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_faces=max_faces,
            # Lower than MediaPipe's 0.5 default: call tiles are small and compressed, and a lost track costs
            # a re-detection; the cue engine gates on quality itself.
            min_face_detection_confidence=min_confidence,
            min_face_presence_confidence=min_confidence,
            min_tracking_confidence=0.4,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        try:
            with native_log_levels():
                self._task = vision.FaceLandmarker.create_from_options(options)
        except Exception as exc:
            raise ModelError(f"cannot load the face landmarker model {path}: {exc}") from exc

    def detect(self, rgb: np.ndarray, t_s: float = 0.0) -> list[RawFace]:
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=aligned_rgb(rgb))
        result = self._run(image, t_s)
        if self._settle and result.face_landmarks and not self._tracking:
            # VIDEO mode smooths its output over time, starting from the first detection: a new track's
            # first ~0.3 s drift towards the face (brow and mouth blendshapes by up to a floor), which a
            # neutral-from-the-first-frame baseline or a 200 fps micro-expression clip would read as
            # movement. Shown the same frame for SETTLE_FRAMES more steps, it starts settled.
            first = result
            for _ in range(SETTLE_FRAMES):
                self._offset_ms += SETTLE_STEP_MS
                result = self._run(image, t_s)
            if not result.face_landmarks:
                result = first  # lost while settling: the face was there, read it unsettled
        self._tracking = bool(result.face_landmarks)
        return self._faces(result)

    def _run(self, image: Any, t_s: float) -> Any:
        self._calls += 1
        try:
            if self._video:
                # VIDEO mode needs strictly increasing integer milliseconds.
                ts = max(round(t_s * 1000) + self._offset_ms, self._last_ts + 1)
                self._last_ts = ts
                return self._task.detect_for_video(image, ts)
            return self._task.detect(image)
        except Exception as exc:
            raise VisionError(f"the face landmarker failed on a frame: {exc}") from exc

    @staticmethod
    def _faces(result: Any) -> list[RawFace]:
        faces = []
        for i, marks in enumerate(result.face_landmarks):
            arr = np.array([(p.x, p.y, p.z) for p in marks], dtype=np.float32)
            shapes = {c.category_name: float(c.score) for c in result.face_blendshapes[i]}
            shapes.pop("_neutral", None)
            matrix = np.asarray(result.facial_transformation_matrixes[i], dtype=np.float32)
            faces.append(RawFace(arr, shapes, matrix))
        return faces

    def close(self) -> None:
        task, self._task = getattr(self, "_task", None), None
        if task is not None:
            with contained(_log, "closing the landmarker"), native_log_levels():
                task.close()


class FaceDetector:
    """MediaPipe's short-range face detector (the one inside the landmarker bundle), for the tiled search."""

    def __init__(self, min_confidence: float = 0.5) -> None:
        self._mp, base_options, vision = _import_mediapipe()
        self._calls = 0
        path = model_path("face_landmarker")
        try:
            with zipfile.ZipFile(path) as bundle:
                buffer = bundle.read("face_detector.tflite")
            options = vision.FaceDetectorOptions(
                base_options=base_options(model_asset_buffer=buffer),
                min_detection_confidence=min_confidence,
            )
            with native_log_levels():
                self._task = vision.FaceDetector.create_from_options(options)
        except Exception as exc:
            raise ModelError(f"cannot load the face detector inside {path}: {exc}") from exc

    def detect(self, rgb: np.ndarray) -> list[tuple[float, float, float, float, float]]:
        """Boxes in pixels of ``rgb``: (x, y, w, h, score)."""
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=aligned_rgb(rgb))
        try:
            result = self._task.detect(image)
            self._calls += 1
        except Exception as exc:
            raise VisionError(f"the face detector failed on a frame: {exc}") from exc
        out = []
        for d in result.detections:
            b = d.bounding_box
            out.append(
                (float(b.origin_x), float(b.origin_y), float(b.width), float(b.height), float(d.categories[0].score))
            )
        return out

    def close(self) -> None:
        task, self._task = getattr(self, "_task", None), None
        if task is not None:
            with contained(_log, "closing the landmarker"), native_log_levels():
                task.close()
