"""Scripted face observations: a neutral face plus timed movements, with seeded tracker-like noise.

The cue engine is tested on these series without a camera or a model: each movement says which
measures change, by how much (in the measure's own units) and over which interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from callcoach.vision.types import FaceObservation, FrameObservation, HeadPose

NEUTRAL_GEOMETRY = {
    "eye_aperture_r": 0.30,
    "eye_aperture_l": 0.29,
    "upper_lid_r": 0.069,
    "upper_lid_l": 0.065,
    "lower_lid_r": -0.027,
    "lower_lid_l": -0.023,
    "brow_inner_r": 0.20,
    "brow_inner_l": 0.20,
    "brow_outer_r": 0.18,
    "brow_outer_l": 0.17,
    "brow_gap": 0.34,
    "cheek_r": -0.35,
    "cheek_l": -0.356,
    "mouth_corner_r": -0.275,
    "mouth_corner_l": -0.28,
    "mouth_width": 0.60,
    "mouth_open": 0.01,
    "jaw_drop": 0.77,
    "lip_upper": 0.072,
    "lip_lower": 0.114,
    "upper_lip_to_nose": 0.19,
    "nose_eye_r": 0.413,
    "nose_eye_l": 0.412,
    "gaze_x": 0.0,
    "gaze_y": 0.0,
}
NEUTRAL_BLENDSHAPES = {
    "browDownLeft": 0.01,
    "browDownRight": 0.01,
    "browInnerUp": 0.08,
    "browOuterUpLeft": 0.25,
    "browOuterUpRight": 0.28,
    "eyeBlinkLeft": 0.08,
    "eyeBlinkRight": 0.05,
    "eyeSquintLeft": 0.3,
    "eyeSquintRight": 0.2,
    "jawOpen": 0.03,
    "mouthSmileLeft": 0.02,
    "mouthSmileRight": 0.02,
    "mouthFrownLeft": 0.0,
    "mouthFrownRight": 0.0,
    "mouthPressLeft": 0.06,
    "mouthPressRight": 0.04,
    "mouthRollLower": 0.0,
    "mouthRollUpper": 0.0,
    "mouthStretchLeft": 0.03,
    "mouthStretchRight": 0.01,
    "mouthUpperUpLeft": 0.01,
    "mouthUpperUpRight": 0.01,
    "mouthDimpleLeft": 0.0,
    "mouthDimpleRight": 0.0,
}


def envelope(t: float, onset: float, apex: float, offset: float) -> float:
    """0 before onset, smooth rise to 1 at apex, smooth fall to 0 at offset."""
    if t <= onset or t >= offset:
        return 0.0
    if t <= apex:
        return 0.5 - 0.5 * math.cos(math.pi * (t - onset) / max(apex - onset, 1e-6))
    return 0.5 + 0.5 * math.cos(math.pi * (t - apex) / max(offset - apex, 1e-6))


@dataclass
class Move:
    """Change ``deltas`` (measure or blendshape name -> amount at apex) over [onset, offset]."""

    onset: float
    offset: float
    deltas: dict[str, float]
    apex: float | None = None

    def weight(self, t: float) -> float:
        apex = self.apex if self.apex is not None else (self.onset + self.offset) / 2
        return envelope(t, self.onset, apex, self.offset)


@dataclass
class Script:
    duration: float
    fps: float = 25.0
    moves: list[Move] = field(default_factory=list)
    noise: float = 0.15  # share of each feature's floor, as tracker jitter
    pose: Callable[[float], HeadPose] | None = None
    seed: int = 0

    def frames(self, faces: int = 1) -> Iterator[FrameObservation]:
        rng = np.random.default_rng(self.seed)
        n = round(self.duration * self.fps)
        for i in range(n):
            t = i / self.fps
            out = []
            for face_id in range(faces):
                g = {k: v + rng.normal(0, 0.004 * self.noise / 0.15) for k, v in NEUTRAL_GEOMETRY.items()}
                b = {k: max(0.0, v + rng.normal(0, 0.02 * self.noise / 0.15)) for k, v in NEUTRAL_BLENDSHAPES.items()}
                for move in self.moves:
                    w = move.weight(t)
                    if w <= 0:
                        continue
                    for name, delta in move.deltas.items():
                        if name in g:
                            g[name] += w * delta
                        else:
                            b[name] = min(1.0, max(0.0, b.get(name, 0.0) + w * delta))
                pose = self.pose(t) if self.pose else HeadPose(0.0, 0.0, 0.0)
                out.append(FaceObservation(face_id, (0.3, 0.2, 0.3, 0.5), pose, b, g, None))
            yield FrameObservation(i, t, 640, 360, tuple(out))


BROW_RAISE = {
    "brow_inner_r": 0.08,
    "brow_inner_l": 0.08,
    "brow_outer_r": 0.08,
    "brow_outer_l": 0.08,
    "browInnerUp": 0.5,
    "browOuterUpLeft": 0.5,
    "browOuterUpRight": 0.5,
}
EYES_WIDE = {"eye_aperture_r": 0.12, "eye_aperture_l": 0.12, "upper_lid_r": 0.04, "upper_lid_l": 0.04}
JAW_DROP = {"mouth_open": 0.25, "jawOpen": 0.5, "jaw_drop": 0.15}
SMILE = {
    "mouth_corner_r": 0.09,
    "mouth_corner_l": 0.09,
    "mouthSmileLeft": 0.6,
    "mouthSmileRight": 0.6,
    "mouth_width": 0.08,
}
CRINKLE = {
    "eye_aperture_r": -0.09,
    "eye_aperture_l": -0.09,
    "lower_lid_r": 0.03,
    "lower_lid_l": 0.03,
    "cheek_r": 0.04,
    "cheek_l": 0.04,
    "eyeSquintLeft": 0.3,
    "eyeSquintRight": 0.3,
}
BLINK = {
    "eye_aperture_r": -0.28,
    "eye_aperture_l": -0.27,
    "eyeBlinkLeft": 0.85,
    "eyeBlinkRight": 0.85,
    "upper_lid_r": -0.06,
    "upper_lid_l": -0.06,
}
LIP_PRESS = {"lip_upper": -0.04, "lip_lower": -0.05, "mouthPressLeft": 0.4, "mouthPressRight": 0.4}
