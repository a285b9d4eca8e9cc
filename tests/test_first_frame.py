"""A file is analysed from its first frame in every mode, however long the models take to load.

``live --video`` (and the panel, which runs the same runner), the demo's clips and a video file standing in for
the webcam (``--vcam-video``) used to start playing at once, so the first seconds of the file went by while
the models loaded. Now their clock starts when the models are ready. Model loading is scripted here (a vision
factory that takes its time); frames are real, from the 72-frame clip.

Time is the runner's injected clock, a ``FakeClock`` the file source shares: the load steps it by 2.5 s, the
file's pacing steps it one frame period per tick, and a slow analysis steps it by what it costs, so none of
it is real time and a loaded machine reaches the same frames at the same run times, only later. The tests
assert invariants of the run (first frame at t = 0, nothing dropped, order), not wall-clock durations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakeclock import FakeClock

from callcoach.contract import LiveListener
from callcoach.core.clock import Deadline
from callcoach.cues.vocabulary import Cue
from callcoach.live.companion import CameraCompanion
from callcoach.live.runner import LiveRunner, default_engine
from callcoach.live.state import LiveStatus
from callcoach.playbook.types import Suggestion
from callcoach.sources.base import Frame, FrameSource, LiveHooks, SourceKind, Taker
from callcoach.sources.paced import PacedFileSource
from callcoach.vision.types import FrameObservation

#: Seconds of the run's clock the models take to load.
LOAD_S = 2.5
#: Generous real-time bounds, only against a hang.
HANG_S = 90.0


class SlowToLoadVision:
    """No face anywhere; remembers which frames it saw and when."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, float]] = []

    def observe(self, frame: Frame) -> FrameObservation:
        self.seen.append((frame.index, frame.t_s))
        h, w = frame.image.shape[:2]
        return FrameObservation(index=frame.index, t_s=frame.t_s, width=w, height=h)

    def close(self) -> None:
        pass


class Listener(LiveListener):
    def __init__(self) -> None:
        self.statuses: list[LiveStatus] = []

    def on_status(self, status: LiveStatus) -> None:
        self.statuses.append(status)

    def on_cue(self, cue: Cue, latency_ms: float) -> None:
        pass

    def on_suggestion(self, suggestion: Suggestion) -> None:
        pass


class TakenClock(FakeClock):
    """The run's clock for a file played as a camera (not lossless): sleeping on it takes no real time, but
    first waits (in real time, until the stop) for the runner to have taken the last frame. However busy the
    machine, every frame the file shows then reaches the analysis, as on an idle machine."""

    def __init__(self) -> None:
        super().__init__()
        self.slot: Taker | None = None

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> None:
        slot = self.slot
        while slot is not None and not slot.wait_taken(0.05):
            if stop is not None and stop.is_set():
                return
        super().sleep(seconds, stop)


class WatchedFile(PacedFileSource):
    """The file source, telling the test when it starts waiting for the models (``hold_until``)."""

    def __init__(self, path: Path, **options: Any) -> None:
        super().__init__(path, **options)
        self.waiting_for_models = threading.Event()

    def hold_until(self, ready: threading.Event) -> bool:
        return super().hold_until(_Watched(ready, self.waiting_for_models))


class _Watched(threading.Event):
    """``ready`` as the source sees it: waiting on it sets ``asked``."""

    def __init__(self, ready: threading.Event, asked: threading.Event) -> None:
        super().__init__()
        self.ready, self.asked = ready, asked

    def wait(self, timeout: float | None = None) -> bool:
        self.asked.set()
        return self.ready.wait(timeout)


def _run(source: WatchedFile, vision: SlowToLoadVision, clock: FakeClock) -> tuple[LiveRunner, Listener]:
    listener = Listener()

    def load() -> SlowToLoadVision:
        # The models finish loading once the file is open: waiting for them, or (were the hold broken) already
        # playing on the run's clock, so the 2.5 s of the load would show in the file's first frames.
        deadline = Deadline(HANG_S)
        while not source.waiting_for_models.wait(0.01) and runner.buffer.put_count == 0:
            assert deadline.left() > 0, "the file source never started"
        clock.advance(LOAD_S)
        return vision

    runner = LiveRunner(source, listener, vision_factory=load, engine_factory=default_engine, clock=clock)
    if isinstance(clock, TakenClock):
        clock.slot = runner.buffer
    runner.start()
    try:
        assert runner.wait(HANG_S), "the file did not end"
    finally:
        runner.stop()
    return runner, listener


