"""The macOS window list for ``--window``, through Quartz (``pyobjc-framework-Quartz``, imported lazily).

Listing: ``CGWindowListCopyWindowInfo(kCGWindowListOptionOnScreenOnly | kCGWindowListExcludeDesktopElements)``,
keeping layer 0 only: app windows, not menus, the Dock or status items, which sit on higher layers. Since
macOS 10.15 ``kCGWindowName`` (the title) is only given to apps with the Screen Recording permission, while
``kCGWindowOwnerName`` ("zoom.us") is always there; ``find_window`` matches owners when no title matches.
Following: the one window is asked for with ``kCGWindowListOptionIncludingWindow``. No answer means it is
gone; ``kCGWindowIsOnscreen`` false means it is minimised, hidden, or on another Space.

Coordinates: ``kCGWindowBounds`` is in points, in the global space of ``CGDisplayBounds`` (top-left origin).
mss 10 lists monitors with ``CGDisplayBounds`` and grabs at nominal resolution, so it works in points too and
the scale is 1. The scale is measured rather than assumed, because a Retina screen has 2 pixels per point
and an mss that listed pixels would otherwise get half-size boxes: ``calibrate`` divides mss's width of the
main monitor by ``CGDisplayBounds``'s width of the main display and scales every box by it. One factor is
used for all displays, so a mix of Retina and non-Retina displays is only right if mss works in points.
"""

from __future__ import annotations

from typing import Any

from callcoach.errors import SourceError
from callcoach.sources.screen import Box
from callcoach.sources.window import Listed, WindowGone


def load_quartz() -> Any:
    try:
        import Quartz
    except ImportError as exc:
        raise SourceError(
            f"--window is not available on macOS without pyobjc-framework-Quartz ({exc}): "
            "pip install 'pyobjc-framework-Quartz>=10', or use --region X,Y,W,H, --monitor N or --auto"
        ) from exc
    return Quartz


def _num(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


class MacWindows:
    """Window following's look-ups on macOS. ``quartz`` defaults to the real ``Quartz`` module."""

    def __init__(self, quartz: Any = None) -> None:
        self.q = quartz if quartz is not None else load_quartz()
        #: mss coordinates per Quartz point, set by ``calibrate``.
        self.scale = 1.0

    def close(self) -> None:
        pass

    def calibrate(self, monitors: list[dict[str, int]]) -> None:
        if len(monitors) < 2:
            return
        points = _num(self.q.CGDisplayBounds(self.q.CGMainDisplayID()).size.width)
        if points > 0:
            # Rounded so a display width that is not an exact multiple cannot shift boxes by a pixel.
            self.scale = round(monitors[1]["width"] / points, 2) or 1.0

    def _infos(self, options: int, relative_to: int) -> list[Any]:
        try:
            return list(self.q.CGWindowListCopyWindowInfo(options, relative_to) or [])
        except Exception as exc:  # pyobjc bridges Objective-C failures as objc.error and friends
            raise SourceError(f"cannot read the macOS window list ({exc})") from exc

    def titled(self) -> list[Listed]:
        q = self.q
        out = []
        for info in self._infos(
            q.kCGWindowListOptionOnScreenOnly | q.kCGWindowListExcludeDesktopElements, q.kCGNullWindowID
        ):
            if int(_num(info.get(q.kCGWindowLayer))) != 0 or _num(info.get(q.kCGWindowAlpha), 1.0) == 0:
                continue  # not an app window, or an invisible overlay some call apps keep on top
            title = str(info.get(q.kCGWindowName) or "")
            owner = str(info.get(q.kCGWindowOwnerName) or "")
            if title or owner:
                out.append(Listed(int(info[q.kCGWindowNumber]), title, owner))
        return out

    def geometry(self, wid: int) -> Box | None:
        q = self.q
        infos = self._infos(q.kCGWindowListOptionIncludingWindow, wid)
        info = next((i for i in infos if int(_num(i.get(q.kCGWindowNumber), -1)) == wid), None)
        if info is None:
            raise WindowGone(wid)
        if not info.get(q.kCGWindowIsOnscreen):
            return None
        bounds = info.get(q.kCGWindowBounds) or {}
        s = self.scale
        x, y = round(_num(bounds.get("X")) * s), round(_num(bounds.get("Y")) * s)
        return (x, y, round(_num(bounds.get("Width")) * s), round(_num(bounds.get("Height")) * s))
