"""Frame sources. ``open_source`` picks the right file source for a path.

Importing this package does not import OpenCV; the file sources load it when they open something.
"""

from callcoach.sources.base import Frame, FrameSource, SourceKind
from callcoach.sources.files import (
    DEFAULT_FPS,
    IMAGE_SUFFIXES,
    ImageDirSource,
    ImageSource,
    VideoFileSource,
    open_source,
    read_image,
)

__all__ = [
    "DEFAULT_FPS",
    "IMAGE_SUFFIXES",
    "Frame",
    "FrameSource",
    "ImageDirSource",
    "ImageSource",
    "SourceKind",
    "VideoFileSource",
    "open_source",
    "read_image",
]
