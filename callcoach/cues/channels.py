"""Channels: each turns baseline deviations into one activation (>= 1 means 'this movement is there').

A channel combines a geometric measure with the matching blendshape so that neither a landmark wobble nor
a blendshape that drifts with pose can fire a cue alone. Several cues share a channel and are told apart
at the apex (a smile with or without eye crinkle; a brow raise with or without widened eyes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from callcoach.cues.features import INDEX

CHANNELS: tuple[str, ...] = (
    "smile", "brow_raise", "compression", "lip_pull", "nose", "frown", "anger", "gaze",
)
# Talking moves the lips all the time: mouth channels need this much more while speech is detected.
TALK_GAIN = {"compression": 1.8, "lip_pull": 1.6, "nose": 1.5, "frown": 1.5, "smile": 1.5}
# Channels read from the eyes are held during a blink: a closing lid is not a squint or a frown.
EYE_CHANNELS = frozenset({"gaze"})

_I = INDEX


def _pos(x: float) -> float:
    return x if x > 0.0 else 0.0


def _mean_pos(*xs: float) -> float:
    return sum(_pos(x) for x in xs) / len(xs)


@dataclass(frozen=True)
class ApexReading:
    """Secondary evidence read at a channel's apex, which decides the cue name and emotion."""

    crinkle: float
    widen: float
    jaw: float
    stretch: float
    #: One-sided mouth-corner movement and the mean corner raise (geometry, in floor units).
    asym: float
    corner: float


def eye_crinkle(d: np.ndarray) -> float:
    """Duchenne marker: the eye opening narrows as the cheeks push the lower lids up (orbicularis oculi).

    The cheek landmarks are left out on purpose: they sit beside the nose and rise with the mouth corners
    in any smile, so they cannot tell a felt smile from a polite one.
    """
    return 0.5 * _pos(-d[_I["aperture"]]) + 0.5 * _pos(d[_I["squint_bs"]])


def one_sided(apex: ApexReading) -> bool:
    """A corner movement that is mostly on one side: contempt's unilateral pull, not a smile."""
    return apex.asym >= 1.0 and apex.asym >= 0.8 * abs(apex.corner)


def activations(d: np.ndarray, talking: bool) -> dict[str, float]:
    """One activation per channel from the deviation vector ``d`` (see ``RobustBaseline.deviation``)."""
    # The geometric corner raise must take part: speech vowels ("ee") push mouthSmile up on their own.
    smile = 0.5 * d[_I["corner"]] + 0.5 * d[_I["smile_bs"]] if d[_I["corner"]] > 0.4 else 0.0
    # A smile also lifts the upper lip a little; the nose channel must not read that as disgust.
    smiling = smile > 0.7
    brow_raise = _mean_pos(d[_I["brow_inner"]], d[_I["brow_outer"]], d[_I["brow_inner_bs"]],
                           d[_I["brow_outer_bs"]])
    # Lips pressed: thinner vermilion while the mouth is not opening.
    opening = _pos(d[_I["mouth_open"]]) + _pos(d[_I["jaw_open_bs"]])
    compression = _pos(0.6 * -d[_I["lip_thick"]] + 0.4 * d[_I["press_bs"]]) if opening < 1.0 else 0.0
    # MediaPipe's blendshapes couple the two corners; the landmarks show a one-sided pull plainly.
    lip_pull = abs(0.7 * d[_I["corner_asym"]] + 0.3 * d[_I["smile_asym"]])
    # The landmarks must show the nose-to-lip distance shrinking: mouthUpperUp alone also rises in every
    # teeth-showing laugh, and must not turn a laugh into disgust.
    nose_geo = _mean_pos(-d[_I["upper_lip_nose"]], -d[_I["nose_eye"]])
    nose = 0.0
    if not smiling and nose_geo >= 0.5:
        nose = (2.0 * nose_geo + min(_pos(d[_I["upper_up_bs"]]), 3.0 * nose_geo)) / 3.0
    frown = _pos(0.5 * -d[_I["corner"]] + 0.5 * d[_I["frown_bs"]]) + 0.25 * _pos(d[_I["brow_inner_bs"]])
    # MediaPipe sees only about a third of a real brow lowering, so the inner-brow landmarks lead and the
    # tightened lids and pressed lips (which it sees well) carry the rest of the evidence.
    brow_lower = 0.5 * _pos(-d[_I["brow_inner"]]) + 0.3 * _pos(d[_I["brow_down_bs"]]) + 0.2 * _pos(-d[_I["brow_gap"]])
    tighten = _mean_pos(-d[_I["aperture"]], d[_I["squint_bs"]], d[_I["press_bs"]])
    anger = 0.5 * brow_lower + 0.5 * min(tighten, 3.0 * brow_lower) if brow_lower > 0.5 else 0.0
    gaze = float(np.hypot(d[_I["gaze_x"]], d[_I["gaze_y"]]))
    out = {
        "smile": _pos(smile),
        "brow_raise": brow_raise,
        "compression": compression,
        "lip_pull": lip_pull,
        "nose": nose,
        "frown": frown if smile < 0.5 else 0.0,
        "anger": anger,
        "gaze": gaze,
    }
    if talking:
        for name, gain in TALK_GAIN.items():
            out[name] /= gain
    return out


def apex_reading(d: np.ndarray) -> ApexReading:
    return ApexReading(
        crinkle=eye_crinkle(d),
        widen=_mean_pos(d[_I["aperture"]], d[_I["upper_lid"]]),
        jaw=_mean_pos(d[_I["mouth_open"]], d[_I["jaw_open_bs"]]),
        stretch=_pos(d[_I["stretch_bs"]]),
        asym=abs(float(d[_I["corner_asym"]])),
        corner=float(d[_I["corner"]]),
    )


def name_cue(channel: str, apex: ApexReading, appearance: dict[str, float] | None) -> tuple[str, str | None]:
    """Cue name and suggested emotion for an event on ``channel``, from what was seen at its apex."""
    if channel in ("smile", "lip_pull"):
        if one_sided(apex):
            return "unilateral_lip_pull", "contempt"
        if channel == "lip_pull" and apex.corner < 1.0:
            return "unilateral_lip_pull", "contempt"
        return ("duchenne_smile", "happiness") if apex.crinkle >= 1.0 else ("polite_smile", None)
    if channel == "brow_raise":
        if apex.widen >= 0.8 or apex.jaw >= 1.0:
            fearful = apex.stretch >= 1.0 or (
                appearance is not None and appearance.get("fear", 0.0) > appearance.get("surprise", 0.0)
            )
            return "micro_surprise", "fear" if fearful else "surprise"
        return "eyebrow_flash", None
    return {
        "compression": ("lip_compression", None),
        "nose": ("nose_wrinkle", "disgust"),
        "frown": ("micro_frown", "sadness"),
        "anger": ("micro_anger", "anger"),
        "gaze": ("gaze_aversion", None),
    }[channel]
