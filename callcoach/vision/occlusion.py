"""Whether a hand or an object hides the mouth or the eyes, read from the pixels around their landmarks.

MediaPipe keeps drawing a mouth and eyes under a hand or dark glasses: on the real crying clip its
blendshapes read a smile and its landmarks a one-sided lip pull while fingers cover the lips. The
landmarks still say *where* each region is, so the pixels there can be checked.

Mouth (the region from the nose base to the chin, a little wider than the mouth, shrunk to 64 px):
- fingers laid over it: a mouth's strong edges run across the face (the lip lines, the mouth slit, the
  teeth row), fingers up and down; above ``VERTICAL_SHARE`` of the strongest edges near vertical, hidden;
- a flat cover (a palm, a hand laid across, a mask): no dark detail left where the lips and the mouth slit
  should be, and little texture: the region's 5th percentile within ``FLAT_DETAIL`` of its median and its
  spread under ``FLAT_SPREAD`` of its mean;
- a hand laid across the lips (colour frames of a followed face only): in ordinary light lips are darker and
  redder than the cheeks, a hand is skin. The pixels inside the lips' outline (MediaPipe still draws it under
  the hand) must be both as light as the cheeks (median grey level above ``LIP_LEVEL`` of the cheeks' level)
  and no redder (red-to-green ratio less than ``LIP_REDNESS`` above the cheeks'): light alone (lips lit from
  above) makes lips as light as the cheeks but not skin-coloured. And they must have *changed* that way from
  this face's own lips (``LipMemory``: lighter by ``LIP_RISE``, less red by ``LIP_PALER``), because lips are
  not darker and redder than the cheeks on every face (darker skin, pale lipstick): a face whose lips always
  read like its skin is never hidden by this test. Not on grey frames (no colour to read), in dim light
  (cheeks under ``_DIM`` grey levels: one level is then several hundredths of the threshold), nor while the
  eyes are hidden (a hand over them often rests on the cheeks too).

Each eye (the box around the eye outline, half an eye width either side, shrunk to 32 px):
- a hand or a flat object: the same "no dark detail" test (lashes, the lid line and the iris are always
  darker than the lids, open or closed);
- dark glasses: the brightest tenth of the box under ``DARK_LENS`` of the cheek below it.
One eye or both covered gives "eyes": the engine's eye and brow measures average both sides, so one hidden
eye spoils them.

Measured (docs/detector.md, Occlusion, ``python -m callcoach_bench.realclips``): fingers over the mouth on
WolfgangLanger_Pexels.mp4 read 0.45-0.63 vertical share, a visible mouth 0.06-0.24 (a laugh with teeth up to
0.40). A real hand laid flat across the mouth keeps finger edges and shading, so neither of those two tests
sees it; the lips' test does. Its figures (the two thresholds were set on the one real example here) are in
docs/detector.md, "Hidden mouth and eyes, on real clips".
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import cv2
import numpy as np

# MediaPipe Face Mesh indices: mouth corners, nose base, chin, outer eye corners, cheeks under the eyes.
_CORNER_R, _CORNER_L, _NOSE_BASE, _CHIN = 61, 291, 2, 152
_EYE_R, _EYE_L = 33, 263
_EYE_OUTLINES = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466),
)
_CHEEKS = (205, 425)
_LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
_LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
_LIPS_OUTER_IDX, _LIPS_INNER_IDX = np.array(_LIPS_OUTER), np.array(_LIPS_INNER)
_CHANNEL_MEAN = np.full((1, 3), 1 / 3)
VERTICAL_SHARE = 0.42
FLAT_DETAIL = 0.12
FLAT_SPREAD = 0.06
EYE_FLAT_DETAIL = 0.2
EYE_FLAT_SPREAD = 0.09
DARK_LENS = 0.55
LIP_LEVEL = -0.06
LIP_REDNESS = 0.04
LIP_RISE = 0.06
LIP_PALER = 0.03
_DIM = 50.0
# Frames of a face's own seen lips kept (10 s at 25 fps), and how many before its lips can be called hidden.
_MEMORY, _MEMORY_READY = 250, 25
_GREY_CHROMA = 3.0
_SIDE = 64
_EYE_SIDE = 32


def _grey(rgb: np.ndarray, x0: float, y0: float, x1: float, y1: float, side: int) -> np.ndarray | None:
    """The box in grey, shrunk so its longer side is ``side`` px; None when it is off-frame or tiny."""
    h, w = rgb.shape[:2]
    a, b = max(0, int(x0)), max(0, int(y0))
    c, d = min(w, int(x1)), min(h, int(y1))
    if c - a < 8 or d - b < 6:
        return None
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[b:d, a:c]), cv2.COLOR_RGB2GRAY)
    scale = min(1.0, side / max(grey.shape))
    return cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA).astype(np.float32)


def _ranks(values: np.ndarray, shares: tuple[float, ...]) -> list[float]:
    """Order statistics at ``shares`` (0..1) without interpolation: np.percentile costs ~30x more here."""
    flat = values.ravel()
    ks = [min(flat.size - 1, int(q * (flat.size - 1) + 0.5)) for q in shares]
    part = np.partition(flat, ks)
    return [float(part[k]) for k in ks]


def _flat(roi: np.ndarray, detail: float, spread: float) -> bool:
    """Little texture and no dark detail (5th percentile close to the median): a cover, not a face part."""
    mean, std = cv2.meanStdDev(roi)
    if float(std[0, 0]) >= spread * max(float(mean[0, 0]), 1.0):
        return False  # most frames: a face part has far more texture than this
    p5, p50 = _ranks(roi, (0.05, 0.5))
    return (p50 - p5) < detail * max(p50, 1.0)


def _mouth_roi(rgb: np.ndarray, points: np.ndarray) -> np.ndarray | None:
    iod = float(np.linalg.norm(points[_EYE_R, :2] - points[_EYE_L, :2]))
    x0 = points[_CORNER_R, 0] - 0.25 * iod
    x1 = points[_CORNER_L, 0] + 0.25 * iod
    return _grey(rgb, x0, points[_NOSE_BASE, 1], x1, points[_CHIN, 1], _SIDE)


def vertical_edge_share(rgb: np.ndarray, points: np.ndarray, roi: np.ndarray | None = None) -> float | None:
    """Share of the strongest edges around the mouth that are near vertical; None if the region is off-frame."""
    roi = _mouth_roi(rgb, points) if roi is None else roi
    if roi is None:
        return None
    gx = cv2.Sobel(roi, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(roi, cv2.CV_32F, 0, 1)
    mag = np.hypot(gx, gy)
    strong = mag > _ranks(mag, (0.8,))[0]
    if not strong.any():
        return None
    return float((np.abs(gx[strong]) > 2.0 * np.abs(gy[strong])).mean())


class Light(NamedTuple):
    """The light on this face, read on two small cheek patches."""

    level: float  # median grey level of both patches
    redness: float  # red over green of both patches' pixels


def lips_against_skin(rgb: np.ndarray, points: np.ndarray, light: Light | None) -> tuple[float, float] | None:
    """The lips' median grey level and their red-to-green ratio, each minus the cheeks' (level as a share of
    theirs: -0.2 is 20% darker); None on grey or dim frames, or when the lips are off-frame or too small."""
    if light is None or light.level < _DIM:
        return None
    outer = points[_LIPS_OUTER_IDX, :2]
    (x0, y0), (x1, y1) = outer.min(axis=0), outer.max(axis=0)
    h, w = rgb.shape[:2]
    a, b, c, d = max(0, int(x0)), max(0, int(y0)), min(w, int(x1) + 2), min(h, int(y1) + 2)
    if c - a < 8 or d - b < 4:
        return None
    box = np.ascontiguousarray(rgb[b:d, a:c])
    mask = np.zeros(box.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.rint(outer - (a, b)).astype(np.int32)], 1)
    # Inside the mouth (teeth, the dark gap) says nothing about a cover: only the lips themselves count.
    cv2.fillPoly(mask, [np.rint(points[_LIPS_INNER_IDX, :2] - (a, b)).astype(np.int32)], 0)
    if cv2.countNonZero(mask) < 12:
        return None
    red, green, blue, _ = cv2.mean(box, mask)
    if abs(red - blue) < _GREY_CHROMA:
        return None  # a grey frame (R = G = B): no colour, and pale lips in grey can match the cheeks
    grey = cv2.transform(box, _CHANNEL_MEAN)  # the cheeks' measure: the plain mean of R, G and B
    level = _ranks(grey[mask > 0], (0.5,))[0] / light.level - 1.0
    return level, red / max(green, 1.0) - light.redness


class LipMemory:
    """One face's own lips against its cheeks: its last ``_MEMORY`` frames with the lips read and not covered
    (10 s at 25 fps; longer at a lower rate, or when the lips often go unread)."""

    def __init__(self) -> None:
        self._seen: deque[tuple[float, float]] = deque(maxlen=_MEMORY)

    def reference(self) -> tuple[float, float] | None:
        """The median (level, redness) of this face's seen lips; None until enough frames were seen."""
        if len(self._seen) < _MEMORY_READY:
            return None
        level, redness = np.median(np.array(self._seen), axis=0)
        return float(level), float(redness)

    def add(self, lips: tuple[float, float]) -> None:
        self._seen.append(lips)


