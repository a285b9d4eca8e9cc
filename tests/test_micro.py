"""The micro-expression spotter (callcoach.cues.micro) on synthetic series, through the engine, and on
the CASME II clips when ../shared/realfaces is present."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scripted import Move, Script

from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.features import FLOORS, INDEX, NAMES
from callcoach.cues.micro import MicroConfig, MicroSpotter, spot
from callcoach.cues.vocabulary import Cue

FPS = 200.0


def series(seconds: float, seed: int, fps: float = FPS) -> tuple[np.ndarray, np.ndarray]:
    """A still face's feature series: white jitter of 5% of each floor."""
    rng = np.random.default_rng(seed)
    n = round(seconds * fps)
    return np.arange(n) / fps, rng.normal(0.0, 1.0, size=(n, len(NAMES))) * FLOORS * 0.05


def bump(t: np.ndarray, onset: float, apex: float, offset: float) -> np.ndarray:
    rise = 0.5 - 0.5 * np.cos(math.pi * np.clip((t - onset) / (apex - onset), 0, 1))
    fall = 0.5 + 0.5 * np.cos(math.pi * np.clip((t - apex) / (offset - apex), 0, 1))
    return np.where(t <= apex, rise, fall) * ((t > onset) & (t < offset))


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    return max(0.0, inter) / (max(a[1], b[1]) - min(a[0], b[0]))


@pytest.mark.parametrize("seed", range(5))
def test_spots_a_100ms_bump_above_noise(seed: int) -> None:
    t, x = series(4.0, seed)
    # Mouth corners up by 10 jitter units (half a floor: below the channels, well above the noise).
    x[:, INDEX["corner"]] += bump(t, 2.0, 2.04, 2.1) * FLOORS[INDEX["corner"]] * 0.5
    x[:, INDEX["smile_bs"]] += bump(t, 2.0, 2.04, 2.1) * FLOORS[INDEX["smile_bs"]] * 0.5
    events = spot(t, x)
    assert len(events) == 1, events
    ev = events[0]
    assert iou((ev.onset_s, ev.offset_s), (2.0, 2.1)) >= 0.5
    assert 2.0 <= ev.apex_s <= 2.1
    assert ev.contrast[INDEX["corner"]] > 0  # the movement's sign survives, for naming


def test_spots_a_clip_cut_from_onset_to_offset() -> None:
    # CASME II's clips start at the onset and stop at the offset: no still stretch around the movement.
    t, x = series(0.2, 7)
    x[:, INDEX["brow_gap"]] -= bump(t, 0.0, 0.06, 0.2) * FLOORS[INDEX["brow_gap"]] * 0.5
    x[:, INDEX["brow_down_bs"]] += bump(t, 0.0, 0.06, 0.2) * FLOORS[INDEX["brow_down_bs"]] * 0.5
    events = spot(t, x)
    assert len(events) == 1
    assert iou((events[0].onset_s, events[0].offset_s), (0.0, 0.2)) >= 0.5


def tracked(seconds: float, seed: int, fps: float = FPS) -> tuple[np.ndarray, np.ndarray]:
    """A still face as the landmarker tracks it (measured on real faces at 200 fps, docs/detector.md): a
    slow wander of a few thousandths of a floor, and frame-to-frame jitter twenty-five times smaller."""
    rng = np.random.default_rng(seed)
    n = round(seconds * fps)
    walk = np.cumsum(rng.normal(0.0, 1.0, size=(n, len(NAMES))), axis=0)
    kernel = np.ones(40) / 40
    wander = np.stack([np.convolve(walk[:, j], kernel, mode="same") for j in range(len(NAMES))], axis=1)
    wander = (wander - wander.mean(axis=0)) / np.abs(wander - wander.mean(axis=0)).max(axis=0)
    jitter = rng.normal(0.0, 1.0, size=(n, len(NAMES))) * 0.0002
    return np.arange(n) / fps, (wander * 0.005 + jitter) * FLOORS


def test_a_tracked_still_faces_slow_wander_is_not_spotted_but_a_movement_on_it_is() -> None:
    # The frame-to-frame differences alone take the contrast's noise for the jitter, 25 times too small:
    # the wander then reads as movements. The noise floor (a hundredth of each floor) keeps it still.
    wanders = [tracked(1.5, seed) for seed in range(20)]
    assert sum(len(spot(t, x, MicroConfig(noise_floor=0.0))) for t, x in wanders) >= 20
    assert sum(len(spot(t, x)) for t, x in wanders) == 0
    for seed in range(10):
        t, x = tracked(1.5, 100 + seed)
        for name in ("corner", "smile_bs"):  # corners up by 0.3 floors for 0.2 s
            x[:, INDEX[name]] += bump(t, 0.6, 0.66, 0.8) * FLOORS[INDEX[name]] * 0.3
        events = spot(t, x)
        assert len(events) == 1 and iou((events[0].onset_s, events[0].offset_s), (0.6, 0.8)) >= 0.5


@pytest.mark.parametrize("seed", range(10))
def test_ignores_noise(seed: int) -> None:
    t, x = series(6.0, 100 + seed)
    assert spot(t, x) == []


