"""Expression measures from the 478 Face Landmarker points, normalised by face size.

MediaPipe's ``cheekSquint``, ``noseSneer``, ``eyeWide`` and ``cheekPuff`` blendshapes stay near zero on
many real faces, so eye crinkle, nose wrinkle and eye widening are read from the landmarks instead.
Every measure is taken on pose-free points (``pose.canonical_points``) in units of the inter-ocular
distance, so it changes with the expression rather than with distance to the camera or head turns.
The y axis points up: a larger value means higher on the face.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class _Eye(NamedTuple):
    outer: int
    inner: int
    upper: tuple[int, int, int]
    lower: tuple[int, int, int]


# Landmark indices of the MediaPipe face mesh. "r" is the person's right (the image's left).
EYE_R = _Eye(outer=33, inner=133, upper=(159, 158, 160), lower=(145, 153, 144))
EYE_L = _Eye(outer=263, inner=362, upper=(386, 385, 387), lower=(374, 380, 373))
BROW_R = {"inner": (107, 55), "mid": (105, 52), "outer": (70, 46)}
BROW_L = {"inner": (336, 285), "mid": (334, 282), "outer": (300, 276)}
IRIS_R, IRIS_L = 468, 473
MOUTH_CORNER_R, MOUTH_CORNER_L = 61, 291
UPPER_LIP_TOP, UPPER_LIP_INNER, LOWER_LIP_INNER, LOWER_LIP_BOTTOM = 0, 13, 14, 17
SUBNASALE, CHIN = 2, 152
ALAR_R, ALAR_L = 129, 358
CHEEK_R, CHEEK_L = 50, 280

#: Every measure this module produces, in a fixed order (the cue engine keeps statistics per name).
MEASURES: tuple[str, ...] = (
    "eye_aperture_r",
    "eye_aperture_l",
    "upper_lid_r",
    "upper_lid_l",
    "lower_lid_r",
    "lower_lid_l",
    "brow_inner_r",
    "brow_inner_l",
    "brow_outer_r",
    "brow_outer_l",
    "brow_gap",
    "cheek_r",
    "cheek_l",
    "mouth_corner_r",
    "mouth_corner_l",
    "mouth_width",
    "mouth_open",
    "jaw_drop",
    "lip_upper",
    "lip_lower",
    "upper_lip_to_nose",
    "nose_eye_r",
    "nose_eye_l",
    "gaze_x",
    "gaze_y",
)


def _y(p: np.ndarray, idx: int | tuple[int, ...]) -> float:
    if isinstance(idx, tuple):
        return float(p[list(idx), 1].mean())
    return float(p[idx, 1])


def _eye(p: np.ndarray, eye: _Eye, iod: float) -> tuple[float, float, float, float, float]:
    """Aperture (lid gap over eye width), lid heights, eye centre height and width."""
    outer, inner = p[eye.outer], p[eye.inner]
    width = float(np.linalg.norm(outer[:2] - inner[:2])) or 1e-6
    centre_y = float((outer[1] + inner[1]) / 2)
    gaps = p[list(eye.upper), 1] - p[list(eye.lower), 1]
    aperture = float(gaps.mean()) / width
    upper = (_y(p, eye.upper) - centre_y) / iod
    lower = (_y(p, eye.lower) - centre_y) / iod
    return aperture, upper, lower, centre_y, width


def measures(p: np.ndarray) -> dict[str, float]:
    """All measures for one face, from canonical (pose-free, y-up) points."""
    iod = float(np.linalg.norm(p[EYE_R.outer] - p[EYE_L.outer])) or 1e-6
    ap_r, up_r, lo_r, cy_r, w_r = _eye(p, EYE_R, iod)
    ap_l, up_l, lo_l, cy_l, w_l = _eye(p, EYE_L, iod)
    nose_y = float(p[SUBNASALE, 1])

    def above_eye(idx: tuple[int, ...], centre: float) -> float:
        return (_y(p, idx) - centre) / iod

    # Gaze: iris centre relative to the middle of the eye opening, in eye widths; averaged over both eyes
    # because one eye's landmarks are often occluded or blurred on a call tile.
    mid_r = (p[EYE_R.outer, :2] + p[EYE_R.inner, :2]) / 2
    mid_l = (p[EYE_L.outer, :2] + p[EYE_L.inner, :2]) / 2
    gx = ((p[IRIS_R, 0] - mid_r[0]) / w_r + (p[IRIS_L, 0] - mid_l[0]) / w_l) / 2
    gy = ((p[IRIS_R, 1] - mid_r[1]) / w_r + (p[IRIS_L, 1] - mid_l[1]) / w_l) / 2

    return {
        "eye_aperture_r": ap_r,
        "eye_aperture_l": ap_l,
        "upper_lid_r": up_r,
        "upper_lid_l": up_l,
        "lower_lid_r": lo_r,
        "lower_lid_l": lo_l,
        "brow_inner_r": above_eye(BROW_R["inner"], cy_r),
        "brow_inner_l": above_eye(BROW_L["inner"], cy_l),
        "brow_outer_r": above_eye(BROW_R["outer"], cy_r),
        "brow_outer_l": above_eye(BROW_L["outer"], cy_l),
        "brow_gap": float(np.linalg.norm(p[BROW_R["inner"][0], :2] - p[BROW_L["inner"][0], :2])) / iod,
        "cheek_r": (float(p[CHEEK_R, 1]) - cy_r) / iod,
        "cheek_l": (float(p[CHEEK_L, 1]) - cy_l) / iod,
        "mouth_corner_r": (float(p[MOUTH_CORNER_R, 1]) - nose_y) / iod,
        "mouth_corner_l": (float(p[MOUTH_CORNER_L, 1]) - nose_y) / iod,
        "mouth_width": float(np.linalg.norm(p[MOUTH_CORNER_R, :2] - p[MOUTH_CORNER_L, :2])) / iod,
        "mouth_open": (float(p[UPPER_LIP_INNER, 1]) - float(p[LOWER_LIP_INNER, 1])) / iod,
        "jaw_drop": (nose_y - float(p[CHIN, 1])) / iod,
        "lip_upper": (float(p[UPPER_LIP_TOP, 1]) - float(p[UPPER_LIP_INNER, 1])) / iod,
        "lip_lower": (float(p[LOWER_LIP_INNER, 1]) - float(p[LOWER_LIP_BOTTOM, 1])) / iod,
        "upper_lip_to_nose": (nose_y - float(p[UPPER_LIP_TOP, 1])) / iod,
        "nose_eye_r": float(np.linalg.norm(p[ALAR_R] - p[EYE_R.inner])) / iod,
        "nose_eye_l": float(np.linalg.norm(p[ALAR_L] - p[EYE_L.inner])) / iod,
        "gaze_x": float(gx),
        "gaze_y": float(gy),
    }
