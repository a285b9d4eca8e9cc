"""Is a session's writer still alive? What ``SessionStore.recover`` asks of every session left ``running``.

Apart from ``store`` because it is about processes, not SQLite: a pid, the process's start time (so a reused
pid is not mistaken for the writer) and, where neither can be read, the writer's heartbeat.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def process_started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), "zombie", or None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    if not fields:
        return None
    return "zombie" if fields[0] in ("Z", "X") else (fields[19] if len(fields) > 19 else None)


_SILENT_FOR_S = 12 * 3600.0


def alive(pid: int | None, started: str | None, last_seen_at: float | None) -> bool:
    if pid is None or pid <= 0:
        return False
    if os.name == "nt":
        # os.kill would terminate the process on Windows: trust the writer's heartbeat instead.
        return last_seen_at is not None and time.time() - last_seen_at < 120.0
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process holds that pid: ours is gone unless the start time matches
    except OSError:
        return False
    now = process_started(pid)
    if now == "zombie":
        return False
    if now is None or started is None:
        # No start time to compare (not Linux): a live writer beats twice a second, so a pid that has been
        # silent for half a day is someone else's by now.
        return last_seen_at is None or time.time() - last_seen_at < _SILENT_FOR_S
    return now == started
