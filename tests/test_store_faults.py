"""Fault injection on the session store: a full disk, a read-only store, a damaged file.

Real faults where they can be had in a test: SQLite's ``max_page_count`` (the same SQLITE_FULL a full disk
gives), a per-process file-size limit (``RLIMIT_FSIZE``) under a real ``callcoach live`` run, a read-only bind
mount (tests run as root, so chmod would not stop them). Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from session_fakes import data_dir, make_session, standard_session

from callcoach.contract import LiveListener
from callcoach.cues.vocabulary import CUE_NAMES, Cue
from callcoach.live.state import LiveStatus
from callcoach.playbook.types import Suggestion
from callcoach.session import _recorder
from callcoach.session.recorder import LiveRecording, SessionRecorder
from callcoach.session.schema import StoreError
from callcoach.session.store import SessionStore
from callcoach.session.summary import build_summary

__all__ = ["data_dir"]
REPO = Path(__file__).resolve().parents[1]


def cue(i: int) -> Cue:
    return Cue(CUE_NAMES[i % len(CUE_NAMES)], None, "micro", i * 0.1, i * 0.1 + 0.05, i * 0.1 + 0.2, 0.4, 0.6, 0)


class Listener(LiveListener):
    def __init__(self) -> None:
        self.store_calls: list[tuple[str, str]] = []
        self.cues = 0
        self._lock = threading.Lock()

    def on_status(self, status: LiveStatus) -> None:
        pass

    def on_cue(self, cue: Cue, latency_ms: float) -> None:
        self.cues += 1

    def on_suggestion(self, suggestion: Suggestion) -> None:
        pass

    def on_store(self, state: str, message: str) -> None:
        with self._lock:
            self.store_calls.append((state, message))


def _fill_up(store: SessionStore) -> None:
    """No page beyond those in use, and no room left in them: the next insert fails with SQLITE_FULL, as on a
    full disk."""
    conn = store._conn
    conn.execute("CREATE TABLE IF NOT EXISTS test_filler (b BLOB)")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    # The room left inside those pages took a few hundred events, more or fewer by how the recorder's batches
    # fell: under two CPU hogs all of them once fit between retries and none was held. Fill it first.
    for size in (4096, 512, 64, 8, 1):
        while True:
            try:
                conn.execute("INSERT INTO test_filler VALUES (zeroblob(?))", (size,))
            except sqlite3.OperationalError:
                break


def _free(store: SessionStore) -> None:
    store._conn.execute("PRAGMA max_page_count = 1073741823")


def _count(path: Path, table: str = "cue_events") -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def _until(condition: Callable[[], object], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


# --- a full disk ------------------------------------------------------------------------------------------


def test_a_full_disk_is_said_once_events_are_held_and_written_when_space_returns(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SessionStore()
    inner = Listener()
    rec = SessionRecorder(
        store, inner, source_kind="video", source_name="clip", context="general", flush_interval_s=0.02
    )
    _fill_up(store)
    # Far more than the free room left in the pages in use, so some are surely held (200 sometimes fit).
    for i in range(2000):
        rec.on_cue(cue(i), 10.0)
    assert _until(lambda: rec.failing is not None)
    time.sleep(0.5)  # ~25 more retries
    assert [s for s, _ in inner.store_calls] == ["failing"], inner.store_calls
    assert "database or disk is full" in inner.store_calls[0][1] and "held in memory" in inner.store_calls[0][1]
    assert rec.pending > 0
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]  # no line per retry
    _free(store)
    assert _until(lambda: rec.pending == 0 and rec.failing is None)
    assert [s for s, _ in inner.store_calls] == ["failing", "ok"]
    rec.close()
    assert rec.lost == 0
    assert _count(store.path) == 2000
    store.close()


def test_a_disk_still_full_at_the_end_counts_what_was_lost(data_dir: Path) -> None:
    recording = LiveRecording(source_kind="video", source_name="clip", context="general")
    inner = Listener()
    listener = recording.start(inner)
    rec = recording.recorder
    assert rec is not None
    _fill_up(rec.store)
    for i in range(200):
        listener.on_cue(cue(i), 10.0)
    assert _until(lambda: rec.failing is not None)
    line = recording.finish()
    assert line is not None
    written = _count(rec.store.path)
    assert rec.lost == 200 - written > 0
    assert f"{rec.lost} of its events could not be written" in line and "database or disk is full" in line
    assert [s for s, _ in inner.store_calls] == ["failing"]


def test_the_held_events_are_bounded(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_recorder, "_MAX_QUEUED", 50)  # the bound lives beside the writer that reads it
    store = SessionStore()
    rec = SessionRecorder(
        store, Listener(), source_kind="video", source_name="clip", context="general", flush_interval_s=0.02
    )
    _fill_up(store)
    for i in range(400):
        rec.on_cue(cue(i), 10.0)
    assert _until(lambda: rec.failing is not None)
    assert _until(lambda: rec.pending <= 50 and rec.lost > 0)
    _free(store)
    assert _until(lambda: rec.pending == 0)
    rec.close()
    written = _count(store.path)
    assert written + rec.lost == 400  # every event is either in the store or counted as lost
    assert rec.pending == 0
    store.close()


def test_events_in_the_writers_hands_still_count_as_pending(data_dir: Path) -> None:
    """While a write is under way its batch is neither queued nor stored: it must still count as unwritten
    (the headless summary reports ``pending`` as "unwritten"; a failing retry once read 0 there)."""
    store = SessionStore()
    entered, release = threading.Event(), threading.Event()
    real = store.transaction

    @contextlib.contextmanager
    def slow_full_transaction() -> Iterator[sqlite3.Connection]:
        entered.set()
        release.wait(10.0)
        with real() as conn:
            yield conn
            raise sqlite3.OperationalError("database or disk is full")

    rec = SessionRecorder(
        store, Listener(), source_kind="video", source_name="clip", context="general", flush_interval_s=0.02
    )
    with rec._cond:  # the writer cannot take a batch until all 30 are queued
        store.transaction = slow_full_transaction  # type: ignore[method-assign]
        for i in range(30):
            rec.on_cue(cue(i), 10.0)
    assert entered.wait(10.0)
    assert rec.pending == 30  # all in flight, none queued
    release.set()
    assert _until(lambda: rec.failing is not None)
    assert rec.pending == 30
    store.transaction = real  # type: ignore[method-assign]
    assert _until(lambda: rec.pending == 0 and rec.failing is None)
    rec.close()
    assert _count(store.path) == 30 and rec.lost == 0
    store.close()


def _jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


_FULL_DISK = """
mount -t tmpfs -o size=512k tmpfs "$D" || exit 99
"$PY" -c "from callcoach.session.store import SessionStore; SessionStore().close()" || exit 98
dd if=/dev/zero of="$D/fill" bs=4096 2>/dev/null
truncate -s -48K "$D/fill"  # room to open the store and a few commits, then ENOSPC
"$@"; rc=$?
"$PY" -c "import sqlite3; c = sqlite3.connect('$D/sessions.db')
print(c.execute('SELECT COUNT(*) FROM cue_events').fetchone()[0])" >&2
exit $rc
"""


def test_a_live_run_on_a_full_disk_says_so_once_and_counts_the_loss(
    tmp_path: Path, real_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real ENOSPC: the store lives on a tiny tmpfs (in a private mount namespace) that fills up mid-call."""
    data = tmp_path / "data"
    data.mkdir()
    # The one-time headless consent note is someone else's test: here it has been shown already, so stderr
    # holds only what the full disk makes callcoach say.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    from callcoach.playbook.guardrails import consent_path, record_headless_notice

    record_headless_notice(consent_path())
    env = {**os.environ, "PYTHONPATH": str(REPO), "CALLCOACH_DATA_DIR": str(data), "D": str(data), "PY": sys.executable}
    clip = str(real_media / "single_face.mp4")
    command = [sys.executable, "-m", "callcoach", "live", "--video", clip, "--headless", "--loop", "--duration", "12"]
    if shutil.which("unshare") is None:
        pytest.skip("no unshare here")
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", _FULL_DISK, "sh", *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    if proc.returncode in (98, 99) or "unshare" in proc.stderr:
        pytest.skip(f"no private tmpfs here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    records = _jsonl(proc.stdout)
    store_lines = [r for r in records if r["type"] == "store"]
    assert [r["state"] for r in store_lines] == ["failing"], store_lines  # once, not once per retry
    assert "disk is full" in store_lines[0]["message"]
    shown = sum(r["type"] in ("cue", "suggestion") for r in records)
    *said, in_store = proc.stderr.strip().splitlines()
    if shown:  # events came after the disk filled: none written, and the end says how many were lost
        assert int(in_store) == 0
        assert records[-1]["type"] == "summary" and records[-1]["store"]["state"] == "failing"
        assert len(said) == 2 and "could not be written" in said[1], proc.stderr  # no flood: two lines
        assert int(said[1].split("callcoach: ")[1].split()[0]) >= shown


# --- a read-only store ------------------------------------------------------------------------------------


def test_history_is_readable_from_a_read_only_connection(data_dir: Path) -> None:
    with SessionStore() as store:
        first = standard_session(store)
        make_session(store, status="running")  # left "running" by a dead writer: not closed read-only
    path = data_dir / "sessions.db"
    before = path.read_bytes()
    with SessionStore(path, readonly=True) as ro:
        assert [r.id for r in ro.sessions()][-1] == first
        assert build_summary(ro, first).measures.suggestions == 8
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ro.delete_session(first)
    assert path.read_bytes() == before


def _ro_bind(folder: Path, command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = f'mount --bind -o ro {folder} {folder} && exec "$@"'
    return subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def test_sessions_list_and_summary_work_on_a_read_only_file_system(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with SessionStore(data / "sessions.db") as store:
        standard_session(store)
        make_session(store, status="running")  # recovering it would need a write
    env = {**os.environ, "PYTHONPATH": str(REPO), "CALLCOACH_DATA_DIR": str(data), "COLUMNS": "200"}
    probe = _ro_bind(data, ["touch", str(data / "probe")], env)
    if shutil.which("unshare") is None or "Read-only" not in probe.stderr:
        pytest.skip(f"no read-only bind mount here: {probe.stderr.strip()}")
    listing = _ro_bind(data, [sys.executable, "-m", "callcoach", "sessions", "list"], env)
    assert listing.returncode == 0, listing.stderr
    assert "2 session(s)" in listing.stdout and "Weekly sync" in listing.stdout
    assert "read-only" in listing.stderr and listing.stderr.count("\n") == 1
    summary = _ro_bind(data, [sys.executable, "-m", "callcoach", "summary", "1"], env)
    assert summary.returncode == 0, summary.stderr
    assert "Coaching measures" in summary.stdout
    deleting = _ro_bind(data, [sys.executable, "-m", "callcoach", "sessions", "delete", "1"], env)
    assert deleting.returncode == 1 and deleting.stderr.startswith("callcoach: error:"), deleting.stderr
    assert "Traceback" not in deleting.stderr


# --- a damaged store --------------------------------------------------------------------------------------


def _corrupt(path: Path) -> None:
    """A valid header over pages of noise: SQLite's own check fails (or it cannot read the schema)."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(100)
        fh.write(os.urandom(size - 100))


@pytest.mark.parametrize("damage", ["empty", "text", "corrupt"])
def test_a_damaged_store_is_moved_aside_never_overwritten(data_dir: Path, damage: str) -> None:
    path = data_dir / "sessions.db"
    with SessionStore() as store:
        standard_session(store)
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "text":
        path.write_text("not a database\n" * 100)
    else:
        _corrupt(path)
    original = path.read_bytes()
    with SessionStore() as store:
        assert store.notice is not None and "moved aside" in store.notice and str(path) in store.notice
        assert store.sessions() == []  # a new store
        store.begin_session(source_kind="video", source_name="clip", context="general")
    [aside] = data_dir.glob("sessions.db.damaged-*[0-9]")
    assert aside.read_bytes() == original and str(aside) in store.notice


def test_sessions_list_on_a_damaged_store_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "sessions.db").write_bytes(b"")
    env = {**os.environ, "PYTHONPATH": str(REPO), "CALLCOACH_DATA_DIR": str(data)}
    proc = subprocess.run(
        [sys.executable, "-m", "callcoach", "sessions", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("callcoach: the session store") and "empty (0 bytes)" in proc.stderr
    assert "moved aside" in proc.stderr and proc.stderr.count("\n") == 1
    assert len(list(data.glob("sessions.db.damaged-*"))) == 1


def test_a_damaged_store_that_cannot_be_moved_is_one_clear_error(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "sessions.db").write_bytes(b"")

    def refuse(*_args: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(StoreError, match="cannot be moved aside"):
        SessionStore()
    assert (data_dir / "sessions.db").read_bytes() == b""  # untouched


# --- summaries --------------------------------------------------------------------------------------------


def test_suggestions_whose_early_cue_was_withdrawn_are_marked(data_dir: Path) -> None:
    from callcoach.session.report import render_html, render_markdown, terminal_renderable

    with SessionStore() as store:
        session = make_session(
            store,
            cues=[(10.0, "duchenne_smile", 0.8)],
            suggestions=[(12.0, "duchenne_smile", None), (30.0, "micro_frown", None)],
            duration_s=40.0,
        )
        summary = build_summary(store, session)
    withdrawn = {g.id for g in summary.suggestions if g.cue == "micro_frown"}
    assert summary.unconfirmed == withdrawn  # no final micro_frown stands behind it
    md = render_markdown(summary)
    assert "(not confirmed) micro_frown at 30s" in md and "(not confirmed) duchenne_smile" not in md
    assert "(not confirmed) micro_frown at 30s" in render_html(summary)
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(terminal_renderable(summary))
    assert "(not confirmed) micro_frown" in console.export_text()


def test_the_html_axis_fits_a_short_session(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.axes import Axes

    from callcoach.session import report

    labels: list[str] = []
    real_label = Axes.set_xlabel

    def xlabel(self: Axes, text: str, *args: Any, **kwargs: Any) -> Any:
        labels.append(text)
        return real_label(self, text, *args, **kwargs)

    monkeypatch.setattr(Axes, "set_xlabel", xlabel)
    with SessionStore() as store:
        short = build_summary(
            store,
            make_session(
                store, cues=[(2.0, "duchenne_smile", 0.8)], suggestions=[(3.0, "duchenne_smile", None)], duration_s=10.0
            ),
        )
        long = build_summary(
            store, make_session(store, started_at=2e9, cues=[(300.0, "duchenne_smile", 0.8)], duration_s=600.0)
        )
    assert report.chart_axis(short) == (1.0, "seconds", 10.0)  # was a minute for a 10 s session
    assert report.chart_axis(long) == (60.0, "minutes", 10.0)
    report.timeline_png(short)
    report.timeline_png(long)
    assert labels == ["seconds into the call", "minutes into the call"]


def test_the_panel_says_once_that_the_record_cannot_be_written() -> None:
    import asyncio

    from ui_fakes import Harness

    async def scenario() -> None:
        h = Harness()
        app = h.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            listener: Any = h.runner.listener
            listener.on_store("failing", "the session record cannot be written (database or disk is full); ...")
            await pilot.pause()
            shown = [n for n in app._notifications if "cannot be written" in str(n.message)]
            assert len(shown) == 1 and shown[0].severity == "warning"
            assert str(shown[0].message).startswith("The session record")

    asyncio.run(scenario())
