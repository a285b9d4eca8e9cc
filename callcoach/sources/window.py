"""Follow a window by (part of) its title and capture what it shows, as it moves and resizes.

X11 only for now. The window list comes from EWMH's ``_NET_CLIENT_LIST`` when a window manager publishes
it, else from the root window's children (bare X servers, Xvfb, old window managers). Titles are read
from ``_NET_WM_NAME`` (UTF-8) with ``WM_NAME`` as the fallback. The window's position is translated to
root coordinates (a reparenting window manager puts the client inside its frame) and re-read every half
second, so the capture follows drags and resizes; a destroyed window ends the run as ``source_lost``.

Pixels are taken from the screen at the window's place, so whatever covers the window is captured too.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from callcoach.errors import SourceError
from callcoach.live.state import LiveState
from callcoach.sources.base import Frame, SourceKind
from callcoach.sources.latest import SourceLost, pace
from callcoach.sources.screen import LIVE_FPS, Box, check_display, clip, grab, monitor_box, open_mss

#: How often the window's geometry is looked up again while capturing.
REFRESH_S = 0.5

# A terminal's title often shows the command it runs ("callcoach live --window Zoom"), which would match.
_OWN_TITLE = "callcoach live"


def _platform_limit() -> None:
    if sys.platform == "win32":
        raise SourceError(
            "--window is not available on Windows yet (window lists are only read on X11 in this version); "
            "use --region X,Y,W,H, --monitor N or --auto"
        )
    if sys.platform == "darwin":
        raise SourceError(
            "--window is not available on macOS yet (window lists are only read on X11 in this version); "
            "use --region X,Y,W,H, --monitor N or --auto, after allowing Screen Recording for this terminal"
        )


class X11Windows:
    """A display connection and the few EWMH/ICCCM look-ups window following needs."""

    def __init__(self) -> None:
        check_display()
        from Xlib import X, display, error

        self._X = X
        self.errors: tuple[type[BaseException], ...] = (error.XError, error.BadWindow, error.BadDrawable)
        try:
            self.display = display.Display()
        except Exception as exc:  # DisplayNameError, DisplayConnectionError, socket errors
            raise SourceError(f"cannot open the X display ({' '.join(str(exc).split())})") from exc
        self.root = self.display.screen().root
        self._client_list = self.display.intern_atom("_NET_CLIENT_LIST")
        self._net_name = self.display.intern_atom("_NET_WM_NAME")
        self._utf8 = self.display.intern_atom("UTF8_STRING")

    def close(self) -> None:
        self.display.close()

    def title(self, win: Any) -> str:
        try:
            prop = win.get_full_property(self._net_name, self._utf8)
            if prop is not None and prop.value:
                value = prop.value
                return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            name = win.get_wm_name()
        except self.errors:
            return ""
        if isinstance(name, bytes):
            return name.decode("latin-1")
        return name or ""

    def _candidates(self) -> list[Any]:
        prop = self.root.get_full_property(self._client_list, self._X.AnyPropertyType)
        if prop is not None and len(prop.value):
            return [self.display.create_resource_object("window", int(wid)) for wid in prop.value]
        # No EWMH window manager: clients are the root's children, or one level down under a plain
        # reparenting manager that names only the client.
        found = []
        for child in self.root.query_tree().children:
            found.append(child)
            try:
                found.extend(child.query_tree().children)
            except self.errors:
                continue
        return found

    def titled(self) -> list[tuple[Any, str]]:
        out = []
        for win in self._candidates():
            name = self.title(win)
            if name:
                out.append((win, name))
        return out

    def geometry(self, win: Any) -> Box | None:
        """Root-relative box of a viewable window, None while it is unmapped (minimised, other desktop).

        Raises one of ``self.errors`` when the window no longer exists.
        """
        if win.get_attributes().map_state != self._X.IsViewable:
            return None
        geom = win.get_geometry()
        pos = self.root.translate_coords(win, 0, 0)
        return (int(pos.x), int(pos.y), int(geom.width), int(geom.height))

    def find(self, title: str) -> tuple[Any, str, Box] | None:
        """The largest viewable window whose title contains ``title`` (case-insensitive)."""
        want = title.casefold()
        best: tuple[Any, str, Box] | None = None
        for win, name in self.titled():
            folded = name.casefold()
            if want not in folded or _OWN_TITLE in folded:
                continue
            try:
                box = self.geometry(win)
            except self.errors:
                continue
            if box is not None and (best is None or box[2] * box[3] > best[2][2] * best[2][3]):
                best = (win, name, box)
        return best


class WindowSource:
    """Frames of the window whose title contains ``title``; ``t_s`` is ``time.monotonic()``."""

    kind: SourceKind = "window"

    def __init__(self, title: str, fps: float = LIVE_FPS) -> None:
        _platform_limit()
        if not title.strip():
            raise SourceError("--window needs part of a window title, e.g. --window 'Zoom Meeting'")
        self.title = title
        self.fps = float(fps)
        self.frame_count: int | None = None
        self._stop = threading.Event()
        self._waiting: tuple[LiveState, str] | None = None
        x11 = X11Windows()
        try:
            found = x11.find(title)
            if found is None:
                names = sorted({n for _, n in x11.titled() if n.strip()})[:8]
                listed = "; ".join(repr(n) for n in names) or "none"
                raise SourceError(
                    f"no visible window has {title!r} in its title (open windows: {listed}); "
                    "start the call first, or pass part of a title from that list"
                )
            win, self.window_title, self.box = found
            self.window_id = int(win.id)
        finally:
            x11.close()
        self.name = f"window {self.window_title!r}"

    @property
    def waiting(self) -> tuple[LiveState, str] | None:
        return self._waiting

    def frames(self) -> Iterator[Frame]:
        x11 = X11Windows()
        try:
            with open_mss() as sct:
                yield from self._capture(x11, sct)
        finally:
            x11.close()

    def _capture(self, x11: X11Windows, sct: Any) -> Iterator[Frame]:
        win = x11.display.create_resource_object("window", self.window_id)
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
                win, box = self._locate(x11, win)
                if box is not None:
                    box = clip(box, screen)
                    if box is None:
                        self._waiting = ("source_lost", f"the window {self.window_title!r} is off the screen")
                        continue
                    self.box = box
                    self._waiting = None
                else:
                    self._waiting = (
                        "source_lost", f"the window {self.window_title!r} is minimised or hidden: bring it back"
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

    def _locate(self, x11: X11Windows, win: Any) -> tuple[Any, Box | None]:
        try:
            return win, x11.geometry(win)
        except x11.errors:
            pass
        # Gone. Some apps replace their window (a lobby turning into the meeting); follow the title once.
        found = x11.find(self.title)
        if found is None:
            raise SourceLost(f"the window {self.window_title!r} was closed")
        new, self.window_title, box = found
        self.window_id = int(new.id)
        return new, box

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
