"""Keep native libraries off the user's terminal for the whole life of a ``callcoach`` process.

MediaPipe (glog, LiteRT, XNNPACK) and onnxruntime write straight to file descriptor 2, from their own
threads, at any moment (model load, the first frame of each size, closing). A redirect around the calls we
know about cannot catch them all, and a temporary one swallows our own messages written meanwhile (and an
error at the wrong moment left fd 2 pointing at /dev/null for good). So, once, at start-up:

- the real terminal (fd 2) is duplicated to a private descriptor, and ``sys.stderr`` and ``sys.__stderr__``
  (which Textual draws on, and which Rich and our own error lines write to) are rebuilt on that descriptor;
- fd 2 itself is pointed at ``native.log`` in the user's log folder (``CALLCOACH_LOG_DIR`` moves it),
  or at /dev/null when that cannot be written.

fd 1 is left alone: measured on this machine, the native libraries write nothing there (docs/reliability.md),
and ``--headless`` jsonl must reach whatever reads stdout untouched. Child processes inherit fd 2 (the log);
the commands that capture start none.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

LOG_DIR_ENV = "CALLCOACH_LOG_DIR"
LOG_NAME = "native.log"
#: A log bigger than this is moved to native.log.1 at the next start, so it never grows without bound.
_ROTATE_BYTES = 1_000_000

_installed: Path | None = None


def log_dir() -> Path:
    override = os.environ.get(LOG_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_log_dir("callcoach"))


def _open_log() -> tuple[int, Path]:
    """A write-only descriptor on the native log (rotated when big), or on /dev/null if it cannot be had."""
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = folder / LOG_NAME
        try:
            if path.stat().st_size > _ROTATE_BYTES:
                os.replace(path, path.with_name(LOG_NAME + ".1"))
        except FileNotFoundError:
            pass
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return fd, path
    except OSError:
        return os.open(os.devnull, os.O_WRONLY), Path(os.devnull)


def capture_native_output() -> Path | None:
    """Point fd 2 at the native log and keep ``sys.stderr`` on the terminal; returns the log's path.

    Once per process; a no-op (None) when stderr is not file descriptor 2 (pytest, an embedding program),
    since then fd 2 is not ours to move.
    """
    global _installed
    if _installed is not None:
        return _installed
    try:
        if sys.stderr is None or sys.stderr.fileno() != 2:
            return None
    except (AttributeError, OSError, ValueError):
        return None
    # Before any native library loads: keep glog's own chatter down too (the log gets the warnings).
    os.environ.setdefault("GLOG_minloglevel", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    private = os.dup(2)  # not inheritable (PEP 446): child processes never get the real terminal by this way
    stream = io.TextIOWrapper(
        io.FileIO(private, "w", closefd=True),
        encoding=sys.stderr.encoding or "utf-8",
        errors="backslashreplace",
        line_buffering=True,
        write_through=True,
    )
    log_fd, path = _open_log()
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.stderr = stream
    sys.__stderr__ = stream  # type: ignore[misc]  # Textual draws on sys.__stderr__: it must be the terminal
    _installed = path
    return path


def native_log() -> Path | None:
    """Where native output goes in this process (None when it was not captured)."""
    return _installed
