"""Where the session store lives and how long sessions are kept.

The database sits in the platform's data directory; ``CALLCOACH_DATA_DIR`` moves it (tests, portable
installs). Retention comes from ``CALLCOACH_RETENTION_DAYS`` when set, else from ``sessions.json`` in the
config directory (written by ``callcoach sessions retention``), else ``DEFAULT_RETENTION_DAYS``. "off" (or
0) keeps sessions until they are deleted by hand: 0 days must never mean "delete everything".

Whether ``callcoach live`` keeps a session at all (the cue log) comes from ``CALLCOACH_RECORD_SESSIONS`` when set,
else from ``record_sessions`` in the same file (``callcoach sessions record on|off``), else on; one run can still
opt out with ``--no-record-session``. ``CUE_LOG_*`` are the words every screen uses to say what it keeps.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

from callcoach.errors import UsageError

DATA_DIR_ENV = "CALLCOACH_DATA_DIR"
RETENTION_ENV = "CALLCOACH_RETENTION_DAYS"
RECORD_ENV = "CALLCOACH_RECORD_SESSIONS"
DB_FILENAME = "sessions.db"
SETTINGS_FILENAME = "sessions.json"
#: A quarter is long enough to see a trend across calls, short enough that old calls do not pile up unseen.
DEFAULT_RETENTION_DAYS = 90
_OFF = ("off", "never", "none", "0")


def data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir("callcoach"))


def db_path() -> Path:
    return data_dir() / DB_FILENAME


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir("callcoach")) / SETTINGS_FILENAME


def parse_retention(text: str, *, where: str) -> int | None:
    """Days as a whole positive number, or None for "off"; anything else is one clear error naming ``where``."""
    value = text.strip().lower()
    if value in _OFF:
        return None
    try:
        days = int(value)
    except ValueError:
        raise UsageError(f"{where}: retention is a number of days or 'off', not {text!r}") from None
    if days < 0:
        raise UsageError(f"{where}: retention is a number of days or 'off', not {text!r}")
    return days or None


def retention_days() -> int | None:
    """The retention in force: days to keep a session, or None to keep sessions until deleted."""
    env = os.environ.get(RETENTION_ENV)
    if env is not None and env.strip():
        return parse_retention(env, where=RETENTION_ENV)
    path = settings_path()
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DEFAULT_RETENTION_DAYS
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot be read ({exc}); fix or delete it") from exc
    if not isinstance(record, dict) or "retention_days" not in record:
        return DEFAULT_RETENTION_DAYS
    days = record["retention_days"]
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise UsageError(f"{path}: retention_days must be a whole number of days or null, not {days!r}")
    return days or None


def _set_setting(name: str, value: object) -> Path:
    """Set one key of the config file, keeping the others."""
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if not isinstance(record, dict):
        record = {}
    record[name] = value
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # a crash mid-write must not leave a half file that blocks every later start
    return path


def set_retention_days(days: int | None) -> Path:
    """Remember the retention in the config file (None: keep sessions until deleted)."""
    return _set_setting("retention_days", days)


def retention_text(days: int | None) -> str:
    return "kept until you delete them" if days is None else f"deleted after {days} days"


# --- the cue log: on or off, and the words that say so -----------------------------------------------------

#: What a kept session holds, and what it never holds (the consent note says the same in its own words).
CUE_LOG_HOLDS = (
    "the cues seen, the suggestions shown, your marks, notes on your own face with --vcam, and the "
    "window or source name"
)
CUE_LOG_NEVER = "no video, picture or sound"
CUE_LOG_OFF_HOW = "--no-record-session for one run, 'callcoach sessions record off' for every run"
CUE_LOG_ON_HOW = "'callcoach sessions record on'"
_ON = ("on", "yes", "true", "1")
_OFF_WORDS = ("off", "no", "false", "0")


def parse_switch(text: str, *, where: str) -> bool:
    value = text.strip().lower()
    if value in _ON:
        return True
    if value in _OFF_WORDS:
        return False
    raise UsageError(f"{where}: say 'on' or 'off', not {text!r}")


def _read_settings() -> dict[str, object]:
    path = settings_path()
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot be read ({exc}); fix or delete it") from exc
    return record if isinstance(record, dict) else {}


def record_sessions() -> bool:
    """Whether ``callcoach live`` keeps a cue log of each run (before ``--no-record-session``)."""
    env = os.environ.get(RECORD_ENV)
    if env is not None and env.strip():
        return parse_switch(env, where=RECORD_ENV)
    value = _read_settings().get("record_sessions", True)
    if not isinstance(value, bool):
        raise UsageError(f"{settings_path()}: record_sessions must be true or false, not {value!r}")
    return value


def set_record_sessions(on: bool) -> Path:
    """Remember whether live runs keep a cue log (the retention setting is left as it is)."""
    return _set_setting("record_sessions", on)


def cue_log_badge(on: bool | None) -> str:
    """The panel's privacy badge: true in every state (None: no session is recorded by this panel's caller)."""
    if on is None:
        return "local only · no video kept"
    return f"local only · no video kept · cue log {'on' if on else 'off'}"


def cue_log_line(
    on: bool, *, where: Path | None = None, session_id: int | None = None, reason: str | None = None
) -> str:
    """One line saying whether this run's cue log is kept, where, what it holds and how to switch it."""
    if on:
        at = f" in {where}" if where is not None else ""
        which = f"session {session_id} " if session_id is not None else "a session "
        return (
            f"cue log on: {which}is kept{at} ({CUE_LOG_HOLDS}; {CUE_LOG_NEVER}, ever). "
            f"Switch it off: {CUE_LOG_OFF_HOW}."
        )
    why = f" ({reason})" if reason else ""
    return f"cue log off: this session is not kept{why}; {CUE_LOG_NEVER} is kept, ever."


def cue_log_off_reason(no_record_flag: bool) -> str | None:
    """Why live runs keep no cue log right now, in words that say how to switch it back; None when they do."""
    if no_record_flag:
        return "--no-record-session"
    env = os.environ.get(RECORD_ENV)
    if env is not None and env.strip():
        return None if parse_switch(env, where=RECORD_ENV) else f"{RECORD_ENV}={env.strip()}"
    if not record_sessions():
        return f"switched off; {CUE_LOG_ON_HOW} switches it back on"
    return None
