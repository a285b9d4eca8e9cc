"""Blank frames: black or a single colour, where screen capture fails without raising an error.

mss on a Wayland session (through XWayland) and on macOS without the Screen Recording permission returns
frames instead of failing: black ones, or the wallpaper without any window. A coach that runs the face
models on those says "no face" and lets the user believe it is watching the call. Black and uniform frames
are caught here and reported with what to do on this platform. Wallpaper-only frames are not uniform and
are not caught; they show up as "no face" (docs/live.md says so).

The test is on a subsample of about 48 x 85 pixels (a fraction of a millisecond), with a little hysteresis so one dark
frame during a scene cut does not flip the state.
"""

from __future__ import annotations

import os
import sys

import numpy as np

#: A frame is blank when no colour channel spreads more than this (standard deviation, 0..255 levels).
UNIFORM_STD = 3.0
#: Consecutive blank frames (or seconds, whichever is longer) before the state turns to blank.
ENTER_FRAMES = 5
ENTER_S = 0.3


def is_blank(image: np.ndarray) -> bool:
    """True for an all-black or single-colour frame (a solid fill, a covered lens, a failed capture)."""
    if image.size == 0:
        return True
    step = max(4, min(image.shape[0], image.shape[1]) // 48)  # about 48 x 85 samples whatever the size
    sample = image[::step, ::step].reshape(-1, image.shape[2] if image.ndim == 3 else 1)
    # Per channel: a solid colour has three different channel levels but no spread within any of them.
    return float(sample.std(axis=0).max()) < UNIFORM_STD


def blank_message(source_kind: str, mean_level: float | None = None) -> str:
    """What the blank frames most likely mean on this platform, and what to do about it."""
    black = mean_level is not None and mean_level < 8
    what = "black" if black else "a single colour"
    if source_kind == "camera":
        return f"the camera sends {what} frames: is the lens covered, or the camera in use by another app?"
    if source_kind == "video":
        return f"the video shows {what} frames here: nothing to coach until a picture returns"
    if sys.platform == "darwin":
        return (
            f"captured frames are {what}: macOS needs the Screen Recording permission for this terminal "
            "(System Settings > Privacy & Security > Screen Recording), then restart the terminal"
        )
    if sys.platform == "win32":
        return (
            f"captured frames are {what}: the window may be minimised, or the app blocks screen capture; "
            "keep the call window visible, or try --monitor N"
        )
    if os.environ.get("WAYLAND_DISPLAY"):
        return (
            f"captured frames are {what}: this is a Wayland session, where X11 capture only sees XWayland "
            "windows; log in with an X11/Xorg session, or use --camera N or --video FILE"
        )
    return (
        f"captured frames are {what}: is the call window covered or minimised, or the other person's camera "
        "off? Nothing is coached on a blank picture"
    )


class BlankDetector:
    """Tracks whether the recent frames are blank, with hysteresis in both directions."""

    def __init__(self, source_kind: str = "screen") -> None:
        self.source_kind = source_kind
        self.blank = False
        self._run = 0
        self._since: float | None = None
        self._clear = 0
        self.level = 0.0
        #: The last frame itself was blank (vision skips it even before the state turns to blank).
        self.last_frame_blank = False

    def update(self, image: np.ndarray, t_s: float) -> bool:
        """Feed one frame; returns whether the source is currently considered blank."""
        self.last_frame_blank = is_blank(image)
        if self.last_frame_blank:
            self._clear = 0
            self._run += 1
            if self._since is None:
                self._since = t_s
                self.level = float(image[::16, ::16].mean()) if image.size else 0.0
            if self._run >= ENTER_FRAMES and t_s - self._since >= ENTER_S:
                self.blank = True
        else:
            self._run, self._since = 0, None
            self._clear += 1
            if self._clear >= 2:  # two good frames in a row: a picture is back
                self.blank = False
        return self.blank

    @property
    def message(self) -> str:
        return blank_message(self.source_kind, self.level)
