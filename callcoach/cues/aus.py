"""Facial action units (FACS) per frame, relative to the person's own resting face, and what they suggest.

Each AU is read from the baseline deviation vector ``d`` (``RobustBaseline.deviation``: >= 1 is a
noticeable change) as a weighted mix of landmark geometry and MediaPipe blendshapes, then squashed to
0..1 (``1 - exp(-x / AU_SCALE)``: one noticeable change reads ~0.33, three ~0.7). Geometry leads where
MediaPipe's own scores stay near zero on real faces (cheek raise, nose wrinkle, upper-lid raise); the
blendshape-to-AU pairings follow py-feat's MIT-licensed blendshape/AU region maps (browInnerUp -> AU1,
browOuterUp -> AU2, browDown -> AU4, eyeWide -> AU5, cheekSquint -> AU6, eyeSquint -> AU7,
noseSneer -> AU9, mouthUpperUp -> AU10, mouthSmile -> AU12, mouthDimple -> AU14, mouthFrown -> AU15,
mouthShrugLower -> AU17, mouthStretch -> AU20, mouthPress -> AU23/24, jawOpen -> AU26, eyeBlink -> AU45).

The emotion prototypes are EMFACS-style (Friesen & Ekman): happiness 6+12; sadness 1+4+15; surprise
1+2+5+26; fear 1+2+4+5+7+20+26; anger 4+5+7+23/24; disgust 9/10 (+15, +17); contempt a one-sided 12+14.
Surprise and fear share 1+2+5+26 and are told apart by 4 and 20; disgust and anger share a lowered brow
and are told apart by 9/10 against 5/7+23/24.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from callcoach.cues.features import INDEX

AUS: tuple[str, ...] = (
    "AU1",
    "AU2",
    "AU4",
    "AU5",
    "AU6",
    "AU7",
    "AU9",
    "AU10",
    "AU12",
    "AU14",
    "AU15",
    "AU17",
    "AU20",
    "AU23",
    "AU24",
    "AU25",
    "AU26",
    "AU45",
)
#: Deviation (in noticeable-change units) that reads as about 0.63 intensity.
AU_SCALE = 3.0

#: The six basic emotions the appearance model also reads, plus neutral (its class order does not matter).
FUSED_CLASSES: tuple[str, ...] = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")

_I = INDEX


def _p(x: float) -> float:
    return x if x > 0.0 else 0.0


def _squash(x: float) -> float:
    return 1.0 - math.exp(-_p(x) / AU_SCALE)


def raw_units(d: np.ndarray) -> dict[str, float]:
    """Each AU's evidence in noticeable-change units (>= 1: the movement is there), before squashing."""
    g = lambda name: float(d[_I[name]])  # noqa: E731 - terse reads keep the table below legible
    corner_up = _p(g("corner"))
    au12 = 0.6 * corner_up + 0.4 * _p(g("smile_bs"))
    # The nose-to-lip distance shrinks in both AU9 and AU10; the nostril-to-eye distance only in AU9.
    au9 = 0.6 * _p(-g("nose_eye")) + 0.25 * _p(-g("upper_lip_nose")) + 0.15 * _p(g("sneer_bs"))
    au10 = 0.5 * _p(-g("upper_lip_nose")) + 0.5 * _p(g("upper_up_bs"))
    lower_lid_up = _p(g("lower_lid"))
    narrow = _p(-g("aperture"))
    # Cheek raise: the cheeks and lower lids rise and the eye narrows from below. Its geometry also moves
    # with any corner raise, so it needs the eye to narrow or the lower lid to rise as well.
    au6 = 0.35 * _p(g("cheek")) + 0.35 * lower_lid_up + 0.2 * narrow + 0.1 * _p(g("cheek_squint_bs"))
    au6 = au6 if (narrow > 0.5 or lower_lid_up > 0.5) else 0.5 * au6
    au7 = 0.4 * narrow + 0.3 * lower_lid_up + 0.3 * _p(g("squint_bs"))
    brow_lower = 0.5 * _p(-g("brow_inner")) + 0.3 * _p(g("brow_down_bs")) + 0.2 * _p(-g("brow_gap"))
    au5 = 0.45 * _p(g("upper_lid")) + 0.4 * _p(g("aperture")) + 0.15 * _p(g("eye_wide_bs"))
    au15 = 0.5 * _p(-g("corner")) + 0.5 * _p(g("frown_bs"))
    au20 = 0.5 * _p(g("stretch_bs")) + 0.5 * _p(g("mouth_width")) * (1.0 if corner_up < 1.0 else 0.3)
    thin = _p(-g("lip_thick"))
    press = _p(g("press_bs"))
    opening = _p(g("mouth_open")) + _p(g("jaw_open_bs"))
    au23 = (0.6 * thin + 0.4 * press) if opening < 1.0 else 0.3 * thin
    au24 = (0.4 * thin + 0.6 * press) if opening < 1.0 else 0.0
    au26 = 0.5 * _p(g("jaw_open_bs")) + 0.5 * _p(g("jaw_drop"))
    return {
        "AU1": 0.6 * _p(g("brow_inner")) + 0.4 * _p(g("brow_inner_bs")),
        "AU2": 0.6 * _p(g("brow_outer")) + 0.4 * _p(g("brow_outer_bs")),
        "AU4": brow_lower,
        "AU5": au5,
        "AU6": au6,
        "AU7": au7,
        "AU9": au9,
        "AU10": au10,
        "AU12": au12,
        "AU14": 0.6 * _p(g("dimple_bs")) + 0.4 * _p(g("mouth_width")) * (1.0 if corner_up < 1.0 else 0.0),
        "AU15": au15,
        "AU17": 0.6 * _p(g("shrug_bs")) + 0.4 * _p(-g("jaw_drop")),
        "AU20": au20,
        "AU23": au23,
        "AU24": au24,
        "AU25": _p(g("mouth_open")),
        "AU26": au26,
        "AU45": 0.6 * narrow + 0.4 * _p(g("blink_bs")),
    }


