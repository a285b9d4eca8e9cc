"""The live runner with a fake source and scripted vision: states, latency bookkeeping, drops, clean stops.

No model and no display: the source paces noise pictures in real time, and "vision" hands out the
scripted observations of tests/scripted.py in step with the frames, so the real cue engine sees a face
raise its brows while the runner's threads, clock and listener work as in a call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
from scripted import BROW_RAISE, SMILE, Move, Script

from callcoach.contract import Advisor, LiveListener
from callcoach.cues.vocabulary import CUE_NAMES, REGION, Cue
from callcoach.errors import SourceError
from callcoach.live.runner import LiveRunner, default_engine
from callcoach.live.state import LiveStatus
from callcoach.playbook.types import Suggestion
from callcoach.sources.base import Frame, SourceKind
from callcoach.vision.types import FrameObservation

Span = tuple[float, float]


class FakeSource:
    """Noise pictures at ``fps`` in real time; black ones inside ``blank`` spans; ends after ``seconds``."""

    kind: SourceKind = "screen"
    name = "fake screen"
    frame_count: int | None = None

    def __init__(
        self,
        fps: float = 25.0,
        seconds: float | None = None,
        blank: tuple[Span, ...] = (),
        fail_at: float | None = None,
        hang_at: float | None = None,
        dark: tuple[Span, ...] = (),
    ) -> None:
        self.fps, self.seconds, self.blank, self.dark = fps, seconds, blank, dark
        self.fail_at, self.hang_at = fail_at, hang_at
        self.closed = False
        self._stop = threading.Event()
        self.waiting: tuple[str, str] | None = None

    def frames(self) -> Iterator[Frame]:
        rng = np.random.default_rng(0)
        start = time.monotonic()
        i = 0
        while not self._stop.is_set():
            due = start + i / self.fps
            self._stop.wait(max(0.0, due - time.monotonic()))
            t = time.monotonic()
            rel = t - start
            if self.seconds is not None and rel >= self.seconds:
                return
            if self.fail_at is not None and rel >= self.fail_at:
                raise SourceError("the window 'fake' was closed")
            if self.hang_at is not None and rel >= self.hang_at:
                self.waiting = ("source_lost", "the window 'fake' is minimised or hidden: bring it back")
                self._stop.wait(30)
                return
            # 180x320: the scripted face (half the frame's height) is big enough to read.
            if any(a <= rel < b for a, b in self.blank):
                image = np.zeros((180, 320, 3), np.uint8)
            elif any(a <= rel < b for a, b in self.dark):
                image = rng.integers(0, 40, (180, 320, 3), dtype=np.uint8)  # a dim room: mean level ~20
            else:
                image = rng.integers(0, 255, (180, 320, 3), dtype=np.uint8)
            yield Frame(index=i, t_s=t, image=image)
            i += 1

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.closed = True


class ScriptedVision:
    """Hands out a Script's observations, one per frame, at the frame's time; no face inside ``gone``."""

    def __init__(
        self, script: Script, gone: tuple[Span, ...] = (), delay_s: float = 0.0, fail_at: float | None = None
    ) -> None:
        self._obs = script.frames()
        self.gone, self.delay_s, self.fail_at = gone, delay_s, fail_at
        self.last_t = 0.0
        self.closed = False
        self.calls = 0

    def observe(self, frame: Frame) -> FrameObservation:
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail_at is not None and frame.t_s >= self.fail_at:
            raise RuntimeError("model crashed")
        obs = next(self._obs)
        self.last_t = frame.t_s
        faces = () if any(a <= frame.t_s < b for a, b in self.gone) else obs.faces
        return replace(obs, index=frame.index, t_s=frame.t_s, faces=faces)

    def close(self) -> None:
        self.closed = True


class Recorder(LiveListener):
    """A LiveListener that keeps everything, with the moment each call arrived."""

    def __init__(self) -> None:
        self.statuses: list[LiveStatus] = []
        self.cues: list[tuple[Cue, float, float]] = []  # cue, latency_ms, expected latency_ms
        self.suggestions: list[Suggestion] = []
        self.runner: LiveRunner | None = None
        self.vision: ScriptedVision | None = None

    def on_status(self, status: LiveStatus) -> None:
        self.statuses.append(status)

    def on_cue(self, cue: Cue, latency_ms: float) -> None:
        assert self.runner is not None and self.vision is not None
        expected = (time.monotonic() - (self.runner.origin_s + self.vision.last_t)) * 1000
        self.cues.append((cue, latency_ms, expected))

    def on_suggestion(self, suggestion: Suggestion) -> None:
        self.suggestions.append(suggestion)

    def states(self) -> list[str]:
        out: list[str] = []
        for s in self.statuses:
            if not out or out[-1] != s.state:
                out.append(s.state)
        return out


def make(source: FakeSource, vision: ScriptedVision, **kwargs: object) -> tuple[LiveRunner, Recorder]:
    rec = Recorder()
    runner = LiveRunner(source, rec, vision_factory=lambda: vision, engine_factory=default_engine, **kwargs)  # type: ignore[arg-type]
    rec.runner, rec.vision = runner, vision
    return runner, rec


def is_subsequence(wanted: list[str], seen: list[str]) -> bool:
    it = iter(seen)
    return all(any(s == w for s in it) for w in wanted)


def test_states_from_calibration_to_source_lost_and_cue_latency_bookkeeping() -> None:
    script = Script(duration=60.0, fps=25.0, moves=[Move(1.5, 1.8, BROW_RAISE)])
    vision = ScriptedVision(script, gone=((2.7, 3.3),))
    source = FakeSource(fps=25.0, seconds=4.6, blank=((3.6, 4.2),))

    def advise(cue: Cue, status: LiveStatus) -> Suggestion:
        return Suggestion(
            cue.apex_s,
            cue.cue,
            cue.face,
            "brows",
            "a quick raise",
            cue.confidence,
            "invite",
            "",
            False,
            "gentle",
            "general",
        )

    runner, rec = make(source, vision, baseline_seconds=1.0, advisor=advise)
    runner.start()
    assert runner.wait(10), "the run did not end with its source"
    runner.stop()
    assert runner.stopped and source.closed and vision.closed

    states = rec.states()
    assert is_subsequence(["starting", "calibrating", "locked", "no_face", "locked", "blank", "source_lost"], states), (
        states
    )
    assert states[-1] == "source_lost"
    assert any(0.0 < s.baseline_progress < 1.0 for s in rec.statuses if s.state == "calibrating")
    locked = [s for s in rec.statuses if s.state == "locked"]
    # While a face is missing for less than no_face_after_s the state holds, with faces=0.
    assert locked and all(s.faces in (0, 1) and s.baseline_progress == 1.0 for s in locked)
    assert sum(s.faces == 1 for s in locked) > len(locked) / 2
    assert any(s.fps > 15 and s.latency_ms_p95 is not None for s in locked)
    blank = next(s for s in rec.statuses if s.state == "blank")
    assert "black" in blank.message
    # Status is throttled: about 5 a second plus changes, not one per frame.
    assert len(rec.statuses) < 4.6 * 5 + 3 * len(states)

    flashes = [c for c in rec.cues if c[0].cue == "eyebrow_flash"]
    assert flashes, [c[0].cue for c in rec.cues]
    assert all(c[0].cue in CUE_NAMES for c in rec.cues)
    for _cue, latency, expected in rec.cues:
        # latency = emission minus the capture of the frame that emitted it, as the listener sees it.
        assert 0 <= latency <= expected + 1.0 and expected - latency < 50, (latency, expected)
    timing = next(t for t in runner.stats.cue_timings if t.cue.cue == "eyebrow_flash")
    # The apex came before the offset and the engine's hold: its latency is the larger one, by design.
    assert timing.apex_latency_ms >= timing.latency_ms + 200
    assert timing.apex_latency_ms < 2000
    assert [s.cue for s in rec.suggestions] == [c[0].cue for c in rec.cues]

    stats = runner.stats
    assert stats.end == "source_lost" and "closed" not in stats.end_message
    assert stats.first_frame_s is not None and stats.first_frame_s < 1.0
    assert stats.blank_frames >= 10 and stats.frames_with_face < stats.frames
    summary = stats.as_dict()
    assert summary["type"] == "summary" and summary["cues"] == len(rec.cues)
    assert summary["latency_ms"]["p95"] is not None and summary["apex_latency_ms"]["p50"] is not None


def test_slow_vision_drops_the_oldest_frames_instead_of_queueing_them() -> None:
    vision = ScriptedVision(Script(duration=60.0, fps=100.0), delay_s=0.04)
    source = FakeSource(fps=100.0)
    runner, rec = make(source, vision)
    runner.start()
    time.sleep(1.5)
    runner.stop()
    stats = runner.stats
    assert stats.dropped > 30  # about 100 frames a second arrive, about 25 can be analysed
    assert stats.frames <= 1.5 / 0.04 + 2
    steady = sorted(stats.frame_latency_ms.head[5:])
    # No backlog: a frame waits at most one analysis for its turn, plus its own (a queue would grow to 1 s+).
    assert steady[int(0.95 * len(steady))] < 3 * 40 + 80, steady
    assert rec.statuses[-1].dropped_frames > 0


def test_pause_stops_analysis_and_resume_picks_up_again() -> None:
    vision = ScriptedVision(Script(duration=60.0, fps=25.0))
    runner, rec = make(FakeSource(fps=25.0), vision, baseline_seconds=0.5)
    runner.start()
    time.sleep(0.8)
    runner.pause()
    time.sleep(0.3)
    calls = vision.calls
    time.sleep(0.5)
    assert vision.calls == calls and runner.paused
    assert rec.statuses[-1].state == "paused"
    runner.resume()
    time.sleep(0.5)
    runner.stop()
    assert vision.calls > calls
    assert rec.states()[-2:] == ["paused", "locked"]


def test_stop_is_quick_and_clean_even_with_a_source_that_waits() -> None:
    source = FakeSource(fps=25.0, hang_at=0.5)
    vision = ScriptedVision(Script(duration=60.0, fps=25.0))
    runner, rec = make(source, vision, stall_after_s=0.5)
    runner.start()
    time.sleep(1.5)
    # The source is alive but sends nothing: its own reason is published, not a made-up one.
    assert rec.statuses[-1].state == "source_lost" and "minimised" in rec.statuses[-1].message
    start = time.monotonic()
    runner.stop(timeout=2.0)
    assert time.monotonic() - start < 2.0
    assert runner.stopped and source.closed and vision.closed
    assert runner.stats.end == "stopped"
    names = {t.name for t in threading.enumerate()}
    assert "callcoach-capture" not in names and "callcoach-inference" not in names


def test_capture_errors_end_the_run_as_source_lost_and_model_errors_as_error() -> None:
    runner, rec = make(FakeSource(fail_at=0.6), ScriptedVision(Script(duration=60.0, fps=25.0)))
    runner.start()
    assert runner.wait(5)
    assert rec.statuses[-1].state == "source_lost" and "was closed" in rec.statuses[-1].message
    assert runner.error is None

    runner, rec = make(FakeSource(), ScriptedVision(Script(duration=60.0, fps=25.0), fail_at=0.5))
    runner.start()
    assert runner.wait(5)
    runner.stop()
    assert rec.statuses[-1].state == "error" and "model crashed" in rec.statuses[-1].message
    assert isinstance(runner.error, RuntimeError) and runner.stopped


def test_a_failing_listener_ends_the_run_instead_of_hanging_it() -> None:
    class Broken(Recorder):
        def on_cue(self, cue: Cue, latency_ms: float) -> None:
            raise ValueError("panel bug")

    script = Script(duration=60.0, fps=25.0, moves=[Move(0.8, 1.1, BROW_RAISE)])
    rec = Broken()
    runner = LiveRunner(FakeSource(), rec, vision_factory=lambda: ScriptedVision(script), baseline_seconds=0.5)
    runner.start()
    assert runner.wait(6)
    runner.stop()
    assert isinstance(runner.error, ValueError) and runner.stats.end == "error"
    assert rec.statuses[-1].state == "error"


@pytest.mark.parametrize("seconds", [0.0])
def test_zero_baseline_locks_on_the_first_face(seconds: float) -> None:
    runner, rec = make(
        FakeSource(seconds=0.6), ScriptedVision(Script(duration=60.0, fps=25.0)), baseline_seconds=seconds
    )
    runner.start()
    assert runner.wait(5)
    assert "calibrating" not in rec.states() and "locked" in rec.states()


def test_a_face_too_dark_to_read_says_so_instead_of_coaching() -> None:
    script = Script(duration=60.0, fps=25.0)
    source = FakeSource(seconds=5.0, dark=((2.5, 5.0),))
    runner, rec = make(source, ScriptedVision(script), baseline_seconds=1.0)
    runner.start()
    assert runner.wait(15.0)
    states = rec.states()
    assert is_subsequence(["calibrating", "locked", "unreadable"], states), states
    dark = next(s for s in rec.statuses if s.state == "unreadable")
    assert "can't read reliably" in dark.message and "dark" in dark.message


class EarlyRecorder(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.early: list[tuple[object, float, float]] = []  # early cue, latency_ms, arrival (monotonic)
        self.arrivals: dict[str, list[float]] = {"cue": [], "suggestion": []}

    def on_early_cue(self, early: object, latency_ms: float) -> None:
        self.early.append((early, latency_ms, time.monotonic()))

    def on_cue(self, cue: Cue, latency_ms: float) -> None:
        super().on_cue(cue, latency_ms)
        self.arrivals["cue"].append(time.monotonic())

    def on_suggestion(self, suggestion: Suggestion) -> None:
        super().on_suggestion(suggestion)
        self.arrivals["suggestion"].append(time.monotonic())


def suggest(cue: Cue, status: LiveStatus) -> Suggestion:
    """An advisor that answers every cue."""
    return Suggestion(
        cue.apex_s,
        cue.cue,
        cue.face,
        REGION[cue.cue],
        "a guess",
        cue.confidence,
        "invite",
        "",
        False,
        "gentle",
        "general",
    )


def run_to_end(rec: Recorder, script: Script, seconds: float, advisor: Advisor) -> LiveRunner:
    """The runner on a fake source of ``seconds`` and scripted vision, run until the source ends."""
    vision = ScriptedVision(script)
    runner = LiveRunner(
        FakeSource(fps=25.0, seconds=seconds),
        rec,
        vision_factory=lambda: vision,
        engine_factory=default_engine,
        baseline_seconds=1.0,
        advisor=advisor,
    )
    rec.runner, rec.vision = runner, vision
    runner.start()
    assert runner.wait(15)
    runner.stop()
    return runner


def test_suggestions_follow_the_early_cue_and_the_final_cue_does_not_repeat_them() -> None:
    script = Script(duration=60.0, fps=25.0, moves=[Move(1.5, 2.3, BROW_RAISE), Move(5.0, 5.2, BROW_RAISE)])
    rec = EarlyRecorder()
    runner = run_to_end(rec, script, 6.5, suggest)

    finals = [c[0] for c in rec.cues]
    assert len(finals) == 2 and len(rec.early) == 2, (finals, rec.early)
    # One suggestion per movement, made at the early cue, before the final cue arrived.
    assert len(rec.suggestions) == 2
    for sent, final_at in zip(rec.arrivals["suggestion"], rec.arrivals["cue"], strict=True):
        assert sent < final_at
    stats = runner.stats.as_dict()
    assert stats["early_cues"] == 2 and stats["suggestions"] == 2
    early_apex = stats["early_apex_latency_ms"]["max"]
    assert early_apex is not None and early_apex < stats["apex_latency_ms"]["p50"]
    assert stats["suggestion_apex_latency_ms"]["max"] == pytest.approx(early_apex, abs=50)


def test_an_early_cue_the_selector_declines_leaves_the_final_cue_to_be_advised() -> None:
    asked: list[bool] = []

    def advise(cue: Cue, status: LiveStatus) -> Suggestion | None:
        asked.append(cue.offset_s is None)
        # Declined at the early cue (e.g. under the context's threshold at the first apex).
        return None if cue.offset_s is None else suggest(cue, status)

    rec = EarlyRecorder()
    run_to_end(rec, Script(duration=60.0, fps=25.0, moves=[Move(1.5, 2.3, BROW_RAISE)]), 3.8, advise)
    assert asked == [True, False]  # asked at the early cue, and again at the final one
    assert len(rec.suggestions) == 1 and len(rec.cues) == 1


class WithdrawRecorder(EarlyRecorder):
    def __init__(self) -> None:
        super().__init__()
        self.withdrawn: list[tuple[object, bool]] = []

    def on_early_withdrawn(self, withdrawn: object, advised: bool) -> None:
        self.withdrawn.append((withdrawn, advised))


def test_an_early_cue_cut_by_a_head_turn_is_withdrawn_with_its_suggestion() -> None:
    import math

    from callcoach.vision.types import HeadPose

    def turn(t: float) -> HeadPose:  # a fast head turn at 3.0-3.6 s mutes the channels
        w = max(0.0, math.sin(math.pi * (t - 3.0) / 0.6)) if 3.0 <= t <= 3.6 else 0.0
        return HeadPose(yaw=30 * w, pitch=0.0, roll=0.0)

    rec = WithdrawRecorder()
    script = Script(duration=60.0, fps=25.0, moves=[Move(1.6, 4.5, SMILE, apex=2.2)], pose=turn)
    runner = run_to_end(rec, script, 5.0, suggest)
    assert rec.early and rec.suggestions, (rec.early, rec.suggestions)
    assert len(rec.withdrawn) == 1, rec.withdrawn
    withdrawn, advised = rec.withdrawn[0]
    early = rec.early[0][0]
    assert advised and withdrawn.withdraws(early) and withdrawn.reason == "unreadable"  # type: ignore[attr-defined]
    assert runner.stats.as_dict()["early_withdrawn"] == 1
    # No final cue stands for the withdrawn movement (the smile held after the turn is a new one).
    assert not any(c[0].onset_s <= early.apex_s <= (c[0].offset_s or 1e9) for c in rec.cues)  # type: ignore[attr-defined]


class HandOverMouth(ScriptedVision):
    """The scripted face, with its mouth hidden (a hand over it) from ``start`` on."""

    def __init__(self, script: Script, start: float) -> None:
        super().__init__(script)
        self.start = start

    def observe(self, frame: Frame) -> FrameObservation:
        obs = super().observe(frame)
        if frame.t_s < self.start:
            return obs
        return replace(obs, faces=tuple(replace(f, hidden=frozenset({"mouth"})) for f in obs.faces))


def test_a_hand_over_the_mouth_is_noticed_on_the_panel_and_the_face_stays_locked() -> None:
    runner, rec = make(
        FakeSource(seconds=4.0), HandOverMouth(Script(duration=60.0, fps=25.0), 2.5), baseline_seconds=1.0
    )
    runner.start()
    assert runner.wait(15.0)
    locked = [s for s in rec.statuses if s.state == "locked"]
    assert locked and "mouth hidden" not in locked[0].message
    assert "mouth hidden" in locked[-1].message and rec.statuses[-1].state != "unreadable"
