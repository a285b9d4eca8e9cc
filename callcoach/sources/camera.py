"""A local camera through OpenCV, for coaching from a webcam or a capture card.

``cap.read()`` blocks until the camera's next frame, so the camera paces itself. A camera that stops
delivering (unplugged mid-call, taken by another app) ends the run as ``source_lost`` after a second of
failed reads rather than at the first hiccup: USB cameras drop single frames routinely.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np

from callcoach.errors import SourceError
from callcoach.sources.base import Frame, LiveHooks, SourceKind
from callcoach.sources.files import _cv2, _to_rgb
from callcoach.sources.latest import SourceLost

#: Failed reads for this long mean the camera is gone.
LOST_AFTER_S = 1.0


def _fix() -> str:
    if sys.platform == "darwin":
        return "check that it is plugged in, not used by another app, and that this terminal may use the Camera"
    if sys.platform == "win32":
        return "check that it is plugged in, not used by another app, and allowed under Privacy > Camera"
    return "check that it is plugged in, not used by another app, and that you may read /dev/video*"


@contextlib.contextmanager
def opencv_silent(cv2: ModuleType) -> Iterator[None]:
    """OpenCV's own log off while a camera is probed: a missing camera makes its backends print
    ``[ERROR:0@0.03] ... Camera index out of range`` (ERROR level, so OPENCV_LOG_LEVEL=ERROR keeps it) on
    the user's terminal, ahead of our one line that says the same and what to do."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    if logging is None:
        yield
        return
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(previous)


class CameraSource(LiveHooks):
    """Frames of camera ``index``; ``t_s`` is ``time.monotonic()`` when the frame was read."""

    kind: SourceKind = "camera"

    def __init__(self, index: int, fps: float | None = None) -> None:
        if index < 0:
            # OpenCV reads -1 as "any camera", and with none attached its V4L2 probe crashes the process.
            raise SourceError(f"no camera {index}: camera numbers start at 0 (the first camera)")
        self.index = index
        self.name = f"camera {index}"
        self.frame_count: int | None = None
        self._stop = threading.Event()
        cv2 = _cv2()
        with opencv_silent(cv2):
            try:
                cap = cv2.VideoCapture(index)
            except cv2.error as exc:
                raise SourceError(f"cannot open camera {index}; {_fix()}") from exc
            if not cap.isOpened():
                cap.release()
                raise SourceError(f"cannot open camera {index}; {_fix()}")
            if fps:
                cap.set(cv2.CAP_PROP_FPS, float(fps))
            ok, bgr = cap.read()  # an opened device that never delivers (busy, wrong node) fails here, not later
        if not ok or bgr is None:
            cap.release()
            raise SourceError(f"camera {index} opened but sent no picture; {_fix()}")
        reported = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = reported if 1.0 <= reported <= 240.0 else 30.0
        self._cap: Any = cap
        self._first: np.ndarray | None = _to_rgb(cv2, bgr)

    def frames(self) -> Iterator[Frame]:
        cv2 = _cv2()
        index = 0
        if self._first is not None:
            yield Frame(index=0, t_s=time.monotonic(), image=self._first)
            self._first = None
            index = 1
        failing_since: float | None = None
        while not self._stop.is_set() and self._cap is not None:
            try:
                ok, bgr = self._cap.read()
            except cv2.error:
                ok, bgr = False, None
            t = time.monotonic()
            if not ok or bgr is None:
                failing_since = failing_since or t
                if t - failing_since >= LOST_AFTER_S:
                    raise SourceLost(f"camera {self.index} stopped sending pictures (unplugged?)")
                self._stop.wait(0.02)
                continue
            failing_since = None
            yield Frame(index=index, t_s=t, image=_to_rgb(cv2, bgr))
            index += 1

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
        if self._cap is not None:
            self._cap.release()
            self._cap = None