def test_live_video_analyses_the_file_from_its_first_frame(real_media: Path) -> None:
    clock = TakenClock()
    source = WatchedFile(real_media / "single_face.mp4", clock=clock)
    assert source.frame_count_file == 72 and not source.lossless
    vision = SlowToLoadVision()
    runner, listener = _run(source, vision, clock)
    stats = runner.stats
    assert stats.end == "source_lost"  # the file ended
    assert runner.origin_s - runner.started_at == pytest.approx(LOAD_S)  # the file's clock started after the load
    assert vision.seen[0] == (0, 0.0)  # the file's first frame is the first analysed, at t = 0 as in `analyze`
    # Every frame of the file was shown or skipped by pacing; the load itself skips none: played from the start,
    # the 2.5 s load would have skipped 75 frames, more than the 72 of the file. (The slow analysis moves the
    # shared clock from its own thread, so a tick can land late and pacing skip a frame: a bound, not a count.)
    assert stats.captured + source.skipped >= 72
    assert source.skipped < 24, source.skipped
    # Nothing was dropped, so every frame shown was analysed (or was the same picture again), in order, and the
    # file's clock ran at its rate: one period of 1/30 s between ticks.
    assert runner.buffer.dropped == 0
    assert stats.frames == len(vision.seen)
    assert stats.frames + stats.repeated_frames + stats.blank_frames == stats.captured
    indices = [i for i, _ in vision.seen]
    assert indices == sorted(set(indices))
    assert all(t == pytest.approx(i / source.fps) for i, t in vision.seen)
    assert "source_lost" not in [s.state for s in listener.statuses[:-1]]


