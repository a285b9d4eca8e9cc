"""No recording, local only, for a whole LIVE session: the runner, the real models, the playbook's selector and
the session recorder, under the audit guard in a fresh process.

The analysis-only version of this check is ``test_guardrails.py::test_analysis_records_nothing_and_stays_local``;
this one adds what only a live session does: capture and inference threads, a clip played at its real pace,
suggestions, and the session store, which must be the one place anything is written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

#: Seconds of analysed video: enough for the 2 s baseline to complete and coaching to run for a while.
RUN_SECONDS = 4.0

_GUARDED_LIVE = """
import json, sys, tempfile, threading, time

from callcoach.contract import LiveListener
from auditguard import AuditGuard

home, store, clip, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])


class Collect(LiveListener):
    # The runner calls from its inference thread; the lock keeps the lists whole for the main thread.
    def __init__(self):
        self.lock = threading.Lock()
        self.states, self.cues, self.suggestions = [], [], []

    def on_status(self, status):
        with self.lock:
            self.states.append(status.state)

    def on_cue(self, cue, latency_ms):
        with self.lock:
            self.cues.append(cue.cue)

    def on_suggestion(self, suggestion):
        with self.lock:
            self.suggestions.append(suggestion.move)


# Entered before anything heavy is imported, so the libraries' import-time writes are seen too. The temp
# dir is allowed (ctypes probes for shared libraries with throw-away files there; the vision libraries'
# caches go to a scratch dir there); the fake home is watched, and being more specific, checked strictly.
with AuditGuard(allowed_dirs=[store, tempfile.gettempdir()], watch_dirs=[home, store]) as guard:
    from callcoach.live.runner import LiveRunner
    from callcoach.playbook.selector import default_selector
    from callcoach.session.recorder import SessionRecorder, playbook_version
    from callcoach.session.store import SessionStore
    from callcoach.sources.paced import PacedFileSource

    selector = default_selector("general")
    # The clip is 2.4 s long: looping it keeps the "call" going for the whole run.
    source = PacedFileSource(clip, loop=True)
    collect = Collect()
    db = SessionStore()  # CALLCOACH_DATA_DIR points it into the store dir
    recorder = SessionRecorder(db, collect, source_kind=source.kind, source_name=source.name,
                               context="general", playbook_version=playbook_version(selector))
    runner = LiveRunner(source, recorder, advisor=selector)
    runner.start()
    # Model loading takes a few seconds; the run is timed from the first analysed frame.
    deadline = time.monotonic() + 120.0
    while runner.stats.first_done_at is None and not runner.done and time.monotonic() < deadline:
        runner.wait_turns(runner.turns + 1, 0.1)
    runner.wait(seconds)
    ended_by_itself = runner.done
    runner.stop(timeout=10.0)
    source.close()
    recorder.close()
    stored_cues = len(db.cue_events(recorder.session_id))
    stored_suggestions = len(db.suggestions(recorder.session_id))
    session_status = db.session(recorder.session_id).status
    db.close()

with collect.lock:
    result = {
        "frames": runner.stats.frames, "frames_with_face": runner.stats.frames_with_face,
        "end": runner.stats.end, "end_message": runner.stats.end_message, "ended_by_itself": ended_by_itself,
        "stopped": runner.stopped, "states": sorted(set(collect.states)), "cues": len(collect.cues),
        "suggestions": len(collect.suggestions), "stored_cues": stored_cues,
        "stored_suggestions": stored_suggestions, "session_status": session_status,
        "findings": [[f.kind, f.event, f.detail] for f in guard.findings], "report": guard.report(),
    }
print(json.dumps(result))
"""


def test_live_session_records_only_cue_events_and_stays_local(real_media: Path, tmp_path: Path) -> None:
    """A live session in a fresh process: no image or video written, no connection, no write outside the
    session store, nothing in HOME; the runner analysed frames and stopped cleanly."""
    home = tmp_path / "home"
    home.mkdir()
    store = tmp_path / "store"
    store.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "MPLCONFIGDIR", "DISPLAY", "WAYLAND_DISPLAY")
    }
    env["HOME"] = str(home)
    # The guard is a test helper (tests/auditguard.py): the fresh process finds it where pytest does.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(Path(__file__).parent), env.get("PYTHONPATH")) if p)
    env["CALLCOACH_DATA_DIR"] = str(store)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _GUARDED_LIVE,
            str(home),
            str(store),
            str(real_media / "single_face.mp4"),
            str(RUN_SECONDS),
        ],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])

    assert result["findings"] == [], result["report"]
    assert list(home.iterdir()) == []
    # Only the session database (and SQLite's journal files next to it) in the store.
    assert {p.name for p in store.iterdir()} <= {"sessions.db", "sessions.db-wal", "sessions.db-shm"}

    # It really ran: frames analysed with the face in view, the baseline completed, and it was stopped (the
    # looping clip never ends by itself) with both threads finished.
    assert result["frames"] > 10, result
    assert result["frames_with_face"] > 0.8 * result["frames"], result
    assert "locked" in result["states"], result
    assert not result["ended_by_itself"] and result["end"] == "stopped" and result["stopped"], result
    # Whatever the listener saw is what the store kept, and the session was closed properly.
    assert result["stored_cues"] == result["cues"]
    assert result["stored_suggestions"] == result["suggestions"]
    assert result["session_status"] == "ended"
