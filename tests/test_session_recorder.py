"""The session recorder: threaded writes and marks, retries, and its wiring into ``callcoach live``."""

from __future__ import annotations

import argparse
import io
import json
import queue
import sqlite3
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from session_fakes import data_dir, leak, mirror, suggestion

from callcoach.contract import LiveListener
from callcoach.core.marks import SelfNote
from callcoach.cues.vocabulary import CUE_NAMES, Cue, EarlyCue, EarlyCueWithdrawn
from callcoach.errors import CallcoachError
from callcoach.live.state import LiveStatus
from callcoach.playbook.types import Suggestion
from callcoach.session.recorder import LiveRecording, SessionRecorder, recorder_for
from callcoach.session.store import SessionStore

__all__ = ["data_dir"]


def cue(i: int) -> Cue:
    return Cue(CUE_NAMES[i % len(CUE_NAMES)], None, "micro", i * 0.1, i * 0.1 + 0.05, i * 0.1 + 0.2, 0.4, 0.6, 0)


class Collect(LiveListener):
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._lock = threading.Lock()

    def on_status(self, status: LiveStatus) -> None:
        with self._lock:
            self.calls.append(("status", status))

    def on_cue(self, cue: Cue, latency_ms: float) -> None:
        with self._lock:
            self.calls.append(("cue", cue))

    def on_suggestion(self, suggestion: Suggestion) -> None:
        with self._lock:
            self.calls.append(("suggestion", suggestion))


def recorder(store: SessionStore, inner: Any = None) -> SessionRecorder:
    return SessionRecorder(
        store, inner, source_kind="camera", source_name="cam 0", context="general", flush_interval_s=0.05
    )


