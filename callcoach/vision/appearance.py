"""Appearance evidence: the 7-class FER2013 CNN (converted to ONNX) on a landmark-aligned face crop.

The geometry says *what moved*; this model says what the whole face *looks like*. The cue engine uses it
only as supporting evidence (confidence, and fear versus surprise), never as a cue on its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from callcoach.errors import ModelError, VisionError
from callcoach.privacy.switches import quiet_onnxruntime
from callcoach.vision.models import model_path
from callcoach.vision.thirdparty import contained_caches
from callcoach.vision.types import APPEARANCE_CLASSES

CROP = 64
# FER2013 faces are loose crops: the face box from brow to chin fills about 80% of the 48x48 image.
_CROP_SCALE = 1.25


def aligned_crop_matrix(landmarks_px: np.ndarray) -> np.ndarray:
    """2x3 affine that maps the frame to a 64x64 crop with the eyes level and the face centred."""
    eye_r = landmarks_px[[33, 133], :2].mean(axis=0)
    eye_l = landmarks_px[[263, 362], :2].mean(axis=0)
    angle = math.atan2(float(eye_l[1] - eye_r[1]), float(eye_l[0] - eye_r[0]))
    lo = landmarks_px[:, :2].min(axis=0)
    hi = landmarks_px[:, :2].max(axis=0)
    centre = (lo + hi) / 2
    size = float(max(hi - lo)) * _CROP_SCALE or 1.0
    scale = CROP / size
    cos, sin = math.cos(-angle) * scale, math.sin(-angle) * scale
    # Rotate about the face centre, scale to the crop, then move the centre to the crop's middle.
    return np.array(
        [
            [cos, -sin, CROP / 2 - cos * centre[0] + sin * centre[1]],
            [sin, cos, CROP / 2 - sin * centre[0] - cos * centre[1]],
        ],
        dtype=np.float32,
    )


class AppearanceModel:
    """ONNX Runtime session for the emotion CNN; one thread, since the landmarker owns the other core."""

    def __init__(self, threads: int = 1) -> None:
        path = model_path("emotion")
        try:
            with contained_caches():
                import onnxruntime as ort
            quiet_onnxruntime(ort)  # before the first session

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            self._session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"cannot load the appearance model {path}: {exc}") from exc
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name

    def crops(self, rgb: np.ndarray, faces_px: list[np.ndarray]) -> np.ndarray:
        """N x 1 x 64 x 64 raw grey crops (0..255 floats), one per face."""
        import cv2

        out = np.empty((len(faces_px), 1, CROP, CROP), dtype=np.float32)
        for i, marks in enumerate(faces_px):
            m = aligned_crop_matrix(marks)
            crop = cv2.warpAffine(rgb, m, (CROP, CROP), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            out[i, 0] = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        return out

    def predict(self, rgb: np.ndarray, faces_px: list[np.ndarray]) -> list[dict[str, float]]:
        if not faces_px:
            return []
        batch = self.crops(rgb, faces_px)
        try:
            probs = self._session.run([self._output], {self._input: batch})[0]
        except Exception as exc:
            raise VisionError(f"the appearance model failed: {exc}") from exc
        return [dict(zip(APPEARANCE_CLASSES, map(float, row), strict=True)) for row in probs]


Probabilities = dict[str, float]


class StaggeredAppearance:
    """Live: the CNN on each confirmed face every ``period`` frames, its last probabilities reused between.

    On a four-face gallery the CNN is 2.5-3 ms a frame; every second frame halves that. The cue engine
    reads these probabilities only as supporting evidence at an event's apex and as a slow running mean,
    where a value one frame (67 ms at 15 fps) old changes nothing. Faces are phased by id, so each frame
    refreshes about ``1/period`` of them; a face without probabilities yet is run at once. Faces with no id
    (not confirmed, so never reported) are skipped.
    """

    def __init__(self, predict: Callable[[np.ndarray, list[np.ndarray]], list[Probabilities]]) -> None:
        self._predict = predict
        #: Per face id: its last probabilities, and where its landmarks were centred and how wide they spread.
        self._last: dict[int, tuple[Probabilities, np.ndarray, float]] = {}
        self._frame = 0

    def _moved(self, face_id: int, face_px: np.ndarray) -> bool:
        """A face far from where its id's probabilities were taken: the tracker may have handed the id on
        (re-identification at about the same place), so those probabilities may be another person's."""
        _, centre, size = self._last[face_id]
        return bool(np.linalg.norm(face_px[:, :2].mean(axis=0) - centre) > 0.5 * size)

    def predict(self, rgb: np.ndarray, faces_px: list[np.ndarray], ids: list[int | None],
                period: int = 1) -> list[Probabilities | None]:
        frame, self._frame = self._frame, self._frame + 1
        due = [i for i, face_id in enumerate(ids)
               if face_id is not None and (face_id not in self._last or (frame + face_id) % period == 0
                                           or self._moved(face_id, faces_px[i]))]
        fresh = dict(zip(due, self._predict(rgb, [faces_px[i] for i in due]), strict=True)) if due else {}
        out: list[Probabilities | None] = []
        last: dict[int, tuple[Probabilities, np.ndarray, float]] = {}
        for i, face_id in enumerate(ids):
            if face_id is None:
                out.append(None)
                continue
            probs = fresh[i] if i in fresh else self._last[face_id][0]
            out.append(probs)
            pts = faces_px[i][:, :2]
            # Keep where the probabilities were taken, not where the face is now: a slow drift still counts.
            if i in fresh or face_id not in self._last:
                last[face_id] = (probs, pts.mean(axis=0), float(np.ptp(pts[:, 0])) or 1.0)
            else:
                last[face_id] = (probs, self._last[face_id][1], self._last[face_id][2])
        # Only faces in this frame are kept: one that comes back after a gap gets fresh probabilities.
        self._last = last
        return out
