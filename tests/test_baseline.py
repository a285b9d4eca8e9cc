"""The resting-face baseline on scripted signal series: a frequent smiler, a face that starts out
crying, a long call with a sustained expression and a slow drift. No camera, no model."""

from __future__ import annotations

import numpy as np
from scripted import BROW_RAISE, NEUTRAL_BLENDSHAPES, NEUTRAL_GEOMETRY, SMILE, Move, Script

from callcoach.cues.baseline import RobustBaseline, expression_energy
from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.features import FLOORS, INDEX
from callcoach.cues.vocabulary import BaselineEvent, Cue

SMILES = ("polite_smile", "duchenne_smile")
# Crying: inner brows up, corners down, eyes squeezed, lips pressed.
CRYING = {
    "browInnerUp": 0.6,
    "brow_inner_r": 0.05,
    "brow_inner_l": 0.05,
    "mouthFrownLeft": 0.5,
    "mouthFrownRight": 0.5,
    "mouth_corner_r": -0.06,
    "mouth_corner_l": -0.06,
    "eyeSquintLeft": 0.5,
    "eyeSquintRight": 0.5,
    "eye_aperture_r": -0.08,
    "eye_aperture_l": -0.08,
    "mouthPressLeft": 0.4,
    "mouthPressRight": 0.4,
}

HALF_CRYING = {k: v / 2 for k, v in CRYING.items()}


def sobbing(until: float) -> list[Move]:
    """A crying face that crumples further every 1.2 s and never quite rests, easing off after ``until``."""
    held = Move(-30.0, until + 1.0, HALF_CRYING, apex=until - 1.0)
    return [held, *(Move(k * 1.2, k * 1.2 + 0.8, HALF_CRYING) for k in range(int(until / 1.2)))]


def run(script: Script, engine: CueEngine | None = None) -> tuple[list[Cue], list[BaselineEvent], CueEngine]:
    engine = engine or CueEngine(EngineConfig())
    cues: list[Cue] = []
    events: list[BaselineEvent] = []
    for obs in script.frames():
        for event in engine.update(obs):
            if isinstance(event, Cue):
                cues.append(event)
            elif isinstance(event, BaselineEvent):
                events.append(event)
    cues.extend(c for c in engine.finish() if isinstance(c, Cue))
    return cues, events, engine


def test_energy_orders_rest_below_expressions_and_calls_rest_calm() -> None:
    rest, rest_calm = expression_energy(NEUTRAL_BLENDSHAPES, None)
    smiling = dict(
        NEUTRAL_BLENDSHAPES, mouthSmileLeft=0.9, mouthSmileRight=0.9, mouthUpperUpLeft=0.7, mouthUpperUpRight=0.7
    )
    smile, smile_calm = expression_energy(smiling, None)
    assert rest_calm and not smile_calm and smile > rest
    # The appearance model's reading counts: a strong sadness is not calm, a neutral reading lowers energy.
    sad, sad_calm = expression_energy(NEUTRAL_BLENDSHAPES, {"sadness": 0.9, "neutral": 0.05})
    neutral, neutral_calm = expression_energy(NEUTRAL_BLENDSHAPES, {"sadness": 0.05, "neutral": 0.9})
    assert not sad_calm and neutral_calm and sad > neutral


def test_a_face_that_smiles_most_of_the_time_gets_each_smile_spotted() -> None:
    # 0.6 s at rest, then a 1.8 s smile, over and over: smiling 75% of the time, as in single_face.mp4.
    period, n = 2.4, 12
    smiles = [Move(k * period + 0.6, (k + 1) * period, SMILE, apex=k * period + 1.5) for k in range(n)]
    cues, events, engine = run(Script(duration=n * period, moves=smiles))
    ready = next(e.t_s for e in events if e.status == "ready")
    expected = [m for m in smiles if m.onset >= ready]
    spotted = [c for c in cues if c.cue in SMILES]
    assert len(expected) >= 10
    for m in expected:
        assert any(m.onset - 0.3 <= c.apex_s <= m.offset for c in spotted), f"smile at {m.onset} missed"
    # The reference stays at the resting mouth, not at the smile the face shows most of the time.
    base = engine._faces[0].baseline
    rest = (NEUTRAL_GEOMETRY["mouth_corner_r"] + NEUTRAL_GEOMETRY["mouth_corner_l"]) / 2
    assert abs(base.median[INDEX["corner"]] - rest) < FLOORS[INDEX["corner"]]


def test_a_face_that_starts_out_crying_is_not_taken_as_neutral() -> None:
    # Sobbing from the first frame (the face crumples and eases every 0.6 s) until ~5.5 s; then at rest;
    # then a smile at 9 s.
    cues, events, engine = run(Script(duration=14.0, moves=[*sobbing(5.0), Move(9.0, 10.5, SMILE)]))
    ready = next(e.t_s for e in events if e.status == "ready")
    assert ready >= 5.0, f"baseline ready at {ready:.1f} s, while still crying"
    assert all(c.onset_s >= ready for c in cues)
    assert any(c.cue in SMILES and 9.0 <= c.apex_s <= 10.5 for c in cues)
    # By the end the reference is the face at rest, not the tail of the crying.
    base = engine._faces[0].baseline
    assert (
        abs(base.median[INDEX["brow_inner_bs"]] - NEUTRAL_BLENDSHAPES["browInnerUp"])
        < 0.5 * FLOORS[INDEX["brow_inner_bs"]]
    )


