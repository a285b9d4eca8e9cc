"""A long movement cut by a head turn, resumed when the face steadies: two cues that do not overlap."""

from __future__ import annotations

import math

from scripted import SMILE, Move, Script

from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.spotter import Spotter
from callcoach.cues.vocabulary import Cue
from callcoach.vision.types import HeadPose


def _turn_at_7(t: float) -> HeadPose:
    w = max(0.0, math.sin(math.pi * (t - 7.0) / 0.6)) if 7.0 <= t <= 7.6 else 0.0
    return HeadPose(yaw=30 * w, pitch=0.0, roll=0.0)


def test_a_movement_resumed_after_a_head_turn_starts_after_the_cut() -> None:
    held = [Move(2.5, 20.0, SMILE, apex=3.0)]
    engine = CueEngine(EngineConfig(baseline_seconds=2.0))
    cues: list[Cue] = []
    for obs in Script(duration=11.0, moves=held, pose=_turn_at_7).frames():
        cues.extend(e for e in engine.update(obs) if isinstance(e, Cue))
    cues.extend(e for e in engine.finish() if isinstance(e, Cue))
    smiles = sorted((c for c in cues if c.cue.endswith("smile")), key=lambda c: c.onset_s)
    assert len(smiles) == 2, [(c.cue, c.onset_s, c.offset_s) for c in cues]
    before, after = smiles
    # Seen whole for seconds before the turn: kept, ended where the turn began.
    assert before.offset_s is not None and 7.0 <= before.offset_s <= 7.3
    # The same smile again once the face is readable: it starts after the cut, not back in the turn.
    assert after.onset_s >= before.offset_s


def test_an_interrupt_forgets_what_came_before_it() -> None:
    spotter = Spotter("smile")
    for i in range(10):
        spotter.update(i * 0.04, 0.3)  # a slow rise, above the onset edge
    assert spotter.interrupt(0.4) is None  # idle: nothing to end ...
    spotter.update(1.0, 0.3)
    spotter.update(1.04, 1.5)
    assert spotter.onset_s == 1.0  # ... but the onset no longer reaches back before the cut
