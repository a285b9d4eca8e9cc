"""The live runner: a capture thread and an inference thread, publishing immutable states to a listener.

Capture (``CaptureThread``) keeps only the newest frame. Inference takes whatever is newest, runs vision
and the cue engine on it, and calls the listener from its own thread: ``on_cue`` with the latency of the
frame that emitted the cue, ``on_suggestion`` when an advisor turns the cue into one, and ``on_status`` on
every change of state and otherwise at most every ``status_interval_s``.

Vision and the cue engine see times relative to ``start()`` (``origin_s``), so cue times read as seconds
into the session (for a file source with ``hold_until``, relative to its first frame, which is played once
the models have loaded: a file is analysed from its first frame, as ``callcoach analyze`` reads it); frames
keep their capture time on the runner's clock (``time.monotonic()`` unless a test injects another) for the
latency figures.

The thread, the newest-frame slot, turning an error into a state and stopping within a deadline come from
``callcoach.sources.worker.FrameWorker``; baseline progress is read from the cue engine; when a face counts
as gone or unreadable is decided by ``callcoach.live.facestate``, as in the self-coach; which state the
listener is told, and when, by ``callcoach.live.runner_states`` (this class's base).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from callcoach.contract import Advisor, LiveListener
from callcoach.core.clock import Clock, Deadline
from callcoach.core.contain import contained
from callcoach.core.marks import SelfNote
from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.vocabulary import BaselineEvent, Cue, EarlyCue, EarlyCueWithdrawn
from callcoach.live.advice import CueDispatch
from callcoach.live.companion import Companion
from callcoach.live.facestate import FaceState
from callcoach.live.readable import hidden_notice
from callcoach.live.runner_states import RunnerStates
from callcoach.live.state import LiveStatus
from callcoach.live.stats import RateMeter, RunStats
from callcoach.sources.base import Frame, FrameSource, hooks_of
from callcoach.vision.analyzer import FrameAnalyzer
from callcoach.vision.blank import BlankDetector

_log = logging.getLogger(__name__)


def default_vision() -> FrameAnalyzer:
    from callcoach.vision.pipeline import VisionPipeline  # heavy: mediapipe and onnxruntime

    return VisionPipeline(live=True)


def default_engine(baseline_seconds: float) -> CueEngine:
    # Early cues: a suggestion can follow a movement's apex by a few hundred ms instead of its end.
    return CueEngine(EngineConfig(baseline_seconds=baseline_seconds, early=True))


class LiveRunner(RunnerStates):
    """Runs one source until ``stop()``, the source is lost, or an error; ``wait()`` blocks until then."""

    capture_grace_s = 1.0

    def __init__(
        self,
        source: FrameSource,
        listener: LiveListener,
        *,
        advisor: Advisor | None = None,
        vision_factory: Callable[[], FrameAnalyzer] = default_vision,
        engine_factory: Callable[[float], CueEngine] = default_engine,
        baseline_seconds: float = 2.0,
        status_interval_s: float = 0.2,
        no_face_after_s: float = 0.3,
        stall_after_s: float = 2.0,
        companion: Companion | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__("callcoach-inference", clock=clock, source=source)
        self.source = source
        #: The user's side (webcam -> virtual camera, own-face coaching); it outlives the remote source:
        #: the call's video must keep flowing when the watched window closes, so only ``stop()`` ends it.
        self.companion = companion
        self.self_notes = 0
        self.listener = listener
        self.advisor = advisor
        self.baseline_seconds = baseline_seconds
        self.status_interval_s = status_interval_s
        self.stall_after_s = stall_after_s
        self._vision_factory = vision_factory
        self._engine_factory = engine_factory
        self.stats = RunStats(source=source.name)
        self.origin_s = 0.0
        #: When ``start()`` was called (``origin_s`` moves to the first frame for a file that waits for us).
        self.started_at = 0.0
        #: Set once the models have loaded; a file source given ``hold_until`` starts its clock then.
        self.models_ready = threading.Event()
        self._hooks = hooks_of(source)
        self._held = self._hooks.hold_until(self.models_ready)
        #: Every frame of the source is analysed (a file in `live --video`), repeats included.
        self._lossless = self._hooks.lossless
        self._blank = BlankDetector(source.kind)
        self._meter = RateMeter()
        self._paused = threading.Event()
        self._status = LiveStatus(t_s=0.0, source=source.name, state="starting", message="starting")
        self._published_at = -1e9
        self._faces = FaceState(no_face_after_s, start_counts_as_seen=True)
        #: "mouth hidden" while a hand covers part of the face in view (a notice beside "face locked").
        self._hidden: str | None = None
        self._last_frame_at = 0.0
        self._dropped_before = 0
        self._last_probe: np.ndarray | None = None
        self._vision: FrameAnalyzer | None = None
        self._engine: CueEngine | None = None
        self._dispatch = CueDispatch(
            listener,
            self.stats,
            advisor=advisor,
            companion=companion,
            origin_s=lambda: self.origin_s,
            status=lambda: self._status,
            clock=self.clock,
        )
        self._faces_in_view: tuple[int, ...] = ()
        self._faces_seen_at = -1e9

    # --- control, from any thread ------------------------------------------------------------------

    def start(self) -> None:
        self.origin_s = self.started_at = self.clock.now()
        self._last_frame_at = self.origin_s
        self._start_threads()  # the capture opens the source while the inference thread loads the models
        if not self._held:
            self._start_companion()

    def _start_companion(self) -> None:
        if self.companion is not None:
            self.companion.start(
                self.origin_s, on_note=self._on_note, on_state=self._on_vcam, remote_talking=self.remote_talking
            )

    def pause(self) -> None:
        self._paused.set()
        if self.companion is not None:
            self.companion.set_coaching(False)

    def resume(self) -> None:
        self._paused.clear()
        if self.companion is not None:
            self.companion.set_coaching(True)

    def toggle_privacy(self) -> bool | None:
        """Flip the virtual camera's privacy pause; None when no virtual camera is running."""
        return self.companion.toggle_privacy() if self.companion is not None else None

    def remote_talking(self) -> bool:
        """Whether a face in view was speaking on the last analysed frame (read by the self-coach's thread).

        Only a fresh answer counts: when no frame has been analysed for half a second (the window closed or
        froze, the picture went blank, coaching is paused) nobody is known to be talking.
        """
        engine = self._engine
        if engine is None or self.clock.now() - self._faces_seen_at > 0.5:
            return False
        return any(engine.face_talking(i) for i in self._faces_in_view)

    def _on_note(self, note: SelfNote) -> None:
        self.self_notes += 1
        self.listener.on_self(note)

    def _on_vcam(self, state: str, message: str) -> None:
        self.listener.on_vcam(state, message)

    @property
    def no_face_after_s(self) -> float:
        """Seconds without a face before the state says "no face" (a face lost for a frame or two is not)."""
        return self._faces.absent_after_s

    def stop(self, timeout: float = 2.0) -> None:
        """Stop both threads, waiting up to ``timeout`` seconds; ``stopped`` tells whether they have ended."""
        deadline = Deadline(timeout)
        self._stop_threads(deadline)
        if self.companion is not None:
            # Last, with what is left of the same budget: the other side's summary must not wait on it.
            self.companion.stop(deadline.left())

    def settle(self, timeout: float = 15.0) -> bool:
        """After ``stop()``: wait for the inference thread to end, True once it has. It may still be loading
        the models (stopped in the first seconds), which cannot be cut short; a process that exits meanwhile
        tears MediaPipe down under it, and its complaints would reach the terminal."""
        return self._join(timeout)

    # --- the inference thread (FrameWorker's steps) ------------------------------------------------

    def _setup(self) -> None:
        self._publish("starting", f"opening {self.source.name} and loading the face models", force=True)
        self._vision = self._vision_factory()
        self._engine = self._engine_factory(self.baseline_seconds)
        self._dropped_before = self.buffer.dropped  # frames replaced while the models loaded are not drops
        if self._held and not self.stopping:
            # The file's clock starts now: its first frame is t = 0, as in `callcoach analyze`, and the
            # companion (which shares the clock) starts with it.
            self.origin_s = self._last_frame_at = self.clock.now()
            self._start_companion()
        self.models_ready.set()

    def _handle(self, frame: Frame) -> None:
        vision, engine = self._vision, self._engine
        assert vision is not None and engine is not None  # made by _setup, before the first frame
        self._process(frame, vision, engine)

    def _empty(self) -> bool:
        return self._idle()

    def _failed(self, exc: BaseException, message: str) -> None:
        self._end("error", message)  # a listener or a model failing is a state, it must not hang the UI

    def _cleanup(self) -> None:
        if self._vision is not None:
            with contained(_log, "closing vision"):
                self._vision.close()
        self.stats.captured = self.buffer.put_count
        self.stats.duration_s = self.clock.now() - self.started_at
        if self.stats.end == "running":
            self.stats.end = "stopped"

    def _process(self, frame: Frame, vision: FrameAnalyzer, engine: CueEngine) -> None:
        self._last_frame_at = self.clock.now()
        if self.paused:
            self.stats.paused_frames += 1
            self._publish("paused", "paused: nothing is analysed until you resume")
            return
        rel_t = frame.t_s - self.origin_s
        blank = self._blank.update(frame.image, rel_t)
        if self._blank.last_frame_blank:
            # Never coach on a blank picture, not even in the few frames before the state turns.
            self.stats.blank_frames += 1
            self._meter.add(self.clock.now(), None)
            if blank:
                self._publish("blank", self._blank.message)
            return
        # Screen capture runs at a fixed rate whatever the call shows: a repeat of the last picture (the tile
        # repaints at 15-25 fps, we grab at 30) has nothing new in it, and skipping it leaves the CPU to the
        # next real frame. Compared on a 1-in-16 subsample, a few microseconds.
        if self._repeats_last(frame.image):
            self.stats.repeated_frames += 1
            return
        obs = vision.observe(Frame(index=frame.index, t_s=rel_t, image=frame.image))
        events = list(engine.update(obs))
        done = self.clock.now()
        latency_ms = (done - frame.t_s) * 1000.0
        stats = self.stats
        stats.frames += 1
        if stats.first_frame_s is None:
            stats.first_frame_s = done - self.started_at
            stats.first_done_at = done
        stats.last_done_at = done
        stats.frame_latency_ms.append(latency_ms)
        stats.dropped = self.buffer.dropped - self._dropped_before
        self._meter.add(done, latency_ms)
        self._faces_in_view, self._faces_seen_at = tuple(f.face_id for f in obs.faces), done
        if obs.faces:
            stats.frames_with_face += 1
            self._faces.seen(rel_t)
            for face in obs.faces:
                stats.face_ids.add(face.face_id)
        self._hooks.feedback(frame.t_s, len(obs.faces))
        self._dispatch_events(events, frame.t_s)
        self._hidden = hidden_notice(obs, engine)
        ids = [f.face_id for f in obs.faces]
        self._face_state(rel_t, ids, engine, self._unreadable(obs, frame.image, engine, rel_t))

    def _repeats_last(self, image: np.ndarray) -> bool:
        """The picture is the last one again (compared on a 1-in-16 subsample); files never repeat."""
        probe = image[::16, ::16]
        last, self._last_probe = self._last_probe, probe.copy()
        return not self._lossless and last is not None and probe.shape == last.shape and np.array_equal(probe, last)

    def _dispatch_events(self, events: list[BaselineEvent | Cue | EarlyCue | EarlyCueWithdrawn], t_s: float) -> None:
        for event in events:
            if isinstance(event, BaselineEvent):
                if event.status == "ready":
                    self.stats.baseline_ready = True
            elif isinstance(event, EarlyCue):
                self._dispatch.early(event, t_s)
            elif isinstance(event, EarlyCueWithdrawn):
                self._dispatch.withdrawn(event)
            elif isinstance(event, Cue):
                self._dispatch.final(event, t_s)
