"""The base of the live threads: one worker thread taking the newest frame from a one-slot hand-over.

The live runner (the other person's face), the self-coach (the user's face) and the virtual camera's
pass-through all have the same shape, which lives here once:

- a daemon thread that takes whatever frame is newest from a ``LatestFrame`` (drop-oldest: a frame that
  arrives before the last one was taken replaces it and counts as dropped, so nothing queues behind a
  slow model or sink);
- optionally a ``CaptureThread`` that reads a source into that slot (the runner, the pass-through; the
  self-coach is fed by ``offer`` instead), told to wait for each frame to be taken when it is lossless;
- any exception on the thread becomes ``error`` plus one call to ``_failed`` with a one-line message, so
  the panel shows a state instead of the thread dying silently;
- stopping within a deadline: the capture thread, the slot, then the worker thread share one budget;
- an injected ``Clock`` (``callcoach.core.clock``) for every timing decision, so tests step time.

Subclasses fill in the steps, all called on the worker thread: ``_setup`` (load the models), ``_handle``
(one frame), ``_empty`` (no frame within ``_poll_s``; True ends the run), ``_finished`` (the loop ended
without error), ``_failed`` and ``_cleanup`` (always, last, before ``done``).
"""

from __future__ import annotations

import logging
import threading

from callcoach.core.clock import MONOTONIC, Clock, Deadline
from callcoach.core.contain import contained
from callcoach.errors import CallcoachError
from callcoach.sources.base import Frame, FrameSource, hooks_of
from callcoach.sources.latest import CaptureThread, LatestFrame

_log = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> str:
    """One line for a status: our own errors are written for the user; anything else names its type."""
    message = str(exc) if isinstance(exc, CallcoachError) else f"{type(exc).__name__}: {exc}"
    return " ".join(message.split()) or type(exc).__name__


class FrameWorker:
    """One thread handling the newest frame of ``buffer``; see the module's docstring for the steps."""

    #: How long the capture thread may take to end once the worker thread has finished by itself.
    capture_grace_s = 2.0

    def __init__(
        self,
        name: str,
        *,
        clock: Clock | None = None,
        source: FrameSource | None = None,
        capture_name: str = "callcoach-capture",
    ) -> None:
        self.clock: Clock = clock if clock is not None else MONOTONIC
        self.buffer = LatestFrame()
        #: Reads ``source`` into ``buffer`` (None when frames are handed over by ``buffer.put`` instead).
        self.capture = (
            CaptureThread(source, self.buffer, name=capture_name, clock=self.clock) if source is not None else None
        )
        if source is not None:
            hooks_of(source).pace_with(self.buffer)  # a lossless source waits for each frame to be taken
        self.error: BaseException | None = None
        #: Turns of the loop completed (a frame handled, or a poll that found none); see ``wait_turns``.
        self.turns = 0
        self._turned = threading.Condition()
        self._halt = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    # --- control, from any thread ------------------------------------------------------------------

    def _start_threads(self) -> None:
        """Start the capture thread (it opens the source meanwhile) and then the worker thread."""
        if self.capture is not None:
            self.capture.start()
        self._thread.start()

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    @property
    def stopping(self) -> bool:
        """A stop was asked for, or the run has ended."""
        return self._halt.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (by itself or stopped); True if it has."""
        return self._done.wait(timeout)

    def wait_turns(self, turns: int, timeout: float | None = None) -> bool:
        """Block until ``turns`` turns of the loop have completed or the run has ended; True if so. Lets a
        caller (a test on a loaded machine) wait for the thread to have handled what it was given, instead
        of sleeping for a guessed time."""
        with self._turned:
            return self._turned.wait_for(lambda: self.turns >= turns or self._done.is_set(), timeout)

    def _turn_done(self) -> None:
        with self._turned:
            self.turns += 1
            self._turned.notify_all()

    @property
    def stopped(self) -> bool:
        """The worker thread and the capture thread have both finished (or never started)."""
        capture_alive = self.capture is not None and self.capture.is_alive()
        return not self._thread.is_alive() and not capture_alive

    def _stop_threads(self, deadline: Deadline) -> bool:
        """Ask both threads to end and wait for them within ``deadline``; True when the worker has ended."""
        self._halt.set()
        if self.capture is not None:
            self.capture.stop(deadline.left())
        self.buffer.close()
        return self._join(deadline.left())

    def _join(self, timeout: float | None) -> bool:
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- the worker thread -------------------------------------------------------------------------

    def _poll_s(self) -> float:
        return 0.1

    def _setup(self) -> None:
        """Before the first frame (load the models)."""

    def _handle(self, frame: Frame) -> None:
        raise NotImplementedError

    def _empty(self) -> bool:
        """No frame came within ``_poll_s``; return True to end the run."""
        return self.buffer.closed

    def _finished(self) -> None:
        """The loop ended without an error (stopped, or ``_empty`` said so)."""

    def _failed(self, exc: BaseException, message: str) -> None:
        """Report ``exc`` (already kept in ``error``) as a state; ``message`` is ``describe_error(exc)``."""

    def _cleanup(self) -> None:
        """Always called last on the thread (the capture thread has been stopped), before ``done``."""

    def _main(self) -> None:
        try:
            self._setup()
            while not self._halt.is_set():
                frame = self.buffer.get(timeout=self._poll_s())
                if frame is None:
                    ended = self._empty()
                    self._turn_done()
                    if ended:
                        break
                    continue
                self._handle(frame)
                self._turn_done()
            self._finished()
        except BaseException as exc:  # noqa: BLE001  # a state, never a dead thread: a failing model must not hang the UI
            self.error = exc
            _log.debug("the worker thread failed", exc_info=exc)  # the state carries one line; this the rest
            with contained(_log, "reporting the error"):  # the listener may be what failed
                self._failed(exc, describe_error(exc))
        finally:
            self._halt.set()
            try:
                if self.capture is not None:
                    self.capture.stop(self.capture_grace_s)
                self._cleanup()
            finally:
                with self._turned:
                    self._done.set()
                    self._turned.notify_all()


__all__ = ["FrameWorker", "describe_error"]
