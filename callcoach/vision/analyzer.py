"""What every consumer of vision needs from it: one frame in, one pixel-free observation out.

``VisionPipeline`` is the real one; tests inject scripted ones. The protocol lives in the vision stage it
describes, so the offline analysis, the live runner and the self-coach all name the same type.
"""

from __future__ import annotations

from typing import Protocol

from callcoach.sources.base import Frame
from callcoach.vision.types import FrameObservation


class FrameAnalyzer(Protocol):
    """What the analysis needs from vision: one frame in, one pixel-free observation out."""

    def observe(self, frame: Frame) -> FrameObservation: ...

    def close(self) -> None: ...
