"""``--auto``: find the other person's video tile on the screen and capture only that tile.

The whole monitor is scanned with the multi-scale face search (``FaceFinder.search``), the user's own
self-view is set aside, the largest remaining face wins, and a tile around it is captured at the full
rate. When the runner's analysed frames have shown no face for ``lost_after_s`` (the call layout changed,
the speaker switched, the window moved), the screen is scanned again.

The self-view, with ``--vcam``: the call app's self-view tile shows the very picture callcoach reads
from the webcam, so the screen's faces are matched against it (``callcoach.vision.selfview``: a small
appearance signature of each face with its surroundings, straight and mirrored). The face that matches
clearly is set aside with everything inside the webcam's picture around it (placed and scaled from where
the face sits in the webcam: someone beside the user, or a false find on a shirt in a big self-view
tile), and the largest remaining face wins, whatever the sizes and places, a gallery of equal tiles
included. Without a clear match (the self-view hidden, or two faces alike) the heuristic below decides.
A tile locked before the webcam reference was ready is checked once more as soon as it is: the lock may
be on the self-view.

The heuristic, without ``--vcam``: video-call apps show your own camera as a small thumbnail near a corner
(Zoom's and Meet's floating self-view, Teams' corner tile). A face is taken for the self-view when its
centre lies in a corner region (outer 25% of both width and height) and it is less than half the area of
the largest face, or when it is the only face, in a corner, and under 12% of the screen height. In a
gallery of equal tiles the self-view cannot be told apart this way; use --vcam, --window or --region there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from callcoach.errors import UsageError
from callcoach.live.state import LiveState
from callcoach.sources.base import Frame, LiveHooks, SourceKind
from callcoach.sources.latest import pace
from callcoach.sources.screen import LIVE_FPS, Box, grab, monitor_box, open_mss

if TYPE_CHECKING:
    import numpy as np

    from callcoach.vision.selfview import SelfViewReference

#: A tile this many face widths/heights around the face: room for head movement and the shoulders.
TILE_W, TILE_H = 3.2, 3.0
MIN_TILE = 200


class Finder(Protocol):
    def search(self, rgb: Any) -> list[tuple[float, float, float, float]]: ...

    def close(self) -> None: ...


def _area(b: tuple[float, float, float, float]) -> float:
    return b[2] * b[3]


def is_self_view(face: tuple[float, float, float, float], largest: float, width: int, height: int, alone: bool) -> bool:
    cx, cy = face[0] + face[2] / 2, face[1] + face[3] / 2
    corner = (cx < 0.25 * width or cx > 0.75 * width) and (cy < 0.25 * height or cy > 0.75 * height)
    if not corner:
        return False
    if alone:
        return face[3] < 0.12 * height
    return _area(face) < 0.5 * largest


def choose_remote(
    faces: list[tuple[float, float, float, float]], width: int, height: int
) -> tuple[float, float, float, float] | None:
    """The face to coach on: the largest one that is not the self-view (None when there is none)."""
    if not faces:
        return None
    largest = max(_area(f) for f in faces)
    alone = len(faces) == 1
    others = [f for f in faces if not is_self_view(f, largest, width, height, alone)]
    return max(others, key=_area) if others else None


def _inside(face: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> bool:
    cx, cy = face[0] + face[2] / 2, face[1] + face[3] / 2
    return box[0] <= cx <= box[0] + box[2] and box[1] <= cy <= box[1] + box[3]


def choose_remote_matched(
    faces: list[tuple[float, float, float, float]], image: np.ndarray, reference: SelfViewReference
) -> tuple[tuple[float, float, float, float] | None, bool]:
    """(the largest face that is not the user's, True) when one face matches the webcam; (None, False) when
    none does clearly, and the size-and-place heuristic must decide."""
    from callcoach.vision.selfview import match_self_view, self_view_area

    match = match_self_view(faces, image, reference)
    if match is None:
        return None, False
    index, mirrored = match
    mine = self_view_area(faces[index], reference, mirrored)
    others = [f for i, f in enumerate(faces) if i != index and not _inside(f, mine)]
    return (max(others, key=_area) if others else None), True


def tile_around(face: tuple[float, float, float, float], width: int, height: int) -> Box:
    """A capture box (monitor-relative pixels) centred on ``face``, clamped to the monitor."""
    w = min(width, max(MIN_TILE, round(face[2] * TILE_W)))
    h = min(height, max(MIN_TILE, round(face[3] * TILE_H)))
    cx, cy = face[0] + face[2] / 2, face[1] + face[3] / 2
    x = min(max(0, round(cx - w / 2)), width - w)
    y = min(max(0, round(cy - h / 2)), height - h)
    return (x, y, w, h)


def _default_finder() -> Finder:
    from callcoach.vision.finder import FaceFinder

    return FaceFinder()


class AutoLockSource(LiveHooks):
    """Frames of the remote speaker's tile on monitor ``monitor``; ``t_s`` is ``time.monotonic()``."""

    kind: SourceKind = "screen"

    def __init__(
        self,
        monitor: int = 1,
        fps: float = LIVE_FPS,
        *,
        lost_after_s: float = 2.0,
        scan_interval_s: float = 1.0,
        finder_factory: Callable[[], Finder] = _default_finder,
        self_view: SelfViewReference | None = None,
    ) -> None:
        self.fps = float(fps)
        self.frame_count: int | None = None
        self.lost_after_s = lost_after_s
        self.scan_interval_s = scan_interval_s
        self._finder_factory = finder_factory
        with open_mss() as sct:
            monitors = sct.monitors
            if not 0 <= monitor < len(monitors):
                raise UsageError(f"there is no monitor {monitor}: this screen has monitors 1..{len(monitors) - 1}")
            self.screen = monitor_box(monitors[monitor])
        self.name = f"auto (monitor {monitor})"
        #: The locked tile in screen coordinates, None while scanning; ``locks`` counts (re-)locks.
        self.region: Box | None = None
        self.locks = 0
        #: The user's webcam signatures (--vcam): the self-view is recognised by matching them.
        self.self_view = self_view
        #: Scans in which a face matched the webcam and was set aside; ``rechecks``: scans made because
        #: the reference became ready after a lock.
        self.self_view_matches = 0
        self.rechecks = 0
        self._lock_had_reference = False  # the current lock was chosen with a ready reference
        self._stop = threading.Event()
        self._waiting: tuple[LiveState, str] | None = ("no_face", "scanning the screen for a face")
        self._locked_at = 0.0
        self._last_face_t = 0.0
        self._last_feedback_t = 0.0

    @property
    def waiting(self) -> tuple[LiveState, str] | None:
        return self._waiting

    def feedback(self, t_s: float, faces: int) -> None:
        """From the runner: an analysed frame captured at ``t_s`` had ``faces`` faces."""
        if t_s < self._locked_at:
            return  # a frame of the previous tile
        self._last_feedback_t = t_s
        if faces:
            self._last_face_t = t_s

    def _lost(self) -> bool:
        # Measured on analysed frames' capture times, so slow model loading never looks like a lost face.
        return self._last_feedback_t - self._last_face_t > self.lost_after_s

    def _recheck_due(self) -> bool:
        return self.self_view is not None and not self._lock_had_reference and self.self_view.ready

    def _scan(self, sct: Any, finder: Finder) -> Box | None:
        x0, y0, width, height = self.screen
        image = grab(sct, self.screen)
        faces = finder.search(image)
        reference = self.self_view if self.self_view is not None and self.self_view.ready else None
        self._lock_had_reference = reference is not None
        face, matched = choose_remote_matched(faces, image, reference) if reference is not None else (None, False)
        self.self_view_matches += matched
        if not matched:
            face = choose_remote(faces, width, height)
        if face is None:
            return None
        x, y, w, h = tile_around(face, width, height)
        return (x0 + x, y0 + y, w, h)

    def frames(self) -> Iterator[Frame]:
        finder = self._finder_factory()
        try:
            with open_mss() as sct:
                yield from self._capture(sct, finder)
        finally:
            finder.close()

    def _capture(self, sct: Any, finder: Finder) -> Iterator[Frame]:
        period = 1.0 / self.fps
        due = time.monotonic()
        last_scan = -1e9
        index = 0
        while not self._stop.is_set():
            if self.region is not None and self._lost():
                self.region = None
                self._waiting = ("no_face", "the face left its tile: scanning the screen again")
            if self.region is not None and self._recheck_due():
                self.rechecks += 1
                matches = self.self_view_matches
                region = self._scan(sct, finder)  # once: _scan marks the lock as made with the reference
                if region is None and self.self_view_matches > matches:  # the only face was the user's own
                    self.region = None
                    self._waiting = ("no_face", "only your own video is on the screen: scanning for the other person's")
                elif region is not None and region != self.region:
                    self.region, self.locks = region, self.locks + 1
                    self._locked_at = self._last_face_t = self._last_feedback_t = time.monotonic()
            if self.region is None:
                if time.monotonic() - last_scan < self.scan_interval_s:
                    self._stop.wait(0.05)
                    continue
                last_scan = time.monotonic()
                region = self._scan(sct, finder)
                if region is None:
                    if self._waiting is None:
                        self._waiting = ("no_face", "scanning the screen for the other person's video")
                    continue
                self.region, self.locks = region, self.locks + 1
                self._locked_at = self._last_face_t = self._last_feedback_t = time.monotonic()
                self._waiting = None
                due = time.monotonic()
            due = pace(due, period, self._stop)
            if self._stop.is_set():
                return
            t = time.monotonic()
            yield Frame(index=index, t_s=t, image=grab(sct, self.region))
            index += 1

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()
