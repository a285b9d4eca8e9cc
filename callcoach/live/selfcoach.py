"""Self-coaching: the user's own face through the same vision and cue engine, on its own thread.

Shown only to the user, never drawn on the outgoing video. Two kinds of note come out (``SelfNote``):

- leaks: the user's own lip compression, one-sided lip pull, brief anger, nose wrinkle or frown while the
  other person was talking (by default only then: that is when the user's face is the listener's answer,
  and the user's own speech moves the lips for reasons of its own);
- the mirror check (``callcoach.live.mirror``): after a smile reaching the other person's eyes, did the
  user smile back within a few seconds?

Frames come from the virtual camera's send thread through ``offer`` (a one-slot drop-oldest hand-over,
never blocking); remote cues come from the remote inference thread through ``note_remote_cue``. Both
pipelines share one clock: ``start(origin_s)`` takes the live runner's ``origin_s``, so the user's cue
times and the remote cue times are seconds into the same session. Nothing raises out of this thread: a
failing model or listener ends the self-coach in the ``error`` state, and the pass-through carries on.
``on_face`` (optional) gets the analysed picture and the user's face box twice a second, for ``--auto``'s
self-view match (callcoach.vision.selfview); the picture is never kept. The thread, the slot, the error state and
the stop come from ``callcoach.sources.worker.FrameWorker``; baseline progress is read from the cue engine;
when a face counts as gone or unreadable is decided by ``callcoach.live.facestate``, as in the live runner.
Its states, counters and note wording are in ``callcoach.live.selfreport``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from callcoach.core.clock import Clock, Deadline
from callcoach.core.contain import contained
from callcoach.core.marks import NoteKind, SelfNote
from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.vocabulary import BaselineEvent, Cue
from callcoach.live.facestate import LOCKED, FaceState
from callcoach.live.mirror import WARM_CUES, MirrorResult, MirrorTracker
from callcoach.live.selfreport import LEAK_LINES, MIRROR_LINES, LeakMode, SelfState, SelfStats, SelfStatus
from callcoach.playbook.wording import note_refusal
from callcoach.sources.base import Frame
from callcoach.sources.worker import FrameWorker
from callcoach.vision.analyzer import FrameAnalyzer
from callcoach.vision.selfview import FaceHook, FaceTap, user_face

_log = logging.getLogger(__name__)

_IDLE_AFTER_S = 1.0


def default_vision() -> FrameAnalyzer:
    from callcoach.vision.pipeline import VisionConfig, VisionPipeline  # heavy: mediapipe and onnxruntime

    # One face: a webcam shows the user; capping at one also spares the tiled search for small faces,
    # whose spikes would make this side drop frames (a poster or a passer-by is not the user).
    return VisionPipeline(live=True, config=VisionConfig(max_faces=1))


def default_engine(baseline_seconds: float) -> CueEngine:
    return CueEngine(EngineConfig(baseline_seconds=baseline_seconds))


#: The user's own face missing this long is said so (a frame or two is not); the same half second as the
#: unreadable rule, named apart because it is a different decision.
SELF_ABSENT_AFTER_S = 0.5


class SelfCoach(FrameWorker):
    """The user's own cues, coached quietly. ``start`` once, ``offer`` frames, ``stop`` at the end."""

    def __init__(
        self,
        listener: Callable[[SelfNote], None],
        *,
        remote_talking: Callable[[], bool] = lambda: False,
        vision_factory: Callable[[], FrameAnalyzer] = default_vision,
        engine_factory: Callable[[float], CueEngine] = default_engine,
        on_status: Callable[[SelfStatus], None] | None = None,
        baseline_seconds: float = 2.0,
        mirror_window_s: float = 3.0,
        leak_cooldown_s: float = 30.0,
        leak_gap_s: float = 10.0,
        leak_min_confidence: float = 0.55,
        leak_mode: LeakMode = "listening",
        listen_grace_s: float = 1.0,
        warm_cues: frozenset[str] = WARM_CUES,
        max_fps: float | None = 15.0,
        origin_s: float | None = None,
        on_face: FaceHook | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__("callcoach-selfcoach", clock=clock)
        self.listener = listener
        self.on_status = on_status
        self.baseline_seconds = baseline_seconds
        self.leak_cooldown_s = leak_cooldown_s
        self.leak_gap_s = leak_gap_s
        self.leak_min_confidence = leak_min_confidence
        self.leak_mode = leak_mode
        self.listen_grace_s = listen_grace_s
        self.max_fps = max_fps
        self.origin_s = origin_s if origin_s is not None else 0.0
        self._origin_given = origin_s is not None
        self._remote_talking = remote_talking
        self._vision_factory = vision_factory
        self._engine_factory = engine_factory
        self.mirror = MirrorTracker(mirror_window_s, warm_cues=warm_cues)
        self.face_tap = FaceTap(on_face)  # the webcam picture for --auto's self-view match, twice a second
        self._inbox: deque[Cue] = deque(maxlen=64)  # deque append/popleft are atomic: no lock needed
        #: Set once the models have loaded (or failed to): a video file standing in for the webcam waits for it.
        self.models_ready = threading.Event()
        self._status = SelfStatus("starting", "starting self-coaching: loading the face models")
        self._n = {"frames": 0, "skipped": 0, "with_face": 0, "leaks": 0, "leaks_quiet": 0, "errors": 0}
        self._ready = False
        self._progress = 0.0
        self._face_id: int | None = None
        self._vision: FrameAnalyzer | None = None
        self._engine: CueEngine | None = None
        self._talk: deque[tuple[float, bool]] = deque()
        self._last_leak: dict[str, float] = {}
        self._last_any_leak = -1e9
        self._last_t: float | None = None
        self._due = -1e9
        # A face missing or unreadable for half a second is said so (a frame or two is not).
        self._faces = FaceState(SELF_ABSENT_AFTER_S)
        self._last_frame_at = 0.0

    # --- control, from any thread ------------------------------------------------------------------

    def start(self, origin_s: float | None = None) -> None:
        """Start the thread; pass the live runner's ``origin_s`` so both sides share one clock."""
        if origin_s is not None:
            self.origin_s = origin_s
        elif not self._origin_given:
            self.origin_s = self.clock.now()
        self._last_frame_at = self.clock.now()
        self._start_threads()

    def offer(self, frame: Frame) -> None:
        """Hand over one webcam frame; returns at once (safe as ``PassThrough``'s ``on_frame``)."""
        if self.stopping:
            return
        self.buffer.put(frame)

    def note_remote_cue(self, cue: Cue) -> None:
        """A remote final cue (any thread); warm ones start a mirror check on the self thread."""
        if cue.cue in self.mirror.warm_cues:
            self._inbox.append(cue)

    def stop(self, timeout: float = 2.0) -> None:
        if not self.started:
            self._halt.set()
            self._publish("stopped", "self-coaching stopped")
            self._done.set()
            return
        self._stop_threads(Deadline(timeout))

    @property
    def status(self) -> SelfStatus:
        return self._status

    @property
    def stats(self) -> SelfStats:
        n, m = self._n, self.mirror
        return SelfStats(
            offered=self.buffer.put_count,
            frames=n["frames"],
            dropped=self.buffer.dropped,
            skipped=n["skipped"],
            frames_with_face=n["with_face"],
            face_seen=n["with_face"] > 0,
            baseline_ready=self._ready,
            baseline_progress=self._progress,
            leaks=n["leaks"],
            leaks_quiet=n["leaks_quiet"],
            mirror_checks=m.checks,
            mirror_merged=m.merged,
            mirror_met=m.met,
            mirror_missed=m.missed,
            mirror_unresolved=m.unresolved,
            errors=n["errors"],
            error=None if self.error is None else self._status.message,
        )

    # --- the self thread ---------------------------------------------------------------------------

    # --- the self thread (FrameWorker's steps) -----------------------------------------------------

    def _setup(self) -> None:
        self._vision = self._vision_factory()
        self._engine = self._engine_factory(self.baseline_seconds)
        self.models_ready.set()
        self._publish("idle", "self-coaching: waiting for your camera")

    def _handle(self, frame: Frame) -> None:
        vision, engine = self._vision, self._engine
        assert vision is not None and engine is not None  # made by _setup, before the first frame
        self._take_remote()
        self._process(frame, vision, engine)

    def _empty(self) -> bool:
        self._take_remote()
        self._idle()
        return False

    def _finished(self) -> None:
        self._take_remote()
        self._deliver_mirror(self.mirror.resolve(final=True))
        self._publish("stopped", "self-coaching stopped")

    def _failed(self, exc: BaseException, message: str) -> None:
        # A model or the listener failing must not touch the outgoing video: the self-coach just ends.
        self._n["errors"] += 1
        self._publish("error", "self-coaching stopped: " + message)

    def _cleanup(self) -> None:
        self.models_ready.set()  # a held file must not wait for models that will never come
        self.buffer.close()
        if self._vision is not None:
            with contained(_log, "closing vision"):
                self._vision.close()

    def _idle(self) -> None:
        now = self.clock.now()
        if now - self._last_frame_at < _IDLE_AFTER_S:
            return
        # No pictures (privacy pause, camera gone): checks whose window has passed will get no more data.
        self._deliver_mirror(self.mirror.resolve(now_s=now - self.origin_s))
        self._publish("idle", "self-coaching: no picture from your camera", self._progress)

    def _take_remote(self) -> None:
        while self._inbox:
            self.mirror.add_remote(self._inbox.popleft())
        self._deliver_mirror(self.mirror.resolve())

    def _process(self, frame: Frame, vision: FrameAnalyzer, engine: CueEngine) -> None:
        self._last_frame_at = self.clock.now()
        t = frame.t_s - self.origin_s
        if self._last_t is not None and t <= self._last_t:
            self._n["skipped"] += 1  # the engine needs rising times
            return
        if self.max_fps:
            # On a schedule rather than "a period since the last one": at 25 fps in, 10 fps out, not 8.
            period = 1.0 / self.max_fps
            if t < self._due - 0.1 * period:
                self._n["skipped"] += 1  # leaves the CPU to the remote side, which is the main coaching
                return
            self._due = self._due + period if t < self._due + period else t + period
        self._last_t = t
        obs = vision.observe(Frame(index=frame.index, t_s=t, image=frame.image))
        obs = user_face(obs, self._face_id)
        self.face_tap(t, frame.image, obs)
        events = list(engine.update(obs))
        # Sampled per frame: a leak cue is named seconds after its apex, and the question is about the apex.
        self._talk.append((t, bool(self._remote_talking())))
        while self._talk and t - self._talk[0][0] > 15.0:
            self._talk.popleft()
        face_id = obs.faces[0].face_id if obs.faces else None
        # Activations are empty until the baseline is ready and while the head is turned away.
        acts = engine.face_activations(face_id) if face_id is not None else {}
        readable = face_id is not None and bool(acts) and engine.face_reliable(face_id)
        if face_id is not None:
            self._face_id = face_id
            self._n["with_face"] += 1
            self._faces.seen(t)
        self.mirror.add_sample(t, acts.get("smile", 0.0) if readable else None)
        for event in events:
            if isinstance(event, BaselineEvent):
                if event.status == "ready":
                    self._ready = True
            elif isinstance(event, Cue):
                self.mirror.add_smile(event)
                self._leak(event)
        self._take_remote()
        self._face_state(t, face_id, engine, readable)
        self._n["frames"] += 1  # counted once fully handled: a caller may wait on it (the tests do)

    def _talking_near(self, t: float) -> bool:
        """Whether the other person talked at ``t`` or within ``listen_grace_s`` before it: the grace covers
        the pauses between phrases (the speech gate drops in them) and a reaction trailing the words."""
        return any(on for ts, on in self._talk if t - self.listen_grace_s <= ts <= t + 0.05)

    def _leak(self, cue: Cue) -> None:
        line = LEAK_LINES.get(cue.cue)
        if line is None:
            return
        listening = self._talking_near(cue.apex_s)
        quiet = (
            cue.confidence < self.leak_min_confidence
            or (self.leak_mode == "listening" and not listening)
            or cue.apex_s - self._last_leak.get(cue.cue, -1e9) < self.leak_cooldown_s
            or cue.apex_s - self._last_any_leak < self.leak_gap_s
        )
        if quiet:
            self._n["leaks_quiet"] += 1
            return
        self._last_leak[cue.cue] = self._last_any_leak = cue.apex_s
        self._n["leaks"] += 1
        message = line.format(when=" while they were talking" if listening else "")
        self._say(SelfNote("leak", cue.apex_s, cue.cue, None, message, cue.confidence, listening))

    def _say(self, note: SelfNote) -> None:
        # The lines are ours, but they are edited like any text: one the wording guard refuses is not shown.
        if note_refusal(note.message) is None:
            self.listener(note)

    def _deliver_mirror(self, results: list[MirrorResult]) -> None:
        for r in results:
            confidence = r.cue.confidence * (1.0 if r.kind == "mirror_met" else r.coverage)
            self._say(
                SelfNote(
                    r.kind,
                    r.cue.apex_s,
                    r.cue.cue,
                    r.cue.face,
                    MIRROR_LINES[r.kind],
                    confidence,
                    self._talking_near(r.cue.apex_s),
                )
            )

    def _face_state(self, t: float, face_id: int | None, engine: CueEngine, readable: bool) -> None:
        faces = self._faces
        if face_id is None:
            faces.unreadable.reset()
            if faces.absent(t):
                self._publish("no_face", "self-coaching: can't see your face in your camera", self._progress)
            return
        progress = engine.baseline_progress(face_id, t)
        if progress < LOCKED:
            self._progress = progress
            self._publish("calibrating", "self-coaching: learning your resting expression", self._progress)
            return
        self._progress = 1.0
        unreadable = faces.unreadable.update(t, not readable)
        if readable:
            self._publish("ready", "self-coaching on (only you see this)", 1.0)
        elif unreadable:
            self._publish("unreadable", "self-coaching: can't read your face reliably (head turned?)", 1.0)

    def _publish(self, state: SelfState, message: str, progress: float | None = None) -> None:
        old = self._status
        status = SelfStatus(state, message, round(progress if progress is not None else old.baseline_progress, 3))
        self._status = status
        # Progress alone changes every frame while calibrating: the panel polls ``status`` for it.
        if (state, message) != (old.state, old.message) and self.on_status is not None:
            self.on_status(status)


__all__ = [
    "LEAK_LINES",
    "LeakMode",
    "NoteKind",
    "SelfCoach",
    "SelfNote",
    "SelfState",
    "SelfStats",
    "SelfStatus",
    "default_engine",
    "default_vision",
]
