"""The held-expression channel on scripted series: a face no single movement explains, named by the reading."""

from __future__ import annotations

import dataclasses

import numpy as np
from scripted import BLINK, BROW_RAISE, CRINKLE, LIP_PRESS, SMILE, Move, Script
from test_naming_reading import REST_CNN

from callcoach.cues.channels import EXPRESSION, SURE_P, apex_reading, expression_activation, name_cue
from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.features import FLOORS
from callcoach.cues.vocabulary import Cue, EarlyCue, EarlyCueWithdrawn

# A mild sad face: inner brows up a little, corners down a little, the chin raised; each movement stays
# under its own channel's threshold, together they read as sadness.
MILD_SADNESS = {
    "brow_inner_r": 0.02,
    "brow_inner_l": 0.02,
    "browInnerUp": 0.1,
    "mouth_corner_r": -0.015,
    "mouth_corner_l": -0.015,
    "mouthShrugLower": 0.3,
    "jaw_drop": -0.03,
}


def run(script: Script) -> tuple[list[Cue], dict[str, float]]:
    """The cues, and each channel's largest activation over the clip."""
    engine = CueEngine(EngineConfig(baseline_seconds=2.0))
    cues: list[Cue] = []
    peaks: dict[str, float] = {}
    for obs in script.frames():
        cues.extend(e for e in engine.update(obs) if isinstance(e, Cue))
        for name, value in engine.face_activations(0).items():
            peaks[name] = max(peaks.get(name, 0.0), value)
    cues.extend(e for e in engine.finish() if isinstance(e, Cue))
    return cues, peaks


def test_a_held_mild_expression_that_no_single_movement_explains_is_named_by_the_reading() -> None:
    cues, peaks = run(Script(duration=6.0, moves=[Move(2.5, 5.0, MILD_SADNESS, apex=3.0)]))
    assert max(v for k, v in peaks.items() if k != EXPRESSION) < 1.0  # no movement channel alone fires
    assert peaks[EXPRESSION] >= 1.0
    assert [(c.cue, c.emotion, c.scale) for c in cues] == [("micro_frown", "sadness", "macro")]
    cue = cues[0]
    assert 2.4 <= cue.onset_s <= 3.2 and cue.offset_s is not None and 3.5 <= cue.offset_s <= 5.1
    assert 0.0 < cue.confidence < 1.0  # a guess, never a verdict


def test_the_same_face_shown_for_a_moment_only_is_not_a_held_expression() -> None:
    brief = {k: 1.0 * v for k, v in MILD_SADNESS.items()}
    cues, _ = run(Script(duration=5.0, moves=[Move(2.5, 2.62, brief)]))
    assert cues == []


def test_a_movement_on_its_own_channel_is_not_repeated_by_the_held_expression() -> None:
    cues, peaks = run(Script(duration=6.0, moves=[Move(2.5, 5.0, {**SMILE, **CRINKLE}, apex=3.0)]))
    assert peaks[EXPRESSION] >= 1.0  # the reading is sure of happiness too ...
    assert [c.cue for c in cues] == ["duchenne_smile"]  # ... and the smile says it once


def test_blinks_during_a_held_expression_do_not_split_or_rename_it() -> None:
    blinks = [Move(3.2 + k * 0.5, 3.35 + k * 0.5, BLINK) for k in range(2)]
    cues, _ = run(Script(duration=6.0, moves=[Move(2.5, 5.0, MILD_SADNESS, apex=3.0), *blinks]))
    assert [(c.cue, c.emotion) for c in cues] == [("micro_frown", "sadness")]


