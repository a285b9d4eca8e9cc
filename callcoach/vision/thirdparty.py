"""Keep the vision libraries' own caches out of the user's home.

matplotlib (imported by mediapipe) writes a config dir and a font cache on first import, and onnxruntime
writes a device id and a small database under ~/.cache on import. Neither holds frame data, but the
product promises no writes outside its session store: both are pointed at a per-process scratch
directory that is removed at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

_scratch: str | None = None


def scratch_dir() -> str:
    global _scratch
    if _scratch is None:
        _scratch = tempfile.mkdtemp(prefix="callcoach-libs-")
        atexit.register(shutil.rmtree, _scratch, ignore_errors=True)
    return _scratch


@contextlib.contextmanager
def contained_caches() -> Iterator[None]:
    """Around the import of mediapipe or onnxruntime: their caches go to the scratch directory."""
    scratch = scratch_dir()
    # matplotlib also reads MPLCONFIGDIR after import, so it stays set for the process.
    os.environ.setdefault("MPLCONFIGDIR", scratch)
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = scratch
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved
