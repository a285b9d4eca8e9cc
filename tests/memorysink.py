"""An in-memory ``FrameSink`` for the tests (``MemorySink``): the frames sent, or only their bytes, and when.

It lived in callcoach.vcam.sink, but only tests use it, so the product ships no sink that keeps frames.
Tests import it as ``from memorysink import MemorySink`` (tests/ is on pytest's path, as for fakeclock).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from callcoach.errors import VcamError


class MemorySink:
    """Keeps what it is sent, for tests: the frames (or only their bytes) and the monotonic send times.

    ``delay_s`` makes every ``send`` take that long, to stand in for a slow virtual camera.
    """

    def __init__(self, *, keep: str = "frames", delay_s: float = 0.0) -> None:
        if keep not in ("frames", "bytes", "none"):
            raise ValueError(f"keep must be 'frames', 'bytes' or 'none', got {keep!r}")
        self.keep = keep
        self.delay_s = delay_s
        self.size: tuple[int, int] | None = None
        self.fps: float | None = None
        self.opened = 0
        self.closed = False
        self.frames: list[np.ndarray] = []
        self.data: list[bytes] = []
        self.times: list[float] = []
        self.count = 0
        self._lock = threading.Lock()

    def open(self, width: int, height: int, fps: float) -> None:
        self.size = (width, height)
        self.fps = fps
        self.opened += 1
        self.closed = False

    def send(self, rgb: np.ndarray) -> None:
        if self.size is None or self.closed:
            raise VcamError("MemorySink.send before open")
        if (rgb.shape[1], rgb.shape[0]) != self.size:
            raise VcamError(f"frame is {rgb.shape[1]}x{rgb.shape[0]}, sink was opened at {self.size[0]}x{self.size[1]}")
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            self.times.append(time.monotonic())
            self.count += 1
            if self.keep == "frames":
                self.frames.append(rgb.copy())
            elif self.keep == "bytes":
                self.data.append(rgb.tobytes())

    def close(self) -> None:
        self.closed = True