def action_units(d: np.ndarray) -> dict[str, float]:
    """AU intensities 0..1 relative to the baseline, from one deviation vector."""
    return {k: _squash(v) for k, v in raw_units(d).items()}


# (AU, weight): the prototype's score is the weighted mean of these intensities.
PROTOTYPES: dict[str, tuple[tuple[str, float], ...]] = {
    "happiness": (
        (
            "AU12",
            2.0,
        ),
        ("AU6", 1.0),
    ),
    "sadness": (
        (
            "AU15",
            1.5,
        ),
        ("AU1", 1.0),
        ("AU4", 1.0),
        ("AU17", 0.5),
    ),
    "surprise": (
        (
            "AU1",
            1.0,
        ),
        ("AU2", 1.0),
        ("AU5", 1.0),
        ("AU26", 1.5),
    ),
    "fear": (
        (
            "AU1",
            1.0,
        ),
        ("AU2", 0.5),
        ("AU4", 1.0),
        ("AU5", 1.0),
        ("AU20", 1.5),
        ("AU25", 0.5),
    ),
    "anger": (
        (
            "AU4",
            1.5,
        ),
        ("AU7", 1.0),
        ("AU23", 1.0),
        ("AU24", 0.5),
        ("AU5", 0.3),
    ),
    "disgust": (
        (
            "AU9",
            1.5,
        ),
        ("AU10", 1.5),
        ("AU4", 0.5),
        ("AU15", 0.3),
        ("AU17", 0.3),
    ),
}
# AUs that argue against an emotion (weight subtracted): an open jaw is not anger; a smile is none of the
# negative emotions; lowered brows are not surprise; a lip raise is not anger.
AGAINST: dict[str, tuple[tuple[str, float], ...]] = {
    "happiness": (
        (
            "AU15",
            0.5,
        ),
        ("AU4", 0.3),
    ),
    "sadness": (
        (
            "AU12",
            1.0,
        ),
        ("AU26", 0.5),
        ("AU2", 0.5),
    ),
    "surprise": (
        (
            "AU4",
            1.0,
        ),
        ("AU20", 0.5),
        ("AU12", 0.5),
    ),
    "fear": (
        (
            "AU12",
            1.0,
        ),
    ),
    "anger": (
        (
            "AU12",
            1.0,
        ),
        ("AU26", 0.5),
        ("AU1", 0.3),
        ("AU10", 0.5),
        ("AU9", 0.5),
    ),
    "disgust": (
        (
            "AU12",
            0.5,
        ),
        ("AU1", 0.3),
        ("AU2", 0.5),
    ),
}


def prototype_scores(aus: Mapping[str, float]) -> dict[str, float]:
    """How well the AUs match each emotion's prototype, 0..1 (no softmax: 0 everywhere is a still face)."""
    out = {}
    for emotion, parts in PROTOTYPES.items():
        total = sum(w for _, w in parts)
        score = sum(w * aus.get(au, 0.0) for au, w in parts) / total
        score -= sum(w * aus.get(au, 0.0) for au, w in AGAINST[emotion]) / total
        out[emotion] = max(0.0, min(1.0, score))
    return out


def fusion_features(
    aus: Mapping[str, float], appearance: Mapping[str, float] | None, resting: Mapping[str, float] | None
) -> list[float]:
    """What the fused reading weighs: the AUs, then the appearance model's change from this person's resting
    face (a resting face the CNN already reads as sad or angry says nothing about the moment)."""
    values = [float(aus.get(au, 0.0)) for au in AUS]
    if appearance and resting:
        values += [float(appearance.get(e, 0.0)) - float(resting.get(e, 0.0)) for e in FUSED_CLASSES]
    else:
        values += [0.0] * len(FUSED_CLASSES)
    return values


