"""A video file played at its real rate, as if it were a live camera (``callcoach live --video FILE``).

The file is read on a clock (the real monotonic one unless a test injects another): at each tick the frame
due at that moment is shown and the ones in between are skipped, so motion stays real-time whatever the
delivery rate (``fps=15`` on a 24 fps clip shows every 1.6th frame, not a slow-motion replay). ``tiles=N``
lays N copies side by side in a grid, each started at a different point of the clip, to stand in for a
gallery view of N people.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from callcoach.core.clock import MONOTONIC, PacingClock
from callcoach.errors import SourceError, UsageError
from callcoach.sources.base import Frame, LiveHooks, SourceKind, Taker
from callcoach.sources.checks import path_kind
from callcoach.sources.files import VideoFileSource, _cv2, _to_rgb, truncation
from callcoach.sources.latest import SourceLost, pace


class _Player:
    """One decoder that can be asked for "the frame at position p" and only moves forwards."""

    def __init__(self, path: Path, start_frame: int = 0, base: int = 0) -> None:
        cv2 = _cv2()
        self.cap: Any = cv2.VideoCapture(str(path))
        if not self.cap.isOpened():
            raise SourceError(f"OpenCV cannot open '{path}'")
        #: Frame number on the source's clock at which this player (re)started, and its position relative to that.
        self.base = base
        self.pos = -1
        self.image: np.ndarray | None = None
        for _ in range(start_frame):  # grab() skips without converting; seeking is imprecise on many codecs
            if not self.cap.grab():
                break

    def frame_at(self, wanted: int) -> np.ndarray | None:
        """The RGB frame due at frame ``wanted`` of the source's clock; None when the file has ended."""
        cv2 = _cv2()
        wanted -= self.base
        while self.pos < wanted:
            if self.pos < wanted - 1:
                ok = self.cap.grab()
            else:
                ok, bgr = self.cap.read()
                if ok and bgr is not None:
                    self.image = _to_rgb(cv2, bgr)
            if not ok:
                return None
            self.pos += 1
        return self.image

    def close(self) -> None:
        self.cap.release()


