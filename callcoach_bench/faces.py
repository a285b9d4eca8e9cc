"""The still faces the synthetic clips animate, all made from scikit-image's public-domain astronaut.

scikit-image ships no other real face large enough for a landmark tracker, so variety comes from the
starting expression (the portrait's own open smile, and a neutralised copy with the lips closed),
the framing (face size on a 640x360 call tile), a mirrored copy and colour/lighting shifts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from callcoach.errors import UsageError
from callcoach_bench import actions
from callcoach_bench.eyes import iris_model, without_irises
from callcoach_bench.render import EYES, BaseFace
from callcoach_bench.warp import (
    UPPER_INNER,
    FaceMesh,
    MeshWarper,
    anchor_points,
    lid_skin,
)

TILE = (640, 360)


@dataclass(frozen=True)
class Variant:
    source: str  # "neutral" or "smiling"
    #: Crop box (x, y, w, h) in the 1024x1024 upscaled portrait; resized to the tile.
    box: tuple[int, int, int, int]
    flip: bool = False
    #: Per-channel RGB gains: another skin tone and white balance.
    gains: tuple[float, float, float] = (1.0, 1.0, 1.0)


VARIANTS: dict[str, Variant] = {
    # Face about 180 px wide, centred: a typical 1:1 call tile.
    "neutral": Variant("neutral", (130, 70, 640, 360)),
    # Face about 120 px wide, off-centre: gallery view.
    "neutral_small": Variant("neutral", (0, 0, 960, 540)),
    # Face about 230 px wide: someone close to the camera.
    "neutral_close": Variant("neutral", (194, 106, 512, 288)),
    "neutral_flip": Variant("neutral", (274, 60, 720, 405), flip=True, gains=(1.0, 0.9, 0.78)),
    # The portrait as it is: a person whose resting face is an open smile.
    "smiling": Variant("smiling", (130, 70, 640, 360), gains=(0.95, 1.0, 1.05)),
}

_lock = threading.Lock()
_bases: dict[str, BaseFace] = {}
_sources: dict[str, np.ndarray] = {}


def detect_mesh(image: np.ndarray) -> FaceMesh:
    """The face mesh of a still image (MediaPipe Face Landmarker, IMAGE mode)."""
    from callcoach.vision.landmarker import Landmarker

    lm = Landmarker(max_faces=1, video=False)
    try:
        faces = lm.detect(image)
    finally:
        lm.close()
    if not faces:
        raise UsageError("the face landmarker found no face in the synthetic base image")
    h, w = image.shape[:2]
    return FaceMesh.from_landmarks(faces[0].landmarks, w, h)


def _frame_around(mesh: FaceMesh, width: int, height: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The fixed anchor points around a face and the pixel box they enclose (what a warp may move)."""
    anchors = anchor_points(mesh, width, height)
    ring = anchors[:-4]
    x0, y0 = np.floor(ring.min(axis=0)).astype(int)
    x1, y1 = np.ceil(ring.max(axis=0)).astype(int) + 1
    return anchors, (max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1)))


def make_warper(image: np.ndarray, mesh: FaceMesh) -> MeshWarper:
    h, w = image.shape[:2]
    anchors, roi = _frame_around(mesh, w, h)
    return MeshWarper(image, np.vstack([mesh.xy, anchors]), roi)


def morpher(neutral: np.ndarray, apex: np.ndarray, start: FaceMesh, end: FaceMesh) -> Callable[[float], np.ndarray]:
    """A morph from ``neutral`` (face mesh ``start``) to ``apex`` (mesh ``end``), as a function from a share
    of the way (0..1) to the frame: both photos warped onto the landmarks moved that share of the way, then
    cross-faded, the way film and face research build in-between faces. The frame around the face is the
    neutral photo's for both: only the face moves, the background stays put."""
    h, w = neutral.shape[:2]
    anchors, roi = _frame_around(start, w, h)
    a_pts, b_pts = np.vstack([start.xy, anchors]), np.vstack([end.xy, anchors])
    one, two = MeshWarper(neutral, a_pts, roi), MeshWarper(apex, b_pts, roi)

    def at(f: float) -> np.ndarray:
        if f <= 1e-3:
            return neutral
        moved = (1 - f) * a_pts + f * b_pts
        out: np.ndarray = cv2.addWeighted(one.render(moved)[0], 1 - f, two.render(moved)[0], f, 0)
        return out

    return at


def _portrait() -> np.ndarray:
    from skimage import data  # the benchmark's only use of scikit-image (a dev dependency)

    # scikit-image leaves its sample loaders unannotated: this one returns an RGB uint8 image.
    astronaut: Callable[[], np.ndarray] = data.astronaut
    # Upscaled once so the neutralising warp and the close framing work on more pixels than the
    # portrait's 90-pixel-wide face.
    return cv2.resize(astronaut(), (1024, 1024), interpolation=cv2.INTER_CUBIC)


def _neutralised(portrait: np.ndarray) -> np.ndarray:
    mesh = detect_mesh(portrait)
    warper = make_warper(portrait, mesh)
    moved = warper.controls.copy()
    moved[: len(mesh.xy)] += mesh.to_pixels(actions.neutralize(mesh))
    out = warper.render(moved)[0]
    # The squeezed teeth leave a pale seam; real closed lips meet in a soft darker line.
    seam = moved[list(UPPER_INNER)].astype(np.float32)
    x0, y0 = np.floor(seam.min(axis=0)).astype(int) - 4
    x1, y1 = np.ceil(seam.max(axis=0)).astype(int) + 5
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.polylines(mask, [np.round((seam - [x0, y0]) * 4).astype(np.int32)], False, 255, 5, cv2.LINE_AA, 2)
    alpha = cv2.GaussianBlur(mask, (5, 5), 0).astype(np.float32)[..., None] / 255.0 * 0.75
    region = out[y0:y1, x0:x1].astype(np.float32)
    out[y0:y1, x0:x1] = (region * (1 - alpha) + np.array([125, 62, 60], np.float32) * alpha).astype(np.uint8)
    return out


def _source(name: str) -> np.ndarray:
    if "smiling" not in _sources:
        _sources["smiling"] = _portrait()
    if name == "neutral" and "neutral" not in _sources:
        _sources["neutral"] = _neutralised(_sources["smiling"])
    return _sources[name]


def base_face(name: str) -> BaseFace:
    """The named still face, built (and its landmarks detected) once per process."""
    if name not in VARIANTS:
        raise UsageError(f"unknown synthetic face {name!r}; known: {', '.join(VARIANTS)}")
    with _lock:
        if name not in _bases:
            v = VARIANTS[name]
            src = _source(v.source)
            if v.flip:
                src = src[:, ::-1]
            x, y, w, h = v.box
            tile = cv2.resize(
                src[y : y + h, x : x + w], TILE, interpolation=cv2.INTER_AREA if w > TILE[0] else cv2.INTER_CUBIC
            )
            tile = np.clip(tile.astype(np.float32) * np.array(v.gains, np.float32), 0, 255).astype(np.uint8)
            tile = np.ascontiguousarray(tile)
            mesh = detect_mesh(tile)
            skins = tuple(lid_skin(tile, mesh, upper) for upper, _ in EYES)
            irises = (
                iris_model(tile, mesh, actions.LIDS["r"], actions.IRIS["r"]),
                iris_model(tile, mesh, actions.LIDS["l"], actions.IRIS["l"]),
            )
            _bases[name] = BaseFace(
                name, tile, mesh, make_warper(tile, mesh), skins, irises, without_irises(tile, mesh, irises)
            )
        return _bases[name]
