"""Occluders pasted over real faces at run time: a hand over the mouth or an eye, dark glasses.

The occlusion check (``callcoach.vision.occlusion``) needs faces with a hand or glasses over them, and the
real data has only one such clip. These shapes are drawn in memory over frames of the test media and are
never written to disk, so no derived image of a research face is kept. They are meant to look like the
real thing to an edge and brightness measure, not to a person: the hand takes the colour of the face's own
skin, with shading across it, knuckle creases, dark gaps between the fingers and a soft edge; the glasses
are dark lenses with a rim, a bridge and a highlight.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

Pose = Literal["flat", "up", "slant"]

# MediaPipe Face Mesh indices (pixel landmarks): eye corners, mouth corners, nose base, chin, cheeks.
_EYE_R_OUT, _EYE_R_IN, _EYE_L_IN, _EYE_L_OUT = 33, 133, 362, 263
_MOUTH_R, _MOUTH_L, _NOSE_BASE, _CHIN = 61, 291, 2, 152
_CHEEK_R, _CHEEK_L = 205, 425


def skin_colour(rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """The median colour of both cheeks (a few pixels around two landmarks): the hand's colour."""
    samples = []
    for i in (_CHEEK_R, _CHEEK_L):
        x, y = int(points[i, 0]), int(points[i, 1])
        patch = rgb[max(0, y - 4) : y + 5, max(0, x - 4) : x + 5].reshape(-1, 3)
        if patch.size:
            samples.append(patch)
    if not samples:
        return np.array([190.0, 150.0, 130.0])
    colour: np.ndarray = np.median(np.concatenate(samples), axis=0).astype(np.float64)
    return colour


def _blend(rgb: np.ndarray, layer: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``layer`` over ``rgb`` where ``mask`` (0..1) says, with a soft edge one or two pixels wide."""
    soft = cv2.GaussianBlur(mask.astype(np.float32), (5, 5), 1.2)[..., None]
    out = rgb.astype(np.float32) * (1.0 - soft) + layer * soft
    return np.clip(out, 0, 255).astype(np.uint8)


def paste_hand(
    rgb: np.ndarray,
    points: np.ndarray,
    target: Literal["mouth", "eye_r", "eye_l", "eyes"],
    pose: Pose,
    seed: int = 0,
) -> np.ndarray:
    """A copy of ``rgb`` with a hand (palm and four fingers) over ``target``.

    ``pose``: "flat" lays the fingers across the face (horizontal), "up" points them up the face, "slant"
    at about 40 degrees. ``points`` are the face's landmarks in pixels (x, y[, z])."""
    rng = np.random.default_rng(seed)
    h, w = rgb.shape[:2]
    iod = float(np.linalg.norm(points[_EYE_R_OUT, :2] - points[_EYE_L_OUT, :2]))
    if target == "mouth":
        centre = (points[_MOUTH_R, :2] + points[_MOUTH_L, :2]) / 2
        centre = centre + np.array([0.0, 0.05 * iod])
        span = 1.35 * iod
    elif target == "eyes":
        centre = (points[_EYE_R_OUT, :2] + points[_EYE_L_OUT, :2]) / 2
        centre = centre + np.array([0.0, 0.1 * iod])
        span = 1.25 * iod
    else:
        a, b = (_EYE_R_OUT, _EYE_R_IN) if target == "eye_r" else (_EYE_L_IN, _EYE_L_OUT)
        centre = (points[a, :2] + points[b, :2]) / 2
        span = 0.85 * iod
    angle = {"flat": 0.0, "up": 90.0, "slant": 40.0}[pose] + rng.uniform(-8, 8)
    finger_w = span / 4.2
    length = span * (1.15 if pose == "flat" else 1.0)
    # Fingers along the x axis of a local frame, side by side along y; the palm behind their base.
    theta = np.deg2rad(angle)
    axis = np.array([np.cos(theta), -np.sin(theta)])
    across = np.array([np.sin(theta), np.cos(theta)])
    if pose == "flat":
        axis = -axis  # the hand comes in from the side of the face, fingers pointing across it
    base = centre - axis * 0.45 * length
    mask = np.zeros((h, w), np.float32)
    gaps = np.zeros((h, w), np.float32)
    for k in range(4):
        offset = (k - 1.5) * finger_w * 1.02
        reach = length * (0.85 + 0.15 * np.sin(np.pi * k / 3)) * rng.uniform(0.95, 1.05)
        start = base + across * offset
        end = start + axis * reach
        cv2.line(mask, _pt(start), _pt(end), 1.0, max(2, int(finger_w)), cv2.LINE_AA)
        cv2.circle(mask, _pt(end), max(1, int(finger_w / 2)), 1.0, -1, cv2.LINE_AA)
        if k < 3:  # the dark seam between two fingers
            seam = start + across * finger_w * 0.51
            cv2.line(gaps, _pt(seam + axis * 0.2 * reach), _pt(seam + axis * 0.85 * reach), 1.0, 1, cv2.LINE_AA)
    palm = base - axis * 0.55 * length
    corners = [palm + across * 2.3 * finger_w, base + across * 2.1 * finger_w]
    corners += [base - across * 2.1 * finger_w, palm - across * 2.3 * finger_w]
    cv2.fillConvexPoly(mask, np.array([_pt(c) for c in corners], np.int32), 1.0, cv2.LINE_AA)
    colour = skin_colour(rgb, points) * rng.uniform(0.88, 1.02)
    # Light falls across the hand: a linear shade along the fingers and some coarse mottling.
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    along = ((xs - centre[0]) * axis[0] + (ys - centre[1]) * axis[1]) / max(length, 1.0)
    shade = 1.0 + 0.08 * along - 0.06 * ((ys - centre[1]) / max(span, 1.0))
    noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), max(1.0, finger_w / 4))
    shade += 0.5 * noise / max(float(noise.std()), 1e-6) * 0.04
    layer = colour[None, None, :] * shade[..., None]
    # Knuckle creases: faint lines across each finger.
    creases = np.zeros((h, w), np.float32)
    for frac in (0.45, 0.7):
        mid = base + axis * frac * length
        cv2.line(creases, _pt(mid - across * 2 * finger_w), _pt(mid + across * 2 * finger_w), 1.0, 1, cv2.LINE_AA)
    layer *= (1.0 - 0.3 * gaps - 0.06 * creases)[..., None]
    layer += rng.normal(0, 2.0, layer.shape)
    return _blend(rgb, layer, mask)


