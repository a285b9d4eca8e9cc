"""Early cues on scripted signal series: named while the movement is under way, never changing the final cues,
each settled once by a final cue of its name or by its withdrawal."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

import pytest
from scripted import BLINK, BROW_RAISE, CRINKLE, EYES_WIDE, JAW_DROP, LIP_PRESS, SMILE, Move, Script

from callcoach.cues.early import EarlyRule
from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.vocabulary import BaselineEvent, Cue, EarlyCue, EarlyCueWithdrawn
from callcoach.vision.types import FrameObservation, HeadPose
from callcoach_bench.early import settle

Timed = tuple[float, BaselineEvent | Cue | EarlyCue | EarlyCueWithdrawn]

#: A one-sided corner pull (contempt), strong enough to outrank a light lip press.
LIP_PULL = {"mouth_corner_l": 0.1, "mouthSmileLeft": 0.3}
LIGHT_PRESS = {"lip_upper": -0.015, "lip_lower": -0.015, "mouthPressLeft": 0.15, "mouthPressRight": 0.15}


def stream(script: Script | Iterable[FrameObservation], early: bool, faces: int = 1) -> list[Timed]:
    """Every event with the time of the frame whose processing emitted it (inf: flushed at the end)."""
    engine = CueEngine(EngineConfig(early=early))
    out: list[Timed] = []
    for obs in script.frames(faces) if isinstance(script, Script) else script:
        out.extend((obs.t_s, e) for e in engine.update(obs))
    out.extend((math.inf, e) for e in engine.finish())
    return out


def early_and_final(script: Script) -> tuple[list[tuple[float, EarlyCue]], list[tuple[float, Cue]]]:
    events = stream(script, early=True)
    return ([(t, e) for t, e in events if isinstance(e, EarlyCue)], [(t, e) for t, e in events if isinstance(e, Cue)])


@pytest.mark.parametrize(
    ("deltas", "name"),
    [
        (BROW_RAISE, "eyebrow_flash"),
        ({**BROW_RAISE, **EYES_WIDE, **JAW_DROP}, "micro_surprise"),
        ({**SMILE, **CRINKLE}, "duchenne_smile"),
        (SMILE, "polite_smile"),
        (LIP_PRESS, "lip_compression"),
        (LIP_PULL, "unilateral_lip_pull"),
        ({"gaze_x": 0.3, "gaze_y": -0.1}, "gaze_aversion"),
    ],
)
@pytest.mark.parametrize("length", [0.3, 1.2])
def test_early_cue_comes_soon_after_the_apex_with_the_final_name(
    deltas: dict[str, float], name: str, length: float
) -> None:
    early, final = early_and_final(Script(duration=7.0, moves=[Move(3.0, 3.0 + length, deltas)]))
    assert [c.cue for _, c in final] == [name]
    assert len(early) == 1, early
    t_early, cue = early[0]
    assert isinstance(cue, EarlyCue)
    t_final, last = final[0]
    assert isinstance(last, Cue)
    assert cue.cue == name and cue.emotion == last.emotion and cue.face == last.face
    assert cue.t_s == t_early < t_final
    assert cue.onset_s == last.onset_s and abs(cue.apex_s - last.apex_s) <= 0.1
    assert 0.0 <= cue.t_s - cue.apex_s <= 0.25
    # Named while the movement was under way, or at the latest on the frame that ended it.
    assert last.offset_s is not None and cue.t_s <= last.offset_s


def test_a_held_expression_is_named_before_it_ends() -> None:
    # Up in half a second, then a slow four-second release: no quick fall to wait for.
    moves = [Move(3.0, 3.5, SMILE, apex=3.5), Move(3.5, 7.5, SMILE, apex=3.5)]
    early, final = early_and_final(Script(duration=10.0, moves=moves))
    assert [c.cue for _, c in final] == ["polite_smile"]
    assert [c.cue for _, c in early] == ["polite_smile"]
    assert early[0][0] <= 4.3  # the apex is at 3.5
    final_cue = final[0][1]
    assert isinstance(final_cue, Cue) and final_cue.offset_s is not None and final_cue.offset_s > 6.0


def test_a_stronger_competing_movement_holds_back_the_weaker_one() -> None:
    # A light lip press inside a stronger one-sided pull: the final cues keep only the pull, and so do
    # the early ones.
    moves = [Move(3.0, 4.6, LIP_PULL), Move(3.4, 4.1, LIGHT_PRESS)]
    early, final = early_and_final(Script(duration=8.0, moves=moves))
    assert [c.cue for _, c in final] == ["unilateral_lip_pull"]
    assert [c.cue for _, c in early] == ["unilateral_lip_pull"]


def test_the_light_press_alone_is_announced() -> None:
    early, final = early_and_final(Script(duration=6.0, moves=[Move(3.4, 4.1, LIGHT_PRESS)]))
    assert [c.cue for _, c in final] == [c.cue for _, c in early] == ["lip_compression"]


def test_a_movement_that_dips_for_a_frame_is_announced_once() -> None:
    moves = [Move(3.0, 3.5, LIP_PRESS, apex=3.4), Move(3.56, 4.0, LIP_PRESS, apex=3.62)]
    early, final = early_and_final(Script(duration=6.0, moves=moves))
    assert [c.cue for _, c in final] == ["lip_compression"]
    assert [c.cue for _, c in early] == ["lip_compression"]


def test_a_channel_can_be_made_to_wait_after_its_apex() -> None:
    engine = CueEngine(EngineConfig(early=True, early_rule=EarlyRule(settle_s=(("brow_raise", 0.3),))))
    early = [
        e
        for obs in Script(duration=7.0, moves=[Move(3.0, 4.2, BROW_RAISE)]).frames()
        for e in engine.update(obs)
        if isinstance(e, EarlyCue)
    ]
    assert len(early) == 1 and early[0].t_s - early[0].apex_s >= 0.3


def test_blink_clusters_get_no_early_cue() -> None:
    cluster = [Move(3.0 + k * 0.45, 3.0 + k * 0.45 + 0.15, BLINK) for k in range(4)]
    early, final = early_and_final(Script(duration=7.0, moves=cluster))
    assert [c.cue for _, c in final] == ["blink_cluster"]
    assert early == []


def test_default_config_yields_no_early_cue() -> None:
    moves = [Move(3.0, 3.4, BROW_RAISE), Move(5.0, 5.4, LIP_PRESS), Move(7.0, 8.0, {**SMILE, **CRINKLE})]
    events = stream(Script(duration=10.0, moves=moves), early=False)
    assert not any(isinstance(e, EarlyCue) for _, e in events)
    assert len([e for _, e in events if isinstance(e, Cue)]) == 3


def test_as_dict_has_no_scale_or_offset() -> None:
    early, _ = early_and_final(Script(duration=6.0, moves=[Move(3.0, 3.4, BROW_RAISE)]))
    line = early[0][1].as_dict()
    assert line["type"] == "early_cue"
    assert set(line) == {"type", "cue", "emotion", "onset_s", "apex_s", "t_s", "intensity", "confidence", "face"}


def _turn(t: float) -> HeadPose:
    w = max(0.0, math.sin(math.pi * (t - 6.0))) if 6.0 <= t <= 7.0 else 0.0
    return HeadPose(yaw=35 * w, pitch=0.0, roll=0.0)


SCRIPTS = {
    "quiet": Script(duration=6.0),
    "several": Script(
        duration=12.0,
        moves=[
            Move(3.0, 3.4, BROW_RAISE),
            Move(5.0, 5.4, LIP_PRESS),
            Move(7.0, 8.0, {**SMILE, **CRINKLE}),
            Move(9.0, 10.5, SMILE),
        ],
    ),
    "overlapping": Script(
        duration=9.0,
        moves=[
            Move(3.0, 4.6, LIP_PULL),
            Move(3.4, 4.1, LIGHT_PRESS),
            Move(3.2, 4.4, {"gaze_x": 0.3}),
            Move(5.5, 6.0, BROW_RAISE),
            Move(5.6, 6.1, {**EYES_WIDE, **JAW_DROP}),
        ],
    ),
    "dip": Script(duration=6.0, moves=[Move(3.0, 3.5, LIP_PRESS, apex=3.4), Move(3.56, 4.0, LIP_PRESS, apex=3.62)]),
    "blinks": Script(
        duration=8.0, moves=[Move(3.0 + k * 0.45, 3.15 + k * 0.45, BLINK) for k in range(4)] + [Move(3.2, 4.0, SMILE)]
    ),
    "talking": Script(
        duration=9.0,
        moves=[Move(2.5 + k * 0.25, 2.72 + k * 0.25, {**JAW_DROP, "lip_upper": -0.02}) for k in range(20)]
        + [Move(4.0, 5.0, BROW_RAISE)],
    ),
    "turn": Script(duration=9.0, pose=_turn, moves=[Move(5.5, 6.6, SMILE), Move(6.0, 7.0, {"mouth_corner_r": 0.06})]),
    "unfinished": Script(duration=4.0, moves=[Move(3.0, 5.0, BROW_RAISE, apex=3.5)]),
    "noisy": Script(
        duration=20.0,
        noise=0.6,
        seed=3,
        moves=[Move(4.0 + 2 * k, 4.5 + 2 * k, d) for k, d in enumerate([SMILE, LIP_PRESS, BROW_RAISE, LIP_PULL] * 2)],
    ),
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
@pytest.mark.parametrize("faces", [1, 2])
def test_final_stream_is_identical_with_and_without_early_cues(name: str, faces: int) -> None:
    plain = stream(SCRIPTS[name], early=False, faces=faces)
    with_early = [
        (t, e)
        for t, e in stream(SCRIPTS[name], early=True, faces=faces)
        if not isinstance(e, (EarlyCue, EarlyCueWithdrawn))
    ]
    assert with_early == plain


@pytest.mark.parametrize("name", sorted(SCRIPTS))
@pytest.mark.parametrize("faces", [1, 2])
def test_each_early_cue_is_settled_once(name: str, faces: int) -> None:
    events = [e for _, e in stream(SCRIPTS[name], early=True, faces=faces) if not isinstance(e, BaselineEvent)]
    assert settle(events).problems == []


# A smile up in half a second, then held with a slow four-second release: announced at ~4.2 s, under way
# until ~7 s.
HELD_SMILE = [Move(3.0, 3.5, SMILE, apex=3.5), Move(3.5, 7.5, SMILE, apex=3.5)]


def _withdrawn(events: list[Timed]) -> list[tuple[float, EarlyCueWithdrawn]]:
    return [(t, e) for t, e in events if isinstance(e, EarlyCueWithdrawn)]


def _settled_as(events: list[Timed], reason: str, between: tuple[float, float]) -> EarlyCueWithdrawn:
    """The first early cue was withdrawn for ``reason``, on a frame in ``between``; every early cue settled."""
    earlies = [e for _, e in events if isinstance(e, EarlyCue)]
    withdrawn = _withdrawn(events)
    assert earlies and withdrawn, events
    t, w = withdrawn[0]
    assert w.reason == reason and w.withdraws(earlies[0])
    assert w.t_s == t and between[0] <= t <= between[1]
    assert not any(
        isinstance(e, Cue) and e.cue == w.cue and e.onset_s <= w.apex_s <= (e.offset_s or math.inf) for _, e in events
    )
    assert settle([e for _, e in events if not isinstance(e, BaselineEvent)]).problems == []
    return w


def _turn_at_5(t: float) -> HeadPose:
    w = max(0.0, math.sin(math.pi * (t - 5.0) / 0.6)) if 5.0 <= t <= 5.6 else 0.0
    return HeadPose(yaw=30 * w, pitch=0.0, roll=0.0)


def test_a_movement_cut_by_a_head_turn_is_withdrawn_as_unreadable() -> None:
    events = stream(Script(duration=10.0, moves=HELD_SMILE, pose=_turn_at_5), early=True)
    early = [e for _, e in events if isinstance(e, EarlyCue)]
    assert early[0].cue == "polite_smile" and early[0].t_s < 5.0
    w = _settled_as(events, "unreadable", (5.0, 5.3))  # the first frame muted by the turn
    assert w.as_dict() == {
        "type": "early_cue_withdrawn",
        "cue": "polite_smile",
        "face": 0,
        "onset_s": round(early[0].onset_s, 3),
        "apex_s": round(early[0].apex_s, 3),
        "t_s": round(w.t_s, 3),
        "reason": "unreadable",
    }


def test_a_face_lost_mid_movement_is_withdrawn_as_face_lost() -> None:
    frames = [
        dataclasses.replace(o, faces=()) if 5.0 <= o.t_s <= 6.0 else o
        for o in Script(duration=10.0, moves=HELD_SMILE).frames()
    ]
    events = stream(frames, early=True)
    # Withdrawn once the face has been gone for lost_after_s (0.5 s).
    _settled_as(events, "face_lost", (5.46, 5.5))  # last seen at 4.96 s


def test_an_outranking_movement_after_the_announcement_withdraws_it() -> None:
    # A light lip press peaks and is announced; a stronger one-sided pull begins after that and overlaps
    # most of it: the final cues keep only the pull.
    moves = [Move(3.0, 5.0, LIGHT_PRESS, apex=3.3), Move(3.6, 5.0, LIP_PULL)]
    events = stream(Script(duration=8.0, moves=moves), early=True)
    early = [e for _, e in events if isinstance(e, EarlyCue)]
    assert early[0].cue == "lip_compression" and early[0].t_s < 3.7
    assert [e.cue for _, e in events if isinstance(e, Cue)] == ["unilateral_lip_pull"]
    _settled_as(events, "outranked", (4.0, 6.0))


def test_a_final_cue_with_another_name_follows_the_withdrawal_at_once() -> None:
    # Announced as a polite smile; a bigger smile reaching the eyes follows within the same movement.
    moves = [Move(3.0, 5.0, SMILE, apex=3.3), Move(3.8, 4.8, {**SMILE, **CRINKLE})]
    events = [
        (t, e) for t, e in stream(Script(duration=8.0, moves=moves), early=True) if not isinstance(e, BaselineEvent)
    ]
    assert [type(e).__name__ for _, e in events] == ["EarlyCue", "EarlyCueWithdrawn", "Cue"]
    (_, early), (t_w, w), (t_c, final) = events
    assert isinstance(early, EarlyCue) and isinstance(w, EarlyCueWithdrawn) and isinstance(final, Cue)
    assert early.cue == "polite_smile" and final.cue == "duchenne_smile"
    assert w.reason == "renamed" and w.withdraws(early) and t_w == t_c == w.t_s
    assert settle([e for _, e in events]).problems == []


def test_a_movement_under_way_at_the_end_gets_its_final_cue_not_a_withdrawal() -> None:
    events = stream(SCRIPTS["unfinished"], early=True)
    assert [e.cue for _, e in events if isinstance(e, EarlyCue)] == ["eyebrow_flash"]
    assert _withdrawn(events) == []
    assert [(t, e.cue, e.offset_s) for t, e in events if isinstance(e, Cue)] == [(math.inf, "eyebrow_flash", None)]


def test_no_withdrawal_without_early_cues() -> None:
    events = stream(Script(duration=10.0, moves=HELD_SMILE, pose=_turn_at_5), early=False)
    assert _withdrawn(events) == []


@pytest.mark.slow
def test_early_cues_on_a_real_clip_are_each_settled_once(
    crying_clip_observations: tuple[FrameObservation, ...],
) -> None:
    from callcoach_bench.early import run_engines

    # VisionPipeline(live=False) on WolfgangLanger_Pexels.mp4, as callcoach_bench.early.observe makes them:
    # the session's one analysis of the clip (tests/conftest.py).
    result = run_engines("real", crying_clip_observations)
    assert result.identical
    settled = settle(result.events)
    assert settled.problems == []
    assert set(settled.withdrawn) | set(settled.final) == set(range(len(result.earlies)))
    # The laugh (from ~9.4 s, under way for 9 s before she tosses her head) is announced early and
    # confirmed, not withdrawn by the head motion that ends it.
    laugh = [
        i
        for i, e in enumerate(result.earlies)
        if e.cue in ("duchenne_smile", "polite_smile") and 9.0 <= e.onset_s <= 10.5
    ]
    assert laugh and all(i in settled.final for i in laugh)
