"""Dense image warps driven by moved face-mesh landmarks, for the synthetic benchmark clips.

The warp is piecewise affine over a fixed Delaunay triangulation of the base landmarks plus anchors
around the face that never move. The inverse map is solved on a coarse grid (the barycentric lookups
are the costly part) for the triangles that move only, upsampled, then applied with ``cv2.remap`` to
the face region, so a frame costs a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

# Mouth contours, corner to corner (the person's right corner first).
UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
EYE_R_CONTOUR = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
EYE_L_CONTOUR = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
FACE_OVAL = (
    10,
    338,
    297,
    332,
    284,
    251,
    389,
    356,
    454,
    323,
    361,
    288,
    397,
    365,
    379,
    378,
    400,
    377,
    152,
    148,
    176,
    149,
    150,
    136,
    172,
    58,
    132,
    93,
    234,
    127,
    162,
    21,
    54,
    103,
    67,
    109,
)


@dataclass(frozen=True, eq=False)
class FaceMesh:
    """The 478 landmarks of one still image in pixels (x, y, depth) and a face-aligned unit frame.

    Actions are written in face units: ``u`` along the line from the person's right eye to the left
    eye, ``v`` perpendicular and pointing down the face, one unit = the distance between eye centres.
    """

    points: np.ndarray  # (478, 3) float64, pixels; depth scaled like x
    origin: np.ndarray  # midpoint between the eye centres
    ux: np.ndarray
    vy: np.ndarray
    unit: float

    @classmethod
    def from_landmarks(cls, landmarks: np.ndarray, width: int, height: int) -> FaceMesh:
        pts = landmarks.astype(np.float64) * np.array([width, height, width], dtype=np.float64)
        right = pts[list(EYE_R_CONTOUR), :2].mean(axis=0)
        left = pts[list(EYE_L_CONTOUR), :2].mean(axis=0)
        unit = float(np.linalg.norm(left - right))
        ux = (left - right) / unit
        return cls(pts, (left + right) / 2, ux, np.array([-ux[1], ux[0]]), unit)

    @property
    def xy(self) -> np.ndarray:
        return self.points[:, :2]

    def uv(self, xy: np.ndarray | None = None) -> np.ndarray:
        """Pixel positions (default: the landmarks) in face units."""
        rel = (self.xy if xy is None else xy) - self.origin
        return np.stack([rel @ self.ux, rel @ self.vy], axis=-1) / self.unit

    def to_pixels(self, duv: np.ndarray) -> np.ndarray:
        """Displacements in face units to displacements in pixels."""
        pixels: np.ndarray = (duv[..., :1] * self.ux + duv[..., 1:2] * self.vy) * self.unit
        return pixels


def anchor_points(mesh: FaceMesh, width: int, height: int, scale: float = 1.45) -> np.ndarray:
    """Fixed points on an ellipse around the face plus the frame corners: nothing outside them moves."""
    oval = mesh.xy[list(FACE_OVAL)]
    centre = oval.mean(axis=0)
    ring = centre + (oval - centre) * scale
    # Extra rings keep the hair and neck from being dragged too far by a jaw drop or a head turn.
    outer = centre + (oval - centre) * (scale + 0.5)
    corners = np.array([[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]], dtype=np.float64)
    pts = np.vstack([ring, outer, corners])
    pts[:, 0] = np.clip(pts[:, 0], 0, width - 1)
    pts[:, 1] = np.clip(pts[:, 1], 0, height - 1)
    return pts


class MeshWarper:
    """Warps one base image so that its control points land on new positions.

    The triangulation is fixed (Delaunay of the base points): when lips close or lids meet, the
    triangles between them collapse to nothing, which is what hides the teeth or the eye. A
    triangulation of the moved points would instead mix source regions across the closed seam.
    """

    def __init__(self, image: np.ndarray, controls: np.ndarray, roi: tuple[int, int, int, int], step: int = 3) -> None:
        self.image = image
        self.controls = controls.astype(np.float64)
        self.triangles = Delaunay(self.controls).simplices.astype(np.int64)
        x0, y0, x1, y1 = roi
        self.roi = (x0, y0, x1, y1)
        self.step = step
        gw, gh = -(-(x1 - x0) // step), -(-(y1 - y0) // step)
        self._gshape = (gh, gw)
        self._full = (gw * step, gh * step)
        # Coarse samples sit at the full-resolution position of each coarse pixel's centre, so that
        # cv2.resize (half-pixel convention) upsamples the map without a shift.
        self._g0 = np.array([x0 + 0.5 * step - 0.5, y0 + 0.5 * step - 0.5])
        fx, fy = np.meshgrid(
            np.arange(x0, x0 + self._full[0], dtype=np.float32), np.arange(y0, y0 + self._full[1], dtype=np.float32)
        )
        self._ident = (fx, fy)

    def source_map(self, moved: np.ndarray, depth: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """For every pixel of the region, where in the base image its colour comes from.

        ``depth`` (per control point, larger = farther) orders overlapping triangles when a head turn
        folds the far cheek behind the nose: nearer triangles are written last and win.
        """
        gh, gw = self._gshape
        moving = np.abs(moved - self.controls).max(axis=1) > 0.01
        tris = self.triangles[moving[self.triangles].any(axis=1)]
        if depth is not None:
            tris = tris[np.argsort(-depth[tris].mean(axis=1), kind="stable")]
        p = (moved[tris] - self._g0) / self.step  # (T, 3, 2) in coarse-grid units
        lo = np.clip(np.ceil(p.min(axis=1)).astype(np.int64), 0, [gw, gh])
        hi = np.clip(np.floor(p.max(axis=1)).astype(np.int64) + 1, 0, [gw, gh])
        size = np.maximum(hi - lo, 0)
        count = size[:, 0] * size[:, 1]
        keep = count > 0
        tris, p, lo, size, count = tris[keep], p[keep], lo[keep], size[keep], count[keep]
        disp = np.zeros((gh * gw, 2), np.float32)
        if len(tris):
            t = np.repeat(np.arange(len(tris)), count)
            k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
            cx = lo[t, 0] + k % size[t, 0]
            cy = lo[t, 1] + k // size[t, 0]
            a, b, c = p[t, 0], p[t, 1], p[t, 2]
            e1, e2 = b - a, c - a
            det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
            ok = np.abs(det) > 1e-9
            q = np.stack([cx, cy], axis=1) - a
            safe = np.where(ok, det, 1.0)
            l1 = (q[:, 0] * e2[:, 1] - q[:, 1] * e2[:, 0]) / safe
            l2 = (e1[:, 0] * q[:, 1] - e1[:, 1] * q[:, 0]) / safe
            inside = ok & (l1 >= -1e-6) & (l2 >= -1e-6) & (l1 + l2 <= 1 + 1e-6)
            t, l1, l2, cx, cy = t[inside], l1[inside], l2[inside], cx[inside], cy[inside]
            src = self.controls[tris[t]]
            src_xy = src[:, 0] * (1 - l1 - l2)[:, None] + src[:, 1] * l1[:, None] + src[:, 2] * l2[:, None]
            grid_xy = np.stack([cx, cy], axis=1) * self.step + self._g0
            disp[cy * gw + cx] = src_xy - grid_xy
        dx = cv2.resize(disp[:, 0].reshape(gh, gw), self._full, interpolation=cv2.INTER_LINEAR)
        dy = cv2.resize(disp[:, 1].reshape(gh, gw), self._full, interpolation=cv2.INTER_LINEAR)
        return self._ident[0] + dx, self._ident[1] + dy

    def render(
        self, moved: np.ndarray, depth: np.ndarray | None = None, extra: tuple[np.ndarray, ...] = ()
    ) -> list[np.ndarray]:
        """The base image (then each of ``extra``, same size) with the control points moved to ``moved``."""
        images = (self.image, *extra)
        outs = [im.copy() for im in images]
        if np.abs(moved - self.controls).max() < 0.05:
            return outs
        mx, my = self.source_map(moved, depth)
        x0, y0, x1, y1 = self.roi
        for im, out in zip(images, outs, strict=True):
            patch = cv2.remap(im, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            out[y0:y1, x0:x1] = patch[: y1 - y0, : x1 - x0]
        return outs


def lip_gap(xy: np.ndarray) -> np.ndarray:
    """Vertical gap between the inner lips at each inner-contour column (pixels, >= 0)."""
    up = xy[list(UPPER_INNER[1:-1])]
    lo = xy[list(LOWER_INNER[1:-1])]
    gap: np.ndarray = np.maximum(0.0, lo[:, 1] - up[:, 1])
    return gap


def _bbox(poly: np.ndarray, frame: np.ndarray) -> tuple[int, int, int, int]:
    """Pixel box around a polygon with a margin for antialiasing and blur, clipped to the frame."""
    x0, y0 = np.floor(poly.min(axis=0)).astype(int) - 4
    x1, y1 = np.ceil(poly.max(axis=0)).astype(int) + 5
    h, w = frame.shape[:2]
    return max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)


def _blend(
    frame: np.ndarray,
    poly: np.ndarray,
    colour: np.ndarray,
    strength: float,
    blur: int = 3,
    line: bool = False,
    thickness: int = 1,
) -> None:
    """Alpha-blend a colour (an RGB triple, or an array covering ``_bbox(poly)``) into a polygon or
    polyline, in place."""
    x0, y0, x1, y1 = _bbox(poly, frame)
    if x1 - x0 < 3 or y1 - y0 < 3 or strength <= 0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = [np.round((poly - [x0, y0]) * 4).astype(np.int32)]
    if line:
        cv2.polylines(mask, pts, False, 255, thickness, cv2.LINE_AA, shift=2)
    else:
        cv2.fillPoly(mask, pts, 255, cv2.LINE_AA, shift=2)
    alpha = cv2.GaussianBlur(mask, (blur, blur), 0).astype(np.float32)[..., None] / 255.0 * min(strength, 1.0)
    region = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = (region * (1 - alpha) + colour * alpha).astype(np.uint8)


def paint_mouth_cavity(frame: np.ndarray, base_xy: np.ndarray, moved_xy: np.ndarray, teeth_px: float) -> None:
    """Darken the mouth opening the warp has added, in place.

    Stretching closed lips apart only smears the lip seam; a real open mouth shows a dark cavity with
    the upper teeth at the top (``teeth_px`` of them at most), and that contrast is what a landmark
    model reads as ``jawOpen``. A mouth that already showed teeth keeps its own, stretched.
    """
    base_gap = lip_gap(base_xy)
    up = moved_xy[list(UPPER_INNER)]
    lo = moved_xy[list(LOWER_INNER)]
    open_gap = np.maximum(0.0, lo[1:-1, 1] - up[1:-1, 1])
    added = open_gap - base_gap
    if added.max() < 1.0:
        return
    # The cavity starts below whatever was already visible between the lips (teeth on a smiling face).
    top = up.copy()
    top[1:-1, 1] += np.minimum(base_gap, open_gap)
    poly = np.vstack([top, lo[::-1]]).astype(np.float32)
    x0, y0, x1, y1 = _bbox(poly, frame)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    rows = np.arange(y0, y1, dtype=np.float32)[:, None]
    order_t, order_l = np.argsort(top[:, 0]), np.argsort(lo[:, 0])
    top_y = np.interp(np.arange(x0, x1), top[order_t, 0], top[order_t, 1])
    bottom_y = np.interp(np.arange(x0, x1), lo[order_l, 0], lo[order_l, 1])
    depth = np.clip((rows - top_y) / np.maximum(bottom_y - top_y, 1.0), 0.0, 1.0)
    # Dark red-brown, darkest in the middle, under a band of upper teeth.
    cavity = np.array([70, 30, 32], np.float32) * (1.0 - 0.5 * np.sin(np.pi * depth))[..., None]
    below_lip = rows - top_y
    teeth = (below_lip < teeth_px) & (base_gap.max() < 3.0)
    teeth_shade = 1.0 - 0.2 * np.clip(below_lip / max(teeth_px, 1.0), 0.0, 1.0)
    colour = np.where(teeth[..., None], np.array([214, 204, 192], np.float32) * teeth_shade[..., None], cavity)
    _blend(frame, poly, colour, float(added.max()) / 4.0)


EyeLids = tuple[tuple[int, ...], tuple[int, ...]]  # upper margin, lower margin (corner to corner)


def lid_skin(image: np.ndarray, mesh: FaceMesh, upper: tuple[int, ...]) -> np.ndarray:
    """Typical colour of the upper-lid skin above one eye's lash line (a darkish percentile over a
    patch, so a highlight on the lid does not paint closed eyes white)."""
    margin = mesh.xy[list(upper[1:-1])]
    pts = np.vstack([margin - mesh.vy * mesh.unit * off for off in (0.06, 0.09, 0.12, 0.15)])
    h, w = image.shape[:2]
    xs = np.clip(np.round(pts[:, 0]).astype(int), 0, w - 1)
    ys = np.clip(np.round(pts[:, 1]).astype(int), 0, h - 1)
    samples = cv2.GaussianBlur(image, (5, 5), 0)[ys, xs].astype(np.float32)
    colour: np.ndarray = np.percentile(samples, 40, axis=0).astype(np.float32)
    return colour


def paint_lids(
    frame: np.ndarray,
    base_xy: np.ndarray,
    moved_xy: np.ndarray,
    eyes: tuple[EyeLids, ...],
    skins: tuple[np.ndarray, ...],
) -> None:
    """Cover the part of each eye an upper lid has moved over with lid skin and a lash line, in place.

    A warp alone stretches the dark lash line into a smear and leaves squeezed sclera showing; a closed
    eye is skin with a thin dark line, which is what the landmark model is trained to call a blink.
    """
    for (upper, lower), skin in zip(eyes, skins, strict=True):
        src, dst = base_xy[list(upper)], moved_xy[list(upper)]
        gap = float(np.max(base_xy[list(lower), 1] - src[:, 1]))
        drop = dst[:, 1] - src[:, 1]
        if gap <= 0 or drop.max() < 0.5:
            continue
        closure = float(np.clip(drop.max() / gap, 0.0, 1.0))
        poly = np.vstack([src, dst[::-1]]).astype(np.float32)
        _blend(frame, poly, skin, 0.3 + 0.7 * closure, blur=5)
        _blend(
            frame,
            dst.astype(np.float32),
            np.array([85, 60, 52], np.float32),
            0.35 + 0.45 * closure,
            blur=3,
            line=True,
            thickness=max(1, round(gap * 0.12)),
        )
