"""The X11 window list for ``--window``, through python-xlib.

Windows are listed from EWMH's ``_NET_CLIENT_LIST`` when a window manager publishes it, else from the
root window's children (bare X servers, Xvfb, old window managers). Titles are read from ``_NET_WM_NAME``
(UTF-8) with ``WM_NAME`` as the fallback. A window's position is translated to root coordinates, because a
reparenting window manager puts the client inside its frame; X11 coordinates are the ones mss grabs in.
"""

from __future__ import annotations

from typing import Any

from callcoach.errors import SourceError
from callcoach.sources.screen import Box, check_display
from callcoach.sources.window import Listed, WindowGone


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

    def calibrate(self, monitors: list[dict[str, int]]) -> None:
        pass

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

    def titled(self) -> list[Listed]:
        out = []
        for win in self._candidates():
            name = self.title(win)
            if name:
                out.append(Listed(int(win.id), name))
        return out

    def geometry(self, wid: int) -> Box | None:
        """Root-relative box of a viewable window, None while it is unmapped (minimised, other desktop)."""
        win = self.display.create_resource_object("window", wid)
        try:
            if win.get_attributes().map_state != self._X.IsViewable:
                return None
            geom = win.get_geometry()
            pos = self.root.translate_coords(win, 0, 0)
        except self.errors as exc:
            raise WindowGone(wid) from exc
        return (int(pos.x), int(pos.y), int(geom.width), int(geom.height))