class PacedFileSource(LiveHooks):
    """Frames of a video file at its real pace; ``t_s`` is ``clock.now()`` when a frame is shown.

    ``clock`` (``time.monotonic()`` by default) is the one the live runner reads: a test passes the runner's
    ``FakeClock``, and the file's pacing then steps that clock instead of sleeping.
    """

    kind: SourceKind = "video"

    def __init__(
        self,
        path: str | Path,
        fps: float | None = None,
        loop: bool = False,
        tiles: int = 1,
        lossless: bool = False,
        clock: PacingClock | None = None,
    ) -> None:
        if tiles < 1:
            raise UsageError(f"tiles must be 1 or more, got {tiles}")
        if fps is not None and not (math.isfinite(fps) and fps > 0):
            raise UsageError(f"fps must be a positive number, got {fps}")
        if path_kind(Path(path)) == "fifo":
            # The probe and the player would each open it, and a pipe can be read only once: the second
            # open would wait for a writer forever.
            raise SourceError(
                f"'{path}' is a pipe (FIFO); a video played live must be a regular file (save the "
                "stream to a file first; 'callcoach analyze' reads a pipe)"
            )
        probe = VideoFileSource(path)  # the file sources' checks and one-line errors
        try:
            self.native_fps = probe.fps
            self.frame_count_file = probe.frame_count or 0
            self.width, self.height = probe.width, probe.height
        finally:
            probe.close()
        self.path = Path(path)
        self.clock: PacingClock = clock if clock is not None else MONOTONIC
        self.fps = float(fps) if fps else self.native_fps
        self.loop = loop
        self.tiles = tiles
        self.cols = math.ceil(math.sqrt(tiles))
        self.rows = math.ceil(tiles / self.cols)
        self.name = str(path) if tiles == 1 else f"{path} x{tiles}"
        self.frame_count: int | None = None
        #: Frames of the file skipped because they were not due at any tick (fps below the file's rate).
        self.skipped = 0
        self._stop = threading.Event()
        self._hold: threading.Event | None = None
        #: Every frame due is delivered, waiting for the consumer when it is behind (``pace_with``).
        self.lossless = lossless
        self._consumer: Taker | None = None
        #: Set when the file stopped well short of the frames its header lists (truncated or damaged): the run
        #: then ends with this error instead of a plain "the video ended" (``callcoach live`` exits non-zero).
        self.damage: SourceError | None = None

    def hold_until(self, ready: threading.Event) -> bool:
        """Start the file's clock only once ``ready`` is set (the live runner sets it when its models have
        loaded): a file is then analysed from its first frame, as ``callcoach analyze`` reads it, instead of
        playing its first seconds to nobody. Called before ``frames()``."""
        self._hold = ready
        return True

    def pace_with(self, consumer: Taker) -> None:
        """With ``lossless``: hand over a frame only once ``consumer`` (a ``LatestFrame``) has taken the last one.

        ``callcoach live --video`` then analyses every frame of the file, as ``analyze`` does: at the file's real
        rate, or slower when the analysis cannot keep up (the clock waits; nothing is skipped or dropped).
        Without ``lossless`` (a file standing in for a camera, the live benchmark) this does nothing.
        """
        if self.lossless:
            self._consumer = consumer

    def _players(self) -> list[_Player]:
        # Each copy starts elsewhere in the clip so the N "people" do not move in lockstep.
        step = self.frame_count_file // self.tiles if self.frame_count_file else 0
        return [_Player(self.path, i * step) for i in range(self.tiles)]

    def _compose(self, images: list[np.ndarray]) -> np.ndarray:
        if len(images) == 1:
            return images[0]
        h, w = self.height, self.width
        canvas = np.zeros((self.rows * h, self.cols * w, 3), dtype=np.uint8)
        for i, image in enumerate(images):
            r, c = divmod(i, self.cols)
            canvas[r * h : r * h + image.shape[0], c * w : c * w + image.shape[1]] = image[:h, :w]
        return canvas

    def frames(self) -> Iterator[Frame]:
        players = self._players()
        try:
            hold = self._hold
            if hold is not None and not self._wait_for(hold.wait):
                return
            period = 1.0 / self.fps
            clock = self.clock
            start = due = clock.now()
            index, last_wanted = 0, -1
            consumer = self._consumer
            while not self._stop.is_set():
                due = pace(due, period, self._stop, clock)  # never faster than the file's rate
                if self._stop.is_set():
                    return
                t = clock.now()
                if consumer is None:
                    # A tick lands on a frame's time up to a rounding error short of it: that frame, not the last.
                    wanted = int((t - start) * self.native_fps + 1e-6)
                else:
                    # Lossless: the tick's own frame, however late: the file's clock waits for the analysis.
                    wanted = round(index * self.native_fps / self.fps)
                images = self._read_all(players, wanted)
                self.skipped += max(0, wanted - last_wanted - 1)
                last_wanted = wanted
                picture = self._compose(images)
                if consumer is not None:
                    # Decoded while the last frame was being analysed; handed over once it has been taken.
                    if not self._wait_for(consumer.wait_taken):
                        return
                    t = clock.now()
                yield Frame(index=index, t_s=t, image=picture)
                index += 1
        finally:
            for p in players:
                p.close()

    def _wait_for(self, ready: Callable[[float], bool]) -> bool:
        """Poll ``ready(timeout)`` until it holds; False when a stop came first."""
        while not ready(0.05):
            if self._stop.is_set():
                return False
        return True

    def _read_all(self, players: list[_Player], wanted: int) -> list[np.ndarray]:
        """Frame ``wanted`` of every copy; a copy past its end starts over (SourceLost when the video ends)."""
        images = []
        for i, player in enumerate(players):
            image = player.frame_at(wanted)
            if image is None:
                # The other copies started mid-clip, so they wrap on their own; the first one's
                # end is the end of the video unless it loops.
                if i == 0:
                    self._check_whole(player)
                if i == 0 and not self.loop:
                    raise SourceLost(f"the video '{self.path}' ended")
                player.close()
                player = players[i] = _Player(self.path, 0, base=wanted)
                image = player.frame_at(wanted)
                if image is None:
                    raise SourceLost(f"the video '{self.path}' can no longer be read")
            images.append(image)
        return images

    def _check_whole(self, player: _Player) -> None:
        """The first copy ran out: if that was well short of the header's count, the file is damaged. Said as
        an error; a looping file (the camera stand-in of --vcam-video, vcam --video --loop) records it and
        goes on looping over what can be read, since ending the outgoing camera mid-call is worse."""
        if player.base != 0:
            return  # restarted (--loop): the first pass already said whether the file is whole
        damage = truncation(
            self.path, player.pos + 1, self.frame_count_file or None, "what was shown came from the frames read"
        )
        if damage is not None:
            self.damage = damage
            if not self.loop:
                raise damage

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
