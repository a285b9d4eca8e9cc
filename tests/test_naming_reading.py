"""Naming from the fused reading below SURE_P, on scripted series: pressed lips in an emotional face, bared
teeth read as anger, and a held expression read as happiness (docs/detector.md, "A clear reading names ...")."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scripted import BROW_RAISE, LIP_PRESS, SMILE, Move, Script

from callcoach.cues._arbitrate import _HELD_KEEP
from callcoach.cues._describe import _held_under
from callcoach.cues.aus import AUS, fuse
from callcoach.cues.channels import (
    CHANNELS,
    EXPRESSION,
    SURE_P,
    SWITCH_MARGIN,
    SWITCH_P,
    ApexData,
    ApexReading,
    apex_reading,
    name_cue,
)
from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.features import FLOORS
from callcoach.cues.spotter import Excursion
from callcoach.cues.vocabulary import Cue

# The appearance CNN of a resting face; a move shifts ``amount`` of neutral to one emotion at its apex.
REST_CNN = {
    "neutral": 0.8,
    "happiness": 0.05,
    "sadness": 0.05,
    "anger": 0.03,
    "surprise": 0.03,
    "fear": 0.02,
    "disgust": 0.02,
}
BROW_LOWER = {
    "brow_inner_r": -0.03,
    "brow_inner_l": -0.03,
    "browDownLeft": 0.15,
    "browDownRight": 0.15,
    "brow_gap": -0.02,
}
# Corners up with the lips apart (AU12 + AU25/26) and the brows down: teeth bared, not a laugh.
SNARL = {**SMILE, "mouth_open": 0.12, "jawOpen": 0.3, **BROW_LOWER, "upper_lip_to_nose": -0.02}
# mouthSmile and a cheek raise without the corners' geometry: the smile channel stays silent.
SOFT_SMILE = {
    "cheek_r": 0.012,
    "cheek_l": 0.012,
    "lower_lid_r": 0.008,
    "lower_lid_l": 0.008,
    "cheekSquintLeft": 0.3,
    "cheekSquintRight": 0.3,
    "mouthSmileLeft": 0.6,
    "mouthSmileRight": 0.6,
}


@dataclasses.dataclass
class Run:
    cues: list[Cue]
    peaks: dict[str, float]  # each channel's largest activation
    read: dict[str, float]  # each class's largest probability in the fused reading


def run(deltas: dict[str, float], cnn_to: str | None = None, amount: float = 0.0) -> Run:
    """One 2.5-5 s movement (apex at 3 s) after a 2 s baseline, with the CNN following it when ``cnn_to``."""
    move = Move(2.5, 5.0, deltas, apex=3.0)
    engine = CueEngine(EngineConfig(baseline_seconds=2.0))
    out = Run([], {}, {})
    for obs in Script(duration=6.0, moves=[move]).frames():
        if cnn_to is not None:
            probs = dict(REST_CNN)
            probs["neutral"] -= amount * move.weight(obs.t_s)
            probs[cnn_to] += amount * move.weight(obs.t_s)
            obs = dataclasses.replace(obs, faces=tuple(dataclasses.replace(f, emotion=probs) for f in obs.faces))
        out.cues.extend(e for e in engine.update(obs) if isinstance(e, Cue))
        for name, value in engine.face_activations(0).items():
            out.peaks[name] = max(out.peaks.get(name, 0.0), value)
        for name, p in (engine.face_reading(0) or {}).items():
            out.read[name] = max(out.read.get(name, 0.0), p)
    out.cues.extend(e for e in engine.finish() if isinstance(e, Cue))
    return out


def named(r: Run) -> list[tuple[str, str | None]]:
    return [(c.cue, c.emotion) for c in r.cues]


def test_lips_pressed_alone_stay_lip_compression_though_the_reading_leans_to_anger() -> None:
    r = run({k: 1.5 * v for k, v in LIP_PRESS.items()})
    # The AUs of pressed lips weigh towards anger: the reading clearly names it, from the lips alone.
    assert r.read["anger"] >= SWITCH_P
    assert named(r) == [("lip_compression", None)]


def test_pressed_lips_with_a_raised_chin_alone_stay_lip_compression() -> None:
    # Pressing the lips pushes the lower lip up (AU17): the reading leans to sadness from the press alone
    # (a listener's mild press on a real talking clip was named micro_frown from it, docs/detector.md).
    r = run({**LIP_PRESS, "mouthShrugLower": 0.8})
    assert r.read["sadness"] >= SWITCH_P  # the switch rule alone would name it sadness
    assert max(v for k, v in r.peaks.items() if k not in ("compression", EXPRESSION)) < 1.0
    assert named(r) == [("lip_compression", None)]


def test_pressed_lips_in_a_sad_face_are_named_by_the_clear_reading() -> None:
    # The same press with the inner brows raised and the corners a little down (AU1, AU15): the rest of
    # the face shows sadness too.
    r = run({**LIP_PRESS, "mouthShrugLower": 0.8, "browInnerUp": 0.3, "mouthFrownLeft": 0.05, "mouthFrownRight": 0.05})
    assert r.read["sadness"] >= SWITCH_P
    assert named(r) == [("micro_frown", "sadness")]


def test_bared_teeth_read_clearly_as_anger_are_not_a_smile() -> None:
    r = run(SNARL, "anger", 0.5)
    assert r.read["anger"] < SURE_P
    assert r.peaks["smile"] >= 1.0  # the corners' movement is what fires
    assert named(r) == [("micro_anger", "anger")]
    # The same mouth with a face the CNN reads as happy stays a smile.
    happy = run({**SMILE, "mouth_open": 0.12, "jawOpen": 0.3}, "happiness", 0.5)
    assert [n for n, _ in named(happy)] in (["duchenne_smile"], ["polite_smile"])


def test_a_held_expression_read_as_happiness_is_a_felt_smile_under_the_sure_reading() -> None:
    r = run(SOFT_SMILE, "happiness", 0.5)
    assert r.peaks["smile"] < 1.0 and r.peaks[EXPRESSION] >= 1.0
    assert r.read["happiness"] < SURE_P
    assert named(r) == [("duchenne_smile", "happiness")]


def _apex(aus: dict[str, float]) -> ApexReading:
    return apex_reading(np.zeros(len(FLOORS)), aus)


def test_pressed_lips_are_named_only_when_the_rest_of_the_face_shows_the_emotion() -> None:
    still = {au: 0.0 for au in AUS}
    pressed = still | {"AU23": 0.8, "AU24": 0.8}
    alone = fuse(pressed, None)
    top = max(alone, key=alone.__getitem__)
    assert top == "anger" and alone["anger"] - alone["neutral"] >= SWITCH_MARGIN  # the switch alone would fire
    assert name_cue("compression", _apex(pressed), alone) == ("lip_compression", None)
    chin = pressed | {"AU17": 0.8}  # the lower lip pushed up by the press itself
    leaning = fuse(chin, None)
    assert max(leaning, key=leaning.__getitem__) == "sadness"
    assert name_cue("compression", _apex(chin), leaning) == ("lip_compression", None)
    # Corners a little down with the raised chin (AU15 0.3): the rest of the face reads neutral once AU17
    # goes with the lips, so this stays pressed lips (it was micro_frown before AU17 counted as the lips').
    shrug = chin | {"AU15": 0.3}
    assert name_cue("compression", _apex(shrug), fuse(shrug, None)) == ("lip_compression", None)
    # Corners clearly down (AU15 0.6), or the inner brows raised too (AU1): sadness shows beyond the lips.
    for sad in (chin | {"AU15": 0.6}, shrug | {"AU1": 0.3}):
        assert name_cue("compression", _apex(sad), fuse(sad, None)) == ("micro_frown", "sadness")
    sad = shrug | {"AU1": 0.3}
    reading = fuse(sad, None)
    assert max(reading, key=reading.__getitem__) == "sadness"
    assert name_cue("compression", _apex(sad), reading) == ("micro_frown", "sadness")
    # A reading that does not clearly name an emotion leaves the lips their own name.
    assert name_cue("compression", _apex(sad), {"sadness": 0.45, "neutral": 0.3}) == ("lip_compression", None)


def test_a_laugh_shape_is_named_for_another_emotion_only_when_the_reading_is_clearly_ahead() -> None:
    laugh = _apex({"AU12": 0.7, "AU25": 0.6, "AU6": 0.1})
    assert name_cue("smile", laugh, {"anger": 0.7, "happiness": 0.1}) == ("micro_anger", "anger")
    assert name_cue("nose", laugh, {"disgust": 0.6, "happiness": 0.2}) == ("nose_wrinkle", "disgust")
    # Not clearly ahead of happiness, or no reading: the laugh stays a smile.
    assert name_cue("smile", laugh, {"anger": 0.55, "happiness": 0.4}) == ("polite_smile", None)
    assert name_cue("nose", laugh, {"disgust": 0.6, "happiness": 0.45}) == ("polite_smile", None)
    assert name_cue("smile", laugh, None) == ("polite_smile", None)


def test_a_one_sided_pull_is_contempt_unless_the_reading_is_sure_of_another_emotion() -> None:
    # Corners pulled on one side only (asym over 0.8 of the mean raise): contempt's shape, and an upper lip
    # raised on one side in disgust has it too (real KDEF disgust photos, docs/detector.md).
    pull = ApexReading(crinkle=0.0, widen=0.0, jaw=0.0, stretch=0.0, asym=1.5, corner=0.5, aus={"AU10": 0.4})
    unsure = {"disgust": SURE_P - 0.05, "neutral": 1.0 - SURE_P + 0.05}
    assert name_cue("lip_pull", pull, unsure) == ("unilateral_lip_pull", "contempt")
    assert name_cue("smile", pull, None) == ("unilateral_lip_pull", "contempt")
    assert name_cue("lip_pull", pull, {"disgust": SURE_P, "neutral": 1.0 - SURE_P}) == ("nose_wrinkle", "disgust")
    assert name_cue("smile", pull, {"fear": 0.9, "neutral": 0.1}) == ("micro_surprise", "fear")
    # A one-sided pull read surely as happiness is still a smirk, not a smile.
    assert name_cue("lip_pull", pull, {"happiness": 0.9, "neutral": 0.1}) == ("unilateral_lip_pull", "contempt")
    # The lip-pull channel's other path (one corner tightened, the corners not raised on average) is the
    # same cue, and follows the same rule.
    tight = ApexReading(crinkle=0.0, widen=0.0, jaw=0.0, stretch=0.0, asym=0.6, corner=-1.5, aus={"AU14": 0.4})
    assert name_cue("lip_pull", tight, unsure) == ("unilateral_lip_pull", "contempt")
    assert name_cue("lip_pull", tight, {"sadness": 0.9, "neutral": 0.1}) == ("micro_frown", "sadness")


def _strength(peak: float) -> float:
    return 1.0 - math.exp(-peak / 2.5)


def test_a_movement_that_explains_a_held_expression_takes_its_strength_when_it_names_an_emotion() -> None:
    # Lips pressed a little in a clearly sad face: the press fires (just) and is named sadness by the reading,
    # while the held expression, stronger, is silenced because the press explains it. The cue is as strong as
    # the face was (a real fear glance outranked the fear it came with, docs/detector.md).
    press = {k: 0.4 * v for k, v in LIP_PRESS.items()}
    sad = run({**press, "mouthShrugLower": 0.8, "browInnerUp": 0.3, "mouthFrownLeft": 0.05, "mouthFrownRight": 0.05})
    assert named(sad) == [("micro_frown", "sadness")]
    assert 1.0 <= sad.peaks["compression"] < sad.peaks[EXPRESSION]
    assert sad.cues[0].intensity > _strength(sad.peaks["compression"]) + 0.05
    assert sad.cues[0].intensity <= _strength(sad.peaks[EXPRESSION]) + 1e-9
    # The same press named for no emotion keeps its own strength, though the reading leans to sadness.
    chin = run({**press, "mouthShrugLower": 0.8})
    assert named(chin) == [("lip_compression", None)] and chin.peaks[EXPRESSION] > chin.peaks["compression"]
    assert chin.cues[0].intensity == pytest.approx(_strength(chin.peaks["compression"]), abs=1e-9)
    # And with no held expression at all, the press has its own strength.
    alone = run(press)
    assert named(alone) == [("lip_compression", None)]
    assert alone.cues[0].intensity == pytest.approx(_strength(alone.peaks["compression"]), abs=1e-9)


class _Plateau(Move):
    """Held at its full amount from 0.5 s after onset to 0.5 s before offset."""

    def weight(self, t: float) -> float:
        if t <= self.onset or t >= self.offset:
            return 0.0
        return min(1.0, (t - self.onset) / 0.5, (self.offset - t) / 0.5)


def test_the_frames_kept_under_movements_do_not_grow_with_the_call() -> None:
    # Brows held up for a minute (the held expression fires under them) while the lips are pressed every
    # 1.5 s: each press is a movement under the expression, and one movement stays under way throughout.
    press = {k: 0.4 * v for k, v in LIP_PRESS.items()}
    moves = [_Plateau(2.5, 59.0, BROW_RAISE)] + [Move(3.5 + 1.5 * k, 4.2 + 1.5 * k, press) for k in range(36)]
    engine = CueEngine(EngineConfig(baseline_seconds=2.0))
    given, kept, fired = 0, 0, 0.0
    for obs in Script(duration=60.0, moves=moves).frames():
        given += sum(isinstance(e, Cue) for e in engine.update(obs))
        if engine.face_activations(0):
            kept = max(kept, len(engine._faces[0].held_during))
            fired = max(fired, engine.face_activations(0)[EXPRESSION])
    assert fired >= 1.0 and given >= 30
    assert kept <= _HELD_KEEP + len(CHANNELS)


def test_the_frame_kept_for_a_movement_is_its_own_not_the_next_ones() -> None:
    # A channel that dips under its edge for one frame starts its next movement on the frame the first
    # ends: that frame's onset belongs to the next movement, unless the two are merged into one.
    face = CueEngine(EngineConfig())._new_face(0)
    frame = ApexData(np.zeros(len(FLOORS)), None, None, {"sadness": 0.9})
    face.held_during = {("brow_raise", 0.0): (1.5, frame), ("brow_raise", 0.2): (2.5, frame)}
    assert _held_under(face, Excursion("brow_raise", 0.0, 0.1, 0.2, 1.2))[0] == 1.5
    assert _held_under(face, Excursion("brow_raise", 0.2, 0.3, 0.5, 1.2))[0] == 2.5
    assert _held_under(face, Excursion("brow_raise", 0.0, 0.3, 0.5, 1.2))[0] == 2.5  # merged: both parts
    assert _held_under(face, Excursion("frown", 0.0, 0.1, None, 1.2)) == (0.0, None)


def test_a_raised_brow_is_named_fear_or_sadness_once_the_reading_leans_to_it() -> None:
    # A brow raise is surprise's, fear's and sadness's alike: the reading names it fear or sadness from
    # BROW_SWITCH_P (0.25) when that is ahead of surprise and of neutral, where another channel would want 0.5
    # and a 0.2 lead.
    wide = ApexReading(crinkle=0.0, widen=1.5, jaw=1.5, stretch=0.0, asym=0.0, corner=0.0)
    brows = ApexReading(crinkle=0.0, widen=0.0, jaw=0.0, stretch=0.0, asym=0.0, corner=0.0)
    sad = {"sadness": 0.35, "surprise": 0.2, "neutral": 0.3, "fear": 0.15}
    assert name_cue("brow_raise", wide, sad) == ("micro_frown", "sadness")
    assert name_cue("brow_raise", brows, sad) == ("micro_frown", "sadness")  # inner brows up in a sad face
    assert name_cue("brow_raise", wide, {"fear": 0.4, "surprise": 0.35, "neutral": 0.25}) == ("micro_surprise", "fear")
    # A face read as mostly neutral keeps the greeting's flash; so does a reading under 0.25.
    assert name_cue("brow_raise", brows, {"sadness": 0.3, "surprise": 0.1, "neutral": 0.6}) == ("eyebrow_flash", None)
    assert name_cue("brow_raise", brows, {"sadness": 0.24, "surprise": 0.1, "neutral": 0.2}) == ("eyebrow_flash", None)
    assert name_cue("brow_raise", wide, {"surprise": 0.3, "sadness": 0.3, "neutral": 0.2}) == (
        "micro_surprise",
        "surprise",
    )
    # Only the emotions whose faces raise the brows take it over: a weak lean to happiness or anger does not.
    assert name_cue("brow_raise", brows, {"happiness": 0.3, "surprise": 0.1, "neutral": 0.25}) == (
        "eyebrow_flash",
        None,
    )
    assert name_cue("brow_raise", wide, {"anger": 0.35, "surprise": 0.2, "neutral": 0.3}) == (
        "micro_surprise",
        "surprise",
    )
    # Lips stretched sideways (AU20) still mark fear outright; a tie with neutral is no lean.
    stretched = dataclasses.replace(wide, stretch=1.5)
    assert name_cue("brow_raise", stretched, sad) == ("micro_surprise", "fear")
    assert name_cue("brow_raise", brows, {"sadness": 0.3, "neutral": 0.3, "surprise": 0.1}) == ("eyebrow_flash", None)
    # The other channels keep the clear-reading switch: the same lean does not rename a lowered brow.
    assert name_cue("anger", brows, {"sadness": 0.35, "anger": 0.2, "neutral": 0.3}) == ("micro_anger", "anger")
    assert SWITCH_P > 0.35
