"""Render a planned synthetic clip frame by frame: face warp, head pose, camera and lighting effects.

A plan is small (displacement fields and per-frame weights), so a whole benchmark set fits in memory
and each clip's pixels exist only while it is being analysed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from callcoach.sources.base import Frame
from callcoach_bench.actions import LIDS
from callcoach_bench.eyes import Iris, opening, paint_irises
from callcoach_bench.warp import EyeLids, FaceMesh, MeshWarper, paint_lids, paint_mouth_cavity

EYES: tuple[EyeLids, ...] = (LIDS["r"], LIDS["l"])


@dataclass(frozen=True, eq=False)
class BaseFace:
    """One still face to animate: pixels, its landmarks and a warper built on them."""

    name: str
    image: np.ndarray
    mesh: FaceMesh
    warper: MeshWarper
    #: Upper-lid skin colour of each eye (same order as ``EYES``), painted where a lid closes.
    lid_skins: tuple[np.ndarray, ...]
    irises: tuple[Iris, ...]
    #: ``image`` with the irises painted out, the background a moved iris is drawn over.
    no_irises: np.ndarray


@dataclass(frozen=True, eq=False)
class Track:
    """A landmark displacement field (face units, at full strength) and its strength per frame;
    ``iris`` moves both irises by (right, down) eye widths at full strength."""

    disp: np.ndarray
    weights: np.ndarray
    iris: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True, eq=False)
class Effects:
    """Per-frame camera and scene changes; arrays have one value per frame, None means off."""

    yaw_deg: np.ndarray | None = None
    pitch_deg: np.ndarray | None = None
    roll_deg: np.ndarray | None = None
    shift_px: np.ndarray | None = None  # (n, 2) camera shake
    gain: np.ndarray | None = None
    gamma: np.ndarray | None = None
    side_light: np.ndarray | None = None  # strength of a left-to-right light gradient, -1..1
    noise_sigma: float = 0.0
    jpeg_quality: int = 0
    soften: float = 1.0  # >1: render through a smaller frame, like a low-resolution webcam
    seed: int = 0
    labels: tuple[str, ...] = field(default_factory=tuple)


def _rotate(points: np.ndarray, yaw: float, pitch: float) -> tuple[np.ndarray, np.ndarray]:
    """Turn the 3D landmarks about the head centre; returns image positions and depth."""
    centre = points.mean(axis=0)
    centre[2] = 0.0  # MediaPipe's depth origin is roughly the head's centre
    p = points - centre
    cy, sy = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
    cp, sp = math.cos(math.radians(pitch)), math.sin(math.radians(pitch))
    x = p[:, 0] * cy + p[:, 2] * sy
    z = -p[:, 0] * sy + p[:, 2] * cy
    y = p[:, 1] * cp - z * sp
    z = p[:, 1] * sp + z * cp
    return np.stack([x, y], axis=1) + centre[:2], z


class Renderer:
    def __init__(self, base: BaseFace, tracks: tuple[Track, ...], effects: Effects, n_frames: int, fps: float) -> None:
        self.base, self.tracks, self.fx, self.n, self.fps = base, tracks, effects, n_frames, fps
        h, w = base.image.shape[:2]
        self._noise: list[np.ndarray] = []
        if effects.noise_sigma > 0:
            rng = np.random.default_rng(effects.seed)
            self._noise = [rng.normal(0, effects.noise_sigma, (h, w, 3)).astype(np.int16) for _ in range(5)]
        self._ramp = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :, None]

    def landmarks(self, i: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Moved landmark positions in pixels for frame ``i`` (and depth when the head turns)."""
        mesh = self.base.mesh
        duv = np.zeros((len(mesh.points), 2))
        for tr in self.tracks:
            if tr.weights[i] > 1e-4:
                duv += tr.weights[i] * tr.disp
        moved3 = mesh.points.copy()
        moved3[:, :2] += mesh.to_pixels(duv)
        yaw = 0.0 if self.fx.yaw_deg is None else float(self.fx.yaw_deg[i])
        pitch = 0.0 if self.fx.pitch_deg is None else float(self.fx.pitch_deg[i])
        if abs(yaw) < 1e-3 and abs(pitch) < 1e-3:
            return moved3[:, :2], None
        return _rotate(moved3, yaw, pitch)

    def iris_shift(self, i: int) -> np.ndarray:
        """Iris displacement in eye widths for frame ``i``."""
        shift = np.zeros(2)
        for tr in self.tracks:
            if tr.iris != (0.0, 0.0):
                shift += tr.weights[i] * np.asarray(tr.iris)
        return shift

    def frame(self, i: int) -> np.ndarray:
        base, fx = self.base, self.fx
        xy, depth = self.landmarks(i)
        warper = base.warper
        moved = warper.controls.copy()
        moved[: len(xy)] = xy
        full_depth = None
        if depth is not None:
            # Anchors are behind the face, so the face is drawn over the background where they overlap.
            full_depth = np.full(len(moved), float(depth.max()) + 1.0)
            full_depth[: len(depth)] = depth
        gaze = self.iris_shift(i)
        if np.abs(gaze).max() > 1e-3:
            img, bare = warper.render(moved, full_depth, (base.no_irises,))
            mesh = base.mesh
            # Eye widths in face units, then pixels; turned with the head like the rest of the face.
            px = np.array([mesh.to_pixels(gaze * iris.width / mesh.unit) for iris in base.irises])
            for iris, shift in zip(base.irises, px, strict=True):
                paint_irises(bare, xy, (iris,), shift)
            eyes = np.zeros(img.shape[:2], np.uint8)
            for iris in base.irises:
                cv2.fillPoly(eyes, [np.round(opening(xy, iris.lids) * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
            alpha = (eyes.astype(np.float32) / 255.0)[..., None]
            img = (img * (1 - alpha) + bare * alpha).astype(np.uint8)
        else:
            img = warper.render(moved, full_depth)[0]
        paint_mouth_cavity(img, base.mesh.xy, xy, 0.07 * base.mesh.unit)
        paint_lids(img, base.mesh.xy, xy, EYES, base.lid_skins)
        h, w = img.shape[:2]
        roll = 0.0 if fx.roll_deg is None else float(fx.roll_deg[i])
        shift = (0.0, 0.0) if fx.shift_px is None else (float(fx.shift_px[i, 0]), float(fx.shift_px[i, 1]))
        if abs(roll) > 1e-3 or abs(shift[0]) + abs(shift[1]) > 1e-3:
            m = cv2.getRotationMatrix2D(tuple(base.mesh.origin.astype(float)), roll, 1.0)
            m[:, 2] += np.array(shift)
            img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        if fx.soften > 1.0:
            small = cv2.resize(img, (int(w / fx.soften), int(h / fx.soften)), interpolation=cv2.INTER_AREA)
            img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        img = self._light(img, i)
        if self._noise:
            noisy = img.astype(np.int16) + self._noise[(i * 3) % len(self._noise)]
            img = np.clip(noisy, 0, 255).astype(np.uint8)
        if fx.jpeg_quality > 0:
            ok, buf = cv2.imencode(
                ".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, fx.jpeg_quality]
            )
            decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR) if ok else None
            if decoded is not None:
                img = cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)
        return np.ascontiguousarray(img)

    def _light(self, img: np.ndarray, i: int) -> np.ndarray:
        fx = self.fx
        gain = 1.0 if fx.gain is None else float(fx.gain[i])
        gamma = 1.0 if fx.gamma is None else float(fx.gamma[i])
        side = 0.0 if fx.side_light is None else float(fx.side_light[i])
        if abs(gain - 1) > 1e-3 or abs(gamma - 1) > 1e-3:
            lut = np.clip(255.0 * gain * (np.arange(256) / 255.0) ** gamma, 0, 255).astype(np.uint8)
            img = cv2.LUT(img, lut)
        if abs(side) > 1e-3:
            scaled = img.astype(np.float32) * (1.0 + 0.45 * side * self._ramp)
            img = np.clip(scaled, 0, 255).astype(np.uint8)
        return img

    def __iter__(self) -> Iterator[Frame]:
        for i in range(self.n):
            yield Frame(index=i, t_s=i / self.fps, image=self.frame(i))