def test_the_held_expression_is_named_by_the_reading_and_quiet_on_neutral() -> None:
    d = np.zeros(len(FLOORS))
    apex = apex_reading(d, {})
    fear = {"fear": 0.7, "surprise": 0.2, "neutral": 0.05}
    assert name_cue(EXPRESSION, apex, fear) == ("micro_surprise", "fear")
    assert name_cue(EXPRESSION, apex, {"disgust": 0.8, "neutral": 0.1}) == ("nose_wrinkle", "disgust")
    # A reading of happiness makes the held smile felt; a laugh stays a smile unless the reading clearly
    # (SWITCH_P, SWITCH_MARGIN) names another emotion.
    assert name_cue(EXPRESSION, apex, {"happiness": 0.9}) == ("duchenne_smile", "happiness")
    laugh = apex_reading(d, {"AU12": 0.7, "AU25": 0.6})
    assert name_cue(EXPRESSION, laugh, {"sadness": 0.45, "happiness": 0.3}) == ("polite_smile", None)
    assert name_cue(EXPRESSION, laugh, {"sadness": 0.6, "happiness": 0.3}) == ("micro_frown", "sadness")
    assert name_cue(EXPRESSION, laugh, {"fear": 0.9}) == ("micro_surprise", "fear")
    assert name_cue(EXPRESSION, laugh, {"happiness": 0.6, "neutral": 0.1}) == ("duchenne_smile", "happiness")
    assert expression_activation({"neutral": 0.9, "sadness": 0.1}, talking=False) == 0.0
    assert expression_activation(fear, talking=False) >= 1.0
    assert expression_activation(fear, talking=True) < expression_activation(fear, talking=False)
    assert expression_activation(None, talking=False) == 0.0


def test_a_held_expression_read_as_happiness_carries_happiness_even_when_unsure() -> None:
    # The channel fires on the reading alone: a cue it gives never drops the emotion that made it fire
    # (it was a polite smile, no emotion, under SURE_P).
    d = np.zeros(len(FLOORS))
    mild = {"happiness": 0.6, "neutral": 0.15, "sadness": 0.1}
    assert mild["happiness"] < SURE_P
    assert name_cue(EXPRESSION, apex_reading(d, {"AU12": 0.25, "AU6": 0.1}), mild) == ("duchenne_smile", "happiness")
    # ... but behind covered eyes a smile is never made felt by the reading (its eyes cannot be seen).
    hidden = apex_reading(d, {"AU12": 0.25}, eyes_hidden=True)
    assert name_cue(EXPRESSION, hidden, mild) == ("polite_smile", None)
    # The same mild reading on the smile channel keeps the movement's own name: a polite smile.
    assert name_cue("smile", apex_reading(d, {"AU12": 0.5}), mild) == ("polite_smile", None)


def test_a_sure_reading_names_movements_whose_own_name_carries_no_emotion() -> None:
    d = np.zeros(len(FLOORS))
    unsure = {"happiness": 0.6, "neutral": 0.3}
    sure = {"happiness": 0.9}
    smile = apex_reading(d, {"AU12": 0.6})
    assert name_cue("smile", smile, unsure) == ("polite_smile", None)
    assert name_cue("smile", smile, sure) == ("duchenne_smile", "happiness")
    assert unsure["happiness"] < SURE_P
    # A brow raise is surprise only with the eyes widened or the lips parted (EMFACS), however sure.
    brows = apex_reading(d, {"AU1": 0.5, "AU2": 0.5})
    parted = apex_reading(d, {"AU1": 0.5, "AU2": 0.5, "AU26": 0.2})
    assert name_cue("brow_raise", brows, {"surprise": 0.9}) == ("eyebrow_flash", None)
    assert name_cue("brow_raise", parted, {"surprise": 0.9}) == ("micro_surprise", "surprise")
    assert name_cue("brow_raise", parted, {"surprise": 0.6, "neutral": 0.3}) == ("eyebrow_flash", None)
    pressed = apex_reading(d, {"AU23": 0.5, "AU24": 0.5})
    assert name_cue("compression", pressed, {"anger": 0.5, "neutral": 0.4}) == ("lip_compression", None)
    assert name_cue("compression", pressed, {"anger": 0.8}) == ("micro_anger", "anger")
    # A glance says nothing of an emotion, whatever the reading.
    assert name_cue("gaze", apex_reading(d, {}), {"sadness": 0.95}) == ("gaze_aversion", None)


