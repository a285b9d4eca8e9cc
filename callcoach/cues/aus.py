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
        -1.924, -1.177, 6.108, -0.809, 1.192, 2.524, 2.119, -2.122, -0.404, -0.869, 0.239, 0.971,
        -1.716, 1.956, 0.726, 0.296, 0.442, -1.39, 3.455, -0.094, -1.861, -1.159, -0.049, -0.651, 0.358,
        -0.358,
    ),
    "disgust": (
        -0.849, -0.449, 3.203, -0.804, 1.124, 2.601, 2.158, 2.12, -0.483, 0.849, 1.274, 1.026, 0.514,
        -1.221, 0.036, 0.427, -0.936, 3.365, 2.759, 2.566, -2.682, -3.419, 0.33, 0.428, 0.018, -2.244,
    ),
    "fear": (
        2.557, -1.411, -0.74, 1.076, -0.412, -1.19, -0.416, 1.551, -0.048, 0.108, -0.426, -1.63, 1.048,
        -1.506, -0.915, 3.684, 0.473, -0.449, -0.84, -0.648, 2.772, -0.857, 0.455, 0.56, -1.442, 0.27,
    ),
    "happiness": (
        -0.333, -0.29, -1.991, -0.306, 0.735, 0.19, 2.19, -0.287, 3.258, 0.685, -0.927, -0.942, 1.106,
        1.438, 1.053, -0.209, 0.532, 0.708, -1.512, -0.937, -0.025, 4.256, -2.137, -0.639, 0.995, -1.066,
    ),
    "sadness": (
        2.364, -0.781, -1.757, 0.327, 1.07, 1.464, -1.849, 0.856, 0.122, 0.297, 0.418, 3.489, 1.824,
        0.544, 0.146, -3.744, -0.565, 1.519, -0.55, 0.141, 0.809, 0.249, 2.273, -0.924, -1.998, 0.69,
    ),
    "surprise": (
        1.57, 5.417, -1.732, 2.543, -1.589, -2.36, -1.993, -0.481, -0.748, -0.245, 1.427, -0.468,
        -1.402, -0.05, -0.137, 2.16, 2.972, -1.76, -1.609, -0.712, 1.363, 0.742, -0.965, 1.657, -0.477,
        -1.151,
    ),
    "neutral": (
        -3.385, -1.309, -3.091, -2.029, -2.122, -3.229, -2.21, -1.638, -1.697, -0.824, -2.005, -2.447,
        -1.375, -1.16, -0.909, -2.614, -2.917, -1.993, -1.704, -0.317, -0.375, 0.188, 0.093, -0.431,
        2.547, 3.859,
    ),
}
# fmt: on
