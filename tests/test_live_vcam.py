"""``callcoach live --vcam``: the webcam pass-through and the self-coach run beside the remote runner.

The remote side is the runner of tests/test_live_runner.py (fake screen, scripted vision, the real cue
engine); the user's side is a real ``PassThrough`` from a fake webcam into a ``MemorySink``, with a fake
self-coach that records what it is handed. No device, no model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pytest
from fakeclock import FakeClock
from memorysink import MemorySink
from scripted import BROW_RAISE, JAW_DROP, Move, Script
from test_live_runner import FakeSource, Recorder, ScriptedVision

from callcoach.cues.vocabulary import Cue
from callcoach.errors import VcamError
from callcoach.live.companion import CameraCompanion, UnavailableCompanion
from callcoach.live.runner import LiveRunner, default_engine
from callcoach.live.state import LiveStatus
from callcoach.sources.base import Frame, LiveHooks, SourceKind, Taker
from callcoach.vcam.passthrough import PassThrough

REPO = Path(__file__).resolve().parents[1]


class FakeWebcam(LiveHooks):
    """Distinct noise pictures at ``fps``, 642x362 (not a multiple of 4), until stopped or ``seconds``.

    On ``clock`` (a test's ``FakeClock``): a frame goes out once the clock has reached its time, and only
    after the last one was taken; ``caught_up`` tells the source that steps the clock when it may go on.
    """

    kind: SourceKind = "camera"
    name = "camera 0"
    frame_count: int | None = None

    def __init__(self, fps: float = 30.0, seconds: float | None = None, clock: FakeClock | None = None) -> None:
        self.fps, self.seconds, self.clock = fps, seconds, clock
        self.lossless = clock is not None
        self.sent: list[np.ndarray] = []
        self.closed = False
        self.ended = False
        self._next_due = -1e18
        self._taker: Taker | None = None
        self._stop = threading.Event()

    def pace_with(self, consumer: Taker) -> None:
        self._taker = consumer

    def caught_up(self) -> bool:
        """Every frame due by now on the clock has gone out and been taken (or the camera is done)."""
        if self.ended or self._stop.is_set() or self.clock is None:
            return True
        return self._next_due > self.clock.now() and (self._taker is None or self._taker.wait_taken(0))

    def _due(self, t: float) -> bool:
        """Wait until ``t`` on the clock (and the last frame taken); False once stopped."""
        if self.clock is None:
            self._stop.wait(max(0.0, t - time.monotonic()))
            return not self._stop.is_set()
        self._next_due = t
        while self.clock.now() < t or (self._taker is not None and not self._taker.wait_taken(0)):
            if self._stop.wait(0.001):
                return False
        return True

    def frames(self) -> Iterator[Frame]:
        rng = np.random.default_rng(7)
        start = self.clock.now() if self.clock is not None else time.monotonic()
        i = 0
        try:
            while self._due(start + i / self.fps):
                t = start + i / self.fps if self.clock is not None else time.monotonic()
                if self.seconds is not None and t - start >= self.seconds:
                    return
                image = rng.integers(0, 255, (362, 642, 3), dtype=np.uint8)
                self.sent.append(image)
                yield Frame(index=i, t_s=t, image=image)
                i += 1
        finally:
            self.ended = True

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.closed = True


@dataclass(frozen=True)
class Note:
    kind: str
    t_s: float
    cue: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"type": "self", "kind": self.kind, "t_s": self.t_s, "cue": self.cue, "message": self.message}


class FakeSelfCoach:
    on_status: Callable[[Any], None]

    def __init__(self, on_note: Any, remote_talking: Any) -> None:
        self.on_note, self.remote_talking = on_note, remote_talking
        self.frames: list[Frame] = []
        self.remote: list[Cue] = []
        self.origin: float | None = None
        self.stopped = False
        self.talking_samples: list[bool] = []
        self.models_ready = threading.Event()  # a fake has no models to load
        self.models_ready.set()

    def start(self, origin_s: float) -> None:
        self.origin = origin_s

    def offer(self, frame: Frame) -> None:
        self.frames.append(frame)
        self.talking_samples.append(self.remote_talking())

    def note_remote_cue(self, cue: Cue) -> None:
        self.remote.append(cue)
        self.on_note(Note("mirror_missed", cue.apex_s, cue.cue, "they raised their brows: a nod back may land"))

    def stop(self, timeout: float = 2.0) -> None:
        self.stopped = True

    @property
    def stats(self) -> Any:
        return Note("stats", 0.0, "", f"{len(self.frames)} frames")


class ListenerWithCompanion(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.notes: list[Any] = []
        self.vcam: list[tuple[str, str]] = []

    def on_self(self, note: Any) -> None:
        self.notes.append(note)

    def on_vcam(self, state: str, message: str) -> None:
        self.vcam.append((state, message))


class BrokenSink(MemorySink):
    def open(self, width: int, height: int, fps: float) -> None:
        raise VcamError(
            'no virtual camera device: sudo modprobe v4l2loopback exclusive_caps=1 card_label="CallCoach Camera"'
        )


#: The remote person speaks from 1.8 s to 2.8 s: the jaw opens and closes four times a second.
SPEECH = [Move(1.8 + 0.25 * k, 1.95 + 0.25 * k, JAW_DROP) for k in range(4)]


class Sync:
    """One clock for both sides of a test: the watched screen steps it, frame by frame, and waits before
    each step until every webcam made here has delivered what was due. Both sides then see the same
    session times however slowly the machine runs them."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.webcams: list[FakeWebcam] = []

    def webcam(self, fps: float = 30.0, seconds: float | None = None) -> FakeWebcam:
        self.webcams.append(FakeWebcam(fps, seconds, clock=self.clock))
        return self.webcams[-1]

    def passthrough(self, webcam: FakeWebcam, sink: MemorySink) -> PassThrough:
        return PassThrough(webcam, sink, clock=self.clock)

    def caught_up(self) -> None:
        deadline = time.monotonic() + 60.0
        while not all(w.caught_up() for w in list(self.webcams)):
            assert time.monotonic() < deadline, "a webcam never caught up"
            time.sleep(0.0005)

    def screen(self, seconds: float | None = None) -> FakeSource:
        return FakeSource(fps=25.0, seconds=seconds, clock=self.clock, before_step=self.caught_up)

    def until(self, runner: LiveRunner, t: float) -> None:
        """Wait until the session clock has reached ``t`` seconds (or the run has ended)."""
        deadline = time.monotonic() + 120.0
        while self.clock.now() - runner.origin_s < t and not runner.done:
            assert time.monotonic() < deadline, "the session clock never got there"
            runner.wait_turns(runner.turns + 1, 0.1)


def until(check: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait for ``check()``; the bound only catches a hang."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.002)


def _run(companion: Any, seconds: float, sync: Sync, *, act: Any = None) -> tuple[LiveRunner, ListenerWithCompanion]:
    """The runner on ``sync``'s screen and scripted vision, stopped once ``seconds`` of session time ran."""
    script = Script(duration=60.0, fps=25.0, moves=[Move(1.2, 1.5, BROW_RAISE), *SPEECH])
    vision = ScriptedVision(script)
    rec = ListenerWithCompanion()
    runner = LiveRunner(
        sync.screen(),
        rec,
        vision_factory=lambda: vision,
        engine_factory=default_engine,
        baseline_seconds=1.0,
        companion=companion,
        clock=sync.clock,
    )
    rec.runner, rec.vision = runner, vision
    runner.start()
    try:
        if act is not None:
            act(runner)
        sync.until(runner, seconds)
    finally:
        runner.stop()
    return runner, rec


def test_webcam_passes_through_unchanged_while_the_self_coach_sees_the_same_frames() -> None:
    sync = Sync()
    webcam, sink = sync.webcam(), MemorySink()
    coaches: list[FakeSelfCoach] = []

    def factory(on_note: Any, remote_talking: Any, on_status: Any) -> FakeSelfCoach:
        coaches.append(FakeSelfCoach(on_note, remote_talking))
        return coaches[-1]

    companion = CameraCompanion(sync.passthrough(webcam, sink), selfcoach_factory=factory)
    runner, rec = _run(companion, 3.0, sync)
    coach = coaches[0]

    assert runner.stopped and webcam.closed and coach.stopped and sink.closed
    assert coach.origin == runner.origin_s  # both sides count seconds from the same start
    assert sink.size == (642, 362) and sink.fps == 30.0 and sink.count >= 30
    for sent in sink.frames[:10]:
        assert sent.dtype == np.uint8 and any(np.array_equal(sent, w) for w in webcam.sent[:20])
    # The self-coach is handed exactly the frames the call got (same arrays, no copies).
    assert len(coach.frames) == sink.count
    assert all(any(f.image is w for w in webcam.sent) for f in coach.frames[:5])
    # Remote cues reach the self-coach; its notes reach the listener beside the remote cues.
    assert [c.cue for c in coach.remote] == [c[0].cue for c in rec.cues] and coach.remote
    assert [n.cue for n in rec.notes] == [c.cue for c in coach.remote]
    assert runner.self_notes == len(rec.notes)
    assert ("live", "live: passing the camera through") in rec.vcam
    assert companion.state == "stopped"
    # The remote engine's speech gate is readable from the self-coach's thread, and follows the speech.
    origin = runner.origin_s
    # (A window a little wider than the speech: on a loaded machine the other side's analysis lags.)
    during = [t for f, t in zip(coach.frames, coach.talking_samples, strict=True) if 2.1 < f.t_s - origin < 3.2]
    before = [t for f, t in zip(coach.frames, coach.talking_samples, strict=True) if f.t_s - origin < 1.7]
    # (Tracker-like noise in the scripted face can fake a frame or two of speech; the speech is what stands out.)
    assert during and before and sum(during) / len(during) > 0.4 > 0.2 > sum(before) / len(before), (during, before)


def test_pause_stops_self_coaching_but_not_the_video_and_privacy_blurs_it() -> None:
    sync = Sync()
    webcam, sink = sync.webcam(), MemorySink(keep="none")
    coaches: list[FakeSelfCoach] = []
    seen: dict[str, int] = {}

    def factory(on_note: Any, remote_talking: Any, on_status: Any) -> FakeSelfCoach:
        coaches.append(FakeSelfCoach(on_note, remote_talking))
        return coaches[-1]

    companion = CameraCompanion(sync.passthrough(webcam, sink), selfcoach_factory=factory)

    def act(runner: LiveRunner) -> None:
        sync.until(runner, 0.8)
        runner.pause()
        seen["paused_at"], seen["sent_at_pause"] = len(coaches[0].frames), sink.count
        sync.until(runner, sync.clock.now() - runner.origin_s + 0.6)
        seen["after_pause"] = len(coaches[0].frames)
        seen["sent_after_pause"] = sink.count
        runner.resume()
        assert runner.toggle_privacy() is True
        sync.until(runner, sync.clock.now() - runner.origin_s + 0.5)
        seen["privacy_offers"] = len(coaches[0].frames)
        sync.until(runner, sync.clock.now() - runner.origin_s + 0.3)
        seen["privacy_offers_later"] = len(coaches[0].frames)
        assert runner.toggle_privacy() is False

    _runner, rec = _run(companion, 2.6, sync, act=act)
    # Pausing coaching leaves the call's video alone and stops feeding the self-coach.
    assert seen["sent_after_pause"] - seen["sent_at_pause"] >= 10
    assert seen["after_pause"] - seen["paused_at"] <= 1
    # The privacy pause sends a blurred still, and the self-coach sees nothing meanwhile.
    assert seen["privacy_offers_later"] == seen["privacy_offers"]
    states = [s for s, _ in rec.vcam]
    assert "paused" in states and states.index("paused") < len(states) - 1
    assert companion.passthrough.still_sent > 0  # type: ignore[attr-defined]


def test_no_virtual_camera_device_says_what_to_do_and_screen_coaching_goes_on() -> None:
    sync = Sync()
    webcam = sync.webcam()
    coaches: list[FakeSelfCoach] = []

    def factory(on_note: Any, remote_talking: Any, on_status: Any) -> FakeSelfCoach:
        coaches.append(FakeSelfCoach(on_note, remote_talking))
        return coaches[-1]

    companion = CameraCompanion(sync.passthrough(webcam, BrokenSink()), selfcoach_factory=factory)
    runner, rec = _run(companion, 2.5, sync)
    unavailable = [m for s, m in rec.vcam if s == "unavailable"]
    assert len(unavailable) == 1 and "modprobe v4l2loopback" in unavailable[0]
    assert unavailable[0].endswith("coaching the other person goes on")
    assert webcam.closed and coaches[0].stopped  # the webcam is handed back to the call app
    assert rec.cues and rec.states()[-1] == "locked"  # the remote run did not notice
    assert runner.toggle_privacy() is None


def test_without_a_device_a_video_standing_in_for_the_webcam_still_feeds_the_self_coach() -> None:
    coaches: list[FakeSelfCoach] = []
    previews: list[PassThrough] = []

    def factory(on_note: Any, remote_talking: Any, on_status: Any) -> FakeSelfCoach:
        coaches.append(FakeSelfCoach(on_note, remote_talking))
        return coaches[-1]

    sync = Sync()

    def preview() -> PassThrough:
        previews.append(sync.passthrough(sync.webcam(), MemorySink(keep="none")))
        return previews[-1]

    companion = CameraCompanion(
        sync.passthrough(sync.webcam(), BrokenSink()), selfcoach_factory=factory, preview_factory=preview
    )
    runner, rec = _run(companion, 2.0, sync)
    unavailable = [m for s, m in rec.vcam if s == "unavailable"]
    assert len(unavailable) == 1 and unavailable[0].endswith("still coached from the video file")
    assert len(previews) == 1 and previews[0].done  # stopped with the run
    assert len(coaches[0].frames) > 20 and coaches[0].stopped
    assert runner.toggle_privacy() is None  # nothing goes to a call: no privacy pause to take


def test_a_webcam_that_cannot_be_opened_is_reported_once_at_start() -> None:
    runner, rec = _run(UnavailableCompanion("--vcam: cannot open camera 0; check that it is plugged in"), 1.5, Sync())
    assert rec.vcam == [
        ("unavailable", "--vcam: cannot open camera 0; check that it is plugged in; coaching the other person goes on")
    ]
    assert rec.statuses[-1].state in ("calibrating", "locked")
    assert runner.toggle_privacy() is None


def test_the_video_outlives_the_watched_window() -> None:
    """The remote window closing ends coaching, not the user's video in the call."""
    sync = Sync()
    webcam, sink = sync.webcam(), MemorySink(keep="none")
    companion = CameraCompanion(sync.passthrough(webcam, sink))
    vision = ScriptedVision(Script(duration=60.0, fps=25.0))
    rec = ListenerWithCompanion()
    runner = LiveRunner(
        sync.screen(seconds=0.8),
        rec,
        vision_factory=lambda: vision,
        engine_factory=default_engine,
        companion=companion,
        clock=sync.clock,
    )
    rec.runner, rec.vision = runner, vision
    runner.start()
    assert runner.wait(60)
    count = sink.count
    sync.clock.advance(0.4)  # the call goes on: the webcam has 12 more frames to give
    until(lambda: sink.count >= count + 12)
    runner.stop()
    assert companion.state == "stopped" and webcam.closed


@pytest.mark.slow
def test_cli_live_vcam_without_a_device_keeps_coaching_from_the_screen(real_media: Path) -> None:
    clip = real_media / "WolfgangLanger_Pexels.mp4"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "callcoach",
            "live",
            "--video",
            str(clip),
            "--headless",
            "--duration",
            "6",
            "--vcam",
            "--vcam-video",
            str(clip),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    vcam = [r for r in records if r["type"] == "vcam"]
    summary = records[-1]
    # Six wall-clock seconds: how many frames fit in them depends on the machine's load, so the checks
    # are that both sides analysed frames and that the counts add up, not how many there were.
    assert summary["type"] == "summary" and summary["frames"] >= 1
    assert any(r["type"] == "status" and r["state"] in ("calibrating", "locked") for r in records)
    if any(r["state"] == "live" for r in vcam):  # a machine with a loopback device: the real thing ran
        assert summary["vcam"] == "stopped"
        return
    # No device here: one line saying what to do, and screen coaching went on regardless.
    unavailable = [r for r in vcam if r["state"] == "unavailable"]
    assert len(unavailable) == 1, vcam
    assert "v4l2loopback" in unavailable[0]["message"] or "OBS" in unavailable[0]["message"]
    assert unavailable[0]["message"].endswith("your own face is still coached from the video file")
    assert summary["vcam"] == "unavailable" and summary["end"] == "stopped"
    # The video standing in for the webcam still feeds the self-coach without a device.
    # (The clip starts with a crying face: the resting-face rule may still be waiting for a calm stretch when
    # the run ends, so the check is that the self-coach analysed the frames and was learning the baseline.)
    me = summary["self"]
    assert me["frames"] >= 1 and me["face_seen"] and (me["baseline_ready"] or me["baseline_progress"] > 0), me
    assert me["frames"] + me["skipped"] + me["dropped"] <= me["offered"], me
    assert any(r["type"] == "self_status" for r in records)


def test_vcam_options_are_checked_before_anything_opens() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "callcoach", "live", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )

    for args, needle in (
        (("--video", "x.mp4", "--headless", "--vcam-camera", "1"), "--vcam-camera goes with --vcam"),
        (("--camera", "0", "--headless", "--vcam"), "--camera 0 is also the webcam --vcam passes through"),
        (
            ("--video", "x.mp4", "--headless", "--vcam", "--vcam-camera", "1", "--vcam-video", "y.mp4"),
            "choose one of --vcam-camera and --vcam-video",
        ),
    ):
        proc = run(*args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and needle in proc.stderr, proc.stderr
    # A --vcam-video that is not there is a mistake to fix now, named by its option.
    proc = run("--video", str(REPO / "README.md"), "--headless", "--vcam", "--vcam-video", "/nonexistent/me.mp4")
    assert proc.returncode == 1 and proc.stdout == "", proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("callcoach: error: --vcam-video: "), proc.stderr
    assert "/nonexistent/me.mp4" in proc.stderr


def test_the_speech_gate_goes_quiet_when_the_watched_picture_stops() -> None:
    """A window closed mid-sentence must not leave 'they are talking' on for the rest of the call."""
    speech = [Move(1.2 + 0.25 * k, 1.35 + 0.25 * k, JAW_DROP) for k in range(12)]  # talking to the end
    vision = ScriptedVision(Script(duration=60.0, fps=25.0, moves=speech))
    samples: list[bool] = []

    class Sampling(ListenerWithCompanion):
        def on_status(self, status: LiveStatus) -> None:
            super().on_status(status)
            samples.append(runner.remote_talking())  # on the inference thread, ~5 times a session second

    rec = Sampling()
    clock = FakeClock()
    runner = LiveRunner(
        FakeSource(fps=25.0, seconds=2.8, clock=clock),
        rec,
        vision_factory=lambda: vision,
        engine_factory=default_engine,
        baseline_seconds=1.0,
        clock=clock,
    )
    rec.runner, rec.vision = runner, vision
    runner.start()
    assert runner.wait(60)
    assert any(samples), "the scripted speech was never seen"
    clock.advance(0.6)  # the picture stopped 0.6 s ago
    assert runner.remote_talking() is False
    runner.stop()


class SlowToStopCoach(FakeSelfCoach):
    given: ClassVar[list[float]] = []

    def stop(self, timeout: float = 2.0) -> None:
        self.given.append(timeout)
        time.sleep(min(timeout, 5.0))  # a self-coach stuck loading its models uses all it is given
        super().stop(timeout)


def test_stop_keeps_to_its_timeout_with_a_slow_self_coach() -> None:
    sync = Sync()
    companion = CameraCompanion(
        sync.passthrough(sync.webcam(), MemorySink(keep="none")),
        selfcoach_factory=lambda n, t, s: SlowToStopCoach(n, t),
    )
    vision = ScriptedVision(Script(duration=60.0, fps=25.0))
    rec = ListenerWithCompanion()
    runner = LiveRunner(
        sync.screen(),
        rec,
        vision_factory=lambda: vision,
        engine_factory=default_engine,
        companion=companion,
        clock=sync.clock,
    )
    rec.runner, rec.vision = runner, vision
    runner.start()
    sync.until(runner, 0.8)
    SlowToStopCoach.given.clear()
    runner.stop(timeout=1.0)
    assert runner.stopped  # the other side's threads came first
    # The self-coach got what was left of the one budget, not a budget of its own.
    assert len(SlowToStopCoach.given) == 1 and SlowToStopCoach.given[0] <= 1.0


def test_a_camera_feed_that_ends_stops_the_self_coach_and_pause_says_paused() -> None:
    coaches: list[FakeSelfCoach] = []

    def factory(on_note: Any, remote_talking: Any, on_status: Any) -> FakeSelfCoach:
        coaches.append(FakeSelfCoach(on_note, remote_talking))
        coaches[-1].on_status = on_status
        return coaches[-1]

    sync = Sync()
    companion = CameraCompanion(
        sync.passthrough(sync.webcam(seconds=1.5), MemorySink(keep="none")), selfcoach_factory=factory
    )

    def act(runner: LiveRunner) -> None:
        sync.until(runner, 0.5)
        runner.pause()
        coaches[0].on_status(SimpleNamespace(state="idle", message="self-coaching: no picture from your camera"))
        runner.resume()

    _runner, rec = _run(companion, 2.5, sync, act=act)
    states = [s for s, _ in rec.vcam]
    assert "self_paused" in states and "self_idle" not in states, states  # paused, not "no picture"
    assert states.index("self_paused") < states.index("self_starting")
    assert "ended" in states and coaches[0].stopped  # the feed ended: the self-coach with it
