"""A smile before the resting face is known (cues/warmup.py): the watcher on scripted series, and the engine
giving it once, not twice, and nothing for a face that is not smiling by both readers' standards."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

from scripted import SMILE, Move, Script

from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.vocabulary import BaselineEvent, Cue, EarlyCueWithdrawn
from callcoach.cues.warmup import MIN_S, RISE, SMILE_BS, WarmupWatcher
from callcoach.vision.types import FrameObservation

HAPPY = {"happiness": 0.97, "neutral": 0.02, "sadness": 0.01}
NEUTRAL = {"happiness": 0.02, "neutral": 0.95, "sadness": 0.03}
FPS = 25.0


def watch(
    series: Sequence[tuple[float | None, float, bool]], calm: bool = True
) -> list[tuple[float, float | None, float]]:
    """(happiness, mouthSmile, readable) per frame at 25 fps -> (onset, offset, peak) of each smile.

    ``calm``: the resting frames (no smile, the appearance model reading no happiness) are calm, as the
    baseline's resting-face test would find them."""
    w = WarmupWatcher()
    out = []
    for i, (happy, smile, readable) in enumerate(series):
        at_rest = calm and happy is not None and happy < 0.1 and smile < 0.15
        found = w.update(i / FPS, happy, smile, readable, at_rest)
        if found is not None:
            out.append((found.onset_s, found.offset_s, found.peak))
    last = w.finish((len(series) - 1) / FPS)
    if last is not None:
        out.append((last.onset_s, last.offset_s, last.peak))
    return out


def test_a_smile_both_readers_agree_on_is_found_with_its_interval_and_breadth() -> None:
    series = [(0.02, 0.05, True)] * 10 + [(0.97, 0.6, True)] * 20 + [(0.02, 0.05, True)] * 10
    [(onset, offset, peak)] = watch(series)
    assert abs(onset - 10 / FPS) < 1e-9 and offset is not None and abs(offset - 29 / FPS) < 1e-9
    assert peak == 0.6


def test_one_reader_alone_or_a_moment_or_a_covered_mouth_is_no_smile() -> None:
    rest = [(0.02, 0.05, True)] * 10
    assert watch(rest + [(0.97, SMILE_BS / 2, True)] * 30 + rest) == []  # sure CNN, no mouthSmile
    assert watch(rest + [(0.6, 0.8, True)] * 30 + rest) == []  # broad mouth, CNN unsure (speech shapes)
    assert watch(rest + [(0.97, 0.8, False)] * 30 + rest) == []  # mouth covered or head turning
    short = int(MIN_S * FPS) - 2
    assert watch(rest + [(0.97, 0.8, True)] * short + rest) == []  # shorter than a held expression


def test_a_blink_long_break_does_not_split_a_smile_and_skipped_model_frames_hold() -> None:
    Frames = list[tuple[float | None, float, bool]]
    rest: Frames = [(0.02, 0.05, True)] * 5
    smile: Frames = [(0.97, 0.6, True)] * 15
    gap: Frames = [(0.97, 0.1, True)] * 3  # 0.12 s under the level: a blink-long dip
    skipped: Frames = [(None, 0.6, True), (0.97, 0.6, True)] * 8  # the appearance model runs every second frame
    found = watch(rest + smile + gap + smile + skipped + rest * 2)
    assert len(found) == 1 and abs(found[0][0] - 5 / FPS) < 1e-9


def test_a_smile_from_the_first_frame_counts_only_once_the_face_rests_without_it() -> None:
    smile = [(0.97, 0.45, True)] * 30  # a face that looks happy at rest, held still
    frown = [(0.3, 0.05, True)] * 15  # another expression, or words: no smile, but not calm either
    rest = [(0.02, 0.05, True)] * 10
    # Seen since the first frame and never left for a calm face: a face that looks happy at rest.
    assert watch(smile + frown + smile, calm=False) == []
    assert watch(smile + frown + smile + frown, calm=False) == []
    # Interrupted by a frown, then back: the same resting look, still nothing; then it gives way to a
    # calm face without it: it was a smile, from the first frame to its last.
    [(onset, offset, _)] = watch(smile + frown + smile + rest)
    assert onset == 0.0 and offset is not None and abs(offset - 74 / FPS) < 1e-9


def test_a_smile_still_under_way_at_the_end_has_no_offset() -> None:
    [(onset, offset, _)] = watch([(0.02, 0.05, True)] * 10 + [(0.97, 0.45, True)] * 20)
    assert abs(onset - 10 / FPS) < 1e-9 and offset is None
    # A single frame without the smile first is the tracker settling, not a face seen without it.
    assert watch([(0.02, 0.05, True)] + [(0.97, 0.45, True)] * 20) == []


