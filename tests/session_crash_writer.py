"""Records a session forever, as fast as a busy call would: run by the SIGKILL test, which kills it.

Usage: ``python session_crash_writer.py DB``. After each cue the recorder has accepted it prints
``SEQ APEX_S WALLTIME`` (flushed), so the test knows what had been handed to the recorder and when.
"""

from __future__ import annotations

import sys
import time

from callcoach.cues.vocabulary import CUE_NAMES, Cue
from callcoach.live.state import LiveStatus
from callcoach.session.recorder import SessionRecorder
from callcoach.session.store import SessionStore


def main(db: str) -> None:
    store = SessionStore(db, retention_days=None)
    recorder = SessionRecorder(store, None, source_kind="window", source_name="crash test", context="general")
    print(f"session {recorder.session_id}", flush=True)
    start = time.monotonic()
    seq = 0
    while True:
        t = time.monotonic() - start
        recorder.on_status(LiveStatus(t, "crash test", "locked", ""))
        recorder.on_cue(Cue(CUE_NAMES[seq % len(CUE_NAMES)], None, "micro", t, t, t, 0.5, 0.7, 0), 12.0)
        print(f"{seq} {t!r} {time.time():.6f}", flush=True)
        seq += 1
        time.sleep(0.01)


if __name__ == "__main__":
    main(sys.argv[1])