def test_threaded_cues_and_marks_from_another_thread_all_land(data_dir: Path) -> None:
    inner = Collect()
    store = SessionStore()
    rec = recorder(store, inner)
    shown: queue.Queue[Suggestion | None] = queue.Queue()

    def runner(worker: int) -> None:
        for i in range(200):
            rec.on_status(LiveStatus(i * 0.1, "cam 0", "locked", ""))
            rec.on_cue(cue(i), 20.0)
            if i % 20 == 0:
                s = suggestion(i * 0.1, "polite_smile", plain=f"w{worker} i{i}")
                rec.on_suggestion(s)
                shown.put(s)

    threads = [threading.Thread(target=runner, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    marked: dict[str, str] = {}
    while len(marked) < 40:  # the UI thread marks each suggestion as it appears, as a person would
        s = shown.get(timeout=10)
        assert s is not None
        kind = "helped" if len(marked) % 3 else "misread"
        assert rec.mark(s, kind)
        marked[s.plain] = kind
    for t in threads:
        t.join()
    rec.close()
    assert rec.error is None
    assert sum(1 for kind, _ in inner.calls if kind == "cue") == 800  # everything was forwarded
    assert len(store.cue_events(rec.session_id)) == 800
    kept = {g.plain: g.mark for g in store.suggestions(rec.session_id)}
    assert kept == marked
    row = store.session(rec.session_id)
    assert row.status == "ended" and (row.cues, row.suggestions, row.marks) == (800, 40, 40)
    store.close()


def test_marks_find_suggestions_written_in_an_earlier_batch_and_refuse_strangers(data_dir: Path) -> None:
    with SessionStore() as store:
        rec = recorder(store)
        s = suggestion(3.0, "eyebrow_flash")
        rec.on_suggestion(s)
        assert rec.flush()
        assert rec.mark(s, "helped")
        assert not rec.mark(suggestion(3.0, "eyebrow_flash"), "helped")  # equal, but never shown through it
        with pytest.raises(ValueError, match="helped"):
            rec.mark(s, "great")
        rec.close()
        assert not rec.mark(s, "misread")
        assert [g.mark for g in store.suggestions(rec.session_id)] == ["helped"]


def test_a_failed_write_is_retried_with_the_next_batch(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SessionStore() as store:
        rec = recorder(store)
        real = SessionStore.insert_cue
        failures = iter([True])

        def flaky(conn: sqlite3.Connection, *args: Any) -> None:
            if next(failures, False):
                raise sqlite3.OperationalError("database or disk is full")
            real(conn, *args)

        monkeypatch.setattr(store, "insert_cue", flaky)
        for i in range(5):
            rec.on_cue(cue(i), 10.0)
        rec.flush()
        assert isinstance(rec.error, sqlite3.OperationalError)
        rec.close()
        assert [c.apex_s for c in store.cue_events(rec.session_id)] == [cue(i).apex_s for i in range(5)]


class CollectSelf(Collect):
    """A panel that shows self-coaching notes too."""

    def on_self(self, note: Any) -> None:
        with self._lock:
            self.calls.append(("self", note))


class HeldStore(SessionStore):
    """Once held, every write transaction waits on the disk until the test lets it go: the disk stalls for
    as long as the test needs, however slow the machine, instead of for a guessed while."""

    def __init__(self) -> None:
        super().__init__()
        self.held = False
        self.waiting = threading.Event()
        self.released = threading.Event()

    def transaction(self) -> Any:
        if self.held:
            self.waiting.set()
            assert self.released.wait(60), "the test never released the store"
        return super().transaction()


def test_self_notes_from_several_threads_are_written_and_forwarded(data_dir: Path) -> None:
    inner = CollectSelf()
    store = SessionStore()
    rec = recorder(store, inner)

    def runner(worker: int) -> None:
        for i in range(100):
            rec.on_cue(cue(i), 20.0)
            rec.on_self(
                leak(worker * 100 + i, "lip_compression", talking=i % 2 == 0)
                if i % 3
                else mirror(worker * 100 + i, met=i % 2 == 0)
            )

    threads = [threading.Thread(target=runner, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert rec.flush()
    kept = store.self_notes(rec.session_id)  # written before the session ends: the writer's own batches
    assert len(kept) == 300 == rec.counts["self_notes"]
    assert [n.t_s for n in kept] == sorted(float(t) for t in range(300))
    assert sum(n.kind == "leak" for n in kept) == 198 and {n.kind for n in kept} == {
        "leak",
        "mirror_met",
        "mirror_missed",
    }
    assert sum(1 for kind, _ in inner.calls if kind == "self") == 300
    rec.close()
    assert rec.error is None and store.session(rec.session_id).self_notes == 300
    store.close()


def test_on_self_never_waits_for_the_disk_and_keeps_the_note_as_given(data_dir: Path) -> None:
    store = HeldStore()
    with store:
        rec = recorder(store, CollectSelf())
        note = SelfNote("leak", 12.5, "unilateral_lip_pull", None, "A lip pull may have shown.", 0.55, True)
        store.held = True
        done = threading.Event()

        def caller() -> None:  # the panel's thread: if a call waited for the disk it would never finish
            for _ in range(50):
                rec.on_self(note)
            done.set()

        threading.Thread(target=caller, daemon=True).start()
        assert store.waiting.wait(30), "the writer never began a transaction"
        # All 50 calls return while the writer sits in a transaction the disk has not answered.
        assert done.wait(30) and not store.released.is_set()
        store.released.set()
        assert rec.flush()
        rec.close()
        first = store.self_notes(rec.session_id)[0]
    assert (first.kind, first.t_s, first.cue, first.face, first.message, first.confidence, first.remote_talking) == (
        "leak",
        12.5,
        "unilateral_lip_pull",
        None,
        "A lip pull may have shown.",
        0.55,
        True,
    )


def test_on_self_without_an_inner_on_self_and_with_a_bad_note(data_dir: Path) -> None:
    with SessionStore() as store:
        inner = Collect()  # a listener that does not show self notes: they are only kept
        rec = recorder(store, inner)
        rec.on_self(mirror(3.0, met=False))
        rec.on_self(SelfNote("wink", 4.0, "eyebrow_flash", None, "?", 0.5, False))  # type: ignore[arg-type]
        rec.on_self(SelfNote("leak", float("nan"), "micro_frown", None, "A frown may have shown.", float("inf"), True))
        rec.on_cue(cue(1), 10.0)  # the bad note did not poison the batch
        assert rec.flush() and rec.error is None
        rec.close()
        rec.on_self(mirror(9.0, met=True))  # after close: not kept, no error
        kept = store.self_notes(rec.session_id)
        assert [(n.kind, n.t_s, n.confidence) for n in kept] == [("leak", 0.0, 0.0), ("mirror_missed", 3.0, 0.7)]
        assert rec.counts["self_notes"] == 2 and len(store.cue_events(rec.session_id)) == 1
        assert inner.calls == [("cue", cue(1))]
        bare = recorder(store, None)  # no inner listener at all
        bare.on_self(mirror(1.0, met=True))
        bare.close()
        assert len(store.self_notes(bare.session_id)) == 1


def test_the_finish_line_mentions_self_notes_only_when_there_are_some(data_dir: Path) -> None:
    lines = []
    for notes in ((), (leak(1.0, "micro_frown"), mirror(2.0, met=True))):
        recording = LiveRecording(source_kind="camera", source_name="cam 0", context="general")
        listener = recording.start(CollectSelf())
        assert isinstance(listener, SessionRecorder)
        listener.on_cue(cue(1), 15.0)
        for note in notes:
            listener.on_self(note)
        lines.append(recording.finish() or "")
    assert "1 cues, 0 suggestions, 0 marks; no video, picture or sound" in lines[0] and "own face" not in lines[0]
    assert "1 cues, 0 suggestions, 0 marks, 2 notes on your own face; no video" in lines[1]


def test_statuses_are_a_heartbeat(data_dir: Path) -> None:
    with SessionStore() as store:
        clock = iter(range(1_000, 2_000))
        rec = SessionRecorder(
            store,
            None,
            source_kind="video",
            source_name="f.mp4",
            context="general",
            flush_interval_s=0.05,
            clock=lambda: float(next(clock)),
        )
        rec.on_status(LiveStatus(0.0, "f.mp4", "calibrating", ""))
        rec.flush()
        conn = sqlite3.connect(store.path)
        assert conn.execute("SELECT last_seen_at FROM sessions").fetchone()[0] >= 1_000
        conn.close()
        rec.close()


# --- the wiring used by `callcoach live` -----------------------------------------------------------------


class FakeSelector:
    def __init__(self) -> None:
        self.marks: list[tuple[Suggestion, str]] = []
        self.context = "general"
        self.watcher = None

    def set_context(self, name: str) -> None:
        self.context = name

    def mark(self, suggestion: Suggestion, verdict: str) -> None:
        self.marks.append((suggestion, verdict))


def test_live_recording_wraps_the_factory_and_the_selector(data_dir: Path) -> None:
    recording = LiveRecording(source_kind="window", source_name="Zoom Meeting", context="sales")
    panel = Collect()
    made: list[Any] = []

    def remembered(listener: LiveListener) -> LiveListener:
        made.append(listener)
        return listener

    factory = recording.wrap_factory(remembered)
    selector = FakeSelector()
    wrapped = recording.wrap_selector(selector)
    listener = factory(panel)
    assert isinstance(listener, SessionRecorder) and listener.inner is panel and recorder_for(panel) is listener
    s = suggestion(5.0, "micro_frown")
    listener.on_cue(cue(1), 15.0)
    listener.on_suggestion(s)
    wrapped.mark(s, "misread")
    wrapped.set_context("social")
    assert selector.marks == [(s, "misread")] and selector.context == "social" and wrapped.context == "social"
    out = io.StringIO()
    line = recording.finish(out)
    assert line is not None and out.getvalue() == line + "\n"
    assert f"callcoach summary {listener.session_id}" in line and "1 cues, 1 suggestions, 1 marks" in line
    with SessionStore() as store:
        assert [g.mark for g in store.suggestions(listener.session_id)] == ["misread"]


def test_recording_off_or_broken_never_stops_coaching(data_dir: Path) -> None:
    off = LiveRecording(source_kind="window", source_name="x", context="general", enabled=False)
    panel, selector = Collect(), FakeSelector()
    assert off.wrap_factory(lambda listener: listener)(panel) is panel and off.wrap_selector(selector) is selector
    assert off.finish(io.StringIO()) is None

    broken = LiveRecording(source_kind="window", source_name="x", context="general", open_store=_broken)
    assert broken.wrap_factory(lambda listener: listener)(panel) is panel
    line = broken.finish()
    assert line is not None and "not kept" in line and "read-only" in line


def _broken() -> SessionStore:
    from callcoach.session.schema import StoreError

    raise StoreError("cannot open the session store /x/sessions.db: read-only file system")


class FakeLiveRunner:
    """Stands in for LiveRunner in callcoach live's headless path: three cues, then the source ends."""

    def __init__(self, source: Any, listener: Any, **_: Any) -> None:
        self.listener, self.source = listener, source
        self.stats = SimpleNamespace(as_dict=lambda: {"type": "summary"}, end="source_lost", cue_timings=[])
        self.stopped, self.error = True, None
        self.companion, self.self_notes = None, 0  # no --vcam

    def start(self) -> None:
        self.listener.on_status(LiveStatus(0.0, "clip", "locked", ""))
        for i in range(3):
            self.listener.on_cue(cue(i), 25.0)

    def wait(self, timeout: float | None = None) -> bool:
        return True

    def stop(self, timeout: float = 2.0) -> None:
        pass

    def settle(self, timeout: float = 15.0) -> bool:
        return True  # no models load here


@pytest.mark.parametrize("record", [True, False])
def test_callcoach_live_headless_records_unless_told_not_to(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], record: bool
) -> None:
    from callcoach.cli import live_cmd
    from callcoach.cli.main import build_parser

    monkeypatch.setattr(live_cmd, "make_source", lambda args: SimpleNamespace(kind="video", name="clip.mp4"))
    monkeypatch.setattr(live_cmd, "LiveRunner", FakeLiveRunner)
    # run_headless's default ``out`` is the sys.stdout of import time; capsys replaces it per test.
    headless = live_cmd.run_headless
    monkeypatch.setattr(
        live_cmd, "run_headless", lambda factory, duration, **kw: headless(factory, duration, sys.stdout, **kw)
    )
    argv = ["live", "--headless", "--video", "clip.mp4", *([] if record else ["--no-record-session"])]
    args: argparse.Namespace = build_parser(argv).parse_args(argv)
    assert live_cmd.main(args) == 0
    out = capsys.readouterr()
    # No panel, no consent screen: the first headless run prints the note on stderr, once.
    assert "Before you start" in out.err and "--no-record-session" in out.err
    assert live_cmd.main(args) == 0
    out = capsys.readouterr()
    assert out.out.count('"type": "cue"') == 3 and out.err == ""  # stdout stays jsonl; stderr is no terminal
    first = json.loads(out.out.splitlines()[0])  # the first line says whether this run is kept, and where
    assert first["type"] == "session" and first["kept"] is record
    assert "no video, picture or sound" in first["message"]
    if not record:
        assert first["message"].startswith("cue log off") and "--no-record-session" in first["message"]
        assert first["path"] is None and not (data_dir / "sessions.db").exists()
        return
    assert first["message"].startswith("cue log on") and first["path"] == str(data_dir / "sessions.db")
    assert "sessions record off" in first["message"] and f"session {first['id']} " in first["message"]
    with SessionStore() as store:
        rows = store.sessions()
        assert len(rows) == 2 and rows[0].id == first["id"]
        row = rows[0]
        assert (row.source_kind, row.source_name, row.status, row.cues) == ("video", "clip.mp4", "ended", 3)


def test_callcoach_live_headless_keeps_nothing_once_switched_off(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from callcoach.cli import live_cmd
    from callcoach.cli.main import build_parser
    from callcoach.session import settings

    monkeypatch.setattr(live_cmd, "make_source", lambda args: SimpleNamespace(kind="video", name="clip.mp4"))
    monkeypatch.setattr(live_cmd, "LiveRunner", FakeLiveRunner)
    headless = live_cmd.run_headless
    monkeypatch.setattr(
        live_cmd, "run_headless", lambda factory, duration, **kw: headless(factory, duration, sys.stdout, **kw)
    )
    settings.set_record_sessions(False)
    argv = ["live", "--headless", "--video", "clip.mp4"]
    assert live_cmd.main(build_parser(argv).parse_args(argv)) == 0
    first = json.loads(capsys.readouterr().out.splitlines()[0])
    assert first["kept"] is False and "sessions record on" in first["message"]
    assert not (data_dir / "sessions.db").exists()
    monkeypatch.setenv(settings.RECORD_ENV, "on")  # the environment wins over the file
    assert live_cmd.main(build_parser(argv).parse_args(argv)) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["kept"] is True
    monkeypatch.setenv(settings.RECORD_ENV, "maybe")
    with pytest.raises(CallcoachError, match="CALLCOACH_RECORD_SESSIONS: say 'on' or 'off'"):
        live_cmd.main(build_parser(argv).parse_args(argv))


class CollectEverything(CollectSelf):
    """A panel or jsonl writer that also shows early cues and the virtual camera's state."""

    def on_early_cue(self, early: Any, latency_ms: float) -> None:
        with self._lock:
            self.calls.append(("early", early))

    def on_vcam(self, state: str, message: str) -> None:
        with self._lock:
            self.calls.append(("vcam", state))

    def on_early_withdrawn(self, withdrawn: Any, advised: bool) -> None:
        with self._lock:
            self.calls.append(("withdrawn", withdrawn))


def test_early_cues_and_camera_states_pass_through_the_recorder_unkept(data_dir: Path) -> None:
    store = SessionStore()
    inner = CollectEverything()
    rec = recorder(store, inner)
    early = EarlyCue(
        cue="eyebrow_flash", emotion=None, onset_s=11.8, apex_s=11.9, t_s=12.0, intensity=0.5, confidence=0.6, face=0
    )
    withdrawn = EarlyCueWithdrawn("eyebrow_flash", 0, onset_s=11.8, apex_s=11.9, t_s=12.4, reason="unreadable")
    rec.on_early_cue(early, 12.0)
    rec.on_vcam("unavailable", "no virtual camera device; coaching the other person goes on")
    rec.on_vcam("self_ready", "self-coaching on (only you see this)")
    rec.on_early_withdrawn(withdrawn, True)
    assert inner.calls == [("early", early), ("vcam", "unavailable"), ("vcam", "self_ready"), ("withdrawn", withdrawn)]
    recorder(store, Collect()).on_early_cue(early, 1.0)  # a listener without the method: nothing to forward to
    rec.close()
    assert store.cue_events(rec.session_id) == []  # the final cue is what a session keeps
    store.close()