def _lips_covered(lips: tuple[float, float], memory: LipMemory | None) -> bool:
    own = None if memory is None else memory.reference()
    if own is None:
        return False  # a photo, or a face just found: its own lips are not known yet
    like_skin = lips[0] > LIP_LEVEL and lips[1] < LIP_REDNESS
    return like_skin and lips[0] - own[0] > LIP_RISE and own[1] - lips[1] > LIP_PALER


def mouth_hidden(
    rgb: np.ndarray, points: np.ndarray, light: Light | None = None, memory: LipMemory | None = None
) -> bool:
    """Whether a hand or an object covers the mouth. Without ``light`` (the cheeks) and ``memory`` (this face's
    own lips, updated here from frames with the mouth seen) only the fingers and flat-cover tests run."""
    roi = _mouth_roi(rgb, points)
    if roi is None:
        return False
    if _flat(roi, FLAT_DETAIL, FLAT_SPREAD):
        return True
    share = vertical_edge_share(rgb, points, roi)
    if share is not None and share > VERTICAL_SHARE:
        return True
    lips = lips_against_skin(rgb, points, light)
    if lips is None:
        return False
    if _lips_covered(lips, memory):
        return True
    if memory is not None:
        memory.add(lips)
    return False


def cheek_light(rgb: np.ndarray, points: np.ndarray) -> Light | None:
    """The light on this face from a small patch on each cheek; None when both are off-frame."""
    iod = float(np.linalg.norm(points[_EYE_R, :2] - points[_EYE_L, :2]))
    radius = max(1, int(0.06 * iod))
    h, w = rgb.shape[:2]
    patches = []
    for i in _CHEEKS:
        x, y = int(points[i, 0]), int(points[i, 1])
        patch = rgb[max(0, y - radius) : min(h, y + radius + 1), max(0, x - radius) : min(w, x + radius + 1)]
        if patch.size:
            patches.append(patch.reshape(-1, 3))
    if not patches:
        return None
    both = np.concatenate(patches)
    redness = float(both[:, 0].sum()) / max(float(both[:, 1].sum()), 1.0)
    return Light(float(np.median(both.mean(axis=1))), redness)


