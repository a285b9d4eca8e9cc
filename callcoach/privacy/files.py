"""The session store and its folder, private to the user: 0700 for the folder, 0600 for the files (POSIX).

SQLite creates a database with 0644 (less the umask) and gives its -wal and -shm files the database's own
mode, so creating the empty database file with 0600 first is enough for all three. On Windows the user's
profile folders are already private by their ACLs; ``chmod`` there only toggles read-only, so nothing is done.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600
_SIDE_FILES = ("-wal", "-shm", "-journal")


def _posix() -> bool:
    return sys.platform != "win32"


def private_store(db: Path, *, tighten_existing_folder: bool) -> None:
    """Create ``db``'s folder (0700) and the empty database file (0600) if missing; tighten existing files.

    An existing folder is tightened only when ``tighten_existing_folder`` (the platform's own data folder,
    which callcoach owns); a folder the user chose is theirs, and ``callcoach privacy`` reports its mode.
    """
    folder = db.parent
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # another process created it meanwhile
            folder.mkdir(mode=FOLDER_MODE)
        tighten_existing_folder = True
    if not _posix():
        return
    if tighten_existing_folder and stat.S_IMODE(folder.stat().st_mode) & 0o077:
        os.chmod(folder, FOLDER_MODE)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(db, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    for path in (db, *(db.with_name(db.name + side) for side in _SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                os.chmod(path, FILE_MODE)


def mode_of(path: Path) -> str:
    try:
        return oct(stat.S_IMODE(path.stat().st_mode))
    except OSError:
        return "missing"
