"""A scratch folder for the vision libraries' import-time caches, gone as soon as the import is done.

matplotlib (imported by MediaPipe, and by the HTML report) builds a font cache in its config folder on first
import. The product promises no writes outside the session store, so the caches go to a folder in the temp
directory that is removed right after the import, not at exit: a process killed later (SIGKILL, SIGTERM)
leaves nothing behind. A process killed during an import can still leave one; the folder name carries the
pid, and each start removes the folders of processes that are gone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from callcoach.privacy.switches import apply_offline_environment, without_unused_imports

PREFIX = "callcoach-libs-"
_NAME = re.compile(re.escape(PREFIX) + r"(\d+)-")
_CACHE_VARS = ("XDG_CACHE_HOME", "MPLCONFIGDIR")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process there
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x00100000, False, pid)  # SYNCHRONIZE
        if not handle:
            return False
        try:
            return bool(kernel32.WaitForSingleObject(handle, 0) == 0x102)  # WAIT_TIMEOUT: still running
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def stale_folders(tmp: str | None = None) -> list[Path]:
    """This user's scratch folders whose process is gone."""
    base = Path(tmp or tempfile.gettempdir())
    found = []
    uid = os.getuid() if hasattr(os, "getuid") else None
    try:
        entries = list(base.iterdir())
    except OSError:
        return []
    for entry in entries:
        match = _NAME.match(entry.name)
        if not match or int(match.group(1)) == os.getpid():
            continue
        try:
            st = entry.lstat()
        except OSError:
            continue
        if not entry.is_dir() or entry.is_symlink() or (uid is not None and st.st_uid != uid):
            continue
        if not _pid_alive(int(match.group(1))):
            found.append(entry)
    return found


def remove_stale(tmp: str | None = None) -> list[Path]:
    removed = stale_folders(tmp)
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


@contextlib.contextmanager
def contained_caches() -> Iterator[None]:
    """Around the import of MediaPipe, onnxruntime or matplotlib: caches go to a scratch folder, removed after.

    Also applies the offline environment (telemetry off) and keeps unused imports out, so that library use
    outside the CLI is covered too.
    """
    apply_offline_environment()
    remove_stale()
    scratch = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
    saved = {name: os.environ.get(name) for name in _CACHE_VARS}
    os.environ["XDG_CACHE_HOME"] = scratch
    # A user's own MPLCONFIGDIR is respected; it is theirs.
    os.environ.setdefault("MPLCONFIGDIR", scratch)
    try:
        with without_unused_imports():
            yield
    finally:
        # matplotlib has resolved its folders by now (they are cached); restoring the variables keeps a later
        # first import from re-creating a removed folder.
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(scratch, ignore_errors=True)
