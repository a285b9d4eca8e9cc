"""The cue engine on scripted signal series: no camera, no model."""

from __future__ import annotations

import math

import pytest
from scripted import BLINK, BROW_RAISE, CRINKLE, EYES_WIDE, JAW_DROP, LIP_PRESS, SMILE, Move, Script

from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.vocabulary import CUE_NAMES, BaselineEvent, Cue
from callcoach.errors import CueError
from callcoach.vision.types import HeadPose


def run(script: Script, baseline_seconds: float = 2.0, faces: int = 1) -> tuple[list[Cue], list[BaselineEvent]]:
    engine = CueEngine(EngineConfig(baseline_seconds=baseline_seconds))
    cues: list[Cue] = []
    baseline: list[BaselineEvent] = []
    for obs in script.frames(faces):
        for event in engine.update(obs):
            if isinstance(event, Cue):
                cues.append(event)
            else:
                assert isinstance(event, BaselineEvent), event  # early cues are off by default
                baseline.append(event)
    for event in engine.finish():
        assert isinstance(event, Cue), event
        cues.append(event)
    return cues, baseline


def only(cues: list[Cue], name: str) -> Cue:
    named = [c for c in cues if c.cue == name]
    assert len(named) == 1, f"expected one {name}, got {[(c.cue, c.onset_s) for c in cues]}"
    return named[0]


def test_quiet_face_gives_no_cue() -> None:
    cues, baseline = run(Script(duration=8.0))
    assert cues == []
    assert [b.status for b in baseline] == ["calibrating", "ready"]


@pytest.mark.parametrize(("length", "scale"), [(0.04, "micro"), (0.6, "macro")])
def test_brief_and_long_brow_raise(length: float, scale: str) -> None:
    # 100 fps so a 40 ms raise spans several samples, as at a 1/25 s micro-expression on a fast camera.
    onset = 3.0
    script = Script(duration=5.0, fps=100.0, moves=[Move(onset, onset + length, BROW_RAISE)])
    cues, _ = run(script)
    flash = only(cues, "eyebrow_flash")
    assert flash.scale == scale
    assert flash.emotion is None
    assert onset - 0.02 <= flash.onset_s <= flash.apex_s <= (flash.offset_s or math.inf) <= onset + length + 0.02
    assert abs(flash.apex_s - (onset + length / 2)) <= max(0.02, length * 0.2)
    assert 0.0 < flash.intensity <= 1.0 and 0.0 < flash.confidence <= 1.0


def test_brow_raise_with_wide_eyes_and_open_jaw_is_surprise() -> None:
    deltas = {**BROW_RAISE, **EYES_WIDE, **JAW_DROP}
    cues, _ = run(Script(duration=5.0, moves=[Move(3.0, 3.4, deltas)]))
    cue = only(cues, "micro_surprise")
    assert cue.emotion == "surprise" and cue.scale == "micro"


def test_surprise_with_stretched_lips_reads_as_fear() -> None:
    deltas = {**BROW_RAISE, **EYES_WIDE, **JAW_DROP, "mouthStretchLeft": 0.5, "mouthStretchRight": 0.5}
    cues, _ = run(Script(duration=5.0, moves=[Move(3.0, 3.4, deltas)]))
    assert only(cues, "micro_surprise").emotion == "fear"


def test_smile_with_eye_crinkle_is_duchenne_without_is_polite() -> None:
    cues, _ = run(Script(duration=9.0, moves=[Move(3.0, 4.0, {**SMILE, **CRINKLE}), Move(6.0, 7.0, SMILE)]))
    assert [c.cue for c in cues] == ["duchenne_smile", "polite_smile"]
    assert cues[0].emotion == "happiness" and cues[1].emotion is None


def test_no_cue_while_calibrating_and_the_output_says_so() -> None:
    cues, baseline = run(Script(duration=6.0, moves=[Move(0.5, 1.0, BROW_RAISE)]), baseline_seconds=3.0)
    assert cues == []
    assert baseline[0].status == "calibrating" and baseline[0].t_s == 0.0
    assert baseline[-1].status == "ready" and baseline[-1].t_s >= 3.0


def test_zero_baseline_seconds_takes_the_first_frame_as_neutral() -> None:
    cues, baseline = run(Script(duration=3.0, moves=[Move(1.0, 1.3, BROW_RAISE)]), baseline_seconds=0)
    assert [b.status for b in baseline] == ["ready"]
    assert only(cues, "eyebrow_flash").onset_s >= 0.9


def test_negative_baseline_seconds_is_refused() -> None:
    with pytest.raises(CueError, match="baseline"):
        EngineConfig(baseline_seconds=-1)


