"""``callcoach sessions record on|off``: the lasting switch for the cue log, end to end in a private config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from session_fakes import data_dir
from test_sessions_cli import assert_clean_error, run

from callcoach.session import settings

__all__ = ["data_dir"]


def test_record_switch(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shown = run("sessions", "record")
    assert shown.returncode == 0 and shown.stdout.startswith("Live runs keep a cue log."), shown.stderr
    assert "no video, picture or sound" in shown.stdout and "--no-record-session" in shown.stdout
    assert settings.record_sessions() is True

    settings.set_retention_days(30)  # the switch leaves the other setting alone
    off = run("sessions", "record", "off")
    assert off.returncode == 0 and off.stdout.startswith("Live runs now keep no cue log"), off.stderr
    assert "stay until you delete them" in off.stdout
    assert json.loads(settings.settings_path().read_text()) == {"retention_days": 30, "record_sessions": False}
    assert settings.record_sessions() is False and settings.cue_log_off_reason(False) is not None
    assert run("sessions", "record").stdout.startswith("Live runs keep no cue log.")

    assert run("sessions", "record", "on").returncode == 0
    assert settings.record_sessions() is True and settings.cue_log_off_reason(False) is None
    assert settings.cue_log_off_reason(True) == "--no-record-session"
    assert_clean_error(run("sessions", "record", "sometimes"), 2, "say 'on' or 'off'")


def test_a_broken_setting_is_one_clear_error(data_dir: Path) -> None:
    path = settings.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"record_sessions": "yes please"}))
    assert_clean_error(run("sessions", "record"), 2, "record_sessions must be true or false")


@pytest.mark.parametrize(("on", "badge"), [(True, "cue log on"), (False, "cue log off"), (None, "no video kept")])
def test_badge_words(on: bool | None, badge: str) -> None:
    assert settings.cue_log_badge(on).startswith("local only · no video kept")
    assert settings.cue_log_badge(on).endswith(badge)


def test_start_lines_say_where_and_how() -> None:
    on = settings.cue_log_line(True, where=Path("/d/sessions.db"), session_id=7)
    assert on.startswith("cue log on: session 7 is kept in /d/sessions.db (") and "sessions record off" in on
    off = settings.cue_log_line(False, reason="--no-record-session")
    assert off == (
        "cue log off: this session is not kept (--no-record-session); no video, picture or sound is kept, ever."
    )
