"""Whether a hand (or an object) hides the mouth, read from the pixels around the mouth landmarks.

MediaPipe keeps drawing a mouth under a hand: on the real crying clip its blendshapes read a smile and
its landmarks a one-sided lip pull while fingers cover the lips. The landmarks still say *where* the
mouth is, so the pixels there can be checked. A mouth's strong edges run across the face (the lip
lines, the mouth slit, the teeth row); fingers laid over it run up and down. So the region from the
nose base to the chin, a little wider than the mouth, is shrunk to 64 px, and the share of its strongest
edges that are clearly vertical is measured: above ``VERTICAL_SHARE`` the mouth is taken as hidden.

Measured (docs/detector.md, Occlusion): fingers over the mouth on WolfgangLanger_Pexels.mp4 0.45-0.63;
a visible mouth at rest, talking, smiling or crying 0.06-0.24, a broad laugh with teeth up to 0.40.
A hand laid flat across the mouth (fingers horizontal) is *not* detected by this measure.
About 0.1 ms per face.
"""

from __future__ import annotations

import cv2
import numpy as np

# MediaPipe Face Mesh indices: mouth corners, nose base, chin, outer eye corners.
_CORNER_R, _CORNER_L, _NOSE_BASE, _CHIN = 61, 291, 2, 152
_EYE_R, _EYE_L = 33, 263
VERTICAL_SHARE = 0.42
_SIDE = 64


def vertical_edge_share(rgb: np.ndarray, points: np.ndarray) -> float | None:
    """Share of the strongest edges around the mouth that are near vertical; None if the region is off-frame."""
    iod = float(np.linalg.norm(points[_EYE_R, :2] - points[_EYE_L, :2]))
    x0 = int(points[_CORNER_R, 0] - 0.25 * iod)
    x1 = int(points[_CORNER_L, 0] + 0.25 * iod)
    y0, y1 = int(points[_NOSE_BASE, 1]), int(points[_CHIN, 1])
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    scale = _SIDE / max(grey.shape)
    roi = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA).astype(np.float32)
    gx = cv2.Sobel(roi, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(roi, cv2.CV_32F, 0, 1)
    mag = np.hypot(gx, gy)
    strong = mag > np.percentile(mag, 80)
    if not strong.any():
        return None
    return float((np.abs(gx[strong]) > 2.0 * np.abs(gy[strong])).mean())


def hidden_regions(rgb: np.ndarray, points: np.ndarray) -> frozenset[str]:
    """The face regions judged hidden: {"mouth"} or nothing (eyes are not checked yet)."""
    share = vertical_edge_share(rgb, points)
    return frozenset({"mouth"}) if share is not None and share > VERTICAL_SHARE else frozenset()
