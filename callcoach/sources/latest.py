"""Live sources never queue: a capture thread keeps only the newest frame, and inference takes it.

A queue in front of a model that is sometimes slower than the camera only adds latency: every queued frame
is older than the one behind it. ``LatestFrame`` is one slot; a new frame replaces an unread one and the
replaced frame is counted as dropped, so the status line can say how many frames inference skipped.

A live source may also offer optional features (``waiting``, ``feedback``, ``hold_until``, ``pace_with``,
``request_stop``) by subclassing ``callcoach.sources.base.LiveHooks``, whose defaults do nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Generator, Iterator

from callcoach.core.clock import MONOTONIC, Clock, PacingClock
from callcoach.core.contain import contained
from callcoach.errors import SourceError
from callcoach.sources.base import Frame, FrameSource, hooks_of

_log = logging.getLogger(__name__)


class SourceLost(SourceError):
    """A live source went away mid-run: the window closed, the camera was unplugged, the file ended."""


class LatestFrame:
    """A single-slot, drop-oldest hand-over between one producer and one consumer thread."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False
        #: Frames put into the slot, and frames replaced before anyone took them.
        self.put_count = 0
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
            self.put_count += 1
            self._cond.notify()

    def get(self, timeout: float | None = None) -> Frame | None:
        """The newest unread frame, waiting up to ``timeout`` s; None on timeout or once closed and empty."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._frame is None and not self._closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            frame, self._frame = self._frame, None
            self._cond.notify_all()  # a producer in wait_taken may hand over the next one
            return frame

    def wait_taken(self, timeout: float | None = None) -> bool:
        """Wait until the slot is empty (the last frame was taken) or closed; True if so. A producer that must
        not lose frames (a file in ``callcoach live --video``) calls this before each ``put``."""
        with self._cond:
            return self._cond.wait_for(lambda: self._frame is None or self._closed, timeout)

    def close(self) -> None:
        """Wake a waiting consumer; ``get`` returns whatever is left, then None."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed


class CaptureThread:
    """Reads ``source.frames()`` on its own thread into a ``LatestFrame``.

    The source is iterated and closed on this thread only: mss and Xlib handles belong to the thread that
    opened them. How the run ended is kept in ``error`` (None when it was stopped or the source ran dry
    without complaint, then ``ended`` is True).
    """

    def __init__(
        self,
        source: FrameSource,
        buffer: LatestFrame | None = None,
        name: str = "callcoach-capture",
        clock: Clock = MONOTONIC,
    ) -> None:
        self.source = source
        self.clock = clock
        self.buffer = buffer or LatestFrame()
        self.error: BaseException | None = None
        #: The source stopped by itself (a file ran out, a window closed) rather than by ``stop``.
        self.ended = False
        self.first_frame_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> CaptureThread:
        self._thread.start()
        return self

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        frames: Iterator[Frame] | None = None
        try:
            frames = iter(self.source.frames())
            for frame in frames:
                if self._stop.is_set():
                    break
                if self.first_frame_at is None:
                    self.first_frame_at = self.clock.now()
                self.buffer.put(frame)
            else:
                self.ended = not self._stop.is_set()  # a source returning because we asked is not an end
        except BaseException as exc:  # noqa: BLE001 - the reader thread must not die silently: the runner turns it into a state
            self.error = exc
            self.ended = True
            _log.debug("the capture thread failed", exc_info=exc)
        finally:
            if isinstance(frames, Generator):  # a generator's own cleanup runs here, on this thread
                with contained(_log, "closing the frame iterator"):  # after the error above, if any
                    frames.close()
            with contained(_log, "closing the source"):
                self.source.close()
            self.buffer.close()

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the thread to finish and wait; True when it has (a source blocked in a read may take a frame)."""
        self._stop.set()
        hooks_of(self.source).request_stop()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()


def pace(next_due: float, period: float, stop: threading.Event | None = None, clock: PacingClock = MONOTONIC) -> float:
    """Sleep until ``next_due`` on ``clock`` (real monotonic time by default) and return the next due time;
    skips ahead when running late.

    Live sources share this so that a slow grab never makes them burst to catch up: a late frame is taken
    at once and the schedule restarts from now.
    """
    now = clock.now()
    delay = next_due - now
    if delay > 0:
        clock.sleep(delay, stop)
        return next_due + period
    return now + period
