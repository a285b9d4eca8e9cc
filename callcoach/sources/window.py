"""Follow a window by (part of) its title and capture what it shows, as it moves and resizes.

The window list comes from a small per-platform backend (``WindowBackend``): X11 through EWMH/Xlib
(``window_x11``), Windows through user32's window list (``window_win``), macOS through Quartz's
``CGWindowListCopyWindowInfo`` (``window_mac``). ``WindowSource`` is the same everywhere: it picks the
largest visible window whose title contains the text, re-reads its box every half second so the capture
follows drags and resizes, reports a minimised or hidden window as ``source_lost`` until it comes back,
and ends the run as ``source_lost`` when the window is gone and no other window has the title.

Pixels are taken from the screen at the window's place, so whatever covers the window is captured too.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

from callcoach.core.state import LiveState
from callcoach.errors import SourceError
from callcoach.sources.base import Frame, LiveHooks, SourceKind
from callcoach.sources.latest import SourceLost, pace
from callcoach.sources.screen import LIVE_FPS, Box, clip, grab, monitor_box, open_mss

#: How often the window's geometry is looked up again while capturing.
REFRESH_S = 0.5

# A terminal's title often shows the command it runs ("callcoach live --window Zoom"), which would match.
_OWN_TITLE = "callcoach live"

_INSTEAD = "use --region X,Y,W,H, --monitor N or --auto"

# Unix-likes whose desktops are X11 (or XWayland); check_display() explains a Wayland-only session.
_X11_PLATFORMS = ("linux", "freebsd", "openbsd", "netbsd", "dragonfly", "sunos")


class Listed(NamedTuple):
    """One top-level window as a backend lists it."""

    wid: int
    title: str
    #: The owning application's name where the platform gives it (macOS), else "".
    owner: str = ""


class WindowGone(Exception):
    """Raised by ``WindowBackend.geometry`` when the window no longer exists (internal, never shown)."""


class WindowBackend(Protocol):
    """What window following needs from a platform's window list.

    Boxes are in the coordinates ``mss`` grabs in, after ``calibrate`` has seen ``mss``'s monitor list.
    """

    def titled(self) -> list[Listed]:
        """Every listed top-level window that has a title (or, on macOS, an owner name)."""
        ...

    def geometry(self, wid: int) -> Box | None:
        """The window's screen box; None while it is minimised or hidden; raises ``WindowGone`` if it is gone."""
        ...

    def calibrate(self, monitors: list[dict[str, int]]) -> None:
        """Align the backend's coordinates with ``mss``'s (macOS points vs pixels); a no-op elsewhere."""
        ...

    def close(self) -> None: ...


BackendFactory = Callable[[], WindowBackend]


def backend_for(platform: str) -> BackendFactory:
    """The window-list backend for ``sys.platform``-style ``platform``; a SourceError where there is none."""
    if platform == "win32":
        from callcoach.sources.window_win import WinWindows

        return WinWindows
    if platform == "darwin":
        from callcoach.sources.window_mac import MacWindows

        return MacWindows
    if platform.startswith(_X11_PLATFORMS):
        from callcoach.sources.window_x11 import X11Windows

        return X11Windows
    raise SourceError(
        f"--window is not available on {platform}: window lists are only read on X11, Windows and macOS; {_INSTEAD}"
    )


def find_window(windows: WindowBackend, title: str) -> tuple[int, str, Box] | None:
    """The largest visible window whose title contains ``title`` (case-insensitive), as (id, name, box).

    When no title matches, owner names are tried: macOS hides titles from apps without the Screen
    Recording permission, and some call windows are untitled, while the owner ("zoom.us") is always given.
    """
    want = title.casefold()
    listed = windows.titled()
    for field in ("title", "owner"):
        best: tuple[int, str, Box] | None = None
        for entry in listed:
            text = getattr(entry, field).casefold()
            if not text or want not in text or _OWN_TITLE in entry.title.casefold():
                continue
            try:
                box = windows.geometry(entry.wid)
            except WindowGone:
                continue
            if box is not None and (best is None or box[2] * box[3] > best[2][2] * best[2][3]):
                best = (entry.wid, entry.title or entry.owner, box)
        if best is not None:
            return best
    return None


