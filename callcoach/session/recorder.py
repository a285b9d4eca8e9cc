"""Recording a live session: a ``LiveListener`` that keeps cue events, suggestions, marks and self-coaching
notes in the store, and the wiring that puts it in front of ``callcoach live``'s listener.

The recorder itself (``SessionRecorder``, its writer thread, and the cue and self-note records it writes) is
in ``_recorder``, so that each module stays within the project's size bound; it is re-exported here because
callers and tests import it from this module.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from typing import Any, TextIO, TypeVar

from callcoach.contract import LiveListener
from callcoach.errors import CallcoachError
from callcoach.playbook.selector import Selector
from callcoach.playbook.types import Suggestion
from callcoach.playbook.watcher import PlaybookWatcher
from callcoach.session._recorder import SelfNoteLike as SelfNoteLike
from callcoach.session._recorder import SessionRecorder as SessionRecorder
from callcoach.session._recorder import cue_record as cue_record
from callcoach.session._recorder import recorder_for as recorder_for
from callcoach.session._recorder import self_note_record as self_note_record
from callcoach.session.settings import cue_log_line
from callcoach.session.store import SessionStore

# --- wiring for `callcoach live` --------------------------------------------------------------------------

R = TypeVar("R")


def playbook_version(selector: object) -> str | None:
    """The playbook in force as "v<format>+<hash of its content>", so a summary can tell playbook edits apart;
    None for an advisor that is not the playbook's selector (the demo's fallback)."""
    if not isinstance(selector, Selector):
        return None
    playbook = selector.playbook
    digest = hashlib.sha256(playbook.model_dump_json().encode()).hexdigest()[:12]
    return f"v{playbook.version}+{digest}"


class MarkingSelector:
    """The panel's selector, with its helped/misread marks also kept in the session record."""

    def __init__(self, inner: Any, recording: LiveRecording) -> None:
        self._inner = inner
        self._recording = recording

    def set_context(self, name: str) -> None:
        self._inner.set_context(name)

    def mark(self, suggestion: Suggestion, verdict: Any) -> None:
        recorder = self._recording.recorder
        if recorder is not None:
            recorder.mark(suggestion, verdict)
        self._inner.mark(suggestion, verdict)

    @property
    def context(self) -> str:
        context: str = self._inner.context
        return context

    @property
    def watcher(self) -> PlaybookWatcher | None:
        watcher: PlaybookWatcher | None = self._inner.watcher
        return watcher


class LiveRecording:
    """One ``callcoach live`` run's session record, or a pass-through when ``enabled`` is False.

    Failing to open the store never stops coaching: the run goes on unrecorded and ``finish`` says why.
    """

    def __init__(
        self,
        *,
        source_kind: str,
        source_name: str,
        context: str,
        selector: Any = None,
        enabled: bool = True,
        open_store: Callable[[], SessionStore] = SessionStore,
        off_reason: str | None = None,
    ) -> None:
        self.enabled = enabled
        #: Why the cue log is off when ``enabled`` is False, in words that say how to switch it back.
        self.off_reason = off_reason
        self.source_kind, self.source_name, self.context = source_kind, source_name, context
        self.playbook_version = playbook_version(selector)
        self._open_store = open_store
        self.recorder: SessionRecorder | None = None
        self.problem: str | None = None
        self.notice: str | None = None

    def start(self, inner: LiveListener) -> LiveListener:
        """The listener to give the runner: a recorder in front of ``inner`` (or ``inner`` itself)."""
        if not self.enabled:
            return inner
        self.finish()  # a restarted run is a new session
        store: SessionStore | None = None
        try:
            store = self._open_store()
            self.recorder = SessionRecorder(
                store,
                inner,
                source_kind=self.source_kind,
                source_name=self.source_name,
                context=self.context,
                playbook_version=self.playbook_version,
            )
            if store.notice:  # a damaged store was moved aside: said at the start, and again at the end
                self.notice = store.notice
                inner.on_store("moved_aside", store.notice)
        except (CallcoachError, OSError, sqlite3.Error) as exc:
            self.problem = " ".join(str(exc).split())
            if store is not None:
                store.close()
            return inner
        return self.recorder

    @property
    def keeping(self) -> bool:
        """Whether this run keeps a cue log: before ``start``, whether it will try; after, whether it does."""
        return self.enabled and self.problem is None

    def start_line(self) -> str:
        """One line for the start of a run: kept where (and what), or not kept and why."""
        if self.recorder is not None:
            return cue_log_line(True, where=self.recorder.store.path, session_id=self.recorder.session_id)
        if not self.enabled:
            return cue_log_line(False, reason=self.off_reason)
        return cue_log_line(False, reason=self.problem or "the session store did not open")

    def start_record(self) -> dict[str, Any]:
        """The same for jsonl: ``{"type": "session", "kept": ..., "path": ..., "id": ..., "message": ...}``."""
        recorder = self.recorder
        return {
            "type": "session",
            "kept": recorder is not None,
            "path": str(recorder.store.path) if recorder is not None else None,
            "id": recorder.session_id if recorder is not None else None,
            "message": self.start_line(),
        }

    def wrap_factory(self, factory: Callable[[LiveListener], R]) -> Callable[[LiveListener], R]:
        return factory if not self.enabled else (lambda listener: factory(self.start(listener)))

    def wrap_selector(self, selector: Any) -> Any:
        """The panel's selector with marks kept too; also notes which playbook is in force."""
        if selector is None or not self.enabled:
            return selector
        self.playbook_version = playbook_version(selector) or self.playbook_version
        return MarkingSelector(selector, self)

    def finish(self, out: TextIO | None = None, *, trouble: TextIO | None = None) -> str | None:
        """Close the session; return (and write to ``out``) one line saying where its summary is. A line that
        reports trouble (events lost, the session not kept, the store moved aside) goes to ``trouble`` when
        ``out`` is None: a headless run keeps stdout for jsonl but must still say what was lost."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.close()  # counts what could not be written
            recorder.store.close()
        troubled = (
            self.notice is not None
            or (recorder is None and self.problem is not None)
            or (recorder is not None and recorder.lost > 0)
        )
        if out is None and troubled:
            out = trouble
        line = None
        if recorder is not None:
            counts = recorder.counts
            own = f", {counts['self_notes']} notes on your own face" if counts["self_notes"] else ""
            line = (
                f"callcoach: session {recorder.session_id} kept ({counts['cues']} cues, "
                f"{counts['suggestions']} suggestions, {counts['marks']} marks{own}; no video, picture or sound). "
                f"See it with: callcoach summary {recorder.session_id}"
            )
            if recorder.lost:
                why = f" ({' '.join(str(recorder.error).split())})" if recorder.error is not None else ""
                line += (
                    f"\ncallcoach: {recorder.lost} of its events could not be written to the session store"
                    f"{why}; the summary lacks them"
                )
        elif self.problem is not None:
            line = f"callcoach: this session was not kept ({self.problem})"
        if self.notice is not None:
            line = f"callcoach: {self.notice}" + ("" if line is None else "\n" + line)
            self.notice = None
        if line is not None and out is not None:
            print(line, file=out, flush=True)
        return line
