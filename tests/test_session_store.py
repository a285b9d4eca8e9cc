"""The session store: schema (and what it must never hold), WAL, migrations, retention, crash recovery."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from session_fakes import SELF_NOTES, T0, data_dir, leak, make_session, mirror, standard_session

import callcoach.session.schema as schema_module
from callcoach.errors import UsageError
from callcoach.session import settings
from callcoach.session.recorder import self_note_record
from callcoach.session.schema import StoreError
from callcoach.session.store import SessionNotFound, SessionStore
from callcoach.session.summary import build_summary

__all__ = ["data_dir"]  # the fixture, imported for use below

REPO = Path(__file__).resolve().parents[1]
#: Anything that could hold a picture of a face or its geometry. ("face" alone is the face's number.)
PIXEL_LIKE = re.compile(
    r"frame|pixel|image|img|crop|landmark|mesh|thumb|png|jpe?g|blob|bytes|video|photo|"
    r"picture|embedding|points|coords|vertex|vertices",
    re.IGNORECASE,
)

# The v1 schema, written out by hand: a database made by the first release must keep opening.
V1_DDL = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY, started_at REAL NOT NULL, ended_at REAL, source_kind TEXT NOT NULL,
  source_name TEXT NOT NULL, context TEXT NOT NULL, playbook_version TEXT,
  status TEXT NOT NULL CHECK (status IN ('running', 'ended', 'recovered')), pid INTEGER, pid_started TEXT,
  last_seen_at REAL);
CREATE TABLE cue_events (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  cue TEXT NOT NULL, emotion TEXT, scale TEXT NOT NULL, onset_s REAL NOT NULL, apex_s REAL NOT NULL, offset_s REAL,
  intensity REAL NOT NULL, confidence REAL NOT NULL, face INTEGER NOT NULL, latency_ms REAL, recorded_at REAL NOT NULL);
CREATE TABLE suggestions (id INTEGER PRIMARY KEY,
  session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, t_s REAL NOT NULL, cue TEXT NOT NULL,
  face INTEGER NOT NULL, region TEXT NOT NULL, plain TEXT NOT NULL, move TEXT NOT NULL, repair TEXT NOT NULL,
  say_nothing INTEGER NOT NULL, strength TEXT NOT NULL, context TEXT NOT NULL, confidence REAL NOT NULL,
  supporting TEXT NOT NULL DEFAULT '', recorded_at REAL NOT NULL);
CREATE TABLE marks (id INTEGER PRIMARY KEY, suggestion_id INTEGER NOT NULL REFERENCES suggestions(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('helped', 'misread')), t REAL NOT NULL);
INSERT INTO sessions VALUES (1, 1709632800.0, 1709633400.0, 'window', 'Old call', 'sales', 'v1', 'ended', 1, NULL,
  1709633400.0);
INSERT INTO cue_events VALUES (1, 1, 'polite_smile', NULL, 'micro', 9.9, 10.0, 10.2, 0.5, 0.6, 0, 30.0, 1709632810.0);
INSERT INTO suggestions VALUES (1, 1, 11.0, 'polite_smile', 0, 'mouth', 'a polite smile, maybe', 'Mirror it.', 'Sorry.',
  0, 'gentle', 'sales', 0.6, '', 1709632811.0);
INSERT INTO marks VALUES (1, 1, 'helped', 1709632815.0);
PRAGMA user_version = 1;
"""


