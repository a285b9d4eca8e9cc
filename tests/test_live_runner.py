"""The live runner with a fake source and scripted vision: states, latency bookkeeping, drops, clean stops.

No model and no display: the source paces noise pictures in real time, and "vision" hands out the
scripted observations of tests/scripted.py in step with the frames, so the real cue engine sees a face
raise its brows while the runner's threads, clock and listener work as in a call.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import pytest
from fakeclock import FakeClock
from scripted import BROW_RAISE, SMILE, Move, Script

from callcoach.contract import Advisor, LiveListener
from callcoach.cues.vocabulary import CUE_NAMES, REGION, Cue
from callcoach.errors import SourceError
from callcoach.live.runner import LiveRunner, default_engine
from callcoach.live.state import LiveState, LiveStatus
from callcoach.playbook.types import Suggestion
from callcoach.sources.base import Frame, LiveHooks, SourceKind, Taker
from callcoach.vision.types import FrameObservation

Span = tuple[float, float]


class FakeSource(LiveHooks):
    """Noise pictures at ``fps``; black ones inside ``blank`` spans; ends after ``seconds``.

    Without ``clock``, in real time. With a ``clock`` (a ``FakeClock`` the runner shares), on that clock
    and lossless: each frame waits until the last one was taken, then steps the clock to its own time, so a
    loaded machine runs the same frames at the same times, only slower. ``gated`` also waits for the test
    to ``release`` each frame; ``before_step`` is called before each step of the clock.
    """

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
        clock: FakeClock | None = None,
        gated: bool = False,
        before_step: Callable[[], None] | None = None,
    ) -> None:
        self.fps, self.seconds, self.blank, self.dark = fps, seconds, blank, dark
        self.clock, self.gated, self.before_step = clock, gated, before_step
        self.lossless = clock is not None
        self._taker: Taker | None = None
        self._allowed = threading.Semaphore(0)
        self.fail_at, self.hang_at = fail_at, hang_at
        self.closed = False
        self._stop = threading.Event()
        self._waiting: tuple[LiveState, str] | None = None

    @property
    def waiting(self) -> tuple[LiveState, str] | None:
        return self._waiting

    def pace_with(self, consumer: Taker) -> None:
        self._taker = consumer if self.lossless else None

    def release(self, n: int = 1) -> None:
        """Let ``n`` more frames out (``gated``)."""
        self._allowed.release(n)

    def _next_time(self, start: float, i: int) -> float | None:
        """When frame ``i`` is taken; None once stopped."""
        if self.clock is None:
            due = start + i / self.fps
            self._stop.wait(max(0.0, due - time.monotonic()))
            return None if self._stop.is_set() else time.monotonic()
        while self.gated and not self._allowed.acquire(timeout=0.05):
            if self._stop.is_set():
                return None
        while self._taker is not None and not self._taker.wait_taken(0.05):
            if self._stop.is_set():
                return None
        if self.before_step is not None:
            self.before_step()  # another source on the same clock catches up first
        t = start + i / self.fps
        self.clock.set(max(t, self.clock.now()))
        return None if self._stop.is_set() else t

    def frames(self) -> Iterator[Frame]:
        rng = np.random.default_rng(0)
        start = self.clock.now() if self.clock is not None else time.monotonic()
        i = 0
        while not self._stop.is_set():
            next_t = self._next_time(start, i)
            if next_t is None:
                return
            t = next_t
            rel = t - start
            if self.seconds is not None and rel >= self.seconds:
                return
            if self.fail_at is not None and rel >= self.fail_at:
                raise SourceError("the window 'fake' was closed")
            if self.hang_at is not None and rel >= self.hang_at:
                self._waiting = ("source_lost", "the window 'fake' is minimised or hidden: bring it back")
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
        expected = (self.runner.clock.now() - (self.runner.origin_s + self.vision.last_t)) * 1000
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
    """A runner on ``source``, sharing its clock when it has one."""
    rec = Recorder()
    kwargs.setdefault("clock", source.clock)
    runner = LiveRunner(source, rec, vision_factory=lambda: vision, engine_factory=default_engine, **kwargs)  # type: ignore[arg-type]
    rec.runner, rec.vision = runner, vision
    return runner, rec


def until(runner: LiveRunner, done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait, turn by turn of the inference thread, until ``done()``; the bound only catches a hang."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the runner never got there"
        runner.wait_turns(runner.turns + 1, 0.1)


def is_subsequence(wanted: list[str], seen: list[str]) -> bool:
    it = iter(seen)
    return all(any(s == w for s in it) for w in wanted)


def test_states_from_calibration_to_source_lost_and_cue_latency_bookkeeping() -> None:
    script = Script(duration=60.0, fps=25.0, moves=[Move(1.5, 1.8, BROW_RAISE)])
    vision = ScriptedVision(script, gone=((2.7, 3.3),))
    source = FakeSource(fps=25.0, seconds=4.6, blank=((3.6, 4.2),), clock=FakeClock())

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
    assert runner.wait(120), "the run did not end with its source"
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
    # Lossless on its clock: every frame of the 4.6 s was analysed or found blank, none dropped.
    assert stats.dropped == 0 and stats.frames + stats.blank_frames == stats.captured == 115
    summary = stats.as_dict()
    assert summary["type"] == "summary" and summary["cues"] == len(rec.cues)
    assert summary["latency_ms"]["p95"] is not None and summary["apex_latency_ms"]["p50"] is not None


def test_slow_vision_drops_the_oldest_frames_instead_of_queueing_them() -> None:
    clock = FakeClock()
    inside, offered_all = threading.Event(), threading.Event()

    class Burst(FakeSource):
        """Frame 0, then (once its analysis is under way) 49 more 10 ms apart on the clock, as fast as the
        machine goes: a screen never waits for the runner."""

        def frames(self) -> Iterator[Frame]:
            rng = np.random.default_rng(0)
            for i in range(50):
                if i == 1:
                    assert inside.wait(60.0)
                image = rng.integers(0, 255, (180, 320, 3), dtype=np.uint8)
                yield Frame(index=i, t_s=clock.advance(0.01), image=image)
            offered_all.set()  # after the last frame was put into the slot
            self._stop.wait(60)

    class StuckOnFirst(ScriptedVision):
        """The first analysis lasts until every frame has been offered; records what it analysed."""

        def __init__(self) -> None:
            super().__init__(Script(duration=60.0, fps=100.0))
            self.seen: list[int] = []

        def observe(self, frame: Frame) -> FrameObservation:
            if not self.seen:
                inside.set()
                assert offered_all.wait(60.0)
            self.seen.append(frame.index)
            return super().observe(frame)

    vision = StuckOnFirst()
    source = Burst(clock=clock)
    source.lossless = False  # a screen: it never waits for the runner
    runner, rec = make(source, vision)
    runner.start()
    until(runner, lambda: len(vision.seen) == 2 or runner.done)
    runner.stop()
    stats = runner.stats
    # While frame 0 was analysed 49 more came: each replaced the one before, and the newest was analysed
    # next. A queue would have analysed frame 1 (0.49 s old by then) instead.
    assert vision.seen == [0, 49], vision.seen
    assert runner.buffer.dropped == 48 and stats.frames == 2 and stats.captured == 50
    assert stats.frames + runner.buffer.dropped == stats.captured  # analysed + dropped == offered
    assert rec.statuses[-1].dropped_frames == stats.dropped > 0


def test_pause_stops_analysis_and_resume_picks_up_again() -> None:
    vision = ScriptedVision(Script(duration=60.0, fps=25.0))
    source = FakeSource(fps=25.0, clock=FakeClock(), gated=True)
    runner, rec = make(source, vision, baseline_seconds=0.5)
    runner.start()
    source.release(20)
    until(runner, lambda: runner.stats.frames == 20)
    runner.pause()
    source.release(12)
    until(runner, lambda: runner.stats.paused_frames == 12)
    assert vision.calls == 20 and runner.paused  # paused frames are taken, never analysed
    assert rec.statuses[-1].state == "paused"
    runner.resume()
    source.release(12)
    until(runner, lambda: runner.stats.frames == 32)
    runner.stop()
    assert vision.calls == 32 and runner.stats.dropped == 0
    assert rec.states()[-2:] == ["paused", "locked"]


def test_stop_is_quick_and_clean_even_with_a_source_that_waits() -> None:
    clock = FakeClock()
    source = FakeSource(fps=25.0, hang_at=0.5, clock=clock)
    vision = ScriptedVision(Script(duration=60.0, fps=25.0))
    runner, rec = make(source, vision, stall_after_s=0.5)
    runner.start()
    until(runner, lambda: source.waiting is not None and runner.stats.frames == 13)
    clock.advance(1.0)  # a second with no picture
    # The source is alive but sends nothing: its own reason is published, not a made-up one.
    until(runner, lambda: rec.statuses[-1].state == "source_lost")
    assert "minimised" in rec.statuses[-1].message
    runner.stop(timeout=2.0)  # the budget: a stop that overran it would leave the threads alive
    assert runner.stopped and source.closed and vision.closed
    assert runner.stats.end == "stopped"
    names = {t.name for t in threading.enumerate()}
    assert "callcoach-capture" not in names and "callcoach-inference" not in names


def test_capture_errors_end_the_run_as_source_lost_and_model_errors_as_error() -> None:
    runner, rec = make(FakeSource(fail_at=0.6, clock=FakeClock()), ScriptedVision(Script(duration=60.0, fps=25.0)))
    runner.start()
    assert runner.wait(60)
    assert rec.statuses[-1].state == "source_lost" and "was closed" in rec.statuses[-1].message
    assert runner.error is None

    runner, rec = make(FakeSource(clock=FakeClock()), ScriptedVision(Script(duration=60.0, fps=25.0), fail_at=0.5))
    runner.start()
    assert runner.wait(60)
    runner.stop()
    assert rec.statuses[-1].state == "error" and "model crashed" in rec.statuses[-1].message
    assert isinstance(runner.error, RuntimeError) and runner.stopped


def test_a_failing_listener_ends_the_run_instead_of_hanging_it() -> None:
    class Broken(Recorder):
        def on_cue(self, cue: Cue, latency_ms: float) -> None:
            raise ValueError("panel bug")

    script = Script(duration=60.0, fps=25.0, moves=[Move(0.8, 1.1, BROW_RAISE)])
    rec = Broken()
    clock = FakeClock()
    runner = LiveRunner(
        FakeSource(clock=clock), rec, vision_factory=lambda: ScriptedVision(script), baseline_seconds=0.5, clock=clock
    )
    runner.start()
    assert runner.wait(60)
    runner.stop()
    assert isinstance(runner.error, ValueError) and runner.stats.end == "error"
    assert rec.statuses[-1].state == "error"


@pytest.mark.parametrize("seconds", [0.0])
def test_zero_baseline_locks_on_the_first_face(seconds: float) -> None:
    runner, rec = make(
        FakeSource(seconds=0.6, clock=FakeClock()),
        ScriptedVision(Script(duration=60.0, fps=25.0)),
        baseline_seconds=seconds,
    )
    runner.start()
    assert runner.wait(60)
    assert "calibrating" not in rec.states() and "locked" in rec.states()


def test_a_face_too_dark_to_read_says_so_instead_of_coaching() -> None:
    script = Script(duration=60.0, fps=25.0)
    source = FakeSource(seconds=5.0, dark=((2.5, 5.0),), clock=FakeClock())
    runner, rec = make(source, ScriptedVision(script), baseline_seconds=1.0)
    runner.start()
    assert runner.wait(120.0)
    states = rec.states()
    assert is_subsequence(["calibrating", "locked", "unreadable"], states), states
    dark = next(s for s in rec.statuses if s.state == "unreadable")
    assert "can't read reliably" in dark.message and "dark" in dark.message


class EarlyRecorder(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.early: list[tuple[object, float, int]] = []  # early cue, latency_ms, arrival (order of calls)
        self.arrivals: dict[str, list[int]] = {"cue": [], "suggestion": []}
        self._order = itertools.count()

    def on_early_cue(self, early: object, latency_ms: float) -> None:
        self.early.append((early, latency_ms, next(self._order)))

    def on_cue(self, cue: Cue, latency_ms: float) -> None:
        super().on_cue(cue, latency_ms)
        self.arrivals["cue"].append(next(self._order))

    def on_suggestion(self, suggestion: Suggestion) -> None:
        super().on_suggestion(suggestion)
        self.arrivals["suggestion"].append(next(self._order))


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
    clock = FakeClock()
    runner = LiveRunner(
        FakeSource(fps=25.0, seconds=seconds, clock=clock),
        rec,
        clock=clock,
        vision_factory=lambda: vision,
        engine_factory=default_engine,
        baseline_seconds=1.0,
        advisor=advisor,
    )
    rec.runner, rec.vision = runner, vision
    runner.start()
    assert runner.wait(120)
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
        FakeSource(seconds=4.0, clock=FakeClock()),
        HandOverMouth(Script(duration=60.0, fps=25.0), 2.5),
        baseline_seconds=1.0,
    )
    runner.start()
    assert runner.wait(120.0)
    locked = [s for s in rec.statuses if s.state == "locked"]
    assert locked and "mouth hidden" not in locked[0].message
    assert "mouth hidden" in locked[-1].message and rec.statuses[-1].state != "unreadable"
