"""Window following on Windows and macOS, driven on any OS through fake user32/dwmapi functions and a fake
Quartz module; the macOS Screen Recording check; choosing the backend from ``sys.platform``.

These check callcoach's logic against the documented behaviour of the platform calls, not the calls
themselves: the real ctypes and pyobjc paths only run on Windows and macOS.
"""

from __future__ import annotations

import ctypes
import sys
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from callcoach.errors import SourceError
from callcoach.sources import screen as screen_mod
from callcoach.sources import window as window_mod
from callcoach.sources.base import Frame
from callcoach.sources.latest import SourceLost
from callcoach.sources.screen import Box
from callcoach.sources.window import WindowSource, backend_for
from callcoach.sources.window_mac import MacWindows
from callcoach.sources.window_win import WinWindows


class FakeScreen:
    """An mss handle: a monitor list and a grab that hands back black BGRA pixels of the asked size."""

    def __init__(self, width: int = 1920, height: int = 1080, main_width: int | None = None) -> None:
        whole = {"left": 0, "top": 0, "width": width, "height": height}
        self.monitors = [whole, {**whole, "width": main_width or width}]
        self.grabs: list[Box] = []

    def __enter__(self) -> FakeScreen:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def grab(self, mon: dict[str, int]) -> np.ndarray:
        self.grabs.append((mon["left"], mon["top"], mon["width"], mon["height"]))
        return np.zeros((mon["height"], mon["width"], 4), np.uint8)


@pytest.fixture(autouse=True)
def quick_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(window_mod, "REFRESH_S", 0.0)


