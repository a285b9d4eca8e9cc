"""Where the session store lives and how long sessions are kept.

The database sits in the platform's data directory; ``CALLCOACH_DATA_DIR`` moves it (tests, portable
installs). Retention comes from ``CALLCOACH_RETENTION_DAYS`` when set, else from ``sessions.json`` in the
config directory (written by ``callcoach sessions retention``), else ``DEFAULT_RETENTION_DAYS``. "off" (or
0) keeps sessions until they are deleted by hand: 0 days must never mean "delete everything".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

from callcoach.errors import UsageError

DATA_DIR_ENV = "CALLCOACH_DATA_DIR"
RETENTION_ENV = "CALLCOACH_RETENTION_DAYS"
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


def set_retention_days(days: int | None) -> Path:
    """Remember the retention in the config file (None: keep sessions until deleted)."""
    path = settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record = {}
    if not isinstance(record, dict):
        record = {}
    record["retention_days"] = days
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)  # a crash mid-write must not leave a half file that blocks every later start
    return path


def retention_text(days: int | None) -> str:
    return "kept until you delete them" if days is None else f"deleted after {days} days"
