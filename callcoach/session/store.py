"""The session store: one SQLite file of what a live session spotted, suggested and what the user marked.

What is kept is listed by the schema (``callcoach.session.schema``) and nothing else: times, cue names,
numbers, the playbook's own suggestion text and the self-coaching notes about the user's own face (also
names, times and one short line each). Never frames, pixels, face crops or landmarks.

Crash safety: WAL journal, small transactions committed by the recorder's writer at least once a second,
``synchronous=NORMAL`` (in WAL mode a killed process loses nothing that was committed; only a power cut can
lose the last commits). A session records its pid (and, on Linux, the process start time, so a reused pid
is not mistaken for the writer); on open, ``running`` sessions whose process is gone become ``recovered``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Literal

from callcoach.core.marks import NOTE_KINDS, check_mark
from callcoach.privacy.files import private_store
from callcoach.session import settings, storefaults
from callcoach.session._liveness import alive, process_started

# The records live in _rows and are re-exported: callers import them from here.
from callcoach.session._rows import CUE_FIELDS, SELF_FIELDS, SUGGESTION_FIELDS
from callcoach.session._rows import CueRecord as CueRecord
from callcoach.session._rows import MarkRecord as MarkRecord
from callcoach.session._rows import SelfNoteRecord as SelfNoteRecord
from callcoach.session._rows import SessionRow as SessionRow
from callcoach.session._rows import SuggestionRecord as SuggestionRecord

# StoreError is re-exported: callers that open a store catch it from here.
from callcoach.session.schema import MIGRATIONS, migrate
from callcoach.session.schema import StoreError as StoreError

Status = Literal["running", "ended", "recovered"]
#: The old name of ``NOTE_KINDS``, kept for the tests and callers that import it from here.
SELF_KINDS = NOTE_KINDS


class SessionNotFound(StoreError):
    pass


class SessionStore:
    """One connection, shared by the recorder's writer thread and readers behind a lock.

    Opening migrates the schema, recovers sessions left running by a dead process, and applies retention
    (``retention_days``: the setting in force unless given; None keeps everything).
    """

    _UNSET: Any = object()

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        retention_days: int | None = _UNSET,
        recover: bool = True,
        readonly: bool = False,
    ) -> None:
        self.path = Path(path) if path is not None else settings.db_path()
        days = settings.retention_days() if retention_days is self._UNSET else retention_days
        self._lock = threading.RLock()
        self._default_path = path is None
        self.readonly = readonly
        #: One line for the user when opening had to do something about the file (a damaged store moved aside).
        self.notice: str | None = None
        if readonly:
            self._open_readonly()
            return
        try:
            damage = storefaults.check_file(self.path)
            if damage is not None:
                raise storefaults.StoreDamaged(damage)
            self._open(days, recover)
        except storefaults.StoreDamaged as exc:
            # Never re-initialised in place: SQLite would make a 0-byte or foreign file a new, empty store.
            try:
                self.notice = storefaults.move_aside(self.path, exc.reason)
            except OSError as move_error:
                raise StoreError(
                    f"the session store {self.path} is damaged ({exc.reason}) and cannot be moved "
                    f"aside ({move_error.strerror or move_error}); move or delete it by hand"
                ) from exc
            try:
                self._open(days, recover)
            except storefaults.StoreDamaged as again:
                raise StoreError(f"a new session store at {self.path} is damaged too ({again.reason})") from again

    def _open_readonly(self) -> None:
        """For reading only: nothing is migrated, recovered or deleted, so a store that cannot be written
        (read-only file system, someone else's file) still shows its history."""
        try:
            self._conn = storefaults.connect_readonly(self.path)
            self._conn.row_factory = sqlite3.Row
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            what = "is damaged" if storefaults.is_damage(exc) else "cannot be read"
            raise StoreError(f"the session store {self.path} {what} ({exc})") from exc
        if version != len(MIGRATIONS):
            self._conn.close()
            newer = version > len(MIGRATIONS)
            raise StoreError(
                f"the session store {self.path} is read-only and has schema {version}, this callcoach "
                f"reads {len(MIGRATIONS)}: "
                + ("upgrade callcoach" if newer else "open it once where it can be written")
            )

    def _open(self, days: int | None, recover: bool) -> None:
        try:
            # Private to the user (0700 folder, 0600 files); only the platform's own folder is tightened.
            tighten = self._default_path and not os.environ.get(settings.DATA_DIR_ENV)
            private_store(self.path, tighten_existing_folder=tighten)
            # isolation_level=None: transactions are explicit, so nothing is left open between batches.
            self._conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the session store {self.path}: {exc}") from exc
        try:
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA busy_timeout = 10000")
            mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{self.path}: the session store needs WAL mode, the file system gave {mode!r}")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            storefaults.quick_check(self._conn)
            migrate(self._conn, str(self.path))
            if recover:
                self.recover()
            if days is not None:
                self.delete_older_than(days)
        except sqlite3.Error as exc:
            self._conn.close()
            if storefaults.is_damage(exc):
                raise storefaults.StoreDamaged(f"SQLite cannot read it ({exc})") from exc
            raise StoreError(f"{self.path}: not a usable session store ({exc})") from exc
        except BaseException:
            self._conn.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), rolled back if the block raises."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")  # may fail too (a full disk): rolled back like the block
            except BaseException:
                # SQLite may have rolled back already (SQLITE_FULL, an I/O error): a second ROLLBACK would
                # raise "no transaction is active" and hide the error that matters.
                if self._conn.in_transaction:
                    with suppress(sqlite3.Error):
                        self._conn.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # --- writing ----------------------------------------------------------------------------------------

    def begin_session(
        self,
        *,
        source_kind: str,
        source_name: str,
        context: str,
        playbook_version: str | None = None,
        started_at: float | None = None,
    ) -> int:
        now = time.time() if started_at is None else started_at
        pid = os.getpid()
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO sessions (started_at, source_kind, source_name, context, playbook_version, status,"
                " pid, pid_started, last_seen_at) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?)",
                (now, source_kind, source_name, context, playbook_version, pid, process_started(pid), now),
            )
        return int(cursor.lastrowid or 0)

    @staticmethod
    def insert_cue(conn: sqlite3.Connection, session_id: int, cue: CueRecord, recorded_at: float) -> None:
        values = tuple(getattr(cue, name) for name in CUE_FIELDS)
        conn.execute(
            f"INSERT INTO cue_events (session_id, {', '.join(CUE_FIELDS)}, recorded_at)"
            f" VALUES (?, {', '.join('?' * len(CUE_FIELDS))}, ?)",
            (session_id, *values, recorded_at),
        )

    @staticmethod
    def insert_suggestion(conn: sqlite3.Connection, session_id: int, suggestion: Any, recorded_at: float) -> int:
        """``suggestion`` is a playbook ``Suggestion`` (or anything with its fields)."""
        values = [getattr(suggestion, name) for name in SUGGESTION_FIELDS]
        values[SUGGESTION_FIELDS.index("say_nothing")] = int(bool(suggestion.say_nothing))
        supporting = ",".join(getattr(suggestion, "supporting", ()) or ())
        cursor = conn.execute(
            f"INSERT INTO suggestions (session_id, {', '.join(SUGGESTION_FIELDS)}, supporting, recorded_at)"
            f" VALUES (?, {', '.join('?' * len(SUGGESTION_FIELDS))}, ?, ?)",
            (session_id, *values, supporting, recorded_at),
        )
        return int(cursor.lastrowid or 0)

    @staticmethod
    def insert_mark(conn: sqlite3.Connection, suggestion_id: int, kind: str, t: float) -> None:
        check_mark(kind)
        conn.execute("INSERT INTO marks (suggestion_id, kind, t) VALUES (?, ?, ?)", (suggestion_id, kind, t))

    @staticmethod
    def insert_self_note(conn: sqlite3.Connection, session_id: int, note: SelfNoteRecord, recorded_at: float) -> None:
        if note.kind not in SELF_KINDS:
            raise ValueError(f"a self note is one of {', '.join(SELF_KINDS)}, not {note.kind!r}")
        values = [getattr(note, name) for name in SELF_FIELDS]
        values[SELF_FIELDS.index("remote_talking")] = int(bool(note.remote_talking))
        conn.execute(
            f"INSERT INTO self_notes (session_id, {', '.join(SELF_FIELDS)}, recorded_at)"
            f" VALUES (?, {', '.join('?' * len(SELF_FIELDS))}, ?)",
            (session_id, *values, recorded_at),
        )

    @staticmethod
    def touch(conn: sqlite3.Connection, session_id: int, seen_at: float) -> None:
        conn.execute(
            "UPDATE sessions SET last_seen_at = MAX(COALESCE(last_seen_at, 0), ?) WHERE id = ?", (seen_at, session_id)
        )

    def end_session(self, session_id: int, ended_at: float | None = None, status: Status = "ended") -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE sessions SET status = ?, ended_at = ? WHERE id = ? AND status = 'running'",
                (status, time.time() if ended_at is None else ended_at, session_id),
            )

    # --- recovery and retention -------------------------------------------------------------------------

    def _last_event_at(self, session_id: int) -> float | None:
        row = self._query(
            "SELECT MAX(t) FROM (SELECT last_seen_at AS t FROM sessions WHERE id = ?1"
            " UNION ALL SELECT MAX(recorded_at) FROM cue_events WHERE session_id = ?1"
            " UNION ALL SELECT MAX(recorded_at) FROM suggestions WHERE session_id = ?1"
            " UNION ALL SELECT MAX(recorded_at) FROM self_notes WHERE session_id = ?1"
            " UNION ALL SELECT MAX(m.t) FROM marks m JOIN suggestions s ON s.id = m.suggestion_id"
            " WHERE s.session_id = ?1)",
            (session_id,),
        )
        return None if row[0][0] is None else float(row[0][0])

    def recover(self) -> list[int]:
        """Close as ``recovered`` every running session whose process is gone; ended_at is its last event
        (the last cue, suggestion, mark, self note or status the recorder wrote). Returns their ids."""
        stale = [
            r["id"]
            for r in self._query("SELECT id, pid, pid_started, last_seen_at FROM sessions WHERE status = 'running'")
            if not alive(r["pid"], r["pid_started"], r["last_seen_at"])
        ]
        for session_id in stale:
            ended = self._last_event_at(session_id)
            self.end_session(session_id, ended_at=ended, status="recovered")
        return stale

    def delete_older_than(self, days: float, now: float | None = None) -> int:
        """Delete finished sessions that started more than ``days`` ago; a running one is never touched."""
        cutoff = (time.time() if now is None else now) - days * 86400.0
        ids = [
            r["id"]
            for r in self._query("SELECT id FROM sessions WHERE status != 'running' AND started_at < ?", (cutoff,))
        ]
        for session_id in ids:
            self.delete_session(session_id)
        return len(ids)

    def delete_session(self, session_id: int) -> bool:
        with self.transaction() as conn:
            # Explicit, not only ON DELETE CASCADE: a connection opened without foreign_keys would skip it.
            conn.execute(
                "DELETE FROM marks WHERE suggestion_id IN (SELECT id FROM suggestions WHERE session_id = ?)",
                (session_id,),
            )
            conn.execute("DELETE FROM suggestions WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM cue_events WHERE session_id = ?", (session_id,))
            conn.execute("DELETE FROM self_notes WHERE session_id = ?", (session_id,))
            return conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount > 0

    # --- reading ----------------------------------------------------------------------------------------

    _SESSION_SQL = (
        "SELECT s.id, s.started_at, s.ended_at, s.source_kind, s.source_name, s.context, s.playbook_version,"
        " s.status,"
        " (SELECT COUNT(*) FROM cue_events c WHERE c.session_id = s.id) AS cues,"
        " (SELECT COUNT(*) FROM suggestions g WHERE g.session_id = s.id) AS suggestions,"
        " (SELECT COUNT(*) FROM marks m JOIN suggestions g ON g.id = m.suggestion_id"
        "  WHERE g.session_id = s.id) AS marks,"
        " (SELECT COUNT(*) FROM self_notes n WHERE n.session_id = s.id) AS self_notes FROM sessions s"
    )

    def sessions(self, limit: int | None = None, *, up_to: int | None = None) -> list[SessionRow]:
        """Newest first; ``up_to`` keeps sessions that started no later than that one."""
        sql = self._SESSION_SQL
        params: tuple[Any, ...] = ()
        if up_to is not None:
            sql += " WHERE s.started_at <= (SELECT started_at FROM sessions WHERE id = ?)"
            params = (up_to,)
        sql += " ORDER BY s.started_at DESC, s.id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [SessionRow(**dict(r)) for r in self._query(sql, params)]

    def session(self, session_id: int) -> SessionRow:
        rows = self._query(self._SESSION_SQL + " WHERE s.id = ?", (session_id,))
        if not rows:
            raise SessionNotFound(f"no session {session_id}; 'callcoach sessions list' shows the ids")
        return SessionRow(**dict(rows[0]))

    def last_session(self) -> SessionRow | None:
        rows = self.sessions(limit=1)
        return rows[0] if rows else None

    def cue_events(self, session_id: int) -> list[CueRecord]:
        rows = self._query(
            f"SELECT {', '.join(CUE_FIELDS)} FROM cue_events WHERE session_id = ? ORDER BY apex_s, id", (session_id,)
        )
        return [CueRecord(**dict(r)) for r in rows]

    def suggestions(self, session_id: int) -> list[SuggestionRecord]:
        rows = self._query(
            f"SELECT g.id, {', '.join('g.' + f for f in SUGGESTION_FIELDS)}, g.supporting,"
            " (SELECT kind FROM marks m WHERE m.suggestion_id = g.id ORDER BY m.t DESC, m.id DESC LIMIT 1) AS mark"
            " FROM suggestions g WHERE g.session_id = ? ORDER BY g.t_s, g.id",
            (session_id,),
        )
        out = []
        for r in rows:
            record = dict(r)
            record["say_nothing"] = bool(record["say_nothing"])
            record["supporting"] = tuple(x for x in record["supporting"].split(",") if x)
            out.append(SuggestionRecord(**record))
        return out

    def marks(self, session_id: int) -> list[MarkRecord]:
        rows = self._query(
            "SELECT m.suggestion_id, m.kind, m.t FROM marks m JOIN suggestions g"
            " ON g.id = m.suggestion_id WHERE g.session_id = ? ORDER BY m.t, m.id",
            (session_id,),
        )
        return [MarkRecord(**dict(r)) for r in rows]

    def self_notes(self, session_id: int) -> list[SelfNoteRecord]:
        rows = self._query(
            f"SELECT {', '.join(SELF_FIELDS)} FROM self_notes WHERE session_id = ? ORDER BY t_s, id", (session_id,)
        )
        return [SelfNoteRecord(**{**dict(r), "remote_talking": bool(r["remote_talking"])}) for r in rows]
