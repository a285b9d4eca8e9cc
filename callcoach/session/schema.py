"""The store's schema and its migrations: ``PRAGMA user_version`` is the number of steps applied.

The columns are the whole list of what is ever kept (see docs/sessions.md): times, cue names, numbers and the
playbook's own wording. No BLOB, no landmark or pixel-like column; tests/test_session_store.py checks it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from callcoach.errors import CallcoachError


class StoreError(CallcoachError):
    """The session store cannot be opened or used; ``str()`` names the file."""


def _v1(conn: sqlite3.Connection) -> None:
    # Times: *_at are Unix seconds (wall clock); *_s are seconds since the run started, as in the jsonl.
    conn.execute("""CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,
        ended_at REAL,
        source_kind TEXT NOT NULL,
        source_name TEXT NOT NULL,
        context TEXT NOT NULL,
        playbook_version TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'ended', 'recovered')),
        pid INTEGER,
        pid_started TEXT,
        last_seen_at REAL)""")
    conn.execute("""CREATE TABLE cue_events (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        cue TEXT NOT NULL,
        emotion TEXT,
        scale TEXT NOT NULL,
        onset_s REAL NOT NULL,
        apex_s REAL NOT NULL,
        offset_s REAL,
        intensity REAL NOT NULL,
        confidence REAL NOT NULL,
        face INTEGER NOT NULL,
        latency_ms REAL,
        recorded_at REAL NOT NULL)""")
    conn.execute("CREATE INDEX cue_events_by_session ON cue_events(session_id, apex_s)")
    conn.execute("""CREATE TABLE suggestions (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t_s REAL NOT NULL,
        cue TEXT NOT NULL,
        face INTEGER NOT NULL,
        region TEXT NOT NULL,
        plain TEXT NOT NULL,
        move TEXT NOT NULL,
        repair TEXT NOT NULL,
        say_nothing INTEGER NOT NULL,
        strength TEXT NOT NULL,
        context TEXT NOT NULL,
        confidence REAL NOT NULL,
        supporting TEXT NOT NULL DEFAULT '',
        recorded_at REAL NOT NULL)""")
    conn.execute("CREATE INDEX suggestions_by_session ON suggestions(session_id, t_s)")
    conn.execute("""CREATE TABLE marks (
        id INTEGER PRIMARY KEY,
        suggestion_id INTEGER NOT NULL REFERENCES suggestions(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('helped', 'misread')),
        t REAL NOT NULL)""")
    conn.execute("CREATE INDEX marks_by_suggestion ON marks(suggestion_id)")


def _v2(conn: sqlite3.Connection) -> None:
    # Self-coaching (the user's own camera): notes about the user, kept apart from the other person's cues so
    # a summary, an export or a deletion can never mix the two faces up. ``face`` is the remote face of a
    # mirror check and NULL for a leak (the user's own face has no tracker number worth keeping).
    conn.execute("""CREATE TABLE self_notes (
        id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t_s REAL NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('leak', 'mirror_met', 'mirror_missed')),
        cue TEXT NOT NULL,
        face INTEGER,
        confidence REAL NOT NULL,
        remote_talking INTEGER NOT NULL,
        message TEXT NOT NULL,
        recorded_at REAL NOT NULL)""")
    conn.execute("CREATE INDEX self_notes_by_session ON self_notes(session_id, t_s)")


def _v3(conn: sqlite3.Connection) -> None:
    # Practice drills (callcoach.practice): a recognition run and its trials. Labels, asked and shown
    # durations, answers and times only; the stimulus pixels are never kept. Apart from ``sessions`` so that
    # session retention and deletion never touch a user's training record.
    conn.execute("""CREATE TABLE practice_runs (
        id INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,
        ended_at REAL,
        mode TEXT NOT NULL CHECK (mode IN ('emotions', 'cues')),
        seed INTEGER,
        stimuli TEXT NOT NULL,
        presenter TEXT NOT NULL CHECK (presenter IN ('window', 'headless')),
        planned INTEGER NOT NULL)""")
    conn.execute("""CREATE TABLE practice_trials (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES practice_runs(id) ON DELETE CASCADE,
        n INTEGER NOT NULL,
        label TEXT NOT NULL,
        answer TEXT NOT NULL,
        correct INTEGER NOT NULL,
        asked_ms REAL NOT NULL,
        shown_ms REAL NOT NULL,
        measured INTEGER NOT NULL,
        rt_ms REAL NOT NULL,
        replayed INTEGER NOT NULL,
        face TEXT NOT NULL,
        answered_at REAL NOT NULL)""")
    conn.execute("CREATE INDEX practice_trials_by_run ON practice_trials(run_id, n)")


Migration = Callable[[sqlite3.Connection], None]
#: ``MIGRATIONS[n]`` takes a database from ``user_version`` n to n + 1, inside one transaction. Append a
#: step to change the schema; never edit one that has shipped.
MIGRATIONS: list[Migration] = [_v1, _v2, _v3]


def migrate(conn: sqlite3.Connection, where: str) -> int:
    steps = list(MIGRATIONS)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(steps):
        raise StoreError(
            f"{where} was written by a newer callcoach (schema {version}, this one knows "
            f"{len(steps)}); upgrade callcoach to read it"
        )
    for target in range(version + 1, len(steps) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while this one waited for the lock.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= target:
                conn.execute("ROLLBACK")
                continue
            steps[target - 1](conn)
            conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (a full disk): keep the real error
                conn.execute("ROLLBACK")
            raise
    return len(steps)