def test_a_smile_seen_to_grow_for_a_while_counts_from_the_first_frame() -> None:
    held = [(0.97, 0.45, True)] * 30
    grown = [(0.97, 0.45 + RISE, True)] * 10  # 0.4 s: at least MIN_S
    vowel = [(0.97, 0.8, True)] * 5  # 0.2 s: an instant's peak, as speech gives
    frown = [(0.3, 0.05, True)] * 15
    # Held from the first frame to the last: a resting look, even broken by a frown and back; a smile once
    # it grows by RISE over its own lowest for MIN_S.
    assert watch(held, calm=False) == []
    assert watch(held + vowel + held, calm=False) == []
    assert watch(held + frown + held, calm=False) == []
    [(onset, offset, peak)] = watch(held + grown + held, calm=False)
    assert onset == 0.0 and offset is None and abs(peak - 0.45 - RISE) < 1e-9
    # Only while calibrating: once the resting face is known, the channels read a broader smile.
    w = WarmupWatcher()
    for i, (happy, smile, readable) in enumerate(held + grown + held):
        assert w.update(i / FPS, happy, smile, readable, calibrating=i < 30) is None
    assert w.finish((len(held) * 2 + len(grown) - 1) / FPS) is None


def with_appearance(script: Script, happy_when: float) -> Iterator[FrameObservation]:
    """The script's frames with an appearance reading: happy while mouthSmile is at least ``happy_when``."""
    for obs in script.frames():
        faces = []
        for f in obs.faces:
            smile = (f.blendshapes["mouthSmileLeft"] + f.blendshapes["mouthSmileRight"]) / 2
            faces.append(dataclasses.replace(f, emotion=HAPPY if smile >= happy_when else NEUTRAL))
        yield dataclasses.replace(obs, faces=tuple(faces))


def run(frames: Iterator[FrameObservation]) -> tuple[list[Cue], float | None]:
    engine = CueEngine(EngineConfig(baseline_seconds=2.0))
    events = [e for o in frames for e in engine.update(o)] + list(engine.finish())
    ready = next((e.t_s for e in events if isinstance(e, BaselineEvent) and e.status == "ready"), None)
    return [e for e in events if isinstance(e, Cue)], ready


def test_a_face_smiling_from_its_first_frame_gets_its_smile_before_the_baseline_is_ready() -> None:
    # Smiling when the clip starts, the smile fading out by 3.5 s: before this rule, no cue at all.
    script = Script(duration=8.0, fps=FPS, moves=[Move(-1.0, 3.5, SMILE, apex=-0.5)])
    cues, ready = run(with_appearance(script, happy_when=0.3))
    smiles = [c for c in cues if c.cue in ("duchenne_smile", "polite_smile")]
    assert len(smiles) == 1, cues
    smile = smiles[0]
    assert smile.onset_s == 0.0 and smile.emotion == "happiness"
    assert ready is not None and smile.offset_s is not None and smile.offset_s <= 3.5
    assert 0.0 < smile.confidence < 0.5  # no resting face to measure it against: a weak guess


def test_a_resting_face_and_the_same_smile_without_a_sure_reading_give_no_cue() -> None:
    script = Script(duration=6.0, fps=FPS, moves=[Move(-1.0, 3.5, SMILE, apex=-0.5)])
    cues, _ = run(with_appearance(script, happy_when=2.0))  # the appearance model never reads happiness
    assert cues == []
    cues, _ = run(with_appearance(Script(duration=6.0, fps=FPS), happy_when=0.3))
    assert cues == []


def test_a_smile_under_way_when_the_baseline_is_ready_is_given_once() -> None:
    # A smile held almost still from the start (the baseline takes it as the resting face), then broadening
    # at 3-4.6 s, which the smile channel sees against that baseline: one smile, not two.
    script = Script(
        duration=6.0,
        fps=FPS,
        moves=[Move(-8.0, 8.0, SMILE, apex=0.0), Move(3.0, 4.6, SMILE)],
    )
    cues, ready = run(with_appearance(script, happy_when=0.3))
    assert ready is not None and ready < 3.0
    smiles = [c for c in cues if c.cue in ("duchenne_smile", "polite_smile")]
    assert len(smiles) == 1, cues
    assert smiles[0].onset_s >= 2.9 and smiles[0].confidence > 0.45  # the channel's, against the resting face


def test_a_smile_rising_before_the_baseline_and_going_on_after_it_is_the_channels_cue() -> None:
    # At rest, then smiling from 1.0 s to 4.0 s; the baseline is ready at 2 s, mid-smile. Both readers see
    # it: it is given once, by the smile channel (measured against the resting face), and an early cue
    # announced for it is confirmed, not withdrawn.
    script = Script(duration=7.0, fps=FPS, moves=[Move(1.0, 4.0, SMILE, apex=2.5)])
    engine = CueEngine(EngineConfig(baseline_seconds=2.0, early=True))
    events = [e for o in with_appearance(script, happy_when=0.3) for e in engine.update(o)] + list(engine.finish())
    smiles = [e for e in events if isinstance(e, Cue) and e.cue in ("duchenne_smile", "polite_smile")]
    assert len(smiles) == 1, smiles
    assert smiles[0].confidence > 0.45
    final_at = events.index(smiles[0])
    assert not [e for e in events[final_at:] if isinstance(e, EarlyCueWithdrawn) and e.cue == smiles[0].cue]


