"""The shared types have one owner, and listeners get events by plain method calls (docs/architecture.md)."""

from __future__ import annotations

import inspect
import re
import sqlite3

import pytest

from callcoach.cli.live_cmd import HeadlessWriter
from callcoach.contract import LiveListener
from callcoach.core.marks import MARK_KINDS, NOTE_KINDS, check_mark
from callcoach.session.recorder import SessionRecorder
from callcoach.session.schema import migrate
from callcoach.ui.demo import PrintListener
from callcoach.ui.messages import PanelListener

LISTENERS = (PanelListener, HeadlessWriter, SessionRecorder, PrintListener)


def _check_words(table: str) -> tuple[str, ...]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(conn, "memory")
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    finally:
        conn.close()
    found = re.search(r"kind IN \(([^)]*)\)", sql)
    assert found is not None, sql
    return tuple(word.strip().strip("'") for word in found.group(1).split(","))


def test_the_store_schema_checks_the_same_words_the_core_declares() -> None:
    # The migrations are history and spell the words out; they must agree with the one declaration.
    assert _check_words("marks") == MARK_KINDS == ("helped", "misread")
    assert _check_words("self_notes") == NOTE_KINDS == ("leak", "mirror_met", "mirror_missed")


def test_a_mark_is_checked_in_one_place_with_one_message() -> None:
    assert [check_mark(kind) for kind in MARK_KINDS] == ["helped", "misread"]
    with pytest.raises(ValueError, match=r"a mark is 'helped' or 'misread', not 'great'"):
        check_mark("great")


@pytest.mark.parametrize("listener", LISTENERS, ids=lambda cls: cls.__name__)
def test_every_listener_event_is_declared_on_the_base(listener: type) -> None:
    assert issubclass(listener, LiveListener)
    own = {name for name, _ in inspect.getmembers(listener, inspect.isfunction) if name.startswith("on_")}
    declared = {name for name in vars(LiveListener) if name.startswith("on_")}
    assert own and own <= declared, own - declared  # an event only some listeners have would be found by name


def test_the_base_listener_ignores_every_event() -> None:
    base = LiveListener()
    for name in vars(LiveListener):
        if name.startswith("on_"):
            method = getattr(base, name)
            arity = len(inspect.signature(method).parameters)
            assert method(*([None] * arity)) is None