class SlowVision(SlowToLoadVision):
    """Slower than the file's 30 fps: each frame costs 60 ms of the run's clock."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def observe(self, frame: Frame) -> FrameObservation:
        self.clock.advance(0.06)
        return super().observe(frame)


def test_live_video_analyses_every_frame_of_the_file_even_when_analysis_is_slower(real_media: Path) -> None:
    """`live --video` plays the file losslessly: frames analysed == frames in the file, as in `analyze`, even when
    each frame takes longer to analyse than the file gives it (the file's clock then waits)."""
    fast, slow = FakeClock(), FakeClock()
    for clock, vision in ((fast, SlowToLoadVision()), (slow, SlowVision(slow))):
        source = WatchedFile(real_media / "single_face.mp4", lossless=True, clock=clock)
        runner, _ = _run(source, vision, clock)
        assert runner.stats.end == "source_lost"
        assert [i for i, _ in vision.seen] == list(range(72))  # every frame, in order, from the first
        assert runner.stats.frames == 72 and runner.stats.dropped == 0 and source.skipped == 0
        assert vision.seen[0] == (0, 0.0)
        times = [t for _, t in vision.seen]
        assert times == sorted(times)
        # Never faster than the file's rate; with the slow analysis, the file waited for it.
        assert times[-1] >= 71 / source.fps - 1e-6


def test_the_cli_plays_video_files_losslessly(real_media: Path) -> None:
    import argparse

    from callcoach.cli.live_cmd import make_source

    args = argparse.Namespace(
        window=None,
        region=None,
        auto=False,
        monitor=None,
        camera=None,
        video=str(real_media / "single_face.mp4"),
        fps=None,
        loop=False,
    )
    source = make_source(args)
    assert getattr(source, "lossless", False) is True
    source.close()


class LateSource(LiveHooks):
    """A live source whose first picture comes ``delay_s`` after it opens (a camera warming up).

    It runs on the runner's clock: it steps it half a second at a time and lets the runner look for a picture
    after each step, then hands its frames over losslessly, so no frame is dropped on a busy machine.
    """

    kind: SourceKind = "camera"
    name = "slow camera"
    fps = 25.0
    frame_count: int | None = None
    lossless = True

    def __init__(self, clock: FakeClock, delay_s: float, frames: int = 10) -> None:
        self.clock, self.delay_s, self.count = clock, delay_s, frames
        self.runner: LiveRunner | None = None
        self._taker: Taker | None = None
        self._stop = threading.Event()

    def pace_with(self, consumer: Taker) -> None:
        self._taker = consumer

    def _runner_looked(self) -> bool:
        """Wait until the runner has ended a turn that began after the last step; False once stopped."""
        runner = self.runner
        assert runner is not None
        target = runner.turns + 2
        while not runner.wait_turns(target, 0.05):
            if self._stop.is_set():
                return False
        return not self._stop.is_set()

    def _taken(self) -> bool:
        while self._taker is not None and not self._taker.wait_taken(0.05):
            if self._stop.is_set():
                return False
        return not self._stop.is_set()

    def frames(self) -> Iterator[Frame]:
        for _ in range(round(self.delay_s / 0.5)):
            self.clock.advance(0.5)
            if not self._runner_looked():
                return
        rng = np.random.default_rng(0)
        for i in range(self.count):
            if not self._taken():
                return
            yield Frame(index=i, t_s=self.clock.now(), image=rng.integers(0, 255, (90, 160, 3), dtype=np.uint8))
            self.clock.advance(1.0 / self.fps)

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()


def test_no_source_lost_before_the_first_picture() -> None:
    """A source slower to start than the stall threshold is "waiting for the first picture", not "lost"."""
    clock = FakeClock()
    vision = SlowToLoadVision()
    listener = Listener()
    source = LateSource(clock, delay_s=3.0)
    runner = LiveRunner(
        source,
        listener,
        vision_factory=lambda: vision,
        engine_factory=default_engine,
        stall_after_s=1.0,
        clock=clock,
    )
    source.runner = runner
    runner.start()
    try:
        assert runner.wait(HANG_S)
    finally:
        runner.stop()
    before_first = [s for s in listener.statuses if s.state != "no_face"][:-1]
    assert "source_lost" not in [s.state for s in before_first[:-1]]
    assert any("waiting for the first picture" in s.message for s in listener.statuses)
    assert vision.seen and vision.seen[0][0] == 0
    assert [s.state for s in listener.statuses].count("calibrating") == 0  # no face, so never "calibrating"


class WatchedReady(threading.Event):
    """The runner's "models ready" event, telling the test once a source has started waiting on it."""

    def __init__(self) -> None:
        super().__init__()
        self.asked = threading.Event()

    def wait(self, timeout: float | None = None) -> bool:
        self.asked.set()
        return super().wait(timeout)


def test_the_demo_clips_wait_for_the_models() -> None:
    from callcoach.ui.demo import SynthSource

    source = SynthSource(seed=0)
    ready = WatchedReady()
    source.hold_until(ready)
    got: list[Frame] = []
    frames = source.frames()
    thread = threading.Thread(target=lambda: got.append(next(frames)), daemon=True)
    thread.start()
    assert ready.asked.wait(HANG_S)  # the clips are loaded and the source waits for the models
    assert not got  # nothing is played before the models are ready
    ready.set()
    thread.join(HANG_S)
    assert got and got[0].index == 0
    source.close()


def test_a_video_standing_in_for_the_webcam_waits_for_the_self_coach() -> None:
    held: list[threading.Event] = []

    class File(LiveHooks):
        kind: SourceKind = "video"
        name = "clip.mp4"
        fps = 25.0
        frame_count: int | None = None

        def hold_until(self, ready: threading.Event) -> bool:
            held.append(ready)
            return True

        def frames(self) -> Iterator[Frame]:
            return iter(())

        def close(self) -> None:
            pass

    class Pass:
        source: FrameSource = File()
        done = False
        state = message = ""
        paused = False
        on_frame: Callable[[Frame], None] | None = None
        on_state: Callable[[str, str], None] | None = None

        def start(self) -> None:
            pass

        def stop(self, timeout: float = 2.0) -> None:
            pass

        def toggle_privacy(self) -> bool:
            return False

    class Coach:
        models_ready = threading.Event()
        stats = None

        def start(self, origin_s: float) -> None:
            pass

        def offer(self, frame: Frame) -> None:
            pass

        def note_remote_cue(self, cue: Cue) -> None:
            pass

        def stop(self, timeout: float = 2.0) -> None:
            pass

    companion = CameraCompanion(Pass(), selfcoach_factory=lambda *_: Coach())
    companion.start(0.0, on_note=lambda _: None, on_state=lambda *_: None, remote_talking=lambda: False)
    assert held == [Coach.models_ready]