def test_talking_does_not_fire_lip_cues() -> None:
    # Syllables at ~4 Hz: the mouth opens and closes, the lips thin a little as they close.
    moves = [
        Move(
            2.5 + k * 0.25,
            2.5 + k * 0.25 + 0.22,
            {**JAW_DROP, "lip_upper": -0.02, "lip_lower": -0.03, "mouthPressLeft": 0.15, "mouthPressRight": 0.15},
        )
        for k in range(20)
    ]
    cues, _ = run(Script(duration=9.0, moves=moves))
    lip_cues = {"lip_compression", "unilateral_lip_pull", "nose_wrinkle", "micro_frown"}
    assert not [c for c in cues if c.cue in lip_cues]


def test_lip_press_is_compression() -> None:
    cues, _ = run(Script(duration=6.0, moves=[Move(3.0, 3.4, LIP_PRESS)]))
    assert only(cues, "lip_compression").scale == "micro"


def test_head_turn_is_gated() -> None:
    def pose(t: float) -> HeadPose:
        # A 35-degree turn and back over one second, with the landmarks distorted as it happens.
        w = max(0.0, math.sin(math.pi * (t - 3.0))) if 3.0 <= t <= 4.0 else 0.0
        return HeadPose(yaw=35 * w, pitch=0.0, roll=0.0)

    distortion = {"mouth_corner_r": 0.06, "mouth_corner_l": -0.04, "brow_outer_r": 0.05, "gaze_x": 0.2}
    cues, _ = run(Script(duration=6.0, moves=[Move(3.0, 4.0, distortion)], pose=pose))
    assert cues == []


def test_blink_cluster_versus_ordinary_blinks() -> None:
    cluster = [Move(3.0 + k * 0.45, 3.0 + k * 0.45 + 0.15, BLINK) for k in range(4)]
    cues, _ = run(Script(duration=7.0, moves=cluster))
    cue = only(cues, "blink_cluster")
    assert 2.95 <= cue.onset_s <= 3.1 and cue.offset_s is not None and 4.3 <= cue.offset_s <= 4.5

    ordinary = [Move(2.5 + k * 3.2, 2.5 + k * 3.2 + 0.15, BLINK) for k in range(4)]
    cues, _ = run(Script(duration=15.0, moves=ordinary))
    assert cues == []


def test_blinks_do_not_read_as_squint_or_anger() -> None:
    cues, _ = run(Script(duration=6.0, moves=[Move(3.0, 3.15, BLINK)]))
    assert cues == []


def test_gaze_aversion() -> None:
    cues, _ = run(Script(duration=6.0, moves=[Move(3.0, 4.2, {"gaze_x": 0.3, "gaze_y": -0.1})]))
    assert only(cues, "gaze_aversion").scale == "macro"


def test_each_face_keeps_its_own_baseline_and_id() -> None:
    cues, baseline = run(Script(duration=5.0, moves=[Move(3.0, 3.3, BROW_RAISE)]), faces=2)
    assert sorted(c.face for c in cues) == [0, 1]
    assert sorted({b.face for b in baseline}) == [0, 1]


def test_event_still_under_way_at_the_end_has_no_offset() -> None:
    cues, _ = run(Script(duration=4.0, moves=[Move(3.5, 5.0, BROW_RAISE, apex=4.5)]))
    assert only(cues, "eyebrow_flash").offset_s is None


def test_every_emitted_name_is_in_the_vocabulary() -> None:
    moves = [Move(3.0, 3.4, BROW_RAISE), Move(5.0, 5.4, LIP_PRESS), Move(7.0, 8.0, {**SMILE, **CRINKLE})]
    cues, _ = run(Script(duration=10.0, moves=moves))
    assert cues and all(c.cue in CUE_NAMES for c in cues)
    line = cues[0].as_dict()
    assert set(line) == {
        "type",
        "cue",
        "emotion",
        "scale",
        "onset_s",
        "apex_s",
        "offset_s",
        "intensity",
        "confidence",
        "face",
    }


def test_a_movement_that_dips_for_a_frame_is_one_event() -> None:
    # A lip press that relaxes for ~80 ms in the middle (tracker jitter, a swallow) is one cue.
    moves = [Move(3.0, 3.5, LIP_PRESS, apex=3.4), Move(3.56, 4.0, LIP_PRESS, apex=3.62)]
    cues, _ = run(Script(duration=6.0, moves=moves))
    cue = only(cues, "lip_compression")
    assert cue.onset_s < 3.1 and cue.offset_s is not None and cue.offset_s > 3.9