def test_a_face_that_never_calms_down_still_gets_a_baseline() -> None:
    # Sobbing throughout: after the warm-up and trust_s more seconds, the quietest frames are used.
    _, events, _ = run(Script(duration=14.0, moves=sobbing(20.0)))
    ready = [e.t_s for e in events if e.status == "ready"]
    assert ready and 9.5 <= ready[0] <= 11.0


def test_a_still_face_that_looks_expressive_is_its_own_resting_face() -> None:
    # A resting face that reads as sad (held, unchanging): ready after the warm-up, like any still face,
    # and a brow raise on top of it is spotted.
    held = Move(-100.0, 100.0, CRYING, apex=0.0)
    cues, events, _ = run(Script(duration=8.0, moves=[held, Move(5.0, 5.6, BROW_RAISE)]))
    ready = [e.t_s for e in events if e.status == "ready"]
    assert ready and ready[0] < 2.5
    assert any(c.cue in ("eyebrow_flash", "micro_surprise") and 5.0 <= c.apex_s <= 5.6 for c in cues)


def test_zero_warmup_takes_the_first_frame_at_once() -> None:
    base = RobustBaseline(FLOORS, warmup_s=0)
    first = np.full(FLOORS.size, 0.5)
    assert base.add(0.0, first, energy=5.0, calm=False)  # even an expressive first frame: the user asked
    assert base.ready and np.array_equal(base.median, first) and np.array_equal(base.scale, FLOORS)


def test_a_long_call_adapts_to_drift_but_not_onto_a_sustained_expression() -> None:
    # A slow posture/lighting drift of the brows (2.4 floors over a minute, then held), a 30 s smile in
    # the middle of the call, and brief smiles after it.
    drift = Move(10.0, 1000.0, {"brow_inner_r": 0.06, "brow_inner_l": 0.06}, apex=70.0)
    long_smile = Move(80.0, 110.0, SMILE, apex=95.0)
    brief = [Move(t, t + 1.2, SMILE) for t in (118.0, 124.0, 130.0)]
    script = Script(duration=135.0, fps=15.0, moves=[drift, long_smile, *brief])
    engine = CueEngine(EngineConfig())
    cues: list[Cue] = []
    corner_ref: list[float] = []
    for obs in script.frames():
        cues += [e for e in engine.update(obs) if isinstance(e, Cue)]
        if 100.0 <= obs.t_s <= 110.0:  # deep in the long smile
            corner_ref.append(engine._faces[0].baseline.median[INDEX["corner"]])
    cues += [e for e in engine.finish() if isinstance(e, Cue)]
    rest = (NEUTRAL_GEOMETRY["mouth_corner_r"] + NEUTRAL_GEOMETRY["mouth_corner_l"]) / 2
    assert max(abs(r - rest) for r in corner_ref) < FLOORS[INDEX["corner"]]
    for m in brief:
        assert any(c.cue in SMILES and m.onset <= c.apex_s <= m.offset for c in cues), f"smile at {m.onset}"
    # The drift was followed: the reference brow sits near where the brows now rest.
    base = engine._faces[0].baseline
    now = NEUTRAL_GEOMETRY["brow_inner_r"] + 0.06 * drift.weight(135.0)
    assert abs(base.median[INDEX["brow_inner"]] - now) < FLOORS[INDEX["brow_inner"]]
    assert not any(c.cue == "eyebrow_flash" for c in cues)  # the drift itself is no movement


def _refs(moving: bool, seconds: float, fps: float = 30.0) -> list[float]:
    """The reference of one signal while it rises steadily by one floor a second from a resting first frame."""
    base = RobustBaseline(FLOORS, warmup_s=0.0)
    i = INDEX["corner"]
    refs = []
    for k in range(round(seconds * fps)):
        x = np.zeros(FLOORS.size)
        x[i] = FLOORS[i] * k / fps
        base.add(k / fps, x, energy=k / fps, moving=moving and k > 0)
        refs.append(float(base.median[i] / FLOORS[i]))
    return refs


def test_a_movement_under_way_holds_the_reference_still() -> None:
    # Without the hold the refresh every 8 frames takes the rising frames as quiet ones (their energy is
    # still near the quietest level), and the reference chases the movement it measures.
    assert max(_refs(moving=False, seconds=1.0)) > 0.05
    assert max(_refs(moving=True, seconds=1.0)) == 0.0


def test_a_movement_held_for_long_lets_the_reference_follow_again() -> None:
    refs = _refs(moving=True, seconds=12.0)
    assert refs[round(9.5 * 30)] == 0.0
    assert refs[-1] > 0.0


def _smile_intensity(rise_s: float) -> float:
    # A posed smile building up from the first frame (taken as the resting face, as --baseline-seconds 0
    # does) to its apex at the end of the input, as a neutral-to-apex image sequence is.
    script = Script(duration=0.1 + rise_s, fps=30.0, moves=[Move(0.1, 0.1 + 2 * rise_s, SMILE, apex=0.1 + rise_s)])
    engine = CueEngine(EngineConfig(baseline_seconds=0.0))
    cues = [e for o in script.frames() for e in engine.update(o) if isinstance(e, Cue)]
    cues += [e for e in engine.finish() if isinstance(e, Cue)]
    smiles = [c for c in cues if c.cue in SMILES]
    assert smiles, [c.cue for c in cues]
    return max(c.intensity for c in smiles)


def test_a_slowly_rising_smile_is_measured_against_the_face_it_started_from() -> None:
    # The same smile rising over 0.1 s and over 1 s ends at the same apex: it must read as strong both ways.
    assert _smile_intensity(1.0) >= 0.9 * _smile_intensity(0.1)
