"""Immutable snapshots the live runner publishes; the UI and the headless writer only ever see these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

LiveState = Literal[
    "starting",  # opening the source, loading models
    "calibrating",  # a face is locked, its baseline is not ready yet
    "locked",  # coaching: a face is locked and its baseline is ready
    "no_face",  # frames arrive but no face is in them
    "unreadable",  # a face, but lighting or pose too poor to read reliably
    "paused",  # the user paused coaching
    "blank",  # frames are black or uniform (Wayland, missing screen-recording permission)
    "source_lost",  # the window closed, the camera was unplugged, the file ended
    "error",
]


@dataclass(frozen=True)
class LiveStatus:
    t_s: float
    source: str
    state: LiveState
    #: One line in plain words for the status bar (what is happening and, if needed, what to do).
    message: str
    baseline_progress: float = 0.0
    fps: float = 0.0
    #: Capture-to-panel latency of recent frames, milliseconds (None before the first analysed frame).
    latency_ms_p95: float | None = None
    dropped_frames: int = 0
    faces: int = 0
