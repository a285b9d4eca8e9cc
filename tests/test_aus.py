"""Action units and the fused emotion reading, on scripted signal series (no camera, no model)."""

from __future__ import annotations

import numpy as np
import pytest
from scripted import BROW_RAISE, CRINKLE, EYES_WIDE, JAW_DROP, LIP_PRESS, SMILE, Move, Script

from callcoach.cues.aus import AUS, FEATURE_NAMES, FUSED_CLASSES, action_units, au_distribution, fuse, prototype_scores
from callcoach.cues.channels import ApexReading, name_cue
from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.features import NAMES
from callcoach.cues.vocabulary import Cue

BROW_LOWER = {
    "brow_inner_r": -0.06,
    "brow_inner_l": -0.06,
    "brow_gap": -0.05,
    "browDownLeft": 0.4,
    "browDownRight": 0.4,
}
NOSE_WRINKLE = {
    "nose_eye_r": -0.03,
    "nose_eye_l": -0.03,
    "upper_lip_to_nose": -0.05,
    "mouthUpperUpLeft": 0.4,
    "mouthUpperUpRight": 0.4,
}
LIP_CORNERS_DOWN = {"mouth_corner_r": -0.06, "mouth_corner_l": -0.06, "mouthFrownLeft": 0.4, "mouthFrownRight": 0.4}
INNER_BROW_UP = {"brow_inner_r": 0.06, "brow_inner_l": 0.06, "browInnerUp": 0.4}
STRETCH = {"mouthStretchLeft": 0.5, "mouthStretchRight": 0.5, "mouth_width": 0.08}


def apex_aus(deltas: dict[str, float], seed: int = 0) -> tuple[dict[str, float], list[Cue]]:
    """Hold ``deltas`` from 3.0 s to the end of a 4 s series; the engine's AUs on the last frame and its cues."""
    engine = CueEngine(EngineConfig(baseline_seconds=2.0))
    cues: list[Cue] = []
    aus: dict[str, float] | None = None
    for obs in Script(duration=4.0, moves=[Move(3.0, 6.0, deltas, apex=3.4)], seed=seed).frames(1):
        cues.extend(e for e in engine.update(obs) if isinstance(e, Cue))
        aus = engine.face_aus(0)
    cues.extend(e for e in engine.finish() if isinstance(e, Cue))
    assert aus is not None
    return aus, cues


def test_a_still_face_has_no_action_units() -> None:
    aus = action_units(np.zeros(len(NAMES)))
    assert set(aus) == set(AUS)
    assert all(v == 0.0 for v in aus.values())
    assert max(au_distribution(aus), key=au_distribution(aus).__getitem__) == "neutral"


def test_intensities_are_bounded_and_grow_with_the_movement() -> None:
    d = np.zeros(len(NAMES))
    d[NAMES.index("corner")] = 1.0
    d[NAMES.index("smile_bs")] = 1.0
    weak = action_units(d)["AU12"]
    big = action_units(d * 10)["AU12"]
    assert 0.0 < weak < big <= 1.0


@pytest.mark.parametrize(
    ("deltas", "expected", "absent"),
    [
        (SMILE, ("AU12",), ("AU4", "AU15", "AU1")),
        ({**SMILE, **CRINKLE}, ("AU12", "AU6"), ("AU4", "AU1")),
        (BROW_RAISE, ("AU1", "AU2"), ("AU4", "AU12")),
        ({**BROW_RAISE, **EYES_WIDE, **JAW_DROP}, ("AU1", "AU2", "AU5", "AU25", "AU26"), ("AU4", "AU12")),
        (BROW_LOWER, ("AU4",), ("AU1", "AU2", "AU12")),
        (NOSE_WRINKLE, ("AU9", "AU10"), ("AU12", "AU1")),
        (LIP_PRESS, ("AU23", "AU24"), ("AU12", "AU26")),
        (LIP_CORNERS_DOWN, ("AU15",), ("AU12",)),
    ],
)
def test_each_movement_reads_as_its_action_units(
    deltas: dict[str, float], expected: tuple[str, ...], absent: tuple[str, ...]
) -> None:
    aus, _ = apex_aus(deltas)
    for au in expected:
        assert aus[au] >= 0.4, (au, aus)
    for au in absent:
        assert aus[au] < 0.2, (au, aus)