def eye_hidden(rgb: np.ndarray, points: np.ndarray, side: int, cheek: float | None) -> bool:
    """Whether eye ``side`` (0: the person's right, 1: left) is covered by a hand, an object or dark glasses."""
    outline = points[list(_EYE_OUTLINES[side]), :2]
    (x0, y0), (x1, y1) = outline.min(axis=0), outline.max(axis=0)
    width = float(x1 - x0)
    cy = float(y0 + y1) / 2
    roi = _grey(rgb, x0 - 0.5 * width, cy - 0.4 * width, x1 + 0.5 * width, cy + 0.4 * width, _EYE_SIDE)
    if roi is None:
        return False
    if _flat(roi, EYE_FLAT_DETAIL, EYE_FLAT_SPREAD):
        return True
    return cheek is not None and cheek > 20.0 and _ranks(roi, (0.9,))[0] < DARK_LENS * cheek


def hidden_regions(rgb: np.ndarray, points: np.ndarray, memory: LipMemory | None = None) -> frozenset[str]:
    """The face regions judged hidden: a subset of {"mouth", "eyes"} ("eyes": one eye or both). ``memory``:
    this face's own lips (one per followed face); without it a hand laid across the lips is not looked for."""
    regions = set()
    light = cheek_light(rgb, points)
    cheek = None if light is None else light.level
    if eye_hidden(rgb, points, 0, cheek) or eye_hidden(rgb, points, 1, cheek):
        regions.add("eyes")
        light = None  # a hand over the eyes often covers the cheeks too: no skin to hold the lips against
    if mouth_hidden(rgb, points, light, memory):
        regions.add("mouth")
    return frozenset(regions)