@pytest.mark.parametrize("seed", range(3))
def test_ignores_slow_drifts(seed: int) -> None:
    t, x = series(6.0, 200 + seed)
    cols = [INDEX[n] for n in ("corner", "brow_inner", "nose_eye", "brow_down_bs")]
    # Many times the jitter, but over seconds: head settling, light changing.
    x[:, cols] += (t[:, None] / 6.0) * FLOORS[cols] * 2.0
    x[:, cols] += np.sin(2 * math.pi * t[:, None] / 3.0) * FLOORS[cols] * 0.6
    assert spot(t, x) == []


def test_a_macro_movement_is_not_a_micro_expression() -> None:
    t, x = series(6.0, 300)
    for name in ("corner", "smile_bs"):
        x[:, INDEX[name]] += bump(t, 1.0, 1.6, 2.6) * FLOORS[INDEX[name]]  # 1.6 s: a smile at normal speed
    assert spot(t, x) == []


def test_a_glitch_shorter_than_a_twenty_fifth_of_a_second_is_not_spotted() -> None:
    t, x = series(3.0, 301)
    col = INDEX["corner"]
    x[300:302, col] += FLOORS[col] * 0.8  # two frames (10 ms) at 1.5 s
    assert all(not (e.onset_s <= 1.5 <= e.offset_s) for e in spot(t, x))


def test_a_blink_is_not_a_micro_expression() -> None:
    t, x = series(3.0, 302)
    for name in ("aperture", "upper_lid", "blink_bs"):
        x[:, INDEX[name]] -= bump(t, 1.5, 1.55, 1.65) * FLOORS[INDEX[name]] * 5
    assert spot(t, x) == []


def test_streaming_reports_each_movement_once_and_only_at_high_fps() -> None:
    for fps, expected in ((FPS, 1), (30.0, 0)):
        t, x = series(4.0, 5, fps)
        for name in ("corner", "smile_bs"):
            x[:, INDEX[name]] += bump(t, 2.0, 2.05, 2.15) * FLOORS[INDEX[name]] * (0.5 if fps > 100 else 3.0)
        spotter = MicroSpotter()
        found = []
        for ti, xi in zip(t, x, strict=True):
            spotter.add(float(ti), xi)
            found += spotter.poll(float(ti))
        found += spotter.finish()
        assert len(found) == expected, (fps, found)


# --- through the engine ----------------------------------------------------------------------------------

MICRO_SMILE = {"mouth_corner_r": 0.02, "mouth_corner_l": 0.02, "mouthSmileLeft": 0.1, "mouthSmileRight": 0.1}
MICRO_BROW_DOWN = {
    "brow_gap": -0.015,
    "brow_inner_r": -0.012,
    "brow_inner_l": -0.012,
    "browDownLeft": 0.1,
    "browDownRight": 0.1,
}


def engine_cues(script: Script, micro: bool = True) -> list[Cue]:
    engine = CueEngine(EngineConfig(baseline_seconds=1.0, micro=micro))
    cues = [e for obs in script.frames() for e in engine.update(obs) if isinstance(e, Cue)]
    return cues + [e for e in engine.finish() if isinstance(e, Cue)]


@pytest.mark.parametrize(("deltas", "emotions"), [(MICRO_SMILE, {None, "happiness"}), (MICRO_BROW_DOWN, {"anger"})])
def test_engine_reports_a_micro_movement_on_fast_video(deltas: dict[str, float], emotions: set[str | None]) -> None:
    script = Script(duration=4.0, fps=FPS, moves=[Move(2.0, 2.2, deltas, apex=2.07)], seed=3)
    assert engine_cues(script, micro=False) == []  # under the channels' floors
    cues = engine_cues(script)
    assert len(cues) == 1
    cue = cues[0]
    assert cue.offset_s is not None and iou((cue.onset_s, cue.offset_s), (2.0, 2.2)) >= 0.5
    assert cue.scale == "micro" and cue.emotion in emotions
    assert 0.0 < cue.confidence <= 0.7 and 0.0 < cue.intensity < 1.0


def test_engine_stays_quiet_on_a_still_fast_face_and_on_webcam_speed() -> None:
    assert engine_cues(Script(duration=5.0, fps=FPS, seed=4)) == []
    slow = Script(duration=5.0, fps=25.0, moves=[Move(2.0, 2.2, MICRO_SMILE, apex=2.07)], seed=4)
    assert engine_cues(slow) == []


# --- CASME II, read in place ----------------------------------------------------------------------------

REALFACES = Path(__file__).resolve().parents[1] / ".." / "shared" / "realfaces"


def test_casme_clips_through_the_engine() -> None:
    if not (REALFACES / "manifest.csv").is_file():
        pytest.skip(f"real labelled faces not present at {REALFACES} (see docs/detector.md)")
    pytest.importorskip("mediapipe")
    from callcoach_bench.micro import casme

    result = casme(REALFACES)
    for clip in result["clips"]:
        end = clip["frames"] / 200.0
        assert clip["faces"] == clip["frames"]  # a face on every frame: the clips are readable
        assert clip["before"] == []  # the channels alone see nothing (the floors)
        # A clip holds one movement: never a burst of spots, all inside the clip.
        assert len(clip["after"]) <= 2
        for cue in clip["after"]:
            assert 0.0 <= cue["onset_s"] <= cue["apex_s"] <= (cue["offset_s"] or end) <= end + 1e-6
    assert result["after"]["megc"]["tp"] >= result["before"]["megc"]["tp"]
