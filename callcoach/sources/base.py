"""The frame type and the source protocol shared by every source.

Frames carry pixels, so they never leave the sources, vision and vcam stages.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from callcoach.core.state import LiveState

SourceKind = Literal["video", "images", "image", "screen", "window", "camera"]


@dataclass(frozen=True, eq=False)
class Frame:
    """One RGB frame (uint8, H x W x 3, C-contiguous) and when it was taken."""

    index: int
    t_s: float
    image: np.ndarray


class FrameSource(Protocol):
    """Anything that yields frames. File sources yield every frame; live sources yield the newest one."""

    kind: SourceKind
    name: str
    #: Nominal frames per second (file metadata, --fps, or the capture rate).
    fps: float
    #: Number of frames when known in advance (files), else None (live sources).
    frame_count: int | None

    def frames(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...


class Taker(Protocol):
    """The consumer side of a one-slot hand-over (``LatestFrame``), as a lossless source sees it."""

    def wait_taken(self, timeout: float | None = None) -> bool: ...


class LiveHooks:
    """The optional features a live source may offer, each with a default that does nothing.

    A source subclasses this and overrides what it supports; the runner and the capture thread call the
    methods plainly (``hooks_of(source).feedback(...)``), so mypy checks every call and a plain source
    needs none of them.
    """

    #: Every frame is analysed, repeats included (a file in ``callcoach live --video``).
    lossless: bool = False

    @property
    def waiting(self) -> tuple[LiveState, str] | None:
        """The source is alive with nothing to show right now (a minimised window, ``--auto`` still
        scanning): the state and message to publish; None otherwise."""
        return None

    def feedback(self, t_s: float, faces: int) -> None:
        """After each analysed frame (``t_s`` its capture time): how many faces were found in it."""

    def hold_until(self, ready: threading.Event) -> bool:
        """Start the source's clock only once ``ready`` is set (the models have loaded); called before
        ``frames()``. Returns True when the source does wait (a file), False when it cannot (a camera)."""
        return False

    def pace_with(self, consumer: Taker) -> None:
        """Hand a frame over only once ``consumer`` has taken the last one (a lossless source)."""

    def request_stop(self) -> None:
        """From another thread: make a blocking ``frames()`` return soon."""


#: The hooks of a source that offers none.
NO_HOOKS = LiveHooks()


def hooks_of(source: object) -> LiveHooks:
    """The source's optional features, or the defaults when it offers none."""
    return source if isinstance(source, LiveHooks) else NO_HOOKS
