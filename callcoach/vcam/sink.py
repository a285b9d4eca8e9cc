"""Where pass-through frames go: the ``FrameSink`` boundary, a sink that keeps nothing, and pyvirtualcam.

A sink is opened once with the source's native size and rate, then given RGB frames (uint8, H x W x 3,
C-contiguous) exactly as they came from the camera. Sinks never alter a frame and keep none; the sink that
keeps frames for the tests is a test helper (tests/memorysink.py).
"""

from __future__ import annotations

import logging
import sys
from typing import Any, Protocol

import numpy as np

from callcoach.core.contain import contained
from callcoach.errors import UsageError, VcamError

_log = logging.getLogger(__name__)

#: What the user has to do once so that a virtual camera device exists, per platform.
LINUX_FIX = 'sudo modprobe v4l2loopback exclusive_caps=1 card_label="CallCoach Camera"'
OBS_FIX = "install OBS Studio and start its Virtual Camera once (then stop it and close OBS)"


def device_fix(platform: str | None = None) -> str:
    """The one thing to do on ``platform`` (default: this one) for a virtual camera device to exist."""
    platform = sys.platform if platform is None else platform
    if platform.startswith("linux"):
        return f"run {LINUX_FIX} (needs the v4l2loopback module, e.g. the v4l2loopback-dkms package)"
    return OBS_FIX


class FrameSink(Protocol):
    """Anything pass-through frames can be sent to."""

    def open(self, width: int, height: int, fps: float) -> None: ...

    def send(self, rgb: np.ndarray) -> None: ...

    def close(self) -> None: ...


class NullSink:
    """Takes frames and keeps nothing: a pass-through with nowhere to go (self-coaching a video file)."""

    def open(self, width: int, height: int, fps: float) -> None:
        return None

    def send(self, rgb: np.ndarray) -> None:
        return None

    def close(self) -> None:
        return None


def check_backend(name: str) -> None:
    """Refuse a backend name pyvirtualcam does not have here, before it is asked: pyvirtualcam raises a bare
    KeyError for one and then fails again in its destructor (an AttributeError printed after our line)."""
    try:
        from pyvirtualcam.camera import BACKENDS
    except ImportError:
        return  # opening says what is missing
    if name not in BACKENDS:
        known = ", ".join(sorted(BACKENDS)) or "none"
        raise UsageError(
            f"'{name}' is not a virtual camera backend on this system; choose one of: {known} "
            "(or leave the backend option out for the platform's own)"
        )


class PyVirtualCamSink:
    """The system's virtual camera through pyvirtualcam (v4l2loopback on Linux, OBS on Windows and macOS).

    ``pace=True`` also sleeps until the camera's next frame slot after each send; the pass-through leaves it
    off because the webcam already paces itself and sleeping would only add latency.
    """

    def __init__(self, device: str | None = None, backend: str | None = None, *, pace: bool = False) -> None:
        if backend is not None:
            check_backend(backend)
        self.device = device
        self.backend = backend
        self.pace = pace
        self._cam: Any = None

    @property
    def device_name(self) -> str | None:
        """The device actually opened (e.g. ``/dev/video4``), once open."""
        return None if self._cam is None else str(self._cam.device)

    def open(self, width: int, height: int, fps: float) -> None:
        try:
            import pyvirtualcam
        except ImportError as exc:
            raise VcamError(
                "the virtual camera needs the Python package 'pyvirtualcam'; pip install pyvirtualcam"
            ) from exc
        self.close()
        try:
            self._cam = pyvirtualcam.Camera(
                width, height, fps, fmt=pyvirtualcam.PixelFormat.RGB, device=self.device, backend=self.backend
            )
        except RuntimeError as exc:
            # pyvirtualcam's own text repeats the fix; its first sentence says what it looked for.
            found = _one_line(exc).split(". ")[0].rstrip(".")
            raise VcamError(f"no virtual camera device ({found}): {device_fix()}") from exc
        except ValueError as exc:
            raise VcamError(f"the virtual camera refused {width}x{height} at {fps:g} fps ({_one_line(exc)})") from exc

    def send(self, rgb: np.ndarray) -> None:
        if self._cam is None:
            raise VcamError("the virtual camera is not open")
        try:
            self._cam.send(rgb)
        except (RuntimeError, ValueError, TypeError) as exc:
            raise VcamError(f"the virtual camera stopped taking frames ({_one_line(exc)})") from exc
        if self.pace:
            self._cam.sleep_until_next_frame()

    def close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is not None:
            # pyvirtualcam's native backends raise anything on a device that went away; that must not hide
            # why it went away.
            with contained(_log, "closing the virtual camera"):
                cam.close()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
