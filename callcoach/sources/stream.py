"""A named pipe (FIFO) as a video stream: opened once, never waited on without a bound.

``cv2.VideoCapture(path)`` on a FIFO opens it a second time and then blocks in ``open()`` until some
writer appears, possibly forever. Here the pipe is opened once, without blocking, by us; we wait a bounded
time for the first bytes, and FFmpeg reads that same descriptor (its ``pipe:N`` input). The descriptor
stays non-blocking, so a writer that stalls ends the read after OpenCV's read timeout instead of hanging.
"""

from __future__ import annotations

import os
import select
from pathlib import Path
from types import ModuleType
from typing import Any

from callcoach.errors import SourceError

#: How long to wait for the first bytes on the pipe, and for each read after that.
PIPE_WAIT_S = 10.0


def open_fifo_capture(cv2: ModuleType, path: Path, wait_s: float = PIPE_WAIT_S) -> tuple[Any, int]:
    """``(capture, fd)`` reading the FIFO ``path``; the caller closes ``fd`` after releasing the capture."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SourceError(f"cannot read the pipe '{path}': {exc.strerror or exc}") from exc
    try:
        ready, _, _ = select.select([fd], [], [], wait_s)
        if not ready:
            raise SourceError(
                f"nothing arrived on the pipe '{path}' within {wait_s:g} s; start the program "
                "that writes the video into it, or pass a file"
            )
        timeout_ms = int(wait_s * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        try:
            cap = cv2.VideoCapture(f"pipe:{fd}", cv2.CAP_FFMPEG, params)
        except cv2.error as exc:
            raise SourceError(
                f"OpenCV cannot read the pipe '{path}'; send MP4 with its index first "
                "(ffmpeg -movflags +faststart), MPEG-TS or MJPEG"
            ) from exc
        if not cap.isOpened():
            cap.release()
            raise SourceError(
                f"the pipe '{path}' did not carry a video OpenCV can read (or the writer closed it); "
                "send MP4 with its index first (ffmpeg -movflags +faststart), MPEG-TS or MJPEG"
            )
    except BaseException:
        os.close(fd)
        raise
    return cap, fd
