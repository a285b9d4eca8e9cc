"""The frame type and the source protocol shared by every source.

Frames carry pixels, so they never leave the sources, vision and vcam stages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

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