@pytest.mark.parametrize(
    ("deltas", "emotion"),
    [
        ({**SMILE, **CRINKLE}, "happiness"),
        ({**BROW_RAISE, **EYES_WIDE, **JAW_DROP}, "surprise"),
        ({**INNER_BROW_UP, **BROW_LOWER, **LIP_CORNERS_DOWN}, "sadness"),
        ({**BROW_LOWER, **LIP_PRESS, **{"eye_aperture_r": -0.06, "eye_aperture_l": -0.06}}, "anger"),
        ({**NOSE_WRINKLE, **BROW_LOWER}, "disgust"),
        ({**INNER_BROW_UP, **BROW_LOWER, **EYES_WIDE, **STRETCH, "mouth_open": 0.08}, "fear"),
    ],
)
def test_prototypes_name_the_emotion_without_the_appearance_model(deltas: dict[str, float], emotion: str) -> None:
    aus, _ = apex_aus(deltas)
    scores = prototype_scores(aus)
    assert max(scores, key=scores.__getitem__) == emotion, scores


def test_disgust_against_anger_is_told_by_the_nose() -> None:
    anger, _ = apex_aus({**BROW_LOWER, **LIP_PRESS})
    disgust, _ = apex_aus({**BROW_LOWER, **NOSE_WRINKLE})
    assert prototype_scores(anger)["anger"] > prototype_scores(anger)["disgust"]
    assert prototype_scores(disgust)["disgust"] > prototype_scores(disgust)["anger"]


def test_fusion_is_a_distribution_that_reads_a_still_face_as_neutral() -> None:
    still = {au: 0.0 for au in AUS}
    fused = fuse(still, None)
    assert set(fused) == set(FUSED_CLASSES)
    assert sum(fused.values()) == pytest.approx(1.0)
    assert max(fused, key=lambda e: fused[e]) == "neutral"


def test_fusion_reads_the_change_of_the_appearance_model_not_its_level() -> None:
    still = {au: 0.0 for au in AUS}
    sad_at_rest = {e: 0.02 for e in FUSED_CLASSES} | {"sadness": 0.8}
    # A resting face the CNN already reads as sad is not a sad moment; a rise in happiness with a smile is.
    at_rest = fuse(still, sad_at_rest, sad_at_rest)
    assert max(at_rest, key=lambda e: at_rest[e]) == "neutral"
    smiling = still | {"AU12": 0.8, "AU6": 0.6, "AU25": 0.4}
    happy = {e: 0.02 for e in FUSED_CLASSES} | {"happiness": 0.8}
    rising = fuse(smiling, happy, sad_at_rest)
    assert max(rising, key=lambda e: rising[e]) == "happiness"


def test_custom_weights_are_used() -> None:
    weights = {e: (0.0,) * (len(FEATURE_NAMES) + 1) for e in FUSED_CLASSES}
    weights["fear"] = (*([0.0] * len(FEATURE_NAMES)), 5.0)
    reading = fuse({au: 0.0 for au in AUS}, None, None, weights)
    assert max(reading, key=reading.__getitem__) == "fear"


def test_a_laugh_showing_teeth_is_a_smile_not_a_nose_wrinkle() -> None:
    aus = {au: 0.0 for au in AUS} | {"AU12": 0.8, "AU25": 0.7, "AU26": 0.5, "AU10": 0.6, "AU9": 0.4, "AU6": 0.6}
    apex = ApexReading(crinkle=0.0, widen=0.0, jaw=1.5, stretch=0.0, asym=0.0, corner=2.0, aus=aus)
    assert name_cue("nose", apex, None) == ("duchenne_smile", "happiness")
    assert name_cue("smile", apex, None) == ("duchenne_smile", "happiness")
    no_cheeks = ApexReading(crinkle=0.0, widen=0.0, jaw=1.5, stretch=0.0, asym=0.0, corner=2.0, aus=aus | {"AU6": 0.1})
    assert name_cue("nose", no_cheeks, None) == ("polite_smile", None)
    closed = ApexReading(
        crinkle=0.0,
        widen=0.0,
        jaw=0.0,
        stretch=0.0,
        asym=0.0,
        corner=0.0,
        aus=aus | {"AU12": 0.0, "AU25": 0.0, "AU26": 0.0},
    )
    assert name_cue("nose", closed, None) == ("nose_wrinkle", "disgust")


