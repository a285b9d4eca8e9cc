"""The session store's bad days: a damaged file, a read-only place.

- A store that is empty (0 bytes), not an SQLite file, or fails SQLite's own check is never re-initialised
  in place (SQLite would happily turn a 0-byte file into a fresh, empty store and the history would be gone
  without a word): it is renamed ``sessions.db.damaged-YYYYmmdd-HHMMSS`` (with its -wal and -shm) and a new
  store is started, with one message saying so and where the old file went.
- A store that cannot be written (read-only file system, a file the user may not write) can still be read:
  reading commands fall back to a read-only connection (``mode=ro``, then ``immutable=1`` when SQLite cannot
  even create its shared-memory file there).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

_HEADER = b"SQLite format 3\x00"
_SIDE_FILES = ("-wal", "-shm")
_DAMAGE_WORDS = ("not a database", "malformed", "corrupt", "file is encrypted")
_READONLY_WORDS = ("readonly", "read-only", "unable to open database", "attempt to write")
_READONLY_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


class StoreDamaged(Exception):
    """The store file is there but is not a usable session store; ``reason`` says how, in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_file(path: Path) -> str | None:
    """Why the file at ``path`` cannot be a session store, judged from its size and header; None when it
    may be one (or does not exist yet)."""
    try:
        size = path.stat().st_size
        if size == 0:
            return "it is empty (0 bytes)"
        with path.open("rb") as fh:
            head = fh.read(len(_HEADER))
    except FileNotFoundError:
        return None
    except OSError:
        return None  # unreadable: the open that follows says so in its own words
    if head != _HEADER:
        return "it is not an SQLite database"
    return None


def is_damage(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.DatabaseError) and any(w in str(exc).lower() for w in _DAMAGE_WORDS)


def quick_check(conn: sqlite3.Connection) -> None:
    """SQLite's own consistency check (fast: no index cross-checks); raises ``StoreDamaged`` on a failure."""
    try:
        rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    except sqlite3.DatabaseError as exc:
        raise StoreDamaged(f"SQLite cannot read it ({exc})") from exc
    found = [str(r[0]) for r in rows]
    if found != ["ok"]:
        raise StoreDamaged(f"SQLite's check failed: {'; '.join(found)[:200]}")


def move_aside(path: Path, reason: str) -> str:
    """Rename a damaged store (and its side files) out of the way; the message to show. Raises OSError."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    os.replace(path, aside)
    for suffix in _SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    return (
        f"the session store {path} was damaged ({reason}); it was moved aside to {aside} "
        "and a new, empty store was started"
    )


def is_readonly(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) says the store's file or folder cannot be written."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in _READONLY_ERRNOS:
            return True
        if isinstance(seen, sqlite3.Error) and any(w in str(seen).lower() for w in _READONLY_WORDS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that never writes: ``mode=ro``, or ``immutable=1`` when SQLite cannot create its
    shared-memory file beside the store (a read-only folder). Raises the last ``sqlite3.Error``."""
    last: sqlite3.Error | None = None
    target = quote(str(path.resolve()))
    for option in ("mode=ro", "immutable=1"):
        conn = None
        try:
            conn = sqlite3.connect(
                f"file:{target}?{option}", uri=True, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as exc:
            last = exc
            if conn is not None:
                conn.close()
            if is_damage(exc):
                break
    assert last is not None
    raise last
