"""The recorder itself: a ``LiveListener`` that keeps cue events, suggestions, marks and self-coaching notes
in the store.

The runner calls the listener from its inference thread, and nothing there may wait on the disk: each call
only appends to a list under a lock and forwards to the inner listener (the panel or the headless writer).
A writer thread commits the list in one transaction every ``flush_interval_s`` (0.5 s), so a killed
process loses at most about that much. Marks arrive from the UI thread and are queued behind the
suggestion they belong to, which is how they learn its row id. Self-coaching notes (``on_self``, from the
user's own camera) take the same queue.

Kept apart from ``recorder`` (which re-exports all of it) so that each module stays within the project's size
bound: the writer thread here, the wiring for ``callcoach live`` there.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from callcoach.contract import LiveListener
from callcoach.core.marks import NOTE_KINDS, SelfNote, check_mark
from callcoach.core.state import LiveStatus
from callcoach.cues.vocabulary import Cue, EarlyCue, EarlyCueWithdrawn
from callcoach.playbook.types import Suggestion
from callcoach.session.store import CueRecord, SelfNoteRecord, SessionStore

_log = logging.getLogger("callcoach.session.recorder")  # the name it had before the split
#: Marks can only refer to suggestions still remembered; the panel only ever marks the newest one.
_REMEMBERED = 256
#: If the disk refuses writes for a long time, keep the newest events rather than grow without bound.
_MAX_QUEUED = 50_000
#: When closing, further tries of the last batch (one flush interval apart) before it is counted as lost.
_CLOSING_RETRIES = 2

_recorders: weakref.WeakSet[SessionRecorder] = weakref.WeakSet()


def recorder_for(inner: object) -> SessionRecorder | None:
    """The newest recorder in front of ``inner`` (the panel's listener), so the panel can find its session."""
    found = [r for r in list(_recorders) if r.inner is inner]
    return max(found, key=lambda r: r.session_id) if found else None


@dataclass
class _Row:
    """A suggestion's row id once the writer has inserted it."""

    id: int | None = None


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def cue_record(cue: Cue, latency_ms: float | None = None) -> CueRecord:
    return CueRecord(
        cue=cue.cue,
        emotion=cue.emotion,
        scale=cue.scale,
        onset_s=_finite(cue.onset_s) or 0.0,
        apex_s=_finite(cue.apex_s) or 0.0,
        offset_s=_finite(cue.offset_s),
        intensity=_finite(cue.intensity) or 0.0,
        confidence=_finite(cue.confidence) or 0.0,
        face=int(cue.face),
        latency_ms=_finite(latency_ms),
    )


class SelfNoteLike(Protocol):
    """What a self-note record is made from: ``callcoach.core.marks.SelfNote`` or anything with its fields."""

    @property
    def kind(self) -> str: ...
    @property
    def t_s(self) -> float: ...
    @property
    def cue(self) -> str: ...
    @property
    def face(self) -> int | None: ...
    @property
    def message(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def remote_talking(self) -> bool: ...


def self_note_record(note: SelfNoteLike) -> SelfNoteRecord:
    return SelfNoteRecord(
        kind=str(note.kind),
        t_s=_finite(note.t_s) or 0.0,
        cue=str(note.cue),
        face=None if note.face is None else int(note.face),
        message=str(note.message),
        confidence=_finite(note.confidence) or 0.0,
        remote_talking=bool(note.remote_talking),
    )


class SessionRecorder(LiveListener):
    """Records one session while forwarding every call to ``inner``. Thread-safe; ``close()`` ends it."""

    def __init__(
        self,
        store: SessionStore,
        inner: LiveListener | None = None,
        *,
        source_kind: str,
        source_name: str,
        context: str,
        playbook_version: str | None = None,
        flush_interval_s: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.inner = inner
        self._clock = clock
        self._interval = flush_interval_s
        self.session_id = store.begin_session(
            source_kind=source_kind, source_name=source_name, context=context, playbook_version=playbook_version
        )
        self._cond = threading.Condition()
        self._ops: list[tuple[Any, ...]] = []
        #: Events the writer has taken off the queue and not yet committed or put back (still unwritten).
        self._in_flight = 0
        self._seen_at: float | None = None
        self._rows: OrderedDict[int, tuple[Suggestion, _Row]] = OrderedDict()
        self._closed = False
        self._requested = self._written = 0
        self.counts = {"cues": 0, "suggestions": 0, "marks": 0, "self_notes": 0}
        #: The last write error, if any (the session goes on; the writer retries with the next batch).
        self.error: BaseException | None = None
        #: Why the store cannot be written right now (disk full, I/O error), or None while writes succeed.
        self.failing: str | None = None
        #: Events that were never written: dropped when the queue hit its bound, or still queued at the end.
        self.lost = 0
        self._thread = threading.Thread(target=self._write_loop, name="callcoach-session-writer", daemon=True)
        self._thread.start()
        _recorders.add(self)

    @property
    def closed(self) -> bool:
        return self._closed

    # --- LiveListener, from the runner's thread ---------------------------------------------------------

    def on_status(self, status: LiveStatus) -> None:
        with self._cond:
            if not self._closed:
                self._seen_at = self._clock()  # the heartbeat: a recovered session ends at its last sign of life
        if self.inner is not None:
            self.inner.on_status(status)

    def on_cue(self, cue: Cue, latency_ms: float) -> None:
        self._put(("cue", cue_record(cue, latency_ms)), "cues")
        if self.inner is not None:
            self.inner.on_cue(cue, latency_ms)

    def on_suggestion(self, suggestion: Suggestion) -> None:
        row = _Row()
        if self._put(("suggestion", suggestion, row), "suggestions"):
            with self._cond:
                self._rows[id(suggestion)] = (suggestion, row)  # the object is kept, so its id is not reused
                while len(self._rows) > _REMEMBERED:
                    self._rows.popitem(last=False)
        if self.inner is not None:
            self.inner.on_suggestion(suggestion)

    def on_self(self, note: SelfNote) -> None:
        """A self-coaching note about the user's own face: queued like a cue, then passed on to ``inner``
        if it takes them (a listener without ``on_self`` simply does not show them)."""
        if note.kind in NOTE_KINDS:
            self._put(("self", self_note_record(note)), "self_notes")
        else:
            # Queued, it would fail the whole batch's CHECK on every retry; dropping it keeps the rest.
            _log.warning("session %s: not keeping a self note of unknown kind %r", self.session_id, note.kind)
        if self.inner is not None:
            self.inner.on_self(note)

    def on_early_cue(self, early: EarlyCue, latency_ms: float) -> None:
        """Not kept (the final cue of the movement is); passed on so the panel and jsonl still get it."""
        if self.inner is not None:
            self.inner.on_early_cue(early, latency_ms)

    def on_early_withdrawn(self, withdrawn: EarlyCueWithdrawn, advised: bool) -> None:
        """Not kept (no final cue means no cue event); passed on so the panel can grey its suggestion."""
        if self.inner is not None:
            self.inner.on_early_withdrawn(withdrawn, advised)

    def on_vcam(self, state: str, message: str) -> None:
        """The virtual camera's and the self-coach's states: not kept, passed on."""
        if self.inner is not None:
            self.inner.on_vcam(state, message)

    # --- from the UI thread -----------------------------------------------------------------------------

    def mark(self, suggestion: Suggestion, kind: str) -> bool:
        """Keep the user's verdict on a suggestion this recorder saw; False if it is unknown or closed."""
        check_mark(kind)
        with self._cond:
            entry = self._rows.get(id(suggestion))
            if entry is None or entry[0] is not suggestion:
                return False
        return self._put(("mark", entry[1], kind), "marks")

    def flush(self, timeout: float = 5.0) -> bool:
        """Write everything queued so far now; True once it is committed."""
        with self._cond:
            self._requested += 1
            wanted = self._requested
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._written >= wanted or not self._thread.is_alive(), timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued and mark the session ended. Later calls only forward to ``inner``."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        with self._cond:
            self.lost += len(self._ops)  # the last attempts failed too: these are gone
            self._ops = []
        try:
            self.store.end_session(self.session_id, ended_at=self._clock())
        except Exception as exc:  # noqa: BLE001 - a full disk (or a damaged store) must not turn quitting into a crash
            self.error = exc
            _log.debug("could not close session %s: %s", self.session_id, exc)

    @property
    def pending(self) -> int:
        """Events held in memory, not yet written (those in the writer's hands included: a retry under way
        must not make a failing store look drained)."""
        with self._cond:
            return len(self._ops) + self._in_flight

    # --- the writer thread ------------------------------------------------------------------------------

    def _put(self, op: tuple[Any, ...], counter: str) -> bool:
        with self._cond:
            if self._closed:
                return False
            self._ops.append((*op, self._clock()))
            self.counts[counter] += 1
            return True

    def _write_loop(self) -> None:
        while True:
            with self._cond:
                if not self._closed and self._requested == self._written:
                    self._cond.wait(self._interval)
                batch = self._take_ops()
                seen, self._seen_at = self._seen_at, None
                requested, closing = self._requested, self._closed
            if batch or seen is not None:
                ok = self._write(batch, seen)
                for _ in range(_CLOSING_RETRIES if closing else 0):
                    if ok:
                        break
                    time.sleep(self._interval)  # the last chance: space may have been freed meanwhile
                    with self._cond:
                        batch = self._take_ops()
                    ok = self._write(batch, None)
            with self._cond:
                self._written = max(self._written, requested)
                self._cond.notify_all()
            if closing:
                return

    def _take_ops(self) -> list[tuple[Any, ...]]:
        """The queue, handed to the writer (the caller holds ``_cond``); it counts as pending until written."""
        batch, self._ops = self._ops, []
        self._in_flight = len(batch)
        return batch

    def _write(self, batch: list[tuple[Any, ...]], seen: float | None) -> bool:
        """Commit ``batch``; on failure put it back (bounded) and return False."""
        assigned: list[_Row] = []
        try:
            with self.store.transaction() as conn:
                last = self._insert(conn, batch, seen, assigned)
                if last is not None:
                    self.store.touch(conn, self.session_id, last)
        # On the writer thread, which must not die: whatever the store raises, the batch is held and retried.
        except Exception as exc:  # noqa: BLE001
            self._hold(batch, seen, assigned, exc)
            return False
        with self._cond:
            self._in_flight = 0
        if self.failing is not None:
            self.failing = None
            if self.inner is not None:
                self.inner.on_store("ok", f"the session record is written again ({len(batch)} held events saved)")
        return True

    def _insert(
        self, conn: sqlite3.Connection, batch: list[tuple[Any, ...]], seen: float | None, assigned: list[_Row]
    ) -> float | None:
        """Insert each event of ``batch`` in the open transaction; the latest time seen (``seen`` included).
        Suggestions written get their row id, and are listed in ``assigned`` in case the transaction fails."""
        last = seen
        for kind, item, *rest in batch:
            at = rest[-1]
            last = at if last is None else max(last, at)
            if kind == "cue":
                self.store.insert_cue(conn, self.session_id, item, at)
            elif kind == "self":
                self.store.insert_self_note(conn, self.session_id, item, at)
            elif kind == "suggestion":
                item_row: _Row = rest[0]
                item_row.id = self.store.insert_suggestion(conn, self.session_id, item, at)
                assigned.append(item_row)
            elif item.id is not None:  # a mark; its suggestion was written in this batch or before
                self.store.insert_mark(conn, item.id, rest[0], at)
        return last

    def _hold(self, batch: list[tuple[Any, ...]], seen: float | None, assigned: list[_Row], exc: Exception) -> None:
        """A failed write: the batch goes back in front of the queue (the oldest dropped past the bound)."""
        self.error = exc
        for row in assigned:
            row.id = None  # rolled back with the transaction
        with self._cond:
            self._ops[:0] = batch
            self._in_flight = 0
            over = len(self._ops) - _MAX_QUEUED
            if over > 0:
                self.lost += over
                del self._ops[:over]
            if seen is not None and self._seen_at is None:
                self._seen_at = seen
        # Said once when writing starts to fail, and once when it works again: never once per retry.
        if self.failing is None:
            self.failing = " ".join(str(exc).split()) or type(exc).__name__
            _log.debug("session %s: cannot write (%s); holding events in memory", self.session_id, exc)
            if self.inner is not None:
                self.inner.on_store(
                    "failing",
                    f"the session record cannot be written ({self.failing}); its events are held in "
                    f"memory (up to {_MAX_QUEUED}) and written when it can. Coaching goes on.",
                )
