"""A webcam unplugged mid-call, through the real ``CameraSource`` on a scripted OpenCV capture.

No camera here, so ``cv2.VideoCapture`` is replaced by a stand-in that delivers real frames (odd size,
the reported rate) and then fails every read, the way a USB camera does when its cable is pulled. Both
users of a camera are checked: the live runner watching the other person (``--camera``) and the
virtual-camera pass-through (``--vcam``).
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from memorysink import MemorySink
from scripted import Script
from test_live_runner import Recorder, ScriptedVision

import callcoach.sources.camera as camera_module
from callcoach.live.runner import LiveRunner, default_engine
from callcoach.sources.camera import CameraSource
from callcoach.vcam.passthrough import PassThrough


class UnpluggedCapture:
    """``fps`` frames a second of 641x359 noise for ``plugged_s`` seconds (with one dropped read, as USB
    cameras do), then only failed reads. Plugged for a number of reads, not of wall-clock seconds, so a busy
    machine that reads late still gets every picture before the unplug."""

    def __init__(self, fps: float, plugged_s: float) -> None:
        self.fps = fps
        self.plugged_reads = round(plugged_s * fps)
        self.reads = 0
        self.released = False
        self._rng = np.random.default_rng(1)
        self._lock = threading.Lock()

    def isOpened(self) -> bool:
        return True

    def set(self, prop: int, value: float) -> bool:
        return True

    def get(self, prop: int) -> float:
        return self.fps if prop == cv2.CAP_PROP_FPS else 0.0

    def read(self) -> tuple[bool, np.ndarray | None]:
        with self._lock:
            self.reads += 1
            time.sleep(1.0 / self.fps)
            if self.reads > self.plugged_reads or self.reads == 5:
                return False, None
            return True, self._rng.integers(0, 255, (359, 641, 3), dtype=np.uint8)

    def release(self) -> None:
        self.released = True


@pytest.fixture
def unplugged(monkeypatch: pytest.MonkeyPatch) -> UnpluggedCapture:
    capture = UnpluggedCapture(fps=15.0, plugged_s=1.5)
    fake_cv2 = SimpleNamespace(
        **{name: getattr(cv2, name) for name in dir(cv2) if name.isupper()},
        VideoCapture=lambda index: capture,
        cvtColor=cv2.cvtColor,
        error=cv2.error,
    )
    monkeypatch.setattr(camera_module, "_cv2", lambda: fake_cv2)
    return capture


def test_live_runner_on_an_unplugged_camera_ends_as_source_lost(unplugged: UnpluggedCapture) -> None:
    source = CameraSource(0)
    assert source.fps == 15.0
    vision = ScriptedVision(Script(duration=60.0, fps=15.0))
    rec = Recorder()
    runner = LiveRunner(source, rec, vision_factory=lambda: vision, engine_factory=default_engine)
    rec.runner, rec.vision = runner, vision
    runner.start()
    assert runner.wait(60), "the run did not end when the camera went away"
    runner.stop()
    assert runner.stats.end == "source_lost"
    assert runner.stats.end_message == "camera 0 stopped sending pictures (unplugged?)"
    assert rec.statuses[-1].state == "source_lost"
    # The single failed read (the 5th) did not end it: the camera was read until it was really gone.
    assert unplugged.reads > unplugged.plugged_reads and runner.stats.frames > 0
    assert unplugged.released and runner.stopped


def test_pass_through_on_an_unplugged_camera_reports_lost(unplugged: UnpluggedCapture) -> None:
    states: list[tuple[str, str]] = []
    sink = MemorySink(keep="none")
    passthrough = PassThrough(CameraSource(0), sink, on_state=lambda s, m: states.append((s, m)))
    passthrough.start()
    assert passthrough.wait(60)
    passthrough.stop()
    assert sink.size == (641, 359) and sink.fps == 15.0 and sink.count > 0
    assert unplugged.reads > unplugged.plugged_reads  # read past the single failed read, until it was gone
    assert states[-1] == ("lost", "source lost: camera 0 stopped sending pictures (unplugged?)")
    assert unplugged.released and sink.closed
