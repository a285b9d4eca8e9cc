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

    def g(name: str) -> float:  # terse reads keep the table below legible
        return float(d[_I[name]])

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


def reading_without(reading: Mapping[str, float], aus: Mapping[str, float], drop: Sequence[str]) -> dict[str, float]:
    """What ``fuse`` (default weights) would read had the ``drop`` AUs stayed at rest, from its reading and the AUs.

    The scores are linear in each AU before the softmax, so an AU's share divides out exactly: the rest of the
    face's reading, e.g. whether pressed lips (AU23/24) come with an emotion elsewhere or alone."""
    index = {au: i for i, au in enumerate(AUS)}
    scaled = {
        e: reading.get(e, 0.0) * math.exp(-sum(FUSION_WEIGHTS[e][index[au]] * aus.get(au, 0.0) for au in drop))
        for e in FUSED_CLASSES
    }
    total = sum(scaled.values())
    return {e: v / total for e, v in scaled.items()} if total > 0 else dict(reading)


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
# per FEATURE_NAMES entry, then the bias. Refitted after face-api's net became the appearance model and the
# resting-face baseline landed: 720 dev examples from 48 people, L2 0.0003, leave-people-out CV accuracy 0.803.
# fmt: off
FUSION_WEIGHTS: dict[str, tuple[float, ...]] = {
    "anger": (
        -2.257, -1.318, 6.299, -1.192, 0.808, 2.056, 2.016, -2.371, -0.864, -0.902, -0.451, 1.086,
        -2.071, 2.095, 0.924, 0.579, 0.213, -2.34, 3.239, 0.245, -0.913, -0.924, 0.008, -1.328, -0.328,
        0.085,
    ),
    "disgust": (
        -0.72, -0.164, 3.042, -0.551, 1.088, 3.34, 2.263, 2.391, -2.092, 1.194, 1.925, 1.46, -0.102,
        -1.135, 0.335, 0.067, -1.608, 2.807, -0.225, 2.332, 0.037, -0.912, -0.134, -0.588, -0.51, -1.895,
    ),
    "fear": (
        2.952, -1.76, -0.897, 1.026, -0.439, -1.735, -0.87, 1.165, -0.547, 0.149, -0.27, -1.857, 1.167,
        -1.631, -0.892, 3.852, 0.318, -0.448, -1.789, 0.319, 2.78, -0.366, 0.135, 0.062, -1.141, 0.3,
    ),
    "happiness": (
        -0.614, 0.141, -3.024, -0.295, 1.277, 0.163, 2.444, -0.211, 5.452, 0.226, -1.437, -1.279, 1.693,
        1.661, 0.75, 0.202, 0.848, 0.896, -0.661, -0.838, -0.471, 2.464, -1.292, 0.779, 0.02, -1.474,
    ),
    "sadness": (
        2.294, -1.47, -0.796, -0.115, 0.503, 1.091, -2.048, 0.849, -0.445, 0.45, 1.507, 3.095, 2.295,
        0.158, -0.182, -4.215, -0.422, 2.342, 0.281, -1.408, 0.099, 0.137, 1.862, -0.438, -0.533, 1.007,
    ),
    "surprise": (
        1.294, 5.407, -1.746, 2.696, -1.663, -2.555, -2.245, -0.285, -0.465, -0.264, 1.003, -0.382,
        -1.389, -0.149, -0.167, 2.014, 3.105, -1.899, -0.493, -0.533, -1.113, -0.201, 0.252, 2.041,
        0.047, -1.237,
    ),
    "neutral": (
        -2.949, -0.836, -2.878, -1.569, -1.575, -2.36, -1.56, -1.537, -1.039, -0.853, -2.278, -2.124,
        -1.593, -0.999, -0.767, -2.499, -2.455, -1.359, -0.352, -0.117, -0.419, -0.198, -0.831, -0.527,
        2.445, 3.213,
    ),
}
# fmt: on