def paste_glasses(rgb: np.ndarray, points: np.ndarray, seed: int = 0, tint: float = 0.18) -> np.ndarray:
    """A copy of ``rgb`` with dark glasses: two lenses (``tint``: how much light passes), rims, a bridge."""
    rng = np.random.default_rng(seed)
    h, w = rgb.shape[:2]
    iod = float(np.linalg.norm(points[_EYE_R_OUT, :2] - points[_EYE_L_OUT, :2]))
    lens = np.zeros((h, w), np.float32)
    rim = np.zeros((h, w), np.float32)
    roll = float(np.degrees(np.arctan2(*(points[_EYE_L_OUT, 1::-1] - points[_EYE_R_OUT, 1::-1]))))
    centres = []
    for a, b in ((_EYE_R_OUT, _EYE_R_IN), (_EYE_L_IN, _EYE_L_OUT)):
        c = (points[a, :2] + points[b, :2]) / 2 + np.array([0.0, 0.05 * iod])
        centres.append(c)
        axes = (int(0.36 * iod * rng.uniform(0.95, 1.08)), int(0.25 * iod * rng.uniform(0.95, 1.1)))
        cv2.ellipse(lens, _pt(c), axes, roll, 0, 360, 1.0, -1, cv2.LINE_AA)
        cv2.ellipse(rim, _pt(c), axes, roll, 0, 360, 1.0, max(1, int(0.03 * iod)), cv2.LINE_AA)
    cv2.line(rim, _pt(centres[0]), _pt(centres[1]), 1.0, max(1, int(0.025 * iod)), cv2.LINE_AA)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    # Lenses pass a little of the face through, darker at the top (a gradient tint), plus one highlight.
    fall = np.clip((ys - centres[0][1]) / max(0.5 * iod, 1.0), -1, 1)
    through = tint * (1.0 + 0.3 * fall)[..., None]
    layer = rgb.astype(np.float32) * through + 12.0
    hx, hy = centres[0] + np.array([-0.1, -0.1]) * iod
    glint = np.exp(-(((xs - hx) / (0.06 * iod)) ** 2 + ((ys - hy) / (0.03 * iod)) ** 2))
    layer += 90.0 * glint[..., None]
    out = _blend(rgb, layer, lens)
    return _blend(out, np.full((h, w, 3), 25.0, np.float32), rim)


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))
