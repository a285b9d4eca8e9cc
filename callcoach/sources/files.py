"""File sources: a video, a folder of frames, or one image. They yield every frame, never drop one.

OpenCV is imported inside the functions that need it so that importing ``callcoach.sources`` (and so
``callcoach --help``) stays cheap. Every OpenCV or OS failure is translated into a one-line
``SourceError`` that names the path and says what to do about it.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from callcoach.errors import SourceError, UsageError
from callcoach.sources.base import Frame, SourceKind
from callcoach.sources.checks import (
    PathKind,
    check_image_pixels,
    image_format,
    is_text_document,
    path_kind,
    read_image_file,
)
from callcoach.sources.stream import open_fifo_capture

IMAGE_SUFFIXES: frozenset[str] = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})

#: Used when a video's metadata has no usable rate and for image folders without --fps.
DEFAULT_FPS = 30.0

_VIDEO_FIX = "convert it to MP4 (H.264) or pass a folder of PNG/JPEG frames"
_IMAGE_FIX = "re-export it as PNG or JPEG"


def _cv2() -> ModuleType:
    # FFmpeg writes its own complaints ("moov atom not found") straight to stderr, which would break the
    # one-line error contract; we report failures ourselves. Read lazily by OpenCV at the first capture,
    # so setting them here works even when cv2 is already imported. setdefault keeps them overridable.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    try:
        import cv2
    except ImportError as exc:  # a broken OpenCV install is a source problem for the user to fix
        raise SourceError(f"OpenCV (cv2) cannot be imported: {exc}; reinstall opencv-contrib-python") from exc
    return cv2


def _natural_key(name: str) -> tuple[tuple[Any, ...], str]:
    # re.split with a capture group alternates text/digits, so ints and strs never meet at one position.
    parts = re.split(r"(\d+)", name.lower())
    key = tuple(int(p) if i % 2 else p for i, p in enumerate(parts))
    return key, name


def _check_readable(path: Path) -> PathKind:
    """Fail early, with the path in the message, instead of letting OpenCV return an anonymous None.

    A FIFO is not touched here: it can be opened only once, by the video source itself.
    """
    kind = path_kind(path)
    try:
        if kind == "dir":
            os.listdir(path)
        elif kind == "file":
            with path.open("rb") as fh:
                empty = not fh.read(1)
            if empty:
                # OpenCV would only say it cannot open the file, and the hint would then be to convert it.
                raise SourceError(f"'{path}' is empty (0 bytes); re-export it or pick another file")
    except PermissionError as exc:
        raise SourceError(f"permission denied: '{path}' (make it readable, e.g. chmod a+r)") from exc
    except OSError as exc:
        raise SourceError(f"cannot read '{path}': {exc.strerror or exc}") from exc
    return kind


def _to_rgb(cv2: ModuleType, bgr: np.ndarray) -> np.ndarray:
    # OpenCV decodes to BGR; vision and every model downstream expect RGB, C-contiguous uint8.
    if bgr.ndim == 2:
        rgb = cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
    elif bgr.shape[2] == 4:
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGRA2RGB)
    else:
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def read_image(path: Path) -> np.ndarray:
    """Decode one image file to RGB, or raise a SourceError naming it. Its size in pixels is checked from
    the header first, so an image that would not fit in memory is refused before it is decoded."""
    _check_readable(path)
    data = read_image_file(path)
    check_image_pixels(path, data)
    cv2 = _cv2()
    try:
        # imdecode instead of imread: imread silently returns None on non-ASCII paths on some platforms.
        bgr = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except (cv2.error, ValueError) as exc:
        # OpenCV's own text is an internal assertion ("(-215:Assertion failed) ..."): no use to the user.
        raise SourceError(f"cannot decode image '{path}' (corrupt or unsupported format); {_IMAGE_FIX}") from exc
    if bgr is None or bgr.size == 0:
        raise SourceError(f"cannot decode image '{path}' (corrupt or unsupported format); {_IMAGE_FIX}")
    return _to_rgb(cv2, bgr)


#: A video may decode this many frames fewer than its header lists (or this share of them) and still count as
#: complete; see ``VideoFileSource._check_complete``.
_SHORT_FRAMES = 5
_SHORT_SHARE = 0.03


def _sane_fps(value: float) -> float | None:
    return value if math.isfinite(value) and 0.0 < value <= 1000.0 else None


def truncation(path: Path, read: int, expected: int | None, kept: str) -> SourceError | None:
    """The error for a video whose frames stopped after ``read`` of the ``expected`` its header lists, or None
    if that is not short. Some containers count a few frames the decoder never returns (edit lists, trailing
    B-frames; one test clip lists 98 and decodes 95), hence the margin. ``kept`` says what became of the
    frames read (analyze summarises them; live has coached on them)."""
    if expected is None or expected - read <= max(_SHORT_FRAMES, _SHORT_SHARE * expected):
        return None
    return SourceError(
        f"'{path}' stopped after {read} of the {expected} frames its header lists "
        f"(the file is truncated or damaged); {kept}; copy or export the video again"
    )


class VideoFileSource:
    """Every frame of a video file, decoded by OpenCV.

    Timestamps come from the container (``CAP_PROP_POS_MSEC``) while they increase, which keeps
    variable-frame-rate phone clips honest; otherwise ``index / fps``. An explicit ``fps`` overrides both.
    """

    kind: SourceKind = "video"

    def __init__(self, path: str | Path, fps: float | None = None) -> None:
        self.path = Path(path)
        self.name = str(path)
        self._fps_override = None if fps is None else _validate_fps(fps)
        self._fd: int | None = None  # a FIFO's one descriptor, read by FFmpeg; closed with the capture
        self._is_pipe = False
        cap = self._open()
        try:
            meta_fps = _sane_fps(float(cap.get(_cv2().CAP_PROP_FPS) or 0.0))
            count = float(cap.get(_cv2().CAP_PROP_FRAME_COUNT) or 0.0)
            # Probe the first frame now: a text file named .mp4 may "open" but never decode.
            first = self._read(cap)
        except BaseException:
            self._release(cap)
            raise
        if first is None:
            self._release(cap)
            raise SourceError(f"'{path}' is not a readable video or image (no frame could be decoded); {_VIDEO_FIX}")
        self.fps: float = self._fps_override or meta_fps or DEFAULT_FPS
        self.frame_count: int | None = int(count) if math.isfinite(count) and count >= 1 else None
        self.width = int(first[0].shape[1])
        self.height = int(first[0].shape[0])
        self._cap: Any = cap
        self._first: tuple[np.ndarray, float] | None = first

    def _open(self) -> Any:
        kind = _check_readable(self.path)
        if kind == "dir":
            raise SourceError(
                f"'{self.path}' is a folder, not a video; 'callcoach analyze' reads a folder of images in name order"
            )
        if kind == "file" and is_text_document(self.path):
            raise SourceError(
                f"'{self.path}' is not a readable video or image (a '{self.path.suffix}' file holds text); "
                "pass a video file, an image or a folder of images"
            )
        cv2 = _cv2()
        if kind == "fifo":
            if self._is_pipe:
                raise SourceError(
                    f"the pipe '{self.path}' can be read only once; save the video to a file to read it again"
                )
            cap, self._fd = open_fifo_capture(cv2, self.path)
            self._is_pipe = True
            return cap
        try:
            cap = cv2.VideoCapture(str(self.path))
        except cv2.error as exc:
            raise SourceError(f"OpenCV cannot open '{self.path}' ({exc}); {_VIDEO_FIX}") from exc
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"'{self.path}' is not a readable video or image (OpenCV cannot open it); {_VIDEO_FIX}")
        return cap

    def _read(self, cap: Any) -> tuple[np.ndarray, float] | None:
        cv2 = _cv2()
        try:
            ok, bgr = cap.read()
        except cv2.error as exc:
            raise SourceError(f"OpenCV failed while decoding '{self.path}' ({exc}); {_VIDEO_FIX}") from exc
        if not ok or bgr is None or bgr.size == 0:
            return None
        return _to_rgb(cv2, bgr), float(cap.get(cv2.CAP_PROP_POS_MSEC) or 0.0) / 1000.0

    def frames(self) -> Iterator[Frame]:
        item = self._first
        self._first = None
        if item is None:  # a second pass: start again from the top rather than share a half-read capture
            self.close()
            self._cap = self._open()
            item = self._read(self._cap)
        cap = self._cap
        try:
            index, last_t = 0, -1.0
            step = 1.0 / self.fps
            while item is not None:
                image, pos_s = item
                if self._fps_override is not None:
                    t = index * step
                elif math.isfinite(pos_s) and pos_s > last_t:
                    t = pos_s
                else:  # some backends report 0 or go backwards: fall back to the nominal rate, keep monotonic
                    t = last_t + step if index else 0.0
                yield Frame(index=index, t_s=t, image=image)
                index, last_t = index + 1, t
                item = self._read(cap)
            if self._cap is cap:  # not when close() ended the pass on purpose
                self._check_complete(index)
        finally:
            self._release(cap)

    def _check_complete(self, read: int) -> None:
        """A file whose frames stop well short of the count in its header is truncated or damaged: say so,
        so the summary says ``"complete": false``."""
        damage = truncation(self.path, read, self.frame_count, "the results cover the frames read")
        if damage is not None:
            raise damage

    def _release(self, cap: Any) -> None:
        cap.release()
        if self._fd is not None and cap is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def close(self) -> None:
        """Release the capture; safe to call twice, and also ends a pass that is still being read."""
        if self._cap is not None:
            self._release(self._cap)
            self._cap = None
        self._first = None


class ImageDirSource:
    """Every image in a folder, in natural name order (frame2 before frame10), at ``t = i / fps``."""

    kind: SourceKind = "images"

    def __init__(self, path: str | Path, fps: float = DEFAULT_FPS) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.fps = _validate_fps(fps)
        _check_readable(self.path)
        if not self.path.is_dir():
            raise SourceError(f"'{path}' is not a directory of images")
        try:
            entries = list(self.path.iterdir())
        except PermissionError as exc:
            raise SourceError(f"permission denied: '{path}' (make it readable, e.g. chmod a+rx)") from exc
        # Hidden files are skipped: macOS leaves "._frame1.jpg" resource forks that are not images.
        images = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")]
        files = [p for p in images if p.is_file()]
        self.files: list[Path] = sorted(files, key=lambda p: _natural_key(p.name))
        if not self.files:
            exts = ", ".join(sorted(IMAGE_SUFFIXES))
            raise SourceError(f"'{path}' contains no images ({exts}); pass a video or a folder of frames")
        self.frame_count: int | None = len(self.files)

    def frames(self) -> Iterator[Frame]:
        for i, file in enumerate(self.files):
            yield Frame(index=i, t_s=i / self.fps, image=read_image(file))

    def close(self) -> None:
        """Nothing is held open between frames."""


class ImageSource:
    """A single image as a one-frame source at t = 0."""

    kind: SourceKind = "image"

    def __init__(self, path: str | Path, fps: float = DEFAULT_FPS) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.fps = _validate_fps(fps)
        self.frame_count: int | None = 1
        # Decode now so a corrupt file fails at open time, like the other sources.
        self._image = read_image(self.path)

    def frames(self) -> Iterator[Frame]:
        yield Frame(index=0, t_s=0.0, image=self._image)

    def close(self) -> None:
        """Nothing is held open."""


def _validate_fps(fps: float) -> float:
    if not (isinstance(fps, int | float) and math.isfinite(fps) and fps > 0):
        raise UsageError(f"--fps must be a positive number of frames per second, got {fps}")
    return float(fps)


def open_source(path: str | Path, fps: float | None = None) -> VideoFileSource | ImageDirSource | ImageSource:
    """Open whatever ``path`` is: a folder of frames, an image, or a video (checked by decoding a frame)."""
    if fps is not None:
        _validate_fps(fps)
    p = Path(path)
    kind = _check_readable(p)
    if kind == "dir":
        return ImageDirSource(p, fps if fps is not None else DEFAULT_FPS)
    if kind == "fifo":  # read once, as a stream (FFmpeg also reads images from a pipe)
        return VideoFileSource(p, fps)
    if p.suffix.lower() in IMAGE_SUFFIXES or image_format(p) is not None:
        # An image under an unusual name is still an image: its size is checked before decoding.
        return ImageSource(p, fps if fps is not None else DEFAULT_FPS)
    return VideoFileSource(p, fps)
