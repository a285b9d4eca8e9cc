"""Channels: each turns baseline deviations into one activation (>= 1 means 'this movement is there').

A channel combines a geometric measure with the matching blendshape so that neither a landmark wobble nor
a blendshape that drifts with pose can fire a cue alone. Several cues share a channel and are told apart
at the apex (a smile with or without eye crinkle; a brow raise with or without widened eyes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from callcoach.cues.aus import reading_without, top_emotion
from callcoach.cues.features import INDEX

CHANNELS: tuple[str, ...] = (
    "smile",
    "brow_raise",
    "compression",
    "lip_pull",
    "nose",
    "frown",
    "anger",
    "gaze",
    "expression",
)
# Talking moves the lips all the time: mouth channels need this much more while speech is detected.
TALK_GAIN = {"compression": 1.8, "lip_pull": 1.6, "nose": 1.5, "frown": 1.5, "smile": 1.5}
# Speech moves the mouth AUs the fused reading weighs: the held-expression channel needs more too.
EXPRESSION_TALK_GAIN = 1.5
# Channels read from the eyes are held during a blink: a closing lid is not a squint or a frown.
EYE_CHANNELS = frozenset({"gaze"})
#: The six emotions the fused reading may hand a movement.
SIX: tuple[str, ...] = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")

_I = INDEX


def _pos(x: float) -> float:
    return x if x > 0.0 else 0.0


def _mean_pos(*xs: float) -> float:
    return sum(_pos(x) for x in xs) / len(xs)


@dataclass(frozen=True)
class ApexData:
    """What the engine keeps of a channel's apex frame: deviations, the appearance model's probabilities,
    the action units and the fused emotion reading (``callcoach.cues.aus``)."""

    d: np.ndarray
    appearance: dict[str, float] | None
    aus: dict[str, float] | None
    reading: dict[str, float] | None
    #: The eyes were covered at the apex: whether a smile reached them cannot be seen.
    eyes_hidden: bool = False


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
    #: Action units at the apex (0..1), empty when unknown.
    aus: Mapping[str, float] = field(default_factory=dict)
    #: The eyes were covered at the apex (a hand, dark glasses).
    eyes_hidden: bool = False

    def au(self, name: str) -> float:
        return float(self.aus.get(name, 0.0))


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
    brow_raise = _mean_pos(d[_I["brow_inner"]], d[_I["brow_outer"]], d[_I["brow_inner_bs"]], d[_I["brow_outer_bs"]])
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


#: The held-expression channel: the fused reading (AU prototypes with the appearance model's change from
#: rest) clearly away from neutral. A posed or held expression often moves brows, lids and lip corners
#: each a little, none past its own channel's threshold, and the reading that weighs them together is
#: right more often than any one movement (``docs/detector.md``). Its cue is named by that reading.
EXPRESSION = "expression"
#: The top emotion's lead over neutral that reads as 1.0 (chosen on the dev half of `callcoach bench real`).
EXPRESSION_P = 0.4


def expression_activation(reading: Mapping[str, float] | None, talking: bool) -> float:
    """How clearly the fused reading names one emotion over neutral (>= 1: an expression is held)."""
    if not reading:
        return 0.0
    top = max(SIX, key=lambda e: reading.get(e, 0.0))
    lead = reading.get(top, 0.0) - reading.get("neutral", 0.0)
    return _pos(lead) / EXPRESSION_P / (EXPRESSION_TALK_GAIN if talking else 1.0)


def apex_reading(d: np.ndarray, aus: Mapping[str, float] | None = None, eyes_hidden: bool = False) -> ApexReading:
    return ApexReading(
        crinkle=eye_crinkle(d),
        widen=_mean_pos(d[_I["aperture"]], d[_I["upper_lid"]]),
        jaw=_mean_pos(d[_I["mouth_open"]], d[_I["jaw_open_bs"]]),
        stretch=_pos(d[_I["stretch_bs"]]),
        asym=abs(float(d[_I["corner_asym"]])),
        corner=float(d[_I["corner"]]),
        aus=dict(aus or {}),
        eyes_hidden=eyes_hidden,
    )


#: AU intensities (0..1, ``callcoach.cues.aus``) the naming reads: corners pulled up, lips or jaw apart, and
#: the cheek raise that makes a smile reach the eyes.
LAUGH_AU12 = 0.45
LAUGH_OPEN = 0.3
CHEEK_AU6 = 0.3
#: A cheek raise this strong with the eyes squeezed (AU7 or AU45) also makes the smile felt: a broad laugh
#: closes the eyes, and the cheek landmarks then partly hide behind the lids.
SQUEEZE_AU6 = 0.2
SQUEEZE = 0.3
#: The cue that carries each emotion when the fused reading decides among a channel's rivals.
EMOTION_CUE: dict[str, str] = {
    "happiness": "duchenne_smile",
    "sadness": "micro_frown",
    "anger": "micro_anger",
    "disgust": "nose_wrinkle",
    "surprise": "micro_surprise",
    "fear": "micro_surprise",
}
# Channels whose movement belongs to an emotion; the fused reading (AU prototypes with the appearance
# model) may name another emotion than the channel's own when it is clearly surer of it. A lowered brow is
# anger, disgust or sadness; a nose-to-lip shortening disgust or anger; a raised brow with widened eyes
# surprise or fear; but the strongest single movement of a face is not always its emotion's signature.
# Pressed lips carry no emotion of their own (their "own" is neutral) but belong to anger and sadness faces.
_RIVALS: dict[str, tuple[str, ...]] = {
    "anger": SIX,
    "nose": SIX,
    "frown": SIX,
    "brow_raise": SIX,
    "smile": SIX,
    "compression": SIX,
}
#: The fused reading overrides a channel's own emotion when its top emotion has at least this probability
#: and leads the channel's own by this margin (chosen on the dev half of `callcoach bench real`). Pressed
#: lips switch by the same rule, their own being neutral: on the synthetic set a lip compression reads at
#: most 0.22 of any emotion.
SWITCH_P = 0.5
SWITCH_MARGIN = 0.2
#: A raised brow belongs to three emotions alike (EMFACS: surprise 1+2, fear 1+2+4+5, sadness 1+4), so its
#: own, surprise, is the weakest guess of any channel: the reading names it fear or sadness as soon as it
#: puts that emotion ahead of surprise and of neutral, at this probability at least. On the dev half's
#: cross-fades (colour, grey, small compressed tiles; docs/detector.md) 0 to 0.3 gave the same counts and
#: 0.35 fewer: 0.25 is a pick inside that flat range, not a measured optimum.
BROW_SWITCH_P = 0.25
BROW_SHARED = ("fear", "sadness")
#: A reading this sure of one emotion names the cue whatever the movement's own name says: a smile it
#: reads as happiness is felt, a brow raise it reads as surprise is surprise (not a greeting's flash),
#: pressed lips it reads as anger are anger, lips apart it reads as fear are not a laugh. On the synthetic
#: set a polite smile reads at most 0.66 happiness and an eyebrow flash 0.59 surprise; chosen on the dev
#: half of `callcoach bench real`.
SURE_P = 0.75
#: ... and for surprise on a brow raise, the eyes widened or the lips parted at least this much (AU 0..1).
SURPRISE_OPEN_AU = 0.1
#: The action units of pressed lips: the compression channel's own movement. AU17 (MediaPipe's
#: mouthShrugLower, the lower lip pushed up) rises with every press: left in, a listener's mild press read
#: as sadness from it alone (a real talking clip, docs/detector.md); taking it out changed no photo's cue.
LIP_AUS = ("AU17", "AU23", "AU24")


def laughing(apex: ApexReading) -> bool:
    """Corners pulled up with the lips apart: a smile or a laugh showing teeth (AU12 + AU25/26)."""
    return apex.au("AU12") >= LAUGH_AU12 and max(apex.au("AU25"), apex.au("AU26")) >= LAUGH_OPEN


def sure_emotion(reading: Mapping[str, float] | None) -> str | None:
    """The reading's top emotion when it is at least ``SURE_P`` sure of it, else None."""
    if not reading:
        return None
    top = max(SIX, key=lambda e: reading.get(e, 0.0))
    return top if reading.get(top, 0.0) >= SURE_P else None


