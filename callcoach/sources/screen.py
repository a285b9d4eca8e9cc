"""Screen capture with mss: a fixed region or a whole monitor, newest frame only.

mss handles are opened inside ``frames()``, which the capture thread runs: on X11 each handle is its own
display connection, and on Windows mss refuses to be used from a thread other than its creator's. The
constructor opens a throw-away handle only to check the display, the monitor number and the region, so a
bad option fails before any thread starts.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from callcoach.errors import SourceError, UsageError
from callcoach.sources.base import Frame, LiveHooks, SourceKind
from callcoach.sources.latest import pace

Box = tuple[int, int, int, int]  # left, top, width, height in screen pixels

LIVE_FPS = 30.0

WAYLAND_FIX = (
    "this is a Wayland session without X11 (WAYLAND_DISPLAY is set, DISPLAY is not): screen capture needs "
    "X11. Log in with an X11/Xorg session, or coach from --camera N or --video FILE"
)
NO_DISPLAY_FIX = (
    "no display: DISPLAY is not set, so there is no screen to capture. Run callcoach live inside your "
    "desktop session (or export DISPLAY=:0), or use --camera N or --video FILE"
)


def check_display() -> None:
    """Fail with one clear line when there is no X display to capture (Linux and other X11 systems)."""
    if sys.platform in ("win32", "darwin"):
        return
    if os.environ.get("DISPLAY"):
        return
    if os.environ.get("WAYLAND_DISPLAY"):
        raise SourceError(WAYLAND_FIX)
    raise SourceError(NO_DISPLAY_FIX)


_TERMINALS = {"Apple_Terminal": "Terminal", "iTerm.app": "iTerm", "vscode": "Visual Studio Code"}

_asked_for_access = False


def check_screen_permission(platform: str | None = None, quartz: Any = None) -> None:
    """On macOS 10.15+, fail with what to do when this process may not record the screen.

    Without the permission mss does not fail: it returns black or wallpaper-only frames, which would then be
    coached on. ``quartz`` stands in for the ``Quartz`` module (pyobjc) in tests.
    """
    if (platform or sys.platform) != "darwin":
        return
    if quartz is None:
        try:
            import Quartz
        except ImportError:
            return  # pyobjc is a dependency on macOS; without it the blank-frame state still catches black frames
        quartz = Quartz
    preflight = getattr(quartz, "CGPreflightScreenCaptureAccess", None)
    if preflight is None or preflight():  # no such permission before 10.15
        return
    global _asked_for_access
    if not _asked_for_access:
        _asked_for_access = True
        request = getattr(quartz, "CGRequestScreenCaptureAccess", None)
        if request is not None:
            request()  # shows the system prompt, which also adds the terminal to the list to tick
    app = _TERMINALS.get(os.environ.get("TERM_PROGRAM", ""), "the terminal app you run callcoach from")
    raise SourceError(
        f"macOS does not allow {app} to record the screen, so capture would see only black or the wallpaper: "
        f"open System Settings > Privacy & Security > Screen Recording, allow {app}, then quit and restart it"
    )


def open_mss() -> Any:
    """An ``mss.MSS`` handle, or a SourceError saying why the screen cannot be read."""
    check_display()
    check_screen_permission()
    import mss

    try:
        return mss.MSS()
    except Exception as exc:  # mss raises ScreenShotError, ctypes OSError or X errors depending on platform
        where = os.environ.get("DISPLAY", "the screen")
        raise SourceError(f"cannot open {where} for capture ({' '.join(str(exc).split())})") from exc


def to_rgb(shot: Any) -> np.ndarray:
    """mss BGRA pixels to a fresh, C-contiguous RGB array: one copy, made by the colour conversion itself."""
    import cv2

    bgra = np.asarray(shot)  # a view on the screenshot's bytearray through __array_interface__, no copy
    return cv2.cvtColor(bgra, cv2.COLOR_BGRA2RGB)


def grab(sct: Any, box: Box) -> np.ndarray:
    left, top, width, height = box
    try:
        shot = sct.grab({"left": left, "top": top, "width": width, "height": height})
    except Exception as exc:
        raise SourceError(f"screen capture of {width}x{height} at {left},{top} failed: {exc}") from exc
    return to_rgb(shot)


def clip(box: Box, bounds: Box) -> Box | None:
    """``box`` cut to ``bounds`` (a window half off-screen is captured where it is visible); None if nothing."""
    x0, y0 = max(box[0], bounds[0]), max(box[1], bounds[1])
    x1 = min(box[0] + box[2], bounds[0] + bounds[2])
    y1 = min(box[1] + box[3], bounds[1] + bounds[3])
    if x1 - x0 < 16 or y1 - y0 < 16:  # too small to hold a readable face
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def monitor_box(monitor: dict[str, int]) -> Box:
    return (int(monitor["left"]), int(monitor["top"]), int(monitor["width"]), int(monitor["height"]))


def parse_region(text: str) -> Box:
    """``X,Y,W,H`` from the command line."""
    parts = [p.strip() for p in text.replace("x", ",").split(",")]
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise UsageError(f"--region must be X,Y,W,H in pixels, e.g. 100,80,640,360; got {text!r}") from None
    if w <= 0 or h <= 0:
        raise UsageError(f"--region needs a positive width and height, got {w}x{h}")
    return (x, y, w, h)


class ScreenSource(LiveHooks):
    """Frames of a screen region or a monitor at up to ``fps`` per second; ``t_s`` is ``time.monotonic()``."""

    kind: SourceKind = "screen"

    def __init__(self, region: Box | None = None, monitor: int | None = None, fps: float = LIVE_FPS) -> None:
        if (region is None) == (monitor is None):
            raise UsageError("ScreenSource needs exactly one of region= or monitor=")
        self.fps = float(fps)
        self.frame_count: int | None = None
        self._stop = threading.Event()
        with open_mss() as sct:
            monitors = sct.monitors
            self.screen = monitor_box(monitors[0])
            if monitor is not None:
                if not 0 <= monitor < len(monitors):
                    count = len(monitors) - 1
                    raise UsageError(f"there is no monitor {monitor}: this screen has monitors 1..{count} (0 = all)")
                self.box: Box = monitor_box(monitors[monitor])
                self.name = f"monitor {monitor}"
            else:
                assert region is not None
                box = clip(region, self.screen)
                if box is None:
                    x, y, w, h = self.screen
                    raise UsageError(f"--region {region} is outside the screen ({w}x{h} at {x},{y})")
                self.box = box
                self.name = "region {},{},{},{}".format(*box)
            grab(sct, self.box)  # fail now, not on the capture thread, if this display cannot be read

    def frames(self) -> Iterator[Frame]:
        period = 1.0 / self.fps
        with open_mss() as sct:
            due = time.monotonic()
            index = 0
            while not self._stop.is_set():
                due = pace(due, period, self._stop)
                if self._stop.is_set():
                    break
                t = time.monotonic()  # before the grab: latency then includes the grab itself
                yield Frame(index=index, t_s=t, image=grab(sct, self.box))
                index += 1

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
