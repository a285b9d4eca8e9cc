"""Hand-made sessions for the session store, summary and CLI tests (no camera, no models)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from callcoach.cues.vocabulary import REGION
from callcoach.live.selfcoach import SelfNote
from callcoach.playbook.types import Suggestion
from callcoach.session.recorder import self_note_record
from callcoach.session.store import CueRecord, SessionStore

#: 2024-03-05 10:00:00 UTC: a fixed start, so ids, times and trends do not depend on the day the tests run.
T0 = 1_709_632_800.0


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private data and config directory; retention off unless a test sets it."""
    data = tmp_path / "data"
    monkeypatch.setenv("CALLCOACH_DATA_DIR", str(data))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("CALLCOACH_RETENTION_DAYS", "off")
    yield data


def suggestion(t_s: float, cue: str, *, plain: str | None = None, context: str = "sales") -> Suggestion:
    return Suggestion(
        t_s=t_s,
        cue=cue,
        face=0,
        region=REGION[cue],
        plain=plain or f"{cue} at {t_s:g}s, maybe",
        confidence=0.6,
        move="Ask an open question.",
        repair="Happy to go back a step.",
        say_nothing=False,
        strength="gentle",
        context=context,
    )


def leak(t_s: float, cue: str, *, talking: bool = True, confidence: float = 0.6) -> SelfNote:
    return SelfNote(
        "leak", t_s, cue, None, f"Your lips may have tightened at {t_s:g}s; breathe out.", confidence, talking
    )


def mirror(t_s: float, met: bool, cue: str = "duchenne_smile", face: int = 0) -> SelfNote:
    message = "You smiled back." if met else "A smile back may help next time."
    return SelfNote("mirror_met" if met else "mirror_missed", t_s, cue, face, message, 0.7, False)


#: Over the 10 minutes of the standard session: 4 leaks (3 while the other person talked), 3 mirror checks.
SELF_NOTES: tuple[SelfNote, ...] = (
    mirror(12.0, True),
    leak(201.0, "lip_compression"),
    leak(206.0, "unilateral_lip_pull"),
    leak(403.0, "lip_compression", talking=False),
    mirror(362.0, False, "polite_smile"),
    mirror(503.0, True),
    leak(551.0, "lip_compression"),
)


def make_session(
    store: SessionStore,
    *,
    started_at: float = T0,
    duration_s: float = 600.0,
    cues: Sequence[tuple[float, str, float]] = (),
    suggestions: Sequence[tuple[float, str, str | None]] = (),
    self_notes: Sequence[SelfNote] = (),
    status: str = "ended",
    source_name: str = "Weekly sync",
) -> int:
    """A finished session: cues are (apex_s, cue, confidence), suggestions (t_s, cue, mark or None), self
    notes about the user's own face as ``SelfNote``."""
    session_id = store.begin_session(
        source_kind="window",
        source_name=source_name,
        context="sales",
        playbook_version="v1+test",
        started_at=started_at,
    )
    with store.transaction() as conn:
        for apex, name, confidence in cues:
            # The span reaches past the suggestions made from it (up to 5 s after the apex here), as a live
            # suggestion always lies within its final cue's span; one outside every span reads as withdrawn.
            record = CueRecord(name, None, "micro", apex - 0.1, apex, apex + 6.0, 0.5, confidence, 0, 30.0)
            store.insert_cue(conn, session_id, record, started_at + apex)
        for t_s, name, mark in suggestions:
            row = store.insert_suggestion(conn, session_id, suggestion(t_s, name), started_at + t_s)
            if mark is not None:
                store.insert_mark(conn, row, mark, started_at + t_s + 2)
        for note in self_notes:
            store.insert_self_note(conn, session_id, self_note_record(note), started_at + note.t_s)
    if status != "running":
        store.end_session(session_id, ended_at=started_at + duration_s, status=status)  # type: ignore[arg-type]
    return session_id


#: 20 cues over 10 minutes; suggestions marked helped, misread, -, helped, misread, misread, -, helped.
CUES: tuple[tuple[float, str, float], ...] = (
    (10.0, "duchenne_smile", 0.9),
    (14.0, "polite_smile", 0.6),
    (20.0, "duchenne_smile", 0.8),
    (60.0, "eyebrow_flash", 0.5),
    (95.0, "gaze_aversion", 0.4),
    (130.0, "blink_cluster", 0.5),
    (200.0, "lip_compression", 0.7),
    (203.0, "micro_frown", 0.6),
    (208.0, "unilateral_lip_pull", 0.8),
    (212.0, "micro_anger", 0.5),
    (260.0, "micro_surprise", 0.5),
    (300.0, "nose_wrinkle", 0.3),
    (360.0, "polite_smile", 0.5),
    (400.0, "lip_compression", 0.4),
    (402.0, "lip_compression", 0.4),
    (450.0, "gaze_aversion", 0.5),
    (500.0, "duchenne_smile", 0.7),
    (505.0, "duchenne_smile", 0.7),
    (550.0, "blink_cluster", 0.5),
    (590.0, "eyebrow_flash", 0.6),
)
SUGGESTIONS: tuple[tuple[float, str, str | None], ...] = (
    (15.0, "duchenne_smile", "helped"),
    (205.0, "micro_frown", "misread"),
    (262.0, "micro_surprise", None),
    (302.0, "nose_wrinkle", "helped"),
    (401.0, "lip_compression", "misread"),
    (452.0, "gaze_aversion", "misread"),
    (502.0, "duchenne_smile", None),
    (592.0, "eyebrow_flash", "helped"),
)


def standard_session(store: SessionStore, **kwargs: object) -> int:
    return make_session(store, cues=CUES, suggestions=SUGGESTIONS, **kwargs)  # type: ignore[arg-type]