def _smile(apex: ApexReading, sure: str | None = None) -> tuple[str, str | None]:
    if sure is not None and sure != "happiness":
        return _by_emotion(sure, apex)  # lips apart with raised corners, read surely as fear, disgust ...
    # Eye crinkle on the held eye measures, or the cheek raise (AU6) read on the eyes as they are: a broad
    # laugh squeezes the eyes as far as a blink does, and the held measures would miss it.
    squeezed = apex.au("AU6") >= SQUEEZE_AU6 and max(apex.au("AU7"), apex.au("AU45")) >= SQUEEZE
    # Behind a hand or dark glasses the eyes cannot show whether the smile reached them; the appearance CNN
    # still reads the whole crop and would vouch for it, so a sure reading does not make it felt there.
    sure_felt = sure == "happiness" and not apex.eyes_hidden
    felt = apex.crinkle >= 1.0 or apex.au("AU6") >= CHEEK_AU6 or squeezed or sure_felt
    return ("duchenne_smile", "happiness") if felt else ("polite_smile", None)


def _pick(channel: str, default: str, reading: Mapping[str, float] | None) -> str:
    if not reading:
        return default
    top = max(_RIVALS[channel], key=lambda e: (reading.get(e, 0.0), e == default))
    if (
        top != default
        and reading.get(top, 0.0) >= SWITCH_P
        and reading.get(top, 0.0) - reading.get(default, 0.0) >= SWITCH_MARGIN
    ):
        return top
    return default


def _brow_shared(reading: Mapping[str, float] | None) -> str:
    """Fear or sadness when the reading leans to it over surprise and neutral (``BROW_SWITCH_P``), else
    surprise: the two other emotions whose faces raise the brows."""
    if not reading:
        return "surprise"
    top = top_emotion(reading, SIX)
    p = reading.get(top, 0.0)
    ahead = p > reading.get("surprise", 0.0) and p > reading.get("neutral", 0.0)
    leans = top in BROW_SHARED and p >= BROW_SWITCH_P and ahead
    return top if leans else "surprise"