FEATURE_NAMES: tuple[str, ...] = (*AUS, *(f"cnn_{e}" for e in FUSED_CLASSES))


def fuse(
    aus: Mapping[str, float],
    appearance: Mapping[str, float] | None,
    resting: Mapping[str, float] | None = None,
    weights: Mapping[str, Sequence[float]] | None = None,
) -> dict[str, float]:
    """The fused emotion reading over ``FUSED_CLASSES``: a softmax of linear scores over the AUs and the
    appearance model's change from rest, with the weights fitted on the dev half (``FUSION_WEIGHTS``)."""
    table = FUSION_WEIGHTS if weights is None else weights
    x = fusion_features(aus, appearance, resting)
    logits = {e: sum(w * v for w, v in zip(table[e][:-1], x, strict=True)) + table[e][-1] for e in FUSED_CLASSES}
    top = max(logits.values())
    exps = {e: math.exp(v - top) for e, v in logits.items()}
    total = sum(exps.values())
    return {e: exps[e] / total for e in FUSED_CLASSES}


#: Prototype reading alone (diagnostic): sharpness of the scores and the level a prototype must reach to
#: move the reading away from neutral.
AU_SHARPNESS = 8.0
NEUTRAL_FLOOR = 0.12


def au_distribution(aus: Mapping[str, float]) -> dict[str, float]:
    """The EMFACS prototype scores alone as a distribution over ``FUSED_CLASSES`` (neutral when nothing matches)."""
    scores = prototype_scores(aus)
    logits = {e: AU_SHARPNESS * s for e, s in scores.items()}
    logits["neutral"] = AU_SHARPNESS * NEUTRAL_FLOOR
    top = max(logits.values())
    exps = {e: math.exp(v - top) for e, v in logits.items()}
    total = sum(exps.values())
    return {e: exps[e] / total for e in FUSED_CLASSES}


def top_emotion(reading: Mapping[str, float], classes: tuple[str, ...] = FUSED_CLASSES) -> str:
    return max(classes, key=lambda e: reading.get(e, 0.0))


# Fitted by `callcoach bench real --fit` on the dev half only (see docs/detector.md); per class, one weight
# per FEATURE_NAMES entry, then the bias.
# fmt: off
FUSION_WEIGHTS: dict[str, tuple[float, ...]] = {
    "anger": (
        -2.188, -1.157, 6.701, -0.971, 1.031, 2.67, 2.558, -2.293, -1.081, -0.922, -0.015, 1.161,
        -2.263, 2.239, 0.922, 0.324, 0.18, -2.138, 2.607, -0.126, -1.294, -0.796, 0.007, -0.437, 0.04,
        -0.234,
    ),
    "disgust": (
        -0.812, -0.297, 3.502, -0.848, 0.951, 3.138, 2.44, 2.347, -1.861, 1.39, 1.879, 1.87, -0.03,
        -1.393, 0.214, 0.459, -1.489, 3.178, 1.775, 1.953, -1.707, -2.223, 0.202, 0.053, -0.053, -2.105,
    ),
    "fear": (
        3.068, -2.016, -0.61, 1.037, -0.625, -1.83, -0.933, 1.224, -0.491, 0.365, -0.405, -1.895, 1.338,
        -1.766, -0.953, 3.791, 0.491, -0.464, -0.573, -0.411, 1.824, -0.296, 0.504, 0.084, -1.132, 0.539,
    ),
    "happiness": (
        -0.505, 0.157, -3.362, -0.433, 1.36, 0.113, 2.635, -0.192, 5.615, 0.2, -1.434, -1.282, 1.833,
        1.801, 0.809, 0.18, 0.998, 1.113, -1.058, -0.715, -0.017, 2.047, -1.409, -0.248, 1.4, -1.508,
    ),
    "sadness": (
        2.8, -1.555, -0.98, 0.211, 0.869, 1.379, -2.389, 1.458, -0.159, 0.225, 1.386, 3.383, 2.345,
        0.332, 0.026, -4.133, -0.476, 2.056, -0.798, -0.201, 0.797, 0.335, 1.621, -0.464, -1.289, 0.94,
    ),
    "surprise": (
        1.131, 5.92, -1.972, 2.921, -1.822, -2.747, -2.367, -0.748, -0.708, -0.33, 1.089, -0.672,
        -1.552, -0.108, -0.145, 2.073, 3.141, -2.103, -1.151, -0.346, 0.685, 0.73, -0.761, 1.191,
        -0.349, -1.062,
    ),
    "neutral": (
        -3.494, -1.052, -3.278, -1.917, -1.764, -2.724, -1.943, -1.796, -1.316, -0.927, -2.5, -2.566,
        -1.672, -1.105, -0.871, -2.696, -2.845, -1.642, -0.803, -0.153, -0.287, 0.203, -0.164, -0.179,
        1.382, 3.429,
    ),
}
# fmt: on
