"""The states a live run reports (``LiveStatus``: starting, calibrating, locked, no face, lost...), and when.

``RunnerStates`` is the base of ``callcoach.live.runner.LiveRunner``: the runner reads frames, this part
decides what the listener is told about them, at most every ``status_interval_s`` unless the state changes.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from callcoach.contract import LiveListener
from callcoach.core.contain import contained
from callcoach.cues.engine import CueEngine
from callcoach.errors import CallcoachError
from callcoach.live.facestate import LOCKED, FaceState, baseline_progress
from callcoach.live.readable import unreadable_reason
from callcoach.live.state import LiveState, LiveStatus
from callcoach.live.stats import RateMeter, RunStats
from callcoach.sources.base import FrameSource, LiveHooks
from callcoach.sources.worker import FrameWorker
from callcoach.vision.types import FrameObservation

# The runner's logger: the run's debug lines keep one name whichever half of the class writes them.
_log = logging.getLogger("callcoach.live.runner")

#: How long a source may take to deliver its first picture before the panel calls it lost.
_FIRST_FRAME_WAIT_S = 15.0


class RunnerStates(FrameWorker):
    # Set, and explained, in LiveRunner.__init__.
    source: FrameSource
    listener: LiveListener
    stats: RunStats
    origin_s: float
    status_interval_s: float
    stall_after_s: float
    _hooks: LiveHooks
    _meter: RateMeter
    _paused: threading.Event
    _status: LiveStatus
    _published_at: float
    _faces: FaceState
    _hidden: str | None
    _last_frame_at: float
    _dropped_before: int

    @property
    def paused(self) -> bool:
        return self._paused.is_set()

    @property
    def status(self) -> LiveStatus:
        return self._status

    def _idle(self) -> bool:
        """No frame arrived: say why when it matters. Returns True when the run is over."""
        now = self.clock.now()
        assert self.capture is not None  # the runner always reads its source on a capture thread
        if self.capture.ended and not self.capture.is_alive():
            err = self.capture.error
            if err is None or isinstance(err, CallcoachError):
                self._end("source_lost", str(err) if err else f"{self.source.name} stopped sending frames")
            else:
                self.error = err
                self._end("error", f"capture failed: {type(err).__name__}: {err}")
            return True
        if self.paused:
            self._publish("paused", "paused: nothing is analysed until you resume")
            return False
        waiting = self._hooks.waiting
        if waiting is not None and now - self._last_frame_at > 0.5:
            state, message = waiting
            self._publish(state, message)
        elif self.capture.first_frame_at is None:
            # Nothing has come yet (a camera warming up, the demo rendering its clips): say that, not "lost".
            if now - self._last_frame_at > max(self.stall_after_s, _FIRST_FRAME_WAIT_S):
                self._publish("source_lost", f"no picture from {self.source.name} since the start")
            else:
                self._publish("starting", f"waiting for the first picture from {self.source.name}")
        elif now - self._last_frame_at > self.stall_after_s:
            # A fixed message: a ticking counter would count as a new state every second.
            self._publish("source_lost", f"no picture from {self.source.name} for over {self.stall_after_s:g} s")
        else:
            self._publish(self._status.state, self._status.message)
        return False

    def _end(self, state: LiveState, message: str) -> None:
        self.stats.end = state
        self.stats.end_message = message
        with contained(_log, "publishing the end state"):  # the listener may be what failed
            self._publish(state, message, force=True)

    def _unreadable(self, obs: FrameObservation, image: np.ndarray, engine: CueEngine, t: float) -> str | None:
        """Why the faces in view cannot be read reliably, once that has lasted half a second; else None.

        A guess from such a picture would be noise, so the panel says "can't read reliably" instead (and the
        selector offers nothing meanwhile).
        """
        reason = unreadable_reason(obs, image, engine)
        return reason if self._faces.unreadable.update(t, reason is not None) else None

    def _face_state(self, t: float, ids: list[int], engine: CueEngine, unreadable: str | None = None) -> None:
        if not ids:
            if self._faces.absent(t) or self._status.state in ("starting", "blank", "source_lost"):
                self._publish("no_face", f"no face in {self.source.name}: is the other person's video on?")
            else:
                self._publish(self._status.state, self._status.message, faces=0)
            return
        if unreadable is not None:
            self._publish("unreadable", f"can't read reliably: {unreadable}")
            return
        several = f" ({len(ids)} faces in view; each cue names its face)" if len(ids) > 1 else ""
        progress = baseline_progress(engine, ids, t)
        if progress >= LOCKED:
            hidden = f" · {self._hidden}: no cue read there" if self._hidden else ""
            self._publish("locked", f"face locked: coaching{several}{hidden}", progress=1.0, faces=len(ids))
            return
        self._publish(
            "calibrating",
            f"calibrating: learning this face's resting expression{several}",
            progress=progress,
            faces=len(ids),
        )

    def _publish(
        self,
        state: LiveState,
        message: str,
        *,
        progress: float | None = None,
        faces: int | None = None,
        force: bool = False,
    ) -> None:
        now = self.clock.now()
        old = self._status
        changed = state != old.state or message != old.message
        if not (changed or force or now - self._published_at >= self.status_interval_s):
            return
        status = LiveStatus(
            t_s=round(now - self.origin_s, 3),
            source=self.source.name,
            state=state,
            message=message,
            baseline_progress=round(progress if progress is not None else old.baseline_progress, 3),
            fps=round(self._meter.fps(now), 1),
            latency_ms_p95=self._meter.p95(),
            dropped_frames=max(0, self.buffer.dropped - self._dropped_before),
            faces=faces if faces is not None else (old.faces if state in ("calibrating", "locked") else 0),
        )
        self._status = status
        self._published_at = now
        self.listener.on_status(status)
