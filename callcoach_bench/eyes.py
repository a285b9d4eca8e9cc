"""Gaze shifts by moving the iris disc inside the eye opening, over an iris-free copy of the eye.

Warping the iris landmarks with the rest of the mesh shears the iris into a chevron, because the top
and bottom of the iris hide under the lids and stay put. Moving the whole disc, clipped to the lid
opening, is what an eye turning in its socket looks like from the front.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from callcoach_bench.warp import EyeLids, FaceMesh


@dataclass(frozen=True, eq=False)
class Iris:
    """One eye's iris disc cut from the base image, and the landmarks that bound the lid opening."""

    lids: EyeLids
    centre_idx: int
    centre: np.ndarray  # pixels in the base image
    radius: float
    patch: np.ndarray  # float32 RGB, square, centred on the iris
    alpha: np.ndarray  # float32: 1 on the visible part of the disc, feathered edge
    width: float  # eye width (corner to corner) in pixels


def opening(xy: np.ndarray, lids: EyeLids) -> np.ndarray:
    upper, lower = lids
    return np.vstack([xy[list(upper)], xy[list(lower[1:-1])][::-1]]).astype(np.float32)


def iris_model(image: np.ndarray, mesh: FaceMesh, lids: EyeLids, iris_idx: tuple[int, ...]) -> Iris:
    xy = mesh.xy
    centre = xy[iris_idx[0]]
    radius = float(np.linalg.norm(xy[list(iris_idx[1:])] - centre, axis=1).mean())
    half = int(np.ceil(radius)) + 2
    cx, cy = np.round(centre).astype(int)
    patch = image[cy - half : cy + half + 1, cx - half : cx + half + 1].astype(np.float32)
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float32)
    dist = np.hypot(xx + cx - centre[0], yy + cy - centre[1])
    alpha = np.clip(radius + 0.5 - dist, 0.0, 1.0).astype(np.float32)
    # Only the part the lids leave visible: the rest of the square shows lid and lashes.
    eye = np.zeros(alpha.shape, np.uint8)
    poly = opening(xy, lids) - [cx - half, cy - half]
    cv2.fillPoly(eye, [np.round(poly * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
    alpha *= cv2.erode(eye, np.ones((2, 2), np.uint8)).astype(np.float32) / 255.0
    width = float(np.linalg.norm(xy[lids[0][0]] - xy[lids[0][-1]]))
    return Iris(lids, iris_idx[0], centre.copy(), radius, patch, alpha, width)


def without_irises(image: np.ndarray, mesh: FaceMesh, irises: tuple[Iris, ...]) -> np.ndarray:
    """The base image with each iris replaced by shaded sclera, for the iris to move over."""
    out = image.copy()
    h, w = image.shape[:2]
    for iris in irises:
        poly = opening(mesh.xy, iris.lids)
        eye = np.zeros((h, w), np.uint8)
        cv2.fillPoly(eye, [np.round(poly * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
        disc = np.zeros((h, w), np.uint8)
        c = tuple(int(v) for v in np.round(iris.centre * 4))
        cv2.circle(disc, c, round((iris.radius + 1.5) * 4), 255, -1, cv2.LINE_AA, shift=2)
        # Sclera colour: the brightest visible part of the opening outside the iris.
        sclera_px = image[(eye > 128) & (disc == 0)].astype(np.float32)
        if len(sclera_px) < 4:
            continue
        bright = sclera_px[np.argsort(sclera_px.sum(axis=1))[-max(3, len(sclera_px) // 3) :]]
        sclera = np.median(bright, axis=0)
        ys = np.arange(h, dtype=np.float32)[:, None, None]
        top, bottom = float(poly[:, 1].min()), float(poly[:, 1].max())
        # The upper lid shades the top of the eyeball.
        shade = 0.72 + 0.28 * np.clip((ys - top) / max(bottom - top, 1.0), 0.0, 1.0)
        fill = sclera * shade
        mask = (cv2.GaussianBlur(disc, (3, 3), 0).astype(np.float32) / 255.0)[..., None]
        out = (out.astype(np.float32) * (1 - mask) + fill * mask).astype(np.uint8)
    return out


def paint_irises(frame: np.ndarray, moved_xy: np.ndarray, irises: tuple[Iris, ...], shift_px: np.ndarray) -> None:
    """Draw each iris at its (moved) centre plus ``shift_px``, clipped to the moved lid opening."""
    h, w = frame.shape[:2]
    for iris in irises:
        poly = opening(moved_xy, iris.lids)
        x0, y0 = np.floor(poly.min(axis=0)).astype(int) - 2
        x1, y1 = np.ceil(poly.max(axis=0)).astype(int) + 3
        x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        eye = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(eye, [np.round((poly - [x0, y0]) * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
        centre = moved_xy[iris.centre_idx] + shift_px
        half = iris.patch.shape[0] // 2
        # Place the patch with a subpixel shift so slow gaze moves are smooth.
        m = np.array([[1, 0, centre[0] - half - x0], [0, 1, centre[1] - half - y0]], np.float32)
        size = (x1 - x0, y1 - y0)
        patch = cv2.warpAffine(iris.patch, m, size, flags=cv2.INTER_LINEAR)
        moved_alpha = cv2.warpAffine(iris.alpha, m, size, flags=cv2.INTER_LINEAR)
        alpha = (moved_alpha * eye.astype(np.float32) / 255.0)[..., None]
        region = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = (region * (1 - alpha) + patch * alpha).astype(np.uint8)
