"""What a path is, and what an image will cost, decided before anything is opened twice or decoded.

A FIFO must be opened exactly once (a second open waits for a writer that already left); a symlink loop is
not a missing file; an image's size in pixels is in its header, so a 2 MB PNG that would decode to
25,000 x 25,000 pixels (several GB) is refused from its first bytes.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import warnings
from pathlib import Path
from typing import Literal

from callcoach.errors import SourceError

#: The most pixels one image may have (a 48-megapixel phone photo is well within it). Decoding costs about
#: 10 bytes a pixel on the way to the RGB frame, so this bounds one image at about 1 GB of memory.
MAX_IMAGE_PIXELS = 100_000_000
#: Image files are read whole before decoding; the largest sane PNG of MAX_IMAGE_PIXELS is far below this.
MAX_IMAGE_BYTES = 512 * 1024 * 1024

PathKind = Literal["dir", "file", "fifo"]


def path_kind(path: Path) -> PathKind:
    """``dir``, ``file`` or ``fifo``; anything else (missing, a loop, a device, a socket) is a SourceError."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            target = os.readlink(path)
            raise SourceError(
                f"'{path}' is a symlink to '{target}', which does not exist (fix or remove the link)"
            ) from None
        raise SourceError(f"no such file or directory: '{path}' (check the path)") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceError(
                f"'{path}' is a symlink loop (a link that leads back to itself); point it at the real file"
            ) from None
        if exc.errno == errno.EACCES:
            raise SourceError(f"permission denied: '{path}' (make it readable, e.g. chmod a+r)") from None
        raise SourceError(f"cannot read '{path}': {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        return "dir"
    if stat.S_ISFIFO(info.st_mode):
        return "fifo"
    if not stat.S_ISREG(info.st_mode):
        raise SourceError(
            f"'{path}' is not a regular file (a device or socket); pass a video, an image or a folder of images"
        )
    return "file"


#: The suffixes FFmpeg's demuxer for ANSI art ("tty") claims: it renders any such file, whatever its bytes or
#: encoding, as a video of its characters, so ``analyze notes.txt`` would read "frames", find no face and
#: succeed. Other text (an HLS playlist, an FFmpeg concat list, an ASCII PGM) is real media to FFmpeg.
TEXT_DOCUMENT_SUFFIXES = frozenset({".txt", ".nfo", ".asc", ".ans", ".art", ".diz", ".ice", ".vt"})


def is_text_document(path: Path) -> bool:
    """True for a text document FFmpeg would play as frames: one of ``TEXT_DOCUMENT_SUFFIXES``, unless the
    file is an FFmpeg concat list (``ffconcat version 1.0``), which FFmpeg reads as the videos it lists."""
    if path.suffix.lower() not in TEXT_DOCUMENT_SUFFIXES:
        return False
    with path.open("rb") as fh:
        head = fh.read(64)
    return not head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"ffconcat")


def read_image_file(path: Path) -> bytes:
    """The bytes of an image file, read once; empty and absurdly large files are refused by name."""
    try:
        size = os.stat(path).st_size
        if size == 0:
            raise SourceError(f"'{path}' is empty (0 bytes); re-export the image or pick another file")
        if size > MAX_IMAGE_BYTES:
            raise SourceError(
                f"'{path}' is {size / 2**20:.0f} MB, over the {MAX_IMAGE_BYTES // 2**20} MB limit "
                "for one image; scale it down or save it as JPEG"
            )
        with open(path, "rb") as fh:
            return fh.read(MAX_IMAGE_BYTES + 1)
    except PermissionError:
        raise SourceError(f"permission denied: '{path}' (make it readable, e.g. chmod a+r)") from None
    except OSError as exc:
        raise SourceError(f"cannot read '{path}': {exc.strerror or exc}") from None


def check_image_pixels(path: Path, data: bytes) -> None:
    """Refuse an image whose header promises more than ``MAX_IMAGE_PIXELS``, without decoding it.

    Pillow's ``Image.open`` reads only the header. A file Pillow cannot identify is left to OpenCV, which
    says whether it can decode it.
    """
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with mediapipe's matplotlib and is a dependency
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except Image.DecompressionBombError as exc:
        # Pillow's own bound (about 179 megapixels) is past ours, so this is over the limit too; its message
        # carries the header's pixel count.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f" ({int(found.group(1)) / 1e6:.0f} megapixels)" if found else ""
        raise SourceError(
            f"'{path}' is too large{size}, over the {MAX_IMAGE_PIXELS // 1_000_000}-megapixel limit "
            "for one image; scale it down (e.g. to 4000 pixels on the long side)"
        ) from None
    # Not an image Pillow knows, or a damaged header: OpenCV decides. Pillow turns its plugins' parse errors
    # into UnidentifiedImageError (an OSError); a header with impossible values raises ValueError.
    except (OSError, ValueError, EOFError):
        return
    if width * height > MAX_IMAGE_PIXELS:
        raise SourceError(
            f"'{path}' is {width} x {height} pixels ({width * height / 1e6:.0f} megapixels), over "
            f"the {MAX_IMAGE_PIXELS // 1_000_000}-megapixel limit for one image; scale it down "
            "(e.g. to 4000 pixels on the long side)"
        )


#: Still-image formats OpenCV decodes, as Pillow names them.
_IMAGE_FORMATS = frozenset({"PNG", "JPEG", "BMP", "WEBP", "TIFF"})


def image_format(path: Path) -> str | None:
    """The still-image format ``path`` holds, judged from its header (None for videos and the unknown)."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                name = image.format
    except Image.DecompressionBombError:
        return "image"  # an image, and a huge one: read_image names the limit
    except (OSError, ValueError, EOFError):  # not an image Pillow knows (a video, say), or unreadable (as above)
        return None
    return name if name in _IMAGE_FORMATS else None