def wait_for(check: Callable[[], bool], what: str, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


def frame_after(frames: Iterator[Frame], source: WindowSource, restore: Callable[[], None]) -> Frame:
    """Check the waiting state while the window is away, then bring it back and take the next frame."""
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(next, frames)
        wait_for(lambda: source.waiting is not None, "no waiting state while the window was away")
        state, message = source.waiting or ("", "")
        assert state == "source_lost" and "minimised or hidden: bring it back" in message
        assert not pending.done()  # nothing is captured meanwhile
        restore()
        got = pending.result(timeout=3)
    assert source.waiting is None
    return got


# --- choosing the backend ---------------------------------------------------------------------------------


def test_the_backend_follows_sys_platform_and_other_platforms_get_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from callcoach.sources.window_x11 import X11Windows

    assert backend_for("win32") is WinWindows
    assert backend_for("darwin") is MacWindows
    assert backend_for("linux") is X11Windows and backend_for("freebsd14") is X11Windows
    with pytest.raises(SourceError, match=r"not available on emscripten.*X11, Windows and macOS.*--region"):
        backend_for("emscripten")
    monkeypatch.setattr("sys.platform", "wasi")
    with pytest.raises(SourceError, match="not available on wasi"):
        WindowSource("Zoom")


def test_without_the_platform_libraries_the_error_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from callcoach.sources.window_mac import load_quartz
    from callcoach.sources.window_win import load_dlls

    if sys.platform != "win32":
        with pytest.raises(SourceError, match="not available on Windows here: user32 cannot be loaded"):
            load_dlls()
    monkeypatch.setitem(sys.modules, "Quartz", None)  # makes `import Quartz` fail, as without pyobjc
    with pytest.raises(SourceError, match="without pyobjc-framework-Quartz"):
        load_quartz()


# --- Windows, with fake user32/dwmapi/shcore ------------------------------------------------------------


@dataclass
class Hwnd:
    title: str
    frame: Box  # the visible frame, left, top, width, height
    visible: bool = True
    iconic: bool = False
    cloaked: bool = False


BORDER = 7  # GetWindowRect also counts the invisible resize border Windows 10 draws around the frame


class FakeUser32:
    def __init__(self, windows: dict[int, Hwnd]) -> None:
        self.windows = windows
        self.dpi_calls: list[str] = []

    def _require_dpi(self) -> None:
        assert self.dpi_calls, "coordinates were read before the process was made DPI aware"

    def EnumWindows(self, proc: Any, lparam: int) -> int:
        self._require_dpi()
        for hwnd in list(self.windows):
            if not proc(hwnd, lparam):
                break
        return 1

    def IsWindow(self, hwnd: int) -> int:
        return int(hwnd in self.windows)

    def IsWindowVisible(self, hwnd: int) -> int:
        return int(hwnd in self.windows and self.windows[hwnd].visible)

    def IsIconic(self, hwnd: int) -> int:
        return int(hwnd in self.windows and self.windows[hwnd].iconic)

    def GetWindowTextLengthW(self, hwnd: int) -> int:
        return len(self.windows[hwnd].title) if hwnd in self.windows else 0

    def GetWindowTextW(self, hwnd: int, buf: Any, size: int) -> int:
        buf.value = self.windows[hwnd].title[: size - 1]
        return len(buf.value)

    def GetWindowRect(self, hwnd: int, rect: Any) -> int:
        self._require_dpi()
        if hwnd not in self.windows:
            return 0
        x, y, w, h = self.windows[hwnd].frame
        r = rect.contents
        r.left, r.top, r.right, r.bottom = x - BORDER, y, x + w + BORDER, y + h + BORDER
        return 1

    def SetProcessDPIAware(self) -> int:
        self.dpi_calls.append("SetProcessDPIAware")
        return 1


class FakeShcore:
    def __init__(self, user32: FakeUser32) -> None:
        self.user32 = user32

    def SetProcessDpiAwareness(self, value: int) -> int:
        self.user32.dpi_calls.append(f"SetProcessDpiAwareness({value})")
        return 0


class FakeDwmapi:
    def __init__(self, user32: FakeUser32) -> None:
        self.user32 = user32

    def DwmGetWindowAttribute(self, hwnd: int, attribute: int, value: Any, size: int) -> int:
        win = self.user32.windows.get(hwnd)
        if win is None:
            return -2147024890  # E_HANDLE
        if attribute == 14:  # DWMWA_CLOAKED
            assert size == ctypes.sizeof(ctypes.c_int)
            value.contents.value = 2 if win.cloaked else 0  # DWM_CLOAKED_SHELL
            return 0
        if attribute == 9:  # DWMWA_EXTENDED_FRAME_BOUNDS
            self.user32._require_dpi()
            x, y, w, h = win.frame
            r = value.contents
            r.left, r.top, r.right, r.bottom = x, y, x + w, y + h
            return 0
        return -2147024809  # E_INVALIDARG


def windows_backend(windows: dict[int, Hwnd], dwm: bool = True, shcore: bool = True) -> tuple[Any, FakeUser32]:
    user32 = FakeUser32(windows)
    dwmapi = FakeDwmapi(user32) if dwm else None
    fake_shcore = FakeShcore(user32) if shcore else None
    return (lambda: WinWindows(user32, dwmapi, fake_shcore)), user32


def test_windows_picks_the_largest_visible_match_and_skips_the_terminal() -> None:
    windows = {
        0x10: Hwnd("cmd - callcoach live --window zoom meeting", (0, 0, 1900, 1000)),  # the command line itself
        0x20: Hwnd("Zoom Meeting chat", (40, 40, 300, 500)),
        0x30: Hwnd("Zoom Meeting", (100, 80, 1280, 720)),
        0x40: Hwnd("Zoom Meeting (tray)", (0, 0, 1900, 1000), visible=False),
        0x50: Hwnd("Zoom Meeting on desktop 2", (0, 0, 1900, 1000), cloaked=True),
        0x60: Hwnd("Zoom Meeting minimised", (0, 0, 1900, 1000), iconic=True),
        0x70: Hwnd("", (0, 0, 1900, 1000)),
    }
    backend, user32 = windows_backend(windows)
    source = WindowSource("zOOM meeting", backend=backend, open_screen=FakeScreen)
    assert (source.window_id, source.window_title) == (0x30, "Zoom Meeting")
    assert source.box == (100, 80, 1280, 720)  # DWM's visible frame, without the invisible border
    assert user32.dpi_calls[0] == "SetProcessDpiAwareness(2)"  # per-monitor aware, as mss makes itself
    with pytest.raises(SourceError, match=r"no visible window has 'Teams'.*'Zoom Meeting chat'") as err:
        WindowSource("Teams", backend=backend, open_screen=FakeScreen)
    assert "tray" not in str(err.value) and "desktop 2" not in str(err.value)  # hidden and cloaked: not listed


def test_windows_without_dwm_or_shcore_falls_back_to_getwindowrect_and_setprocessdpiaware() -> None:
    backend, user32 = windows_backend({0x30: Hwnd("Zoom Meeting", (100, 80, 640, 360))}, dwm=False, shcore=False)
    source = WindowSource("zoom", backend=backend, open_screen=FakeScreen)
    assert source.box == (100 - BORDER, 80, 640 + 2 * BORDER, 360 + BORDER)
    assert user32.dpi_calls[0] == "SetProcessDPIAware"


def test_windows_follows_a_move_a_minimise_a_replaced_window_and_the_close() -> None:
    windows = {0x30: Hwnd("Zoom Meeting", (100, 80, 640, 360))}
    backend, _ = windows_backend(windows)
    screen = FakeScreen()
    source = WindowSource("Zoom Meeting", fps=500, backend=backend, open_screen=lambda: screen)
    frames = source.frames()
    assert next(frames).image.shape == (360, 640, 3)
    assert screen.grabs[-1] == (100, 80, 640, 360)

    windows[0x30].frame = (300, 200, 800, 450)  # dragged and resized
    assert next(frames).image.shape == (450, 800, 3)
    assert source.box == (300, 200, 800, 450) and screen.grabs[-1] == source.box

    windows[0x30].iconic = True
    assert frame_after(frames, source, lambda: setattr(windows[0x30], "iconic", False)).image.shape == (450, 800, 3)

    windows[0x31] = Hwnd("Zoom Meeting", (0, 0, 1024, 576))  # the lobby window replaced by the meeting's
    del windows[0x30]
    assert next(frames).image.shape == (576, 1024, 3)
    assert source.window_id == 0x31

    del windows[0x31]
    with pytest.raises(SourceLost, match="the window 'Zoom Meeting' was closed"):
        next(frames)


# --- macOS, with a fake Quartz module ---------------------------------------------------------------------


def fake_quartz(windows: list[dict[str, Any]], points_wide: float = 1440.0, allowed: bool = True) -> Any:
    q: Any = types.ModuleType("Quartz")
    q.kCGWindowListOptionOnScreenOnly = 1
    q.kCGWindowListOptionIncludingWindow = 8
    q.kCGWindowListExcludeDesktopElements = 16
    q.kCGNullWindowID = 0
    for key in ("Number", "Name", "OwnerName", "Bounds", "Layer", "Alpha", "IsOnscreen"):
        setattr(q, f"kCGWindow{key}", f"kCGWindow{key}")
    q.calls = []
    q.requests = 0

    def copy_window_info(options: int, relative_to: int) -> list[dict[str, Any]]:
        q.calls.append((options, relative_to))
        if options & q.kCGWindowListOptionIncludingWindow:
            return [w for w in windows if w["kCGWindowNumber"] == relative_to]
        assert options == q.kCGWindowListOptionOnScreenOnly | q.kCGWindowListExcludeDesktopElements
        return [w for w in windows if w.get("kCGWindowIsOnscreen")]

    def request() -> bool:
        q.requests += 1
        return False

    q.CGWindowListCopyWindowInfo = copy_window_info
    q.CGMainDisplayID = lambda: 1
    q.CGDisplayBounds = lambda display: types.SimpleNamespace(
        origin=types.SimpleNamespace(x=0.0, y=0.0), size=types.SimpleNamespace(width=points_wide, height=900.0)
    )
    q.CGPreflightScreenCaptureAccess = lambda: allowed
    q.CGRequestScreenCaptureAccess = request
    return q


def cg_window(
    number: int, name: str | None, owner: str, box: Box, layer: int = 0, onscreen: bool = True, alpha: float = 1.0
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "kCGWindowNumber": number,
        "kCGWindowOwnerName": owner,
        "kCGWindowLayer": layer,
        "kCGWindowAlpha": alpha,
        "kCGWindowBounds": {"X": float(box[0]), "Y": float(box[1]), "Width": float(box[2]), "Height": float(box[3])},
    }
    if name is not None:  # absent without the Screen Recording permission, as on macOS 10.15+
        info["kCGWindowName"] = name
    if onscreen:  # the key is left out for windows that are not on screen
        info["kCGWindowIsOnscreen"] = True
    return info


def test_macos_matches_titles_like_the_other_platforms() -> None:
    windows = [
        cg_window(5, "zsh - callcoach live --window zoom", "Terminal", (0, 0, 1440, 900)),
        cg_window(6, "Zoom", "zoom.us", (0, 0, 1440, 24), layer=25),  # the menu-bar item
        cg_window(7, "Zoom Meeting", "zoom.us", (100, 60, 960, 540)),
        cg_window(8, "Zoom Meeting overlay", "zoom.us", (0, 0, 1440, 900), alpha=0.0),
        cg_window(9, "Zoom - Settings", "zoom.us", (20, 20, 400, 300)),
    ]
    q = fake_quartz(windows)
    source = WindowSource("zoom", backend=lambda: MacWindows(q), open_screen=lambda: FakeScreen(1440, 900))
    assert (source.window_id, source.window_title, source.box) == (7, "Zoom Meeting", (100, 60, 960, 540))


def test_macos_falls_back_to_the_owner_name_when_titles_are_hidden() -> None:
    windows = [
        cg_window(7, None, "zoom.us", (100, 60, 960, 540)),
        cg_window(8, None, "zoom.us", (10, 10, 200, 100)),
        cg_window(9, None, "Safari", (0, 0, 1440, 900)),
    ]
    q = fake_quartz(windows)
    source = WindowSource("Zoom", backend=lambda: MacWindows(q), open_screen=lambda: FakeScreen(1440, 900))
    assert (source.window_id, source.window_title) == (7, "zoom.us")
    with pytest.raises(SourceError, match=r"open windows: 'Safari'; 'zoom.us'"):
        WindowSource("Teams", backend=lambda: MacWindows(q), open_screen=lambda: FakeScreen(1440, 900))


def test_macos_follows_a_move_a_minimise_and_the_close() -> None:
    windows = [cg_window(7, "Zoom Meeting", "zoom.us", (100, 60, 640, 360))]
    q = fake_quartz(windows)
    source = WindowSource(
        "Zoom Meeting", fps=500, backend=lambda: MacWindows(q), open_screen=lambda: FakeScreen(1440, 900)
    )
    frames = source.frames()
    assert next(frames).image.shape == (360, 640, 3)

    windows[0]["kCGWindowBounds"] = {"X": 300.0, "Y": 200.0, "Width": 800.0, "Height": 450.0}
    assert next(frames).image.shape == (450, 800, 3)
    assert source.box == (300, 200, 800, 450)

    del windows[0]["kCGWindowIsOnscreen"]  # minimised to the Dock: still listed when asked for by number
    assert frame_after(frames, source, lambda: windows[0].update(kCGWindowIsOnscreen=True)).image.shape == (450, 800, 3)

    windows.clear()
    with pytest.raises(SourceLost, match="was closed"):
        next(frames)


@pytest.mark.parametrize(("mss_main_width", "scale"), [(2880, 2), (1440, 1)])
def test_macos_boxes_are_scaled_to_mss_coordinates(mss_main_width: int, scale: int) -> None:
    """Quartz gives points; a Retina display has 2 pixels per point. mss 10 works in points (scale 1)."""
    q = fake_quartz([cg_window(7, "Zoom Meeting", "zoom.us", (100, 60, 640, 360))], points_wide=1440.0)
    screen = FakeScreen(mss_main_width, 900 * scale, main_width=mss_main_width)
    source = WindowSource("Zoom", fps=500, backend=lambda: MacWindows(q), open_screen=lambda: screen)
    assert source.box == (100 * scale, 60 * scale, 640 * scale, 360 * scale)
    assert next(source.frames()).image.shape == (360 * scale, 640 * scale, 3)


# --- macOS Screen Recording permission -------------------------------------------------------------------


def test_missing_screen_recording_permission_is_one_line_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screen_mod, "_asked_for_access", False)
    monkeypatch.setenv("TERM_PROGRAM", "Apple_Terminal")
    q = fake_quartz([], allowed=False)
    for _ in range(2):
        with pytest.raises(SourceError) as err:
            screen_mod.check_screen_permission("darwin", q)
        message = str(err.value)
        assert "\n" not in message
        assert "System Settings > Privacy & Security > Screen Recording, allow Terminal" in message
        assert "restart" in message
    assert q.requests == 1  # the system prompt is asked for once, not on every open

    screen_mod.check_screen_permission("darwin", fake_quartz([], allowed=True))
    screen_mod.check_screen_permission("linux", q)  # never asked elsewhere
    old_macos = types.ModuleType("Quartz")  # before 10.15 there is no such permission and no such function
    screen_mod.check_screen_permission("darwin", old_macos)


def test_every_screen_source_checks_the_permission_before_capturing(monkeypatch: pytest.MonkeyPatch) -> None:
    from callcoach.live.autolock import AutoLockSource
    from callcoach.sources.screen import ScreenSource

    monkeypatch.setattr(screen_mod, "_asked_for_access", True)
    q = fake_quartz([cg_window(7, "Zoom Meeting", "zoom.us", (100, 60, 640, 360))], allowed=False)
    monkeypatch.setitem(sys.modules, "Quartz", q)
    monkeypatch.setattr("sys.platform", "darwin")
    needle = "Privacy & Security > Screen Recording"
    with pytest.raises(SourceError, match=needle):
        ScreenSource(monitor=1)
    with pytest.raises(SourceError, match=needle):
        ScreenSource(region=(0, 0, 100, 100))
    with pytest.raises(SourceError, match=needle):
        AutoLockSource(monitor=1)
    with pytest.raises(SourceError, match=needle):
        WindowSource("Zoom")  # the real backend for darwin, on the fake Quartz
    assert q.calls == []  # refused before any window was looked up