class WindowSource(LiveHooks):
    """Frames of the window whose title contains ``title``; ``t_s`` is ``time.monotonic()``.

    ``backend`` builds the window list (default: the one for ``sys.platform``) and ``open_screen`` the
    ``mss`` handle (default ``open_mss``); both are called once here and once on the capture thread.
    """

    kind: SourceKind = "window"

    def __init__(
        self,
        title: str,
        fps: float = LIVE_FPS,
        *,
        backend: BackendFactory | None = None,
        open_screen: Callable[[], Any] | None = None,
    ) -> None:
        if not title.strip():
            raise SourceError("--window needs part of a window title, e.g. --window 'Zoom Meeting'")
        self.title = title
        self.fps = float(fps)
        self.frame_count: int | None = None
        self._stop = threading.Event()
        self._waiting: tuple[LiveState, str] | None = None
        self._backend = backend or backend_for(sys.platform)
        self._open_screen = open_screen or open_mss
        windows = self._backend()
        try:
            # Opened before the look-up: on macOS this is where a missing Screen Recording permission is
            # reported, and without it the window titles would be unreadable anyway.
            with self._open_screen() as sct:
                windows.calibrate(sct.monitors)
            found = find_window(windows, title)
            if found is None:
                names = sorted({e.title or e.owner for e in windows.titled() if (e.title or e.owner).strip()})[:8]
                listed = "; ".join(repr(n) for n in names) or "none"
                raise SourceError(
                    f"no visible window has {title!r} in its title (open windows: {listed}); "
                    "start the call first, or pass part of a title from that list"
                )
            self.window_id, self.window_title, self.box = found
        finally:
            windows.close()
        self.name = f"window {self.window_title!r}"

    @property
    def waiting(self) -> tuple[LiveState, str] | None:
        return self._waiting

    def frames(self) -> Iterator[Frame]:
        windows = self._backend()
        try:
            with self._open_screen() as sct:
                windows.calibrate(sct.monitors)
                yield from self._capture(windows, sct)
        finally:
            windows.close()

    def _capture(self, windows: WindowBackend, sct: Any) -> Iterator[Frame]:
        screen = monitor_box(sct.monitors[0])
        period = 1.0 / self.fps
        due = time.monotonic()
        checked = -1e9
        box: Box | None = self.box
        index = 0
        while not self._stop.is_set():
            due = pace(due, period, self._stop)
            if self._stop.is_set():
                return
            if time.monotonic() - checked >= REFRESH_S:
                checked = time.monotonic()
                box = self._locate(windows)
                if box is not None:
                    box = clip(box, screen)
                    if box is None:
                        self._waiting = ("source_lost", f"the window {self.window_title!r} is off the screen")
                        continue
                    self.box = box
                    self._waiting = None
                else:
                    self._waiting = (
                        "source_lost",
                        f"the window {self.window_title!r} is minimised or hidden: bring it back",
                    )
            if box is None:
                continue
            t = time.monotonic()
            try:
                image = grab(sct, box)
            except SourceError:
                checked = -1e9  # the window changed under us between look-ups: re-read it now
                continue
            yield Frame(index=index, t_s=t, image=image)
            index += 1

    def _locate(self, windows: WindowBackend) -> Box | None:
        try:
            return windows.geometry(self.window_id)
        except WindowGone:
            pass
        # Gone. Some apps replace their window (a lobby turning into the meeting); follow the title once.
        found = find_window(windows, self.title)
        if found is None:
            raise SourceLost(f"the window {self.window_title!r} was closed")
        self.window_id, self.window_title, box = found
        return box

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