def _by_emotion(emotion: str, apex: ApexReading, sure: str | None = None) -> tuple[str, str | None]:
    if emotion == "happiness":
        return _smile(apex, sure)
    return EMOTION_CUE[emotion], emotion


def _brow_raise(apex: ApexReading, reading: Mapping[str, float] | None, sure: str | None) -> tuple[str, str | None]:
    """Raised brows: surprise, fear, or a greeting's eyebrow flash."""
    wide = apex.widen >= 0.8 or apex.jaw >= 1.0
    emotion = _pick("brow_raise", "surprise", reading)
    if emotion == "surprise" and wide and apex.stretch >= 1.0:
        emotion = "fear"  # lips stretched sideways (AU20) mark fear outright
    elif emotion == "surprise":
        emotion = _brow_shared(reading)
    # EMFACS surprise is raised brows with widened eyes or parted lips (AU5, AU25/26): brows alone are
    # a greeting's flash however sure the reading is.
    opened = max(apex.au("AU5"), apex.au("AU25"), apex.au("AU26")) >= SURPRISE_OPEN_AU
    if not wide and emotion == "surprise" and not (sure == "surprise" and opened):
        return "eyebrow_flash", None
    return _by_emotion(emotion, apex, sure)


def _corners_up(apex: ApexReading, reading: Mapping[str, float] | None, sure: str | None) -> tuple[str, str | None]:
    """Mouth corners pulled up, lips closed or apart: a smile, unless the reading clearly names another
    emotion by the emotion channels' switch (bared teeth in anger or disgust, a raised upper lip, a grimace)."""
    return _by_emotion(_pick("smile", "happiness", reading), apex, sure)


def _held(apex: ApexReading, reading: Mapping[str, float] | None, sure: str | None) -> tuple[str, str | None]:
    """The held expression fires on the reading alone, so its top emotion is the cue's, and read as
    happiness it is a felt smile (a smile the corners alone would show fires the smile channel, which
    explains it). A laugh's shape stays a smile unless that emotion is clearly ahead of happiness."""
    top = max(SIX, key=lambda e: (reading or {}).get(e, 0.0))
    emotion = _pick("smile", "happiness", reading) if laughing(apex) else top
    return _by_emotion(emotion, apex, top if emotion == top else sure)


def _pressed(apex: ApexReading, reading: Mapping[str, float] | None, sure: str | None) -> tuple[str, str | None]:
    """Pressed lips belong to the emotion the reading clearly names (anger, sadness ...) when the rest of the
    face shows one too: the reading without the lips' own AUs (17, 23, 24) is not neutral. Lips pressed alone
    stay ``lip_compression`` however the reading takes them (pressed lips weigh towards anger)."""
    emotion = _pick("compression", "neutral", reading)
    if emotion == "neutral" or reading is None:
        return "lip_compression", None
    rest = reading_without(reading, apex.aus, LIP_AUS)
    if max(rest.get(e, 0.0) for e in SIX) < rest.get("neutral", 0.0):
        return "lip_compression", None
    return _by_emotion(emotion, apex, sure)


def name_cue(channel: str, apex: ApexReading, reading: Mapping[str, float] | None) -> tuple[str, str | None]:
    """Cue name and suggested emotion for an event on ``channel``, from what was seen at its apex.

    ``reading`` is the fused emotion reading at the apex (``callcoach.cues.aus.fuse``); among the emotions
    a channel's movement can belong to, it decides which one the cue suggests.
    """
    sure = sure_emotion(reading)
    if channel in ("smile", "lip_pull"):
        if one_sided(apex) or (channel == "lip_pull" and apex.corner < 1.0):
            # Contempt is not among the readings' emotions, so no switch margin can name another; but an upper
            # lip raised on one side is as much disgust's (AU10) as contempt's, and a sure reading of anything
            # but happiness names the cue as it does on every other channel.
            if sure is not None and sure != "happiness":
                return _by_emotion(sure, apex, sure)
            return "unilateral_lip_pull", "contempt"
        return _corners_up(apex, reading, sure) if channel == "smile" else _smile(apex, sure)
    if channel == EXPRESSION:
        return _held(apex, reading, sure)
    if channel in ("nose", "frown", "anger") and laughing(apex):
        # A laugh raises the upper lip and shortens the nose-to-lip distance too: a smile, unless the
        # reading clearly says otherwise.
        return _corners_up(apex, reading, sure)
    if channel == "brow_raise":
        return _brow_raise(apex, reading, sure)
    if channel == "compression":
        return _pressed(apex, reading, sure)
    if channel in _RIVALS:
        default = {"nose": "disgust", "frown": "sadness", "anger": "anger"}[channel]
        return _by_emotion(_pick(channel, default, reading), apex, sure)
    return {"gaze": ("gaze_aversion", None)}[channel]