def drop_faces(frames: Iterator[FrameObservation], start: float, end: float) -> Iterator[FrameObservation]:
    """The face is gone from ``start`` to ``end`` s (it left the picture)."""
    for obs in frames:
        yield dataclasses.replace(obs, faces=()) if start <= obs.t_s < end else obs


def hide_mouth(frames: Iterator[FrameObservation], start: float, end: float) -> Iterator[FrameObservation]:
    """A hand over the mouth from ``start`` to ``end`` s (vision's hidden regions)."""
    for obs in frames:
        if start <= obs.t_s < end:
            obs = dataclasses.replace(
                obs, faces=tuple(dataclasses.replace(f, hidden=frozenset({"mouth"})) for f in obs.faces)
            )
        yield obs


def test_a_face_lost_mid_smile_does_not_leave_the_smile_under_way_to_the_end() -> None:
    script = Script(duration=8.0, fps=FPS, moves=[Move(0.5, 6.0, SMILE, apex=1.0)])
    cues, _ = run(drop_faces(with_appearance(script, happy_when=0.3), 1.5, 8.0))
    assert all(c.offset_s is not None and c.offset_s <= 1.6 for c in cues), cues


def test_two_smiles_apart_are_not_joined_across_a_long_loss_or_a_covered_mouth() -> None:
    moves = [Move(0.3, 2.0, SMILE, apex=0.8), Move(4.5, 6.5, SMILE, apex=5.0)]
    for cover in (drop_faces, hide_mouth):
        frames = cover(with_appearance(Script(duration=9.0, fps=FPS, moves=moves), happy_when=0.3), 1.2, 4.6)
        cues, _ = run(frames)
        smiles = [c for c in cues if c.cue in ("duchenne_smile", "polite_smile")]
        assert not [c for c in smiles if c.onset_s < 1.2 and (c.offset_s is None or c.offset_s > 4.6)], (cover, cues)


def test_a_later_smile_after_a_warm_up_one_is_its_own_cue() -> None:
    script = Script(duration=9.0, fps=FPS, moves=[Move(-1.0, 2.5, SMILE, apex=-0.5), Move(5.5, 7.5, SMILE)])
    cues, ready = run(with_appearance(script, happy_when=0.3))
    smiles = sorted((c for c in cues if c.cue in ("duchenne_smile", "polite_smile")), key=lambda c: c.onset_s)
    assert ready is not None and ready < 5.5
    assert [s.onset_s < ready for s in smiles] == [True, False], cues
    assert 5.4 <= smiles[1].onset_s <= 6.6


def test_a_smile_growing_from_the_first_frame_is_given_once() -> None:
    # A smile already there at the first frame (mouthSmile 0.3) that grows to 0.6 within the first second:
    # before the baseline is ready, seen to grow, so given (once) though it never left for a calm face.
    script = Script(duration=6.0, fps=FPS, moves=[Move(-1.0, 20.0, SMILE, apex=1.0)])
    cues, ready = run(with_appearance(script, happy_when=0.25))
    assert ready is not None
    smiles = [c for c in cues if c.cue in ("duchenne_smile", "polite_smile")]
    assert len(smiles) == 1 and smiles[0].onset_s == 0.0 and smiles[0].confidence < 0.5, cues
    # Already at its broadest at the first frame and fading: nothing seen to begin or grow, the face at rest.
    cues, _ = run(with_appearance(Script(duration=6.0, fps=FPS, moves=[Move(-20.0, 20.0, SMILE, apex=0.0)]), 0.25))
    assert [c for c in cues if c.cue in ("duchenne_smile", "polite_smile")] == []


def test_a_warm_up_smile_is_not_dropped_for_a_channel_movement_named_otherwise() -> None:
    # Growing from the first frame (a warm-up smile, still under way at the end), then one mouth corner pulled
    # further, also under way at the end: the smile channel fires, but names a one-sided pull, not a
    # smile; the warm-up smile is still given.
    pull = {"mouth_corner_r": 0.12, "mouthSmileRight": 0.3}
    script = Script(duration=7.0, fps=FPS, moves=[Move(-1.0, 20.0, SMILE, apex=1.0), Move(3.5, 9.0, pull)])
    cues, ready = run(with_appearance(script, happy_when=0.3))
    assert ready is not None and ready < 3.5
    assert "unilateral_lip_pull" in [c.cue for c in cues], cues
    smiles = [c for c in cues if c.cue in ("duchenne_smile", "polite_smile")]
    assert len(smiles) == 1 and smiles[0].onset_s == 0.0 and smiles[0].confidence < 0.5, cues
