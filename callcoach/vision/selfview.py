"""Recognising the user's own self-view tile on the screen by matching it against their webcam.

With ``--vcam`` callcoach reads the user's webcam, and the call app's self-view tile shows that very
picture: scaled, often mirrored, a fraction of a second late. So no face-identity model is needed to tell
the self-view apart: a small appearance signature of the face *with its surroundings* (hair, clothes, the
room behind, the light) is compared with the signatures of the faces found on the screen. Bare faces are
not enough: two different people's faces, cut tight and blurred, correlate highly; their surroundings
do not.

- ``face_signature``: a square window of ``CONTEXT`` times the face's size around the face, 24x24 colour,
  slightly blurred, zero-mean and unit-norm (so brightness and contrast changes from the call's video
  encoding do not count); the parts outside the picture are left out (NaN). Under 1 ms on a 720p webcam
  frame, twice a second on the self-coach's thread.
- ``similarity``: the normalised correlation, the better of straight and mirrored left-right.
- ``SelfViewReference``: the user's last few signatures, fed from the self-coach's thread
  (``SelfCoach(on_face=reference.update)``), read by ``--auto``'s scan on the capture thread.
- ``pick_self_view`` / ``match_self_view``: which screen face, if any, is the user's. A screen face is tried
  at 27 sizes and offsets around its box (the screen's detector box and the webcam's landmark box never
  frame a face alike): about 11 ms a face against five signatures, only while ``--auto`` scans.

Measured (tests/test_selfview.py: a 1280x720 gallery of real photos; the webcam picture at another scale,
10% brighter, with noise; the tile straight or mirrored):

| webcam | its own tile | highest other face |
|---|---|---|
| the astronaut, head and shoulders (the user in the tests) | 0.993-0.999 | 0.52 |
| a portrait photo (single_face.jpg) | 0.978 | 0.60 |
| a talker on video, the tile 0.3 s behind the webcam | 0.957 | 0.73 |
| four studio photos, face 58% of the picture's width | 0.904-0.995 | 0.86 |

The 0.86 is two different people in one studio: the same backdrop, light and framing. Hence ``MATCH_MIN``
0.9, under the moving talker's 0.957 and over every other face, and ``MARGIN`` 0.05: a studio-like pair
(0.904 against 0.86) is left undecided, and ``--auto`` falls back on size and place. 16x16 signatures gave
the same gaps one notch higher (the talker 0.973, a stranger up to 0.878, too near 0.9); 24x24 keeps the
closest stranger further under the threshold, and a wrong match (locking onto the user) is the worse
mistake. A window of 2.5 face sizes lies mostly outside a close-up webcam picture.

No picture is kept: a signature is 1728 numbers of a 24x24 thumbnail, held in memory for a few seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from callcoach.vision.types import FrameObservation

_log = logging.getLogger(__name__)
Box = tuple[float, float, float, float]
FaceHook = Callable[[np.ndarray, Box], None]

#: The signature's window, in face-box sizes: 2x takes in the hair, the collar and some of the room.
CONTEXT = 2.0
SIZE = 24
#: See the table above: the user's own tile scored 0.957 or more, every other face 0.86 or less.
MATCH_MIN = 0.9
#: The match must also beat every other face by this much: in doubt, leave the size-and-place choice alone.
MARGIN = 0.05
#: One signature every half second, the last five: a couple of seconds of the user's face, so a tile that
#: lags the webcam by a fraction of a second still meets a signature of the same moment.
EVERY_S = 0.5
KEEP = 5
READY_AFTER = 2
#: Cells both signatures must have (inside both pictures) for a comparison to count.
MIN_OVERLAP = 0.5
SCALES = (0.9, 1.0, 1.1)
SHIFTS = (-0.06, 0.0, 0.06)


def _sample(rgb: np.ndarray, cx: float, cy: float, side: float) -> np.ndarray:
    """The square window of ``side`` pixels centred on (cx, cy) as SIZE x SIZE x 3 float32, blurred; cells whose
    centre lies outside the image are NaN (left out of the correlation: a face near the webcam's edge has
    nothing there, while its tile on the screen has the app's background or a neighbour)."""
    import cv2

    height, width = rgb.shape[:2]
    side = max(2.0, side)
    x0, y0 = round(cx - side / 2), round(cy - side / 2)
    x1, y1 = x0 + round(side), y0 + round(side)
    crop = rgb[max(0, y0) : min(height, y1), max(0, x0) : min(width, x1)]
    if crop.size == 0:
        return np.full((SIZE, SIZE, 3), np.nan, np.float32)
    pads = (max(0, -y0), max(0, y1 - height), max(0, -x0), max(0, x1 - width))
    if any(pads):
        crop = cv2.copyMakeBorder(np.ascontiguousarray(crop), *pads, cv2.BORDER_REPLICATE)
    small: np.ndarray = cv2.resize(crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)
    # A little blur: the webcam and the tile never line up to the pixel (box jitter, the call's scaling).
    small = cv2.GaussianBlur(small, (3, 3), 0.8)
    centres = (np.arange(SIZE) + 0.5) * ((x1 - x0) / SIZE)
    xs, ys = x0 + centres, y0 + centres
    outside = ((ys < 0) | (ys >= height))[:, None] | ((xs < 0) | (xs >= width))[None, :]
    small[outside] = np.nan
    return small


def _normalise(small: np.ndarray) -> np.ndarray:
    valid = np.isfinite(small)
    if valid.any():
        small = small - small[valid].mean()
        norm = float(np.linalg.norm(small[valid]))
        if norm > 1e-6:
            small = small / norm
    return small


def _side(box: Box) -> float:
    # The geometric mean of width and height: the pipeline's landmark box (taller than wide) and the
    # screen search's square detector box then give windows of nearly one size (measured: 4% apart on the
    # astronaut, against 14% with the longer side).
    return CONTEXT * float(np.sqrt(max(box[2], 1.0) * max(box[3], 1.0)))


def face_signature(rgb: np.ndarray, box: Box) -> np.ndarray:
    """A SIZE x SIZE x 3 float32 signature of the face in pixel box ``box`` (x, y, w, h) and its surroundings:
    zero-mean and unit-norm over the cells inside the image, NaN in the others."""
    return _normalise(_sample(rgb, box[0] + box[2] / 2, box[1] + box[3] / 2, _side(box)))


def _variants(rgb: np.ndarray, box: Box) -> list[np.ndarray]:
    """Signatures of a screen face at a few sizes and offsets around its box: the screen's detector box and
    the webcam's landmark box never frame a face quite alike."""
    cx, cy, side = box[0] + box[2] / 2, box[1] + box[3] / 2, _side(box)
    return [
        _normalise(_sample(rgb, cx + dx * side, cy + dy * side, side * k))
        for k in SCALES
        for dx in SHIFTS
        for dy in SHIFTS
    ]


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    valid = np.isfinite(a) & np.isfinite(b)
    if valid.sum() < MIN_OVERLAP * a.size:
        return 0.0
    x, y = a[valid], b[valid]
    x, y = x - x.mean(), y - y.mean()
    d = float(np.sqrt(np.dot(x, x) * np.dot(y, y)))
    return float(np.dot(x, y)) / d if d > 1e-9 else 0.0


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised correlation of two signatures (over the cells both have), the better of ``b`` straight
    and ``b`` mirrored left-right (call apps mirror the self-view)."""
    return max(_corr(a, b), _corr(a, b[:, ::-1]))


def _best(refs: list[np.ndarray], sigs: list[np.ndarray]) -> tuple[float, bool]:
    """The best correlation of any reference with any screen variant, and whether it was the mirrored one."""
    best, mirrored = 0.0, False
    for r in refs:
        for sig in sigs:
            straight, flipped = _corr(r, sig), _corr(r, sig[:, ::-1])
            if max(straight, flipped) > best:
                best, mirrored = max(straight, flipped), flipped > straight
    return best, mirrored


class SelfViewReference:
    """The user's recent face signatures, from their webcam; thread-safe."""

    def __init__(
        self,
        every_s: float = EVERY_S,
        keep: int = KEEP,
        ready_after: int = READY_AFTER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every_s = every_s
        self.ready_after = ready_after
        self._clock = clock
        self._sigs: deque[np.ndarray] = deque(maxlen=keep)
        #: The last face box (normalised) and the webcam picture's size: where the face sits in the picture.
        self.framing: tuple[Box, int, int] | None = None
        self._last = -1e9
        self._lock = threading.Lock()
        #: Signatures taken so far (not only the ones kept).
        self.updates = 0

    def update(self, rgb: np.ndarray, box_norm: Box) -> None:
        """A webcam frame and the user's face in it (normalised 0..1, as ``FaceObservation.bbox``)."""
        now = self._clock()
        if now - self._last < self.every_s:
            return
        height, width = rgb.shape[:2]
        box = (box_norm[0] * width, box_norm[1] * height, box_norm[2] * width, box_norm[3] * height)
        if box[2] < 4 or box[3] < 4:
            return
        sig = face_signature(rgb, box)
        with self._lock:
            self._last = now
            self._sigs.append(sig)
            self.framing = (box_norm, width, height)
            self.updates += 1

    def signatures(self) -> list[np.ndarray]:
        with self._lock:
            return list(self._sigs)

    @property
    def ready(self) -> bool:
        with self._lock:
            return len(self._sigs) >= self.ready_after


def _matches(
    candidates: Sequence[Box], screen_rgb: np.ndarray, reference: SelfViewReference
) -> list[tuple[float, bool]]:
    refs = reference.signatures()
    return [_best(refs, _variants(screen_rgb, box)) if refs else (0.0, False) for box in candidates]


def scores(candidates: Sequence[Box], screen_rgb: np.ndarray, reference: SelfViewReference) -> list[float]:
    """Each screen face's best similarity to any of the user's signatures (0 without any)."""
    return [score for score, _ in _matches(candidates, screen_rgb, reference)]


def match_self_view(
    candidates: Sequence[Box], screen_rgb: np.ndarray, reference: SelfViewReference
) -> tuple[int, bool] | None:
    """(index, mirrored) of the candidate (pixel boxes on ``screen_rgb``) that shows the user's webcam: its
    similarity at least ``MATCH_MIN`` and ``MARGIN`` above every other face's; else None."""
    if not candidates:
        return None
    found = _matches(candidates, screen_rgb, reference)
    best = max(range(len(found)), key=lambda i: found[i][0])
    runner_up = max((s for i, (s, _) in enumerate(found) if i != best), default=0.0)
    if found[best][0] >= MATCH_MIN and found[best][0] - runner_up >= MARGIN:
        return best, found[best][1]
    return None


def pick_self_view(candidates: Sequence[Box], screen_rgb: np.ndarray, reference: SelfViewReference) -> int | None:
    """The index of the candidate that shows the user's webcam, or None (see ``match_self_view``)."""
    match = match_self_view(candidates, screen_rgb, reference)
    return None if match is None else match[0]


def self_view_area(face: Box, reference: SelfViewReference, mirrored: bool) -> Box:
    """Where the whole webcam picture lies on the screen, given the user's face found there (pixels).

    Everything in it is the user's own camera: the user, someone beside them, or a detector's false find on
    a shirt or a poster (the big self-view tile of a speaker view gives several). The picture's scale comes
    from the face sizes, with 5% to spare on each side for the difference between the screen's detector box
    and the webcam's landmark box."""
    if reference.framing is None:
        return face
    (bx, by, bw, bh), width, height = reference.framing
    k = float(np.sqrt(face[2] * face[3] / max(1e-9, bw * width * bh * height)))
    pw, ph = width * k, height * k
    fx = (1.0 - (bx + bw / 2) if mirrored else bx + bw / 2) * pw
    left = face[0] + face[2] / 2 - fx
    top = face[1] + face[3] / 2 - (by + bh / 2) * ph
    return (left - 0.05 * pw, top - 0.05 * ph, 1.1 * pw, 1.1 * ph)


def user_face(obs: FrameObservation, tracked: int | None) -> FrameObservation:
    """The user's face only: the tracked one while it is in view, else the largest."""
    if not obs.faces:
        return obs
    face = next((f for f in obs.faces if f.face_id == tracked), None)
    if face is None:
        face = max(obs.faces, key=lambda f: f.bbox[2] * f.bbox[3])
    return obs if len(obs.faces) == 1 else replace(obs, faces=(face,))


class FaceTap:
    """Hands the webcam picture and the user's face box to ``on_face`` at most once every ``every_s`` of
    frame time, on the self-coach's thread. A failing hook is counted, never raised: the signature is a
    helper for ``--auto`` and must not end self-coaching."""

    def __init__(self, on_face: FaceHook | None, every_s: float = EVERY_S) -> None:
        self.on_face = on_face
        self.every_s = every_s
        self.calls = 0
        self.errors = 0
        self._due = -1e9

    def __call__(self, t: float, image: np.ndarray, obs: FrameObservation) -> None:
        if self.on_face is None or not obs.faces or t < self._due:
            return
        self._due = t + self.every_s
        self.calls += 1
        try:
            self.on_face(image, obs.faces[0].bbox)
        except Exception:  # noqa: BLE001 - a failing hook is counted, never allowed to stop the analysis thread
            _log.debug("the self-view face hook failed", exc_info=True)
            self.errors += 1


__all__ = [
    "CONTEXT",
    "MARGIN",
    "MATCH_MIN",
    "FaceHook",
    "FaceTap",
    "SelfViewReference",
    "face_signature",
    "match_self_view",
    "pick_self_view",
    "scores",
    "self_view_area",
    "similarity",
    "user_face",
]
