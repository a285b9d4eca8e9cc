"""A file is analysed from its first frame in every mode, however long the models take to load.

``live --video`` (and the panel, which runs the same runner), the demo's clips and a video file standing in for
the webcam (``--vcam-video``) used to start playing at once, so the first seconds of the file went by while
the models loaded. Now their clock starts when the models are ready. Model loading is scripted here (a vision
factory that takes its time); frames are real, from the 72-frame clip. Invariants, not exact counts: the
machine may be busy, so pacing may skip or drop frames later on, but never while the models load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from callcoach.contract import LiveListener
from callcoach.cues.vocabulary import Cue
from callcoach.live.companion import CameraCompanion
from callcoach.live.runner import LiveRunner, default_engine
from callcoach.live.state import LiveStatus
from callcoach.playbook.types import Suggestion
from callcoach.sources.base import Frame, FrameSource, LiveHooks, SourceKind
from callcoach.sources.paced import PacedFileSource
from callcoach.vision.types import FrameObservation

LOAD_S = 2.5


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


def _run(source: Any, vision: SlowToLoadVision, timeout: float = 60.0) -> tuple[LiveRunner, Listener]:
    listener = Listener()

    def load() -> SlowToLoadVision:
        time.sleep(LOAD_S)
        return vision

    runner = LiveRunner(source, listener, vision_factory=load, engine_factory=default_engine)
    runner.start()
    try:
        assert runner.wait(timeout), "the file did not end"
    finally:
        runner.stop()
    return runner, listener


def test_live_video_analyses_the_file_from_its_first_frame(real_media: Path) -> None:
    source = PacedFileSource(real_media / "single_face.mp4")
    assert source.frame_count_file == 72
    vision = SlowToLoadVision()
    runner, listener = _run(source, vision)
    assert runner.stats.end == "source_lost"  # the file ended
    first_index, first_t = vision.seen[0]
    assert first_index == 0  # the file's first frame is the first analysed
    assert first_t < 0.25  # and it is t = 0 of the run's clock, as in `callcoach analyze`
    assert runner.origin_s - runner.started_at >= LOAD_S - 0.05  # the clock started after the load
    # Every frame of the file was delivered or skipped by pacing (a late tick on a busy machine); the load
    # itself skips none: played from the start, the 2.5 s load would have skipped 60 of the 72.
    assert runner.stats.captured + source.skipped >= 72
    assert source.skipped < 24, source.skipped
    assert runner.stats.frames == len(vision.seen)
    assert len(vision.seen) >= 36, (len(vision.seen), runner.stats.dropped, source.skipped)  # instant vision
    assert "source_lost" not in [s.state for s in listener.statuses[:-1]]


class SlowVision(SlowToLoadVision):
    """Slower than the file's 24 fps."""

    def observe(self, frame: Frame) -> FrameObservation:
        time.sleep(0.06)
        return super().observe(frame)


def test_live_video_analyses_every_frame_of_the_file_even_when_analysis_is_slower(real_media: Path) -> None:
    """`live --video` plays the file losslessly: frames analysed == frames in the file, as in `analyze`, even when
    each frame takes longer to analyse than the file gives it (the file's clock then waits)."""
    for vision in (SlowToLoadVision(), SlowVision()):
        source = PacedFileSource(real_media / "single_face.mp4", lossless=True)
        runner, _ = _run(source, vision, timeout=90.0)
        assert runner.stats.end == "source_lost"
        assert [i for i, _ in vision.seen] == list(range(72))  # every frame, in order, from the first
        assert runner.stats.frames == 72 and runner.stats.dropped == 0 and source.skipped == 0
        assert vision.seen[0][1] < 0.25


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
    """A live source whose first picture comes ``delay_s`` after it opens (a camera warming up)."""

    kind: SourceKind = "camera"
    name = "slow camera"
    fps = 25.0
    frame_count: int | None = None

    def __init__(self, delay_s: float, frames: int = 10) -> None:
        self.delay_s, self.count = delay_s, frames
        self._stop = threading.Event()

    def frames(self) -> Any:
        self._stop.wait(self.delay_s)
        rng = np.random.default_rng(0)
        for i in range(self.count):
            if self._stop.is_set():
                return
            yield Frame(index=i, t_s=time.monotonic(), image=rng.integers(0, 255, (90, 160, 3), dtype=np.uint8))
            self._stop.wait(0.04)

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()


def test_no_source_lost_before_the_first_picture() -> None:
    """A source slower to start than the stall threshold is "waiting for the first picture", not "lost"."""
    vision = SlowToLoadVision()
    listener = Listener()
    runner = LiveRunner(
        LateSource(delay_s=3.0),
        listener,
        vision_factory=lambda: vision,
        engine_factory=default_engine,
        stall_after_s=1.0,
    )
    runner.start()
    try:
        assert runner.wait(30.0)
    finally:
        runner.stop()
    before_first = [s for s in listener.statuses if s.state != "no_face"][:-1]
    assert "source_lost" not in [s.state for s in before_first[:-1]]
    assert any("waiting for the first picture" in s.message for s in listener.statuses)
    assert vision.seen and vision.seen[0][0] == 0
    assert [s.state for s in listener.statuses].count("calibrating") == 0  # no face, so never "calibrating"


def test_the_demo_clips_wait_for_the_models() -> None:
    from callcoach.ui.demo import SynthSource

    source = SynthSource(seed=0)
    ready = threading.Event()
    source.hold_until(ready)
    got: list[Frame] = []
    frames = source.frames()
    thread = threading.Thread(target=lambda: got.append(next(frames)), daemon=True)
    thread.start()
    thread.join(8.0)  # rendering the clips, then waiting
    assert not got  # nothing is played before the models are ready
    ready.set()
    thread.join(120.0)
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