def _brows_then_sadness(sad_from: float, amount: float = 1.0, press: float = 0.0) -> list[Cue]:
    return [e for e in _brows_then_sadness_events(sad_from, amount, press) if isinstance(e, Cue)]


def _brows_then_sadness_events(
    sad_from: float, amount: float = 1.0, press: float = 0.0, early: bool = False
) -> list[object]:
    """Brows raised (apex 3.0 s, down by 4.6 s), and a sad face building up from ``sad_from`` (apex 1.4 s on),
    the appearance model following it: the inner brows of a sad face peak before the reading of sadness.
    ``press``: lips pressed with the brows too (apex 3.1 s), that much of `LIP_PRESS`."""
    brows = Move(2.5, 4.6, BROW_RAISE, apex=3.0)
    lips = Move(2.6, 4.4, {k: press * v for k, v in LIP_PRESS.items()}, apex=3.1)
    face = {k: 2 * amount * v for k, v in MILD_SADNESS.items() if "brow" not in k.lower()}
    sad = Move(sad_from, sad_from + 3.0, face, apex=sad_from + 1.4)
    engine = CueEngine(EngineConfig(baseline_seconds=2.0, early=early))
    events: list[object] = []
    for obs in Script(duration=sad_from + 3.5, moves=[brows, sad, lips]).frames():
        w = sad.weight(obs.t_s)
        cnn = {**REST_CNN, "neutral": REST_CNN["neutral"] - 0.4 * amount * w}
        cnn["sadness"] += 0.4 * amount * w
        obs = dataclasses.replace(obs, faces=tuple(dataclasses.replace(f, emotion=cnn) for f in obs.faces))
        events.extend(engine.update(obs))
    events.extend(engine.finish())
    return events


def test_a_movement_that_explains_a_held_expression_is_named_where_that_expression_was_strongest() -> None:
    # At the brows' apex the reading has no sadness yet: named there alone, this was an eyebrow flash, and
    # the sad face that followed gave no cue (the raise explains it). Named where the held expression peaked
    # while the brows were still up, it is the sad face it was.
    assert [(c.cue, c.emotion) for c in _brows_then_sadness(3.0)] == [("micro_frown", "sadness")]
    # The same brows in a face that stays at rest remain a greeting's flash.
    assert [(c.cue, c.emotion) for c in _brows_then_sadness(3.0, amount=0.0)] == [("eyebrow_flash", None)]
    # A sad face that builds up only once the brows are down is its own cue, after the flash.
    assert [(c.cue, c.emotion) for c in _brows_then_sadness(4.7)] == [
        ("eyebrow_flash", None),
        ("micro_frown", "sadness"),
    ]


def test_a_movement_takes_the_held_expressions_strength_only_for_the_emotion_it_showed() -> None:
    # Lips pressed with the brows, named surprise at their own apex (before the sad face), while the sad face
    # under them is strong: the surprise cue keeps its own strength, the sadness one takes the face's.
    cues = {c.emotion: c for c in _brows_then_sadness(3.0, press=0.3)}
    assert set(cues) == {"surprise", "sadness"}
    assert cues["surprise"].intensity < 0.45 < cues["sadness"].intensity


def test_an_early_flash_renamed_by_the_sad_face_that_followed_is_withdrawn_as_renamed() -> None:
    events = _brows_then_sadness_events(3.0, early=True)
    shown = [
        (type(e).__name__, e.cue, e.reason if isinstance(e, EarlyCueWithdrawn) else None)
        for e in events
        if isinstance(e, (EarlyCue, EarlyCueWithdrawn, Cue))
    ]
    assert shown == [
        ("EarlyCue", "eyebrow_flash", None),
        ("EarlyCueWithdrawn", "eyebrow_flash", "renamed"),
        ("Cue", "micro_frown", None),
    ]
    # Early cues change nothing in the final cues.
    assert [e for e in events if isinstance(e, Cue)] == _brows_then_sadness(3.0)
