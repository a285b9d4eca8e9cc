"""Live sources without models: the drop-oldest hand-over, blank frames, paced files, screen and window capture."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from xvfb import virtual_display

from callcoach.errors import SourceError, UsageError
from callcoach.live.autolock import choose_remote, is_self_view, tile_around
from callcoach.live.stats import percentile
from callcoach.sources.base import Frame, LiveHooks, SourceKind
from callcoach.sources.latest import CaptureThread, LatestFrame, SourceLost
from callcoach.sources.screen import clip, parse_region
from callcoach.vision.blank import BlankDetector, blank_message, is_blank


def frame(i: int, t: float | None = None) -> Frame:
    return Frame(index=i, t_s=float(i) if t is None else t, image=np.zeros((2, 2, 3), np.uint8))


# --- LatestFrame ---------------------------------------------------------------------------------------


def test_latest_frame_keeps_only_the_newest_and_counts_the_rest() -> None:
    slot = LatestFrame()
    for i in range(5):
        slot.put(frame(i))
    got = slot.get(timeout=0)
    assert got is not None and got.index == 4
    assert slot.dropped == 4 and slot.put_count == 5
    assert slot.get(timeout=0.01) is None  # taken frames are gone: nothing is handed out twice


def test_latest_frame_get_waits_for_a_producer_and_close_wakes_it() -> None:
    slot = LatestFrame()
    threading.Timer(0.05, lambda: slot.put(frame(7))).start()
    got = slot.get(timeout=2)
    assert got is not None and got.index == 7
    threading.Timer(0.05, slot.close).start()
    start = time.monotonic()
    assert slot.get(timeout=60) is None
    assert time.monotonic() - start < 30  # woken by close, not by its own minute running out


def test_a_slow_consumer_sees_ever_newer_frames_and_every_frame_is_accounted_for() -> None:
    slot = LatestFrame()
    total = 2000

    def produce() -> None:
        for i in range(total):
            slot.put(frame(i))
            if i % 50 == 0:
                time.sleep(0.001)
        slot.close()

    producer = threading.Thread(target=produce)
    producer.start()
    seen = []
    while (got := slot.get(timeout=2)) is not None:
        seen.append(got.index)
        time.sleep(0.002)  # slower than the producer: it must not build a backlog
    producer.join()
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert seen[-1] == total - 1  # the newest frame always reaches the consumer
    assert len(seen) + slot.dropped == total
    assert slot.dropped > 0


# --- CaptureThread -------------------------------------------------------------------------------------


class ListSource(LiveHooks):
    kind: SourceKind = "screen"
    name = "list"
    fps = 100.0
    frame_count: int | None = None

    def __init__(self, n: int | None, fail: BaseException | None = None, period: float = 0.0) -> None:
        self.n, self.fail, self.period = n, fail, period
        self.closed_on: str | None = None
        self.stop = threading.Event()

    def frames(self) -> Iterator[Frame]:
        i = 0
        while self.n is None or i < self.n:
            if self.stop.wait(self.period) if self.period else self.stop.is_set():
                return
            yield frame(i)
            i += 1
        if self.fail is not None:
            raise self.fail

    def request_stop(self) -> None:
        self.stop.set()

    def close(self) -> None:
        self.closed_on = threading.current_thread().name


def test_capture_thread_stops_cleanly_and_closes_the_source_on_its_own_thread() -> None:
    source = ListSource(None, period=0.01)
    capture = CaptureThread(source).start()
    deadline = time.monotonic() + 60.0
    while capture.buffer.put_count <= 5:  # frames flowing (on a loaded machine this may take a while)
        assert time.monotonic() < deadline
        capture.buffer.get(timeout=0.1)
    assert capture.stop(timeout=2.0)  # ended within its budget: request_stop woke the source
    assert not capture.is_alive() and not capture.ended and capture.error is None
    assert source.closed_on == "callcoach-capture"
    assert capture.buffer.put_count > 5 and capture.buffer.closed


def test_capture_thread_reports_the_end_and_errors_of_its_source() -> None:
    done = CaptureThread(ListSource(3)).start()
    done.stop(timeout=2.0)  # joins; the source had already run dry
    assert done.ended and done.error is None and done.buffer.put_count == 3

    lost = CaptureThread(ListSource(2, fail=SourceLost("the window 'x' was closed"))).start()
    lost._thread.join(2)
    assert lost.ended and isinstance(lost.error, SourceLost)
    assert lost.buffer.get(timeout=0) is not None  # the last frame is still there to be analysed


# --- blank frames --------------------------------------------------------------------------------------


def test_black_and_uniform_frames_are_blank_and_pictures_are_not() -> None:
    rng = np.random.default_rng(0)
    assert is_blank(np.zeros((360, 640, 3), np.uint8))
    assert is_blank(np.full((360, 640, 3), (40, 90, 200), np.uint8))  # a solid wallpaper colour
    noisy_black = rng.integers(0, 3, (360, 640, 3)).astype(np.uint8)  # compression noise on black
    assert is_blank(noisy_black)
    assert not is_blank(rng.integers(0, 255, (360, 640, 3)).astype(np.uint8))
    gradient = np.tile(np.linspace(0, 255, 640, dtype=np.uint8)[None, :, None], (360, 1, 3))
    assert not is_blank(gradient)


def test_blank_state_needs_a_run_of_blank_frames_and_two_good_ones_to_clear() -> None:
    det = BlankDetector("screen")
    black = np.zeros((90, 160, 3), np.uint8)
    picture = np.random.default_rng(1).integers(0, 255, (90, 160, 3)).astype(np.uint8)
    assert not det.update(black, 0.0) and det.last_frame_blank  # one dark frame (a cut) is not a state
    for i in range(1, 12):
        det.update(black, i * 0.04)
    assert det.blank and "black" in det.message
    assert det.update(picture, 0.5) and not det.last_frame_blank
    assert not det.update(picture, 0.54)


def test_blank_messages_say_what_to_do_on_each_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.platform", "darwin")
    assert "Screen Recording" in blank_message("screen", 0.0)
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert "Wayland" in blank_message("window", 0.0)
    monkeypatch.delenv("WAYLAND_DISPLAY")
    assert "covered or minimised" in blank_message("screen", 0.0)
    assert "lens" in blank_message("camera", 0.0)


# --- small pure helpers --------------------------------------------------------------------------------


def test_region_parsing_and_clipping() -> None:
    assert parse_region("10,20,640,360") == (10, 20, 640, 360)
    with pytest.raises(UsageError):
        parse_region("10,20,640")
    with pytest.raises(UsageError):
        parse_region("0,0,0,10")
    assert clip((-100, 50, 400, 300), (0, 0, 1280, 720)) == (0, 50, 300, 300)
    assert clip((2000, 0, 100, 100), (0, 0, 1280, 720)) is None


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 95) == 95 and percentile(values, 100) == 100
    assert percentile([], 95) is None


def test_auto_lock_sets_the_corner_self_view_aside_and_picks_the_largest_other_face() -> None:
    w, h = 1920, 1080
    speaker = (800.0, 300.0, 300.0, 360.0)
    self_view = (1700.0, 900.0, 90.0, 110.0)  # bottom-right thumbnail
    assert is_self_view(self_view, speaker[2] * speaker[3], w, h, alone=False)
    assert choose_remote([self_view, speaker], w, h) == speaker
    assert choose_remote([self_view], w, h) is None  # only our own face: keep scanning
    big_in_corner = (1500.0, 800.0, 300.0, 260.0)  # alone and large: a speaker view placed low right
    assert choose_remote([big_in_corner], w, h) == big_in_corner
    x, y, tw, th = tile_around(speaker, w, h)
    assert x <= speaker[0] and y <= speaker[1]
    assert x + tw >= speaker[0] + speaker[2] and y + th >= speaker[1] + speaker[3]
    edge = tile_around((1850.0, 1000.0, 60.0, 70.0), w, h)
    assert edge[0] + edge[2] <= w and edge[1] + edge[3] <= h and edge[2] >= 200


# --- files and cameras ---------------------------------------------------------------------------------


def test_paced_file_plays_at_its_real_rate_and_ends_as_source_lost(real_media: Path) -> None:
    from callcoach.sources.paced import PacedFileSource

    source = PacedFileSource(real_media / "single_face.mp4")  # 72 frames at 30 fps: 2.4 s
    start = time.monotonic()
    times = []
    with pytest.raises(SourceLost, match="ended"):
        for f in source.frames():
            times.append(f.t_s)
            assert f.image.shape == (360, 640, 3) and f.image.flags["C_CONTIGUOUS"]
    took = time.monotonic() - start
    # Real time, not as fast as it decodes; a busy machine may skip frames but never slows the clip down.
    assert 2.2 <= took <= 4.0
    assert len(times) >= 36 and all(b > a for a, b in itertools.pairwise(times))
    assert np.median(np.diff(times)) == pytest.approx(1 / 30, abs=0.01)


def test_paced_file_tiles_copies_into_a_gallery(real_media: Path) -> None:
    from callcoach.sources.paced import PacedFileSource

    source = PacedFileSource(real_media / "WolfgangLanger_Pexels.mp4", fps=15.0, tiles=4)
    frames = source.frames()
    first = next(frames)
    frames.close()  # type: ignore[attr-defined]  # frames() is a generator
    assert first.image.shape == (720, 1280, 3)
    tiles = [first.image[r * 360 : (r + 1) * 360, c * 640 : (c + 1) * 640] for r in (0, 1) for c in (0, 1)]
    assert not np.array_equal(tiles[0], tiles[1])  # each copy starts elsewhere in the clip


def test_a_camera_that_is_not_there_is_one_clear_error() -> None:
    from callcoach.sources.camera import CameraSource

    with pytest.raises(SourceError, match="cannot open camera 97"):
        CameraSource(97)


def test_window_capture_names_the_platform_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from callcoach.sources.window import WindowSource

    for platform, name in (("win32", "Windows"), ("darwin", "macOS")):
        monkeypatch.setattr("sys.platform", platform)
        with pytest.raises(SourceError, match=f"not available on {name}"):
            WindowSource("Zoom")


@pytest.mark.parametrize("wayland", [False, True])
def test_no_display_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, wayland: bool) -> None:
    from callcoach.sources.screen import ScreenSource
    from callcoach.sources.window import WindowSource

    monkeypatch.delenv("DISPLAY", raising=False)
    if wayland:
        monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    else:
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    needle = "Wayland session" if wayland else "DISPLAY is not set"
    with pytest.raises(SourceError, match=needle):
        WindowSource("Zoom")
    with pytest.raises(SourceError, match=needle):
        ScreenSource(monitor=1)


# --- screen and window capture on a virtual display ----------------------------------------------------


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    with virtual_display() as name:
        yield name


def test_screen_source_grabs_rgb_frames_on_the_monotonic_clock(display: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from callcoach.sources.screen import ScreenSource

    monkeypatch.setenv("DISPLAY", display)
    with pytest.raises(UsageError, match="no monitor 5"):
        ScreenSource(monitor=5)
    source = ScreenSource(region=(100, 50, 320, 240), fps=50)
    frames = source.frames()
    got = [next(frames) for _ in range(5)]
    frames.close()  # type: ignore[attr-defined]  # frames() is a generator
    assert all(f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8 for f in got)
    assert all(abs(f.t_s - time.monotonic()) < 5 for f in got)
    assert [f.index for f in got] == [0, 1, 2, 3, 4]
    assert ScreenSource(monitor=1).box == (0, 0, 1280, 720)


class XWindow:
    """A plain X window with a title, made with python-xlib (no toolkit)."""

    def __init__(self, title: str, x: int, y: int, w: int, h: int, ewmh: bool) -> None:
        from Xlib import X, Xatom, display

        self.d = display.Display()
        screen = self.d.screen()
        self.root = screen.root
        self.win = self.root.create_window(
            x,
            y,
            w,
            h,
            0,
            screen.root_depth,
            X.InputOutput,
            X.CopyFromParent,
            background_pixel=screen.white_pixel,
            override_redirect=True,
        )
        self.win.set_wm_name(title)
        self.win.change_property(
            self.d.intern_atom("_NET_WM_NAME"), self.d.intern_atom("UTF8_STRING"), 8, title.encode()
        )
        self.win.map()
        if ewmh:  # what an EWMH window manager would publish
            self.root.change_property(self.d.intern_atom("_NET_CLIENT_LIST"), Xatom.WINDOW, 32, [self.win.id])
        self.d.sync()
        self.alive = True

    def move(self, x: int, y: int, w: int, h: int) -> None:
        self.win.configure(x=x, y=y, width=w, height=h)
        self.d.sync()

    def destroy(self) -> None:
        if self.alive:
            self.alive = False
            self.win.destroy()
            self.root.delete_property(self.d.intern_atom("_NET_CLIENT_LIST"))
            self.d.sync()
            self.d.close()


@pytest.mark.parametrize("ewmh", [True, False])
def test_window_source_follows_a_window_and_reports_its_closing(
    display: str, monkeypatch: pytest.MonkeyPatch, ewmh: bool
) -> None:
    from callcoach.sources import window as window_mod

    monkeypatch.setenv("DISPLAY", display)
    monkeypatch.setattr(window_mod, "REFRESH_S", 0.05)
    with pytest.raises(SourceError, match="no visible window"):
        window_mod.WindowSource("Zoom Meeting")
    xw = XWindow("Zoom Meeting - 2 people", 50, 40, 320, 200, ewmh)
    try:
        source = window_mod.WindowSource("zoom meeting", fps=50)  # case-insensitive part of the title
        assert source.window_title == "Zoom Meeting - 2 people"
        assert source.box == (50, 40, 320, 200)
        frames = source.frames()
        first = next(frames)
        assert first.image.shape == (200, 320, 3)
        assert first.image.min() == 255  # the window's white background, not the black root
        xw.move(400, 300, 480, 260)
        deadline = time.monotonic() + 3
        while next(frames).image.shape != (260, 480, 3):
            assert time.monotonic() < deadline, "the capture did not follow the resize"
        assert source.box == (400, 300, 480, 260)
        xw.destroy()
        with pytest.raises(SourceLost, match="was closed"):
            for _ in range(500):
                next(frames)
    finally:
        xw.destroy()


class StepFinder:
    """Finds one face per scan, somewhere else each time (the call layout changing)."""

    def __init__(self) -> None:
        self.scans = 0

    def search(self, rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
        self.scans += 1
        return [(200.0 + 300 * (self.scans % 2), 200.0, 120.0, 140.0)]

    def close(self) -> None:
        pass


def test_auto_lock_rescans_when_the_face_has_been_gone_for_a_while(
    display: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callcoach.live.autolock import AutoLockSource

    monkeypatch.setenv("DISPLAY", display)
    finder = StepFinder()
    source = AutoLockSource(monitor=1, fps=50, lost_after_s=0.3, scan_interval_s=0.05, finder_factory=lambda: finder)
    frames = source.frames()
    first = next(frames)
    assert source.locks == 1 and source.waiting is None
    region = source.region
    assert region is not None and first.image.shape == (region[3], region[2], 3)
    for _ in range(10):  # the runner keeps seeing a face: no rescan
        source.feedback(next(frames).t_s, 1)
    assert source.locks == 1
    deadline = time.monotonic() + 5
    while source.locks == 1:  # now it sees none: after 0.3 s of analysed frames the screen is scanned again
        assert time.monotonic() < deadline
        source.feedback(next(frames).t_s, 0)
    frames.close()  # type: ignore[attr-defined]  # frames() is a generator
    assert source.locks == 2 and source.region != region and finder.scans == 2
