"""From one face observation to the fixed feature vector the baseline and the channels work on.

Each feature has a *floor*: the smallest change that counts as a real movement, in the feature's own
units (inter-ocular distances for geometry, 0..1 for blendshapes). The floors keep a perfectly still
baseline (a photo, a frozen tile) from turning tracker jitter into cues.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from callcoach.vision.types import FaceObservation

# name -> floor
FEATURES: dict[str, float] = {
    # mouth
    "corner": 0.025,  # mouth-corner height relative to the nose base (geometry)
    "smile_bs": 0.15,  # mouthSmile
    "corner_asym": 0.025,  # left minus right corner height
    "smile_asym": 0.15,  # mouthSmile/Dimple left minus right
    "mouth_open": 0.04,
    "jaw_open_bs": 0.12,
    "lip_thick": 0.025,  # vermilion height, upper + lower
    "press_bs": 0.10,  # mouthPress + mouthRoll
    "upper_lip_nose": 0.02,  # nose base to top of the upper lip
    "upper_up_bs": 0.12,  # mouthUpperUp
    "frown_bs": 0.08,  # mouthFrown
    "stretch_bs": 0.12,  # mouthStretch
    "mouth_width": 0.04,
    # eyes
    "aperture": 0.05,  # lid gap over eye width
    "upper_lid": 0.012,
    "lower_lid": 0.012,
    "cheek": 0.015,
    "squint_bs": 0.12,
    "blink_bs": 0.2,
    "gaze_x": 0.07,
    "gaze_y": 0.07,
    # brows
    "brow_inner": 0.025,
    "brow_outer": 0.025,
    "brow_inner_bs": 0.12,  # browInnerUp
    "brow_outer_bs": 0.12,  # browOuterUp
    "brow_down_bs": 0.12,
    "brow_gap": 0.02,
    # nose
    "nose_eye": 0.012,  # nostril wing to inner eye corner
    # read only by the action units (callcoach.cues.aus), not by the channels
    "jaw_drop": 0.03,  # nose base to chin
    "sneer_bs": 0.08,  # noseSneer (near zero on many real faces; geometry leads)
    "cheek_squint_bs": 0.08,  # cheekSquint (idem)
    "eye_wide_bs": 0.08,  # eyeWide (idem)
    "dimple_bs": 0.08,  # mouthDimple
    "shrug_bs": 0.10,  # mouthShrugLower (chin raise)
    # head
    "yaw": 6.0,
    "pitch": 6.0,
}
NAMES: tuple[str, ...] = tuple(FEATURES)
INDEX: dict[str, int] = {n: i for i, n in enumerate(NAMES)}
FLOORS = np.array([FEATURES[n] for n in NAMES], dtype=np.float64)


def _pair(m: Mapping[str, float], left: str, right: str) -> float:
    return (m.get(left, 0.0) + m.get(right, 0.0)) / 2


def feature_vector(face: FaceObservation) -> np.ndarray:
    g, b = face.geometry, face.blendshapes
    values = {
        "corner": (g["mouth_corner_r"] + g["mouth_corner_l"]) / 2,
        "smile_bs": _pair(b, "mouthSmileLeft", "mouthSmileRight"),
        "corner_asym": g["mouth_corner_l"] - g["mouth_corner_r"],
        "smile_asym": (b.get("mouthSmileLeft", 0.0) - b.get("mouthSmileRight", 0.0))
        + (b.get("mouthDimpleLeft", 0.0) - b.get("mouthDimpleRight", 0.0)),
        "mouth_open": g["mouth_open"],
        "jaw_open_bs": b.get("jawOpen", 0.0),
        "lip_thick": g["lip_upper"] + g["lip_lower"],
        "press_bs": _pair(b, "mouthPressLeft", "mouthPressRight") + _pair(b, "mouthRollLower", "mouthRollUpper"),
        "upper_lip_nose": g["upper_lip_to_nose"],
        "upper_up_bs": _pair(b, "mouthUpperUpLeft", "mouthUpperUpRight"),
        "frown_bs": _pair(b, "mouthFrownLeft", "mouthFrownRight"),
        "stretch_bs": _pair(b, "mouthStretchLeft", "mouthStretchRight"),
        "mouth_width": g["mouth_width"],
        "aperture": (g["eye_aperture_r"] + g["eye_aperture_l"]) / 2,
        "upper_lid": (g["upper_lid_r"] + g["upper_lid_l"]) / 2,
        "lower_lid": (g["lower_lid_r"] + g["lower_lid_l"]) / 2,
        "cheek": (g["cheek_r"] + g["cheek_l"]) / 2,
        "squint_bs": _pair(b, "eyeSquintLeft", "eyeSquintRight"),
        "blink_bs": _pair(b, "eyeBlinkLeft", "eyeBlinkRight"),
        "gaze_x": g["gaze_x"],
        "gaze_y": g["gaze_y"],
        "brow_inner": (g["brow_inner_r"] + g["brow_inner_l"]) / 2,
        "brow_outer": (g["brow_outer_r"] + g["brow_outer_l"]) / 2,
        "brow_inner_bs": b.get("browInnerUp", 0.0),
        "brow_outer_bs": _pair(b, "browOuterUpLeft", "browOuterUpRight"),
        "brow_down_bs": _pair(b, "browDownLeft", "browDownRight"),
        "brow_gap": g["brow_gap"],
        "nose_eye": (g["nose_eye_r"] + g["nose_eye_l"]) / 2,
        "jaw_drop": g["jaw_drop"],
        "sneer_bs": _pair(b, "noseSneerLeft", "noseSneerRight"),
        "cheek_squint_bs": _pair(b, "cheekSquintLeft", "cheekSquintRight"),
        "eye_wide_bs": _pair(b, "eyeWideLeft", "eyeWideRight"),
        "dimple_bs": _pair(b, "mouthDimpleLeft", "mouthDimpleRight"),
        "shrug_bs": b.get("mouthShrugLower", 0.0),
        "yaw": face.pose.yaw,
        "pitch": face.pose.pitch,
    }
    return np.fromiter((values[n] for n in NAMES), dtype=np.float64, count=len(NAMES))
