"""The Windows window list for ``--window``, through ctypes and user32/dwmapi only.

Top-level windows come from ``EnumWindows``; invisible ones (``IsWindowVisible``) and cloaked ones
(``DWMWA_CLOAKED``: on another virtual desktop, or a suspended store app that is still "visible") are
left out. A window's box is DWM's extended frame bounds, the frame the user sees: ``GetWindowRect`` also
counts the invisible resize borders Windows 10 and 11 draw around it, and is only the fallback when DWM
does not answer. ``IsIconic`` marks a minimised window.

Coordinates: the process is made per-monitor DPI aware before anything is read, as mss does when it opens,
so ``GetWindowRect``, the DWM bounds and mss's grab all use physical pixels. Without it Windows would hand a
DPI-unaware process scaled coordinates on a 125% or 150% display and the capture would miss the window.
"""

from __future__ import annotations

import contextlib
import ctypes
from typing import Any

from callcoach.errors import SourceError
from callcoach.sources.screen import Box
from callcoach.sources.window import Listed, WindowGone

DWMWA_EXTENDED_FRAME_BOUNDS = 9
DWMWA_CLOAKED = 14
PROCESS_PER_MONITOR_DPI_AWARE = 2


class RECT(ctypes.Structure):
    _fields_ = (
        ("left", ctypes.c_int32),
        ("top", ctypes.c_int32),
        ("right", ctypes.c_int32),
        ("bottom", ctypes.c_int32),
    )


# EnumWindows wants a stdcall callback (WINFUNCTYPE, Windows only); the C convention stands in elsewhere so
# the same code runs against fake user32 functions in tests.
WNDENUMPROC: Any = getattr(ctypes, "WINFUNCTYPE", ctypes.CFUNCTYPE)(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)


def load_dlls() -> tuple[Any, Any, Any]:
    """(user32, dwmapi or None, shcore or None) with prototypes, or a SourceError naming the limit."""
    try:
        # Private WinDLL instances rather than ctypes.windll's shared ones: the prototypes set below must not
        # change how mss or anything else in the process calls the same functions. The type ignores here and
        # below: ctypes.WinDLL exists only on Windows (mypy on Windows finds it, hence unused-ignore too).
        user32 = ctypes.WinDLL("user32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError) as exc:
        raise SourceError(
            f"--window is not available on Windows here: user32 cannot be loaded through ctypes ({exc}); "
            "use --region X,Y,W,H, --monitor N or --auto"
        ) from exc
    from ctypes import wintypes

    hwnd, bool_, int_ = wintypes.HWND, wintypes.BOOL, ctypes.c_int
    for name, args, result in (
        ("EnumWindows", (WNDENUMPROC, wintypes.LPARAM), bool_),
        ("IsWindow", (hwnd,), bool_),
        ("IsWindowVisible", (hwnd,), bool_),
        ("IsIconic", (hwnd,), bool_),
        ("GetWindowTextLengthW", (hwnd,), int_),
        ("GetWindowTextW", (hwnd, wintypes.LPWSTR, int_), int_),
        ("GetWindowRect", (hwnd, ctypes.POINTER(RECT)), bool_),
    ):
        fn = getattr(user32, name)
        fn.argtypes, fn.restype = args, result
    dwmapi = shcore = None
    with contextlib.suppress(OSError):  # no DWM (very old Windows): GetWindowRect and no cloaking test
        dwmapi = ctypes.WinDLL("dwmapi")  # type: ignore[attr-defined,unused-ignore]
        dwmapi.DwmGetWindowAttribute.argtypes = (hwnd, wintypes.DWORD, ctypes.c_void_p, wintypes.DWORD)
        dwmapi.DwmGetWindowAttribute.restype = ctypes.c_long
    with contextlib.suppress(OSError):  # before Windows 8.1: SetProcessDPIAware is the fallback
        shcore = ctypes.WinDLL("shcore")  # type: ignore[attr-defined,unused-ignore]
    return user32, dwmapi, shcore


def set_dpi_awareness(user32: Any, shcore: Any) -> None:
    """Per-monitor DPI awareness (Windows 8.1+), else system awareness; the same calls, in the same order, as
    mss. Failing because it is already set (by mss, or earlier here) is fine."""
    if shcore is not None:
        try:
            shcore.SetProcessDpiAwareness(PROCESS_PER_MONITOR_DPI_AWARE)
            return
        except (AttributeError, OSError):
            pass
    with contextlib.suppress(AttributeError, OSError):
        user32.SetProcessDPIAware()


class WinWindows:
    """Window following's look-ups on Windows. ``user32``/``dwmapi``/``shcore`` default to the real DLLs."""

    def __init__(self, user32: Any = None, dwmapi: Any = None, shcore: Any = None) -> None:
        if user32 is None:
            user32, dwmapi, shcore = load_dlls()
        self.user32, self.dwmapi = user32, dwmapi
        set_dpi_awareness(user32, shcore)

    def close(self) -> None:
        pass

    def calibrate(self, monitors: list[dict[str, int]]) -> None:
        pass  # both sides are in physical pixels once DPI awareness is set

    def _handles(self) -> list[int]:
        found: list[int] = []

        def collect(hwnd: Any, _lparam: Any) -> int:
            if hwnd:
                found.append(int(hwnd))
            return 1  # keep enumerating

        callback = WNDENUMPROC(collect)  # kept referenced until EnumWindows returns
        self.user32.EnumWindows(callback, 0)
        return found

    def _title(self, hwnd: int) -> str:
        length = int(self.user32.GetWindowTextLengthW(hwnd))
        if length <= 0:
            return ""
        buf = ctypes.create_unicode_buffer(length + 1)
        self.user32.GetWindowTextW(hwnd, buf, length + 1)
        return buf.value

    def _cloaked(self, hwnd: int) -> bool:
        if self.dwmapi is None:
            return False
        value = ctypes.c_int(0)
        status = self.dwmapi.DwmGetWindowAttribute(hwnd, DWMWA_CLOAKED, ctypes.pointer(value), ctypes.sizeof(value))
        return status == 0 and value.value != 0

    def _frame(self, hwnd: int) -> RECT | None:
        rect = RECT()
        if self.dwmapi is not None:
            status = self.dwmapi.DwmGetWindowAttribute(
                hwnd, DWMWA_EXTENDED_FRAME_BOUNDS, ctypes.pointer(rect), ctypes.sizeof(rect)
            )
            if status == 0:
                return rect
        return rect if self.user32.GetWindowRect(hwnd, ctypes.pointer(rect)) else None

    def titled(self) -> list[Listed]:
        out = []
        for hwnd in self._handles():
            if not self.user32.IsWindowVisible(hwnd) or self._cloaked(hwnd):
                continue
            name = self._title(hwnd)
            if name:
                out.append(Listed(hwnd, name))
        return out

    def geometry(self, wid: int) -> Box | None:
        """The visible frame in physical pixels, None while minimised, hidden or cloaked."""
        if not self.user32.IsWindow(wid):
            raise WindowGone(wid)
        if self.user32.IsIconic(wid) or not self.user32.IsWindowVisible(wid) or self._cloaked(wid):
            return None
        rect = self._frame(wid)
        if rect is None:  # destroyed between IsWindow and here
            raise WindowGone(wid)
        return (rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top)