def test_the_fused_reading_decides_between_a_channels_rival_emotions() -> None:
    apex = ApexReading(crinkle=0.0, widen=0.0, jaw=0.0, stretch=0.0, asym=0.0, corner=0.0)
    reading = {e: 0.05 for e in FUSED_CLASSES} | {"disgust": 0.7}
    assert name_cue("anger", apex, reading) == ("nose_wrinkle", "disgust")
    assert name_cue("anger", apex, None) == ("micro_anger", "anger")
    # Not sure enough: the channel's own emotion stands.
    unsure = reading | {"disgust": 0.4, "anger": 0.3}
    assert name_cue("anger", apex, unsure) == ("micro_anger", "anger")
    wide = ApexReading(crinkle=0.0, widen=1.5, jaw=1.5, stretch=0.0, asym=0.0, corner=0.0)
    assert name_cue("brow_raise", wide, reading | {"disgust": 0.0, "fear": 0.7}) == ("micro_surprise", "fear")
    assert name_cue("brow_raise", wide, reading | {"disgust": 0.0, "surprise": 0.7}) == ("micro_surprise", "surprise")
    flash = ApexReading(crinkle=0.0, widen=0.0, jaw=0.0, stretch=0.0, asym=0.0, corner=0.0)
    assert name_cue("brow_raise", flash, None) == ("eyebrow_flash", None)


def test_aus_are_none_while_calibrating() -> None:
    engine = CueEngine(EngineConfig(baseline_seconds=2.0))
    script = Script(duration=3.0, moves=[])
    seen = []
    for obs in script.frames(1):
        list(engine.update(obs))
        seen.append((obs.t_s, engine.face_aus(0)))
    assert all(a is None for t, a in seen if t < 1.9)
    assert all(a is not None for t, a in seen if t > 2.1)


def test_the_per_frame_line_carries_aus_the_fused_reading_and_the_appearance_model() -> None:
    from callcoach.analysis import analyze_frames
    from callcoach.cli.output import frame_record
    from callcoach.sources.base import Frame
    from callcoach.vision.types import FrameObservation

    class Replay:
        def __init__(self, frames: list[FrameObservation]) -> None:
            self.frames = {f.index: f for f in frames}

        def observe(self, frame: Frame) -> FrameObservation:
            return self.frames[frame.index]

        def close(self) -> None:
            pass

    script = Script(duration=4.0, moves=[Move(3.0, 3.8, {**SMILE, **CRINKLE})])
    frames = list(script.frames(1))
    engine = CueEngine(EngineConfig(baseline_seconds=2.0))
    blank = np.zeros((2, 2, 3), np.uint8)  # Replay answers by index: the picture is never looked at
    events = analyze_frames((Frame(f.index, f.t_s, blank) for f in frames), Replay(frames), engine)
    records = [frame_record(e) for e in events if isinstance(e, FrameObservation)]
    assert len(records) == len(frames)
    assert records[0]["aus"] is None  # calibrating
    apex = min((r for r in records if r["aus"]), key=lambda r: abs(float(r["t_s"]) - 3.4))  # type: ignore[arg-type]
    aus = apex["aus"]
    assert isinstance(aus, dict) and set(aus) == set(AUS) and aus["AU12"] >= 0.4
    emotion = apex["emotion"]
    assert isinstance(emotion, dict) and set(emotion) == set(FUSED_CLASSES)
    assert max(emotion, key=emotion.__getitem__) == "happiness"
    assert "appearance" in apex
