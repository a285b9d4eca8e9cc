"""The virtual camera pass-through (issue 6) behind the ``FrameSink`` boundary.

An in-memory sink checks sizes, dtype, pacing and that frames are byte-identical; webcam input is a paced
in-memory source or a video file with the same interface. The real-device test runs where a virtual camera
exists and is skipped with pyvirtualcam's own reason where none does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from fakeclock import FakeClock
from memorysink import MemorySink

from callcoach.cli.main import main as cli_main
from callcoach.core.clock import MONOTONIC, Clock
from callcoach.errors import VcamError
from callcoach.sources.base import Frame, LiveHooks, SourceKind, Taker
from callcoach.sources.files import VideoFileSource
from callcoach.sources.latest import SourceLost, pace
from callcoach.sources.paced import PacedFileSource
from callcoach.vcam import PassThrough, PyVirtualCamSink, blurred_still, device_fix


class ListSource(LiveHooks):
    """A camera stand-in: the given frames at ``fps`` on a wall clock (``paced``), optionally failing.

    ``lossless`` waits for each frame to be taken before the next (nothing is dropped, however loaded the
    machine); ``stepped`` hands out a frame only when the test calls ``release`` (and implies lossless).
    Frames are stamped on ``clock``.
    """

    kind: SourceKind = "camera"

    def __init__(
        self,
        images: list[np.ndarray],
        fps: float,
        *,
        paced: bool = True,
        fail_at: int | None = None,
        error: BaseException | None = None,
        lossless: bool = False,
        stepped: bool = False,
        clock: Clock = MONOTONIC,
    ) -> None:
        self.images = images
        self.fps = fps
        self.paced = paced
        self.fail_at = fail_at
        self.error = error or SourceLost("camera 0 stopped sending pictures (unplugged?)")
        self.name = "list camera"
        self.frame_count: int | None = None
        self.closed = False
        self.lossless = lossless or stepped
        self.clock = clock
        self._stepped = stepped
        self._allowed = threading.Semaphore(0)
        self._taker: Taker | None = None
        self._stop = threading.Event()

    def pace_with(self, consumer: Taker) -> None:
        self._taker = consumer if self.lossless else None

    def release(self, n: int = 1) -> None:
        """Let ``n`` more frames out (a ``stepped`` source)."""
        self._allowed.release(n)

    def _wait_turn(self) -> bool:
        if self._stepped:
            while not self._allowed.acquire(timeout=0.05):
                if self._stop.is_set():
                    return False
        while self._taker is not None and not self._taker.wait_taken(0.05):
            if self._stop.is_set():
                return False
        return not self._stop.is_set()

    def frames(self) -> Iterator[Frame]:
        due = time.monotonic()
        for i, image in enumerate(self.images):
            if not self._wait_turn():
                return
            if self.paced and not self.lossless:
                due = pace(due, 1.0 / self.fps, self._stop)
            if i == self.fail_at:
                raise self.error
            yield Frame(index=i, t_s=self.clock.now(), image=image)

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.closed = True
        self._stop.set()


def _noise(n: int, w: int, h: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def _clip(path: Path, w: int, h: int, fps: float, n: int) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    rng = np.random.default_rng(1)
    for i in range(n):
        image = np.full((h, w, 3), (i * 37) % 256, np.uint8)
        image[: h // 2, : w // 3] = rng.integers(0, 256, 3, dtype=np.uint8)  # a block that changes per frame
        writer.write(image)
    writer.release()
    return path


def _until(pt: PassThrough, done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait, turn by turn of the send thread, until ``done()``; a generous bound only against a hang."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the pass-through never got there"
        pt.wait_turns(pt.turns + 1, 0.1)


def _run(pt: PassThrough, timeout: float = 60.0) -> str:
    pt.start()
    assert pt.wait(timeout), "pass-through did not finish"
    pt.stop()
    return pt.state


# --- frames unchanged ----------------------------------------------------------------------------


@pytest.mark.parametrize(("w", "h", "fps"), [(642, 362, 15), (641, 359, 24), (642, 362, 30), (322, 182, 60)])
def test_frames_are_byte_identical_at_native_size_and_rate(w: int, h: int, fps: float) -> None:
    images = _noise(8, w, h)
    sink = MemorySink()
    states: list[str] = []
    seen: list[Frame] = []
    source = ListSource(images, fps, lossless=True)  # every frame taken: the count is exact on a loaded machine
    pt = PassThrough(source, sink, on_frame=seen.append, on_state=lambda s, _m: states.append(s))
    assert _run(pt) == "ended"
    assert sink.size == (w, h) and sink.fps == fps and sink.opened == 1 and sink.closed
    assert pt.dropped == 0 and pt.sent == len(images) == sink.count
    for sent, original in zip(sink.frames, images, strict=True):
        assert sent.dtype == np.uint8 and sent.shape == (h, w, 3)
        assert sent.tobytes() == original.tobytes()
    # on_frame saw the very frames that went out, and the source frames were not written to
    assert all(f.image is im for f, im in zip(seen, images, strict=True))
    assert states == ["live", "ended"]


def test_frames_are_forwarded_as_the_same_array_not_a_copy() -> None:
    images = _noise(3, 64, 48)
    got: list[np.ndarray] = []

    class Spy(MemorySink):
        def send(self, rgb: np.ndarray) -> None:
            got.append(rgb)
            super().send(rgb)

    _run(PassThrough(ListSource(images, 60, lossless=True), Spy()))
    assert all(a is b for a, b in zip(got, images, strict=True))


@pytest.mark.parametrize("fps", [15, 60])
def test_video_file_source_is_passed_through_unchanged(tmp_path: Path, fps: int) -> None:
    path = _clip(tmp_path / f"odd{fps}.avi", 642, 362, fps, n=max(6, fps // 4))
    decoded = [f.image.tobytes() for f in VideoFileSource(path).frames()]
    sink = MemorySink(keep="bytes")
    # Lossless: the player waits for each frame to be taken, so a loaded machine slows it instead of
    # making it skip frames.
    source = PacedFileSource(path, lossless=True)
    assert source.fps == pytest.approx(fps)
    pt = PassThrough(source, sink)
    assert _run(pt) == "ended"
    assert sink.size == (642, 362) and sink.fps == pytest.approx(fps)
    assert pt.dropped == 0 and source.skipped == 0
    # every frame of the file went out, unchanged and in order
    assert [decoded.index(b) for b in sink.data] == list(range(len(decoded)))


# --- pacing and drop-oldest --------------------------------------------------------------------------


def test_forwarding_follows_the_source_rate() -> None:
    fps = 30.0
    sink = MemorySink(keep="none")
    pt = PassThrough(ListSource(_noise(16, 64, 48), fps), sink)
    assert _run(pt) == "ended"
    assert sink.fps == fps  # the virtual camera is opened at the camera's rate
    assert pt.sent + pt.dropped == pt.buffer.put_count == 16 and pt.sent >= 1
    # No pace of its own: frames go out as the camera gives them, never faster (a loaded machine can only
    # make the camera, and so the output, slower; dropped frames make the gaps longer, never shorter).
    assert sink.times[-1] - sink.times[0] >= (pt.sent - 1) / fps * 0.8


def test_a_slow_sink_drops_the_oldest_frame_and_never_queues() -> None:
    images = _noise(30, 64, 48)
    everything_offered = threading.Event()

    class StuckOnFirst(MemorySink):
        """A sink that hangs on its first frame until the camera has offered all the others."""

        def send(self, rgb: np.ndarray) -> None:
            if self.count == 0:
                assert everything_offered.wait(30.0)
            super().send(rgb)

    class Camera(ListSource):
        def frames(self) -> Iterator[Frame]:
            yield from super().frames()
            everything_offered.set()  # after the last frame was put into the slot

    sink = StuckOnFirst()
    pt = PassThrough(Camera(images, 60, paced=False), sink)
    assert _run(pt) == "ended"
    # Frame 0 was being sent while 1..29 came: each replaced the one before it, and only the newest went out.
    assert pt.sent + pt.dropped == len(images) == pt.buffer.put_count
    assert pt.dropped >= len(images) - 2 and pt.sent <= 2
    index = {im.tobytes(): i for i, im in enumerate(images)}
    order = [index[f.tobytes()] for f in sink.frames]
    assert order == sorted(order) and order[-1] == len(images) - 1  # newest wins; the last frame goes out


# --- privacy pause -------------------------------------------------------------------------------


def test_privacy_pause_sends_one_blurred_still_then_resumes() -> None:
    images = _noise(14, 96, 64, seed=3)
    sink = MemorySink()
    states: list[str] = []
    clock = FakeClock()  # stands still: no extra stills while the camera is quiet
    source = ListSource(images, 30, stepped=True, clock=clock)
    pt = PassThrough(source, sink, on_state=lambda s, _m: states.append(s), clock=clock).start()
    source.release(4)
    _until(pt, lambda: pt.sent == 4)
    pt.privacy_pause(True)
    assert pt.paused
    source.release(5)
    _until(pt, lambda: pt.buffer.put_count == 9 and pt.buffer.wait_taken(0))
    pt.wait_turns(pt.turns + 1, 10.0)  # the turn that took the ninth frame has sent its still
    pt.privacy_pause(False)
    source.release(5)
    assert pt.wait(60.0) and pt.state == "ended"
    pt.stop()
    # 4 live, 5 taken during the pause (each sent as the still), 5 live again; nothing dropped
    assert pt.sent == 9 and pt.dropped == 0 and pt.buffer.put_count == 14 and pt.still_sent >= 5
    live = {im.tobytes() for im in images}
    kinds = ["live" if f.tobytes() in live else "still" for f in sink.frames]
    stills = [f for f, k in zip(sink.frames, kinds, strict=True) if k == "still"]
    assert len(stills) >= 5  # one per camera frame during the pause (and one at once when it began)
    assert all(s.tobytes() == stills[0].tobytes() for s in stills)  # one still picture
    assert stills[0].shape == images[0].shape and stills[0].dtype == np.uint8
    # a contiguous run of stills between live frames: paused, then live again
    first, last = kinds.index("still"), len(kinds) - 1 - kinds[::-1].index("still")
    assert set(kinds[first : last + 1]) == {"still"} and "live" in kinds[:first] and "live" in kinds[last + 1 :]
    # the still is the blurred copy of the last live frame before the pause
    assert stills[0].tobytes() == blurred_still(sink.frames[first - 1]).tobytes()
    assert states[:3] == ["live", "paused", "live"]


def test_privacy_pause_keeps_sending_when_the_camera_goes_quiet() -> None:
    images = _noise(3, 64, 48)
    sink = MemorySink(keep="none")
    clock = FakeClock()

    class Stalls(ListSource):
        def frames(self) -> Iterator[Frame]:
            yield from super().frames()
            self._stop.wait(60)  # alive but silent

    pt = PassThrough(Stalls(images, 30, lossless=True, clock=clock), sink, clock=clock).start()
    _until(pt, lambda: pt.sent == 3)
    pt.privacy_pause(True)
    _until(pt, lambda: pt.still_sent == 1)  # the first still at once
    for step in range(2, 8):  # then one per frame period of the camera, however long the machine takes
        clock.advance(1 / 30)
        _until(pt, lambda step=step: pt.still_sent == step)  # type: ignore[misc]
    turns = pt.turns
    pt.wait_turns(turns + 3, 10.0)  # the clock stands still: no more stills, whatever the wall clock did
    assert pt.still_sent == 7
    pt.stop()
    assert pt.sent == 3 and pt.stopped


def test_privacy_pause_before_the_first_frame_blurs_the_first_frame() -> None:
    images = _noise(5, 64, 48)
    sink = MemorySink()
    pt = PassThrough(ListSource(images, 60, lossless=True), sink)
    pt.privacy_pause(True)
    assert pt.state == "paused"
    assert _run(pt) == "ended"
    assert pt.sent == 0 and pt.still_sent >= 5
    assert all(f.tobytes() == blurred_still(images[0]).tobytes() for f in sink.frames)


def test_blurred_still_hides_detail_and_keeps_the_size() -> None:
    image = _noise(1, 641, 359)[0]
    still = blurred_still(image)
    assert still.shape == image.shape and still.dtype == np.uint8 and still.flags.c_contiguous
    detail: Callable[[np.ndarray], float] = lambda a: float(np.abs(np.diff(a.astype(np.int16), axis=1)).mean())  # noqa: E731
    assert detail(still) < detail(image) / 20


# --- odd cameras and failures ----------------------------------------------------------------------


def test_a_camera_unplugged_mid_run_ends_with_a_clear_state() -> None:
    states: list[tuple[str, str]] = []
    source = ListSource(_noise(10, 64, 48), 60, fail_at=5)
    pt = PassThrough(source, MemorySink(), on_state=lambda s, m: states.append((s, m)))
    assert _run(pt) == "lost"
    # Under load the one-frame slot may replace a frame before it is sent: count what was offered.
    assert pt.sent + pt.buffer.dropped == pt.buffer.put_count == 5 and pt.sent >= 1
    assert isinstance(pt.error, SourceLost) and source.closed
    assert states[-1][0] == "lost" and "unplugged" in states[-1][1]


def test_an_unexpected_source_error_is_a_state_not_a_crash() -> None:
    pt = PassThrough(ListSource(_noise(4, 64, 48), 60, fail_at=2, error=RuntimeError("driver hiccup")), MemorySink())
    assert _run(pt) == "lost"
    assert "driver hiccup" in pt.message


def test_a_failing_sink_and_a_failing_hook() -> None:
    class Breaks(MemorySink):
        def send(self, rgb: np.ndarray) -> None:
            if self.count == 3:
                raise VcamError("the virtual camera stopped taking frames (gone)")
            super().send(rgb)

    def hook(_frame: Frame) -> None:
        raise ValueError("self-coaching bug")

    pt = PassThrough(ListSource(_noise(10, 64, 48), 60), Breaks(), on_frame=hook)
    assert _run(pt) == "sink_error"
    assert pt.sent == 3 and pt.hook_errors == 3 and "stopped taking frames" in pt.message


def test_a_resolution_change_reopens_the_sink() -> None:
    images = _noise(2, 64, 48) + _noise(2, 642, 362)
    sink = MemorySink()
    assert _run(PassThrough(ListSource(images, 60, lossless=True), sink)) == "ended"
    assert sink.opened == 2 and sink.size == (642, 362) and sink.count == 4


def test_stop_before_the_source_ends() -> None:
    source = ListSource(_noise(100, 32, 32), 30, stepped=True)
    pt = PassThrough(source, MemorySink(keep="none")).start()
    source.release(3)
    _until(pt, lambda: pt.sent == 3)
    pt.stop()
    assert pt.state == "stopped" and pt.stopped and pt.sent == 3 == pt.buffer.put_count


# --- the real virtual camera ----------------------------------------------------------------------


def _open_real(w: int, h: int, fps: float) -> PyVirtualCamSink:
    sink = PyVirtualCamSink()
    try:
        sink.open(w, h, fps)
    except VcamError as exc:
        pytest.skip(str(exc.__cause__ or exc))  # pyvirtualcam's own reason, e.g. no v4l2loopback device
    return sink


def test_real_virtual_camera_device() -> None:
    sink = _open_real(642, 362, 30)
    sink.close()
    pt = PassThrough(ListSource(_noise(10, 642, 362), 30), PyVirtualCamSink())
    assert _run(pt) == "ended" and pt.sent == 10


def test_device_fix_names_the_platform_step() -> None:
    assert "modprobe v4l2loopback exclusive_caps=1" in device_fix("linux")
    assert 'card_label="CallCoach Camera"' in device_fix("linux")
    assert "OBS" in device_fix("win32") and "OBS" in device_fix("darwin")


def test_cli_without_a_device_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        PyVirtualCamSink().open(642, 362, 24)
    except VcamError:
        pass
    else:
        pytest.skip("a virtual camera device exists here")
    path = _clip(tmp_path / "cam.avi", 642, 362, 24, n=12)
    assert cli_main(["vcam", "--video", str(path), "--duration", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "modprobe v4l2loopback" in err[0]