def columns(db: Path) -> dict[str, list[tuple[str, str]]]:
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: [(r[1], r[2].upper()) for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    finally:
        conn.close()


def test_the_store_lives_in_the_data_dir_in_wal_mode_at_the_current_version(data_dir: Path) -> None:
    with SessionStore() as store:
        assert store.path == data_dir / "sessions.db"
    conn = sqlite3.connect(data_dir / "sessions.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(schema_module.MIGRATIONS) == 3
    conn.close()


def test_schema_holds_no_pictures_and_no_landmarks(data_dir: Path) -> None:
    SessionStore().close()
    schema = columns(data_dir / "sessions.db")
    assert set(schema) == {
        "sessions",
        "cue_events",
        "suggestions",
        "marks",
        "self_notes",
        "practice_runs",
        "practice_trials",
    }
    for table, cols in schema.items():
        for name, kind in cols:
            # An undeclared type has BLOB affinity in SQLite, so every column must name one of these.
            assert kind in ("INTEGER", "REAL", "TEXT"), (table, name, kind)
            assert not PIXEL_LIKE.search(name), (table, name)
    cue_columns = {name for name, _ in schema["cue_events"]}
    assert {
        "cue",
        "emotion",
        "scale",
        "onset_s",
        "apex_s",
        "offset_s",
        "intensity",
        "confidence",
        "face",
        "latency_ms",
    } <= cue_columns
    assert {name for name, _ in schema["self_notes"]} == {
        "id",
        "session_id",
        "t_s",
        "kind",
        "cue",
        "face",
        "confidence",
        "remote_talking",
        "message",
        "recorded_at",
    }


def test_an_empty_v0_file_is_migrated(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "sessions.db").touch()
    with SessionStore() as store:
        assert store.sessions() == []
    assert "cue_events" in columns(data_dir / "sessions.db")


def v_next(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE sessions ADD COLUMN title TEXT")
    conn.execute("UPDATE sessions SET title = source_name")


def hand_made_v1(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True)
    db = data_dir / "sessions.db"
    conn = sqlite3.connect(db)
    conn.executescript(V1_DDL)
    conn.close()
    return db


def test_a_hand_made_v1_database_migrates_to_v2_keeping_its_data(data_dir: Path) -> None:
    db = hand_made_v1(data_dir)
    with SessionStore() as store:
        summary = build_summary(store, 1)
        assert summary.per_cue == (("polite_smile", 1),) and summary.measures.helped == 1
        assert summary.own is None and store.self_notes(1) == []  # an old session has no "Your own face" part
        row = store.session(1)
        assert (row.source_name, row.status, row.cues, row.suggestions, row.marks, row.self_notes) == (
            "Old call",
            "ended",
            1,
            1,
            1,
            0,
        )
        new = make_session(store, self_notes=[leak(3.0, "micro_frown")])  # the new table works at once
        assert store.session(new).self_notes == 1
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(schema_module.MIGRATIONS)
    assert "self_notes_by_session" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert "self_notes" in columns(db)


def test_migrations_go_on_from_the_current_version_keeping_the_data(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = hand_made_v1(data_dir)
    monkeypatch.setattr(schema_module, "MIGRATIONS", [*schema_module.MIGRATIONS, v_next])
    with SessionStore() as store:
        summary = build_summary(store, 1)
    assert summary.per_cue == (("polite_smile", 1),) and summary.measures.helped == 1
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(schema_module.MIGRATIONS)
    assert conn.execute("SELECT title FROM sessions").fetchall() == [("Old call",)]
    conn.close()


def test_a_failed_migration_changes_nothing(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE sessions ADD COLUMN title TEXT")
        raise sqlite3.OperationalError("disk I/O error")

    SessionStore().close()
    monkeypatch.setattr(schema_module, "MIGRATIONS", [*schema_module.MIGRATIONS, broken])
    with pytest.raises(StoreError, match="disk I/O error"):
        SessionStore()
    assert "title" not in {name for name, _ in columns(data_dir / "sessions.db")["sessions"]}


def test_a_newer_schema_is_one_clear_error(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    conn = sqlite3.connect(data_dir / "sessions.db")
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    with pytest.raises(StoreError, match="newer callcoach"):
        SessionStore()


def test_not_a_database_is_moved_aside_with_a_message(data_dir: Path) -> None:
    """Never overwritten: the foreign file is kept, renamed, and the message names both places
    (more damaged-store cases in tests/test_store_faults.py)."""
    data_dir.mkdir(parents=True)
    text = "hello, I am a text file, not a database" * 50
    (data_dir / "sessions.db").write_text(text)
    with SessionStore() as store:
        assert store.notice is not None and "sessions.db" in store.notice and "not an SQLite database" in store.notice
        assert store.sessions() == []
    [aside] = data_dir.glob("sessions.db.damaged-*")
    assert aside.read_text() == text and str(aside) in store.notice


TABLES = ("cue_events", "suggestions", "marks", "self_notes")


def table_counts(db: Path) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        return [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES]
    finally:
        conn.close()


def test_delete_removes_every_row_of_a_session(data_dir: Path) -> None:
    with SessionStore() as store:
        gone = standard_session(store, self_notes=SELF_NOTES)
        kept = standard_session(store, started_at=T0 + 3600, self_notes=SELF_NOTES[:2])
        assert store.session(gone).self_notes == 7
        assert store.delete_session(gone) and not store.delete_session(gone)
        with pytest.raises(SessionNotFound, match=f"no session {gone}"):
            store.session(gone)
        assert store.session(kept).marks == 6 and store.session(kept).self_notes == 2
        assert store.self_notes(gone) == []
    assert table_counts(data_dir / "sessions.db") == [20, 8, 6, 2]


def test_the_schema_itself_cascades_a_deleted_session(data_dir: Path) -> None:
    with SessionStore() as store:
        gone = standard_session(store, self_notes=SELF_NOTES)
        make_session(store, started_at=T0 + 3600, self_notes=[mirror(4.0, False)])
    conn = sqlite3.connect(data_dir / "sessions.db")  # another program, bypassing delete_session
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("DELETE FROM sessions WHERE id = ?", (gone,))
    conn.commit()
    conn.close()
    assert table_counts(data_dir / "sessions.db") == [0, 0, 0, 1]


def test_self_notes_read_back_in_time_order_with_their_fields(data_dir: Path) -> None:
    with SessionStore() as store:
        session_id = make_session(store, self_notes=SELF_NOTES)
        notes = store.self_notes(session_id)
    assert [n.t_s for n in notes] == sorted(n.t_s for n in SELF_NOTES)
    first, second = notes[0], notes[1]
    assert (first.kind, first.cue, first.face, first.remote_talking) == ("mirror_met", "duchenne_smile", 0, False)
    assert (second.kind, second.cue, second.face, second.remote_talking) == ("leak", "lip_compression", None, True)
    assert second.message == SELF_NOTES[1].message and second.confidence == 0.6
    with SessionStore() as store, pytest.raises(ValueError, match="mirror_met"), store.transaction() as conn:
        store.insert_self_note(conn, session_id, dataclasses.replace(first, kind="wink"), T0)


def test_retention_deletes_old_finished_sessions_only(data_dir: Path) -> None:
    now = time.time()
    with SessionStore() as store:
        old = make_session(store, started_at=now - 40 * 86400)
        running = make_session(store, started_at=now - 40 * 86400, status="running")
        recent = make_session(store, started_at=now - 5 * 86400)
        for session_id in (old, running, recent):
            with store.transaction() as conn:
                store.insert_self_note(conn, session_id, self_note_record(leak(1.0, "micro_frown")), now)
        assert store.delete_older_than(30) == 1
        assert [r.id for r in store.sessions()] == [recent, running]
        assert store.self_notes(old) == [] and len(store.self_notes(recent)) == 1
    assert old not in (recent, running)
    assert table_counts(data_dir / "sessions.db")[-1] == 2


def test_retention_setting_is_applied_on_open(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = time.time()
    with SessionStore() as store:
        for days in (100, 45, 10):
            make_session(store, started_at=now - days * 86400)
    monkeypatch.delenv("CALLCOACH_RETENTION_DAYS")
    with SessionStore() as store:  # the default: 90 days
        assert len(store.sessions()) == 2
    settings.set_retention_days(30)
    assert settings.retention_days() == 30
    with SessionStore() as store:
        assert len(store.sessions()) == 1
    monkeypatch.setenv("CALLCOACH_RETENTION_DAYS", "5")  # the environment wins over the file
    with SessionStore() as store:
        assert store.sessions() == []
    monkeypatch.setenv("CALLCOACH_RETENTION_DAYS", "soon")
    with pytest.raises(UsageError, match="CALLCOACH_RETENTION_DAYS"):
        SessionStore()


def test_a_session_left_running_by_a_dead_process_is_recovered(data_dir: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    with SessionStore() as store:
        session_id = make_session(
            store,
            cues=[(5.0, "polite_smile", 0.5), (42.0, "eyebrow_flash", 0.5)],
            self_notes=[leak(47.0, "micro_frown")],
            status="running",
        )
        mine = make_session(store, status="running")
    conn = sqlite3.connect(data_dir / "sessions.db")
    conn.execute("UPDATE sessions SET pid = ?, last_seen_at = ? WHERE id = ?", (int(gone.stdout), T0 + 30, session_id))
    conn.commit()
    conn.close()
    with SessionStore() as store:
        row = store.session(session_id)
        assert row.status == "recovered" and row.ended_at == T0 + 47.0  # the last event (a self note)
        assert store.session(mine).status == "running"  # this process is alive


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process start times are read from /proc (Linux)")
def test_a_reused_pid_is_not_mistaken_for_the_writer(data_dir: Path) -> None:
    with SessionStore() as store:
        session_id = make_session(store, status="running")
    conn = sqlite3.connect(data_dir / "sessions.db")
    conn.execute("UPDATE sessions SET pid_started = '1' WHERE id = ?", (session_id,))
    conn.commit()
    conn.close()
    with SessionStore() as store:
        assert store.session(session_id).status == "recovered"


def test_sigkill_mid_session_loses_at_most_the_last_second(data_dir: Path) -> None:
    db = data_dir / "sessions.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "session_crash_writer.py"), str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("session "), first
    # Kill it mid-session: after 2.5 s and at least 50 cues handed over, however slowly a loaded machine runs it.
    seen: list[str] = []
    started = time.monotonic()
    while len(seen) <= 50 or time.monotonic() - started < 2.5:
        line = proc.stdout.readline()
        assert line, "the writer stopped by itself"
        seen.append(line)
    killed_at = time.time()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    lines = [line.split() for line in [*seen, *proc.stdout.read().splitlines()] if line.count(" ") == 2]
    handed = [(float(apex), float(wall)) for _, apex, wall in lines]
    with SessionStore() as store:
        row = store.session(int(first.split()[1]))
        stored = {c.apex_s for c in store.cue_events(row.id)}
    assert row.status == "recovered"
    assert row.ended_at is not None and killed_at - 1.0 <= row.ended_at <= killed_at
    due = [apex for apex, wall in handed if wall <= killed_at - 1.0]
    assert due and all(apex in stored for apex in due), f"{len(set(due) - stored)} events older than 1 s were lost"
