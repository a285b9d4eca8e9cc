"""Webcam to virtual camera, unchanged: at most one frame of latency, never altered, never stored.

Two threads: ``CaptureThread`` iterates the source (which paces itself: a camera's ``read()`` blocks until
the next frame, a paced file plays on a wall clock) into a one-slot ``LatestFrame``; the send thread takes
whatever is newest and hands that very array to the sink. A sink slower than the camera therefore skips
frames (counted in ``dropped``) instead of queueing them, so the outgoing video is never more than one
frame behind the camera.

Privacy pause swaps the live frames for one still, heavily blurred copy of the last frame, sent at the
source's rate so the call keeps a picture; live frames read meanwhile are discarded.

``on_frame`` receives every forwarded frame on the send thread. It must return at once (hand the frame to
another thread's ``LatestFrame``, as self-coaching does): nothing is analysed on the send thread.

The threads, the slot, the error state and the stop come from ``callcoach.sources.worker.FrameWorker``; the
still's schedule reads the injected clock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Literal

import numpy as np

from callcoach.core.clock import Clock, Deadline
from callcoach.core.contain import contained
from callcoach.errors import CallcoachError, VcamError
from callcoach.sources.base import Frame, FrameSource
from callcoach.sources.latest import SourceLost
from callcoach.sources.worker import FrameWorker
from callcoach.vcam.sink import FrameSink

_log = logging.getLogger(__name__)

PassState = Literal["starting", "live", "paused", "ended", "lost", "sink_error", "stopped"]
#: States after which the pass-through has finished.
FINAL_STATES: frozenset[str] = frozenset({"ended", "lost", "sink_error", "stopped"})

StateCallback = Callable[[str, str], None]
FrameCallback = Callable[[Frame], None]


def blurred_still(rgb: np.ndarray) -> np.ndarray:
    """A heavily blurred copy of ``rgb`` at the same size: shapes and colours, no face to read.

    Downscale to ~1/24 (area averaging), blur that, and scale back up; a new array, ``rgb`` is untouched.
    """
    import cv2

    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, w // 24), max(1, h // 24)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=1.5)
    big = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    big = cv2.GaussianBlur(big, (0, 0), sigmaX=max(2.0, min(w, h) / 40))
    return np.ascontiguousarray(big, dtype=np.uint8)


class PassThrough(FrameWorker):
    """Forwards ``source`` to ``sink`` until ``stop()``, the source ends or is lost, or the sink fails.

    ``on_state(state, message)`` is called on every change of state (from the send thread, or from the
    caller's thread for ``privacy_pause``). Nothing raises out of the threads: how the run ended is in
    ``state``, ``message`` and ``error``.
    """

    def __init__(
        self,
        source: FrameSource,
        sink: FrameSink,
        *,
        on_frame: FrameCallback | None = None,
        on_state: StateCallback | None = None,
        idle_timeout_s: float = 0.25,
        clock: Clock | None = None,
    ) -> None:
        super().__init__("callcoach-vcam-send", clock=clock, source=source, capture_name="callcoach-vcam-capture")
        self.source = source
        self.sink = sink
        self.on_frame = on_frame
        self.on_state = on_state
        self.idle_timeout_s = idle_timeout_s
        self.state: str = "starting"
        self.message = "starting"
        self.error: BaseException | None = None
        #: Live frames handed to the sink, still frames sent during a privacy pause, ``on_frame`` failures.
        self.sent = 0
        self.still_sent = 0
        self.hook_errors = 0
        self.size: tuple[int, int] | None = None
        self._fps = source.fps if source.fps and source.fps > 0 else 30.0
        self._last: np.ndarray | None = None
        self._still: np.ndarray | None = None
        self._pause = threading.Event()
        self._lock = threading.Lock()
        self._last_still_at = -1e9

    # --- control, from any thread ----------------------------------------------------------------

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def dropped(self) -> int:
        """Camera frames replaced before the sink took them (the sink was slower than the camera)."""
        return self.buffer.dropped

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    def start(self) -> PassThrough:
        self._start_threads()
        return self

    def privacy_pause(self, on: bool) -> None:
        """Switch the outgoing video to a still, blurred frame (``on``) or back to the camera."""
        with self._lock:
            if on == self._pause.is_set() or self.state in FINAL_STATES:
                return
            if on:
                self._still = None  # made from the newest frame by the send thread
                self._pause.set()
                self._set_state("paused", "privacy pause: sending a still, blurred picture")
            else:
                self._pause.clear()
                self._still = None
                self._set_state("live", "live: passing the camera through")

    def toggle_privacy(self) -> bool:
        """Flip the privacy pause; returns whether it is now on."""
        self.privacy_pause(not self.paused)
        return self.paused

    def stop(self, timeout: float = 2.0) -> None:
        """Stop both threads, waiting up to ``timeout`` seconds in all."""
        self._stop_threads(Deadline(timeout))

    def run(self, duration_s: float | None = None) -> str:
        """Start, run for ``duration_s`` (None: until the source ends), stop, and return the final state."""
        self.start()
        try:
            self.wait(duration_s)
        finally:
            self.stop()
        return self.state

    # --- the send thread -------------------------------------------------------------------------

    def _set_state(self, state: str, message: str) -> None:
        if state == self.state and message == self.message:
            return
        self.state, self.message = state, message
        if self.on_state is not None:
            with contained(_log, "showing the camera state"):  # a broken display must not stop the video
                self.on_state(state, message)

    def _open_for(self, image: np.ndarray) -> None:
        h, w = int(image.shape[0]), int(image.shape[1])
        if self.size == (w, h):
            return
        if self.size is not None:
            self.sink.close()  # the camera changed resolution mid-call: reopen at the new size
        self.sink.open(w, h, self._fps)
        self.size = (w, h)

    def _send_still(self) -> None:
        # Paused before the first frame went out: nothing seen yet, so blur the first camera frame.
        still = self._still
        if still is None and self._last is not None:
            still = self._still = blurred_still(self._last)
        if still is not None:
            self._open_for(still)
            self.sink.send(still)
            self.still_sent += 1

    # --- the send thread (FrameWorker's steps) -----------------------------------------------------

    def _poll_s(self) -> float:
        return 1.0 / self._fps if self._pause.is_set() else self.idle_timeout_s

    def _paused_tick(self, frame: Frame | None) -> None:
        if self._last is None and frame is not None:
            self._last = frame.image
        now = self.clock.now()
        # One still per camera frame, and at the source rate when the camera has gone quiet.
        if frame is not None or now - self._last_still_at >= 0.9 / self._fps:
            self._send_still()
            self._last_still_at = now

    def _handle(self, frame: Frame) -> None:
        if self._pause.is_set():
            self._paused_tick(frame)
            return
        self._open_for(frame.image)
        self.sink.send(frame.image)
        self.sent += 1
        self._last = frame.image  # the pause's still is made from what the call last saw
        if self.state == "starting":
            with self._lock:
                if not self._pause.is_set():
                    self._set_state("live", "live: passing the camera through")
        if self.on_frame is not None:
            try:
                self.on_frame(frame)
            except Exception:  # noqa: BLE001  # a failing self-view hook must not stop the video; counted
                self.hook_errors += 1
                _log.debug("the frame hook failed", exc_info=True)

    def _empty(self) -> bool:
        if self._pause.is_set():
            self._paused_tick(None)
        return self.buffer.closed

    def _failed(self, exc: BaseException, message: str) -> None:
        # An unexpected sink failure is still a state, not a crash; our own errors are worded for the user.
        self._set_state("sink_error", str(exc) if isinstance(exc, VcamError) else f"the virtual camera failed: {exc}")

    def _cleanup(self) -> None:
        assert self.capture is not None  # the pass-through always reads its source on a capture thread
        with contained(_log, "closing the virtual camera"):
            self.sink.close()
        if self.state != "sink_error":
            error = self.capture.error
            if isinstance(error, SourceLost) and self.source.kind in ("video", "images", "image"):
                self._set_state("ended", str(error))  # a paced file "loses" its source at its end
            elif isinstance(error, SourceLost):
                self.error = error
                self._set_state("lost", f"source lost: {error}")
            elif isinstance(error, CallcoachError):
                self.error = error
                self._set_state("lost", f"source failed: {error}")
            elif error is not None:
                self.error = error
                self._set_state("lost", f"source failed: {type(error).__name__}: {error}")
            elif self.capture.ended:
                self._set_state("ended", f"{self.source.name} ended")
            else:
                self._set_state("stopped", "stopped")
