"""``callcoach live --headless``: the run without the panel, as jsonl on stdout.

The output starts with a ``session`` line (is a cue log kept, where, and how to switch it off), then carries
the cue lines of ``callcoach analyze`` plus ``latency_ms`` and ``apex_latency_ms`` (see callcoach.live.stats), a
status line whenever the state changes, and a summary line last. The first headless run prints the consent
note on stderr once, as the panel shows it before its first run. Cue and
status times are seconds since the run started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TextIO, cast

from callcoach.core.marks import SelfNote
from callcoach.cues.vocabulary import Cue, EarlyCue, EarlyCueWithdrawn
from callcoach.errors import CallcoachError, SourceError
from callcoach.live.contract import Advisor, LiveListener
from callcoach.live.runner import LiveRunner
from callcoach.live.state import LiveStatus
from callcoach.playbook.guardrails import (
    CONSENT_TEXT,
    HEADLESS_NOTICE_END,
    headless_notice_due,
    record_headless_notice,
)
from callcoach.playbook.selector import Selector
from callcoach.playbook.types import Suggestion
from callcoach.sources.base import FrameSource

#: --duration: the longest wait for the models to load before its seconds start.
_LOAD_WAIT_S = 120.0

RunnerFactory = Callable[[LiveListener], LiveRunner]


class HeadlessWriter(LiveListener):
    """The headless LiveListener: one JSON object per line, flushed, from the inference thread."""

    def __init__(self, out: TextIO, err: TextIO | None = None) -> None:
        self.out = out
        self.err = err if err is not None else sys.stderr
        # The vision stage points fd 2 at /dev/null for a moment while a model loads (to hush native logs);
        # a warning from the playbook watcher's thread at that moment would be lost. A copy of the real
        # stderr taken now is not redirected.
        self._err_fd: int | None = None
        if err is None:
            with contextlib.suppress(AttributeError, OSError, ValueError):
                self._err_fd = os.dup(sys.stderr.fileno())
                weakref.finalize(self, os.close, self._err_fd)
        self.runner: LiveRunner | None = None
        self._last: tuple[str, str] | None = None
        self._lock = threading.Lock()
        self._closed = False

    def line(self, record: dict[str, Any], *, last: bool = False) -> None:
        text = json.dumps(record, allow_nan=False)
        with self._lock:
            if self._closed:
                return  # a thread still winding down after the summary: the summary stays the last line
            self._closed = last
            self.out.write(text + "\n")
            self.out.flush()

    def on_status(self, status: LiveStatus) -> None:
        key = (status.state, status.message)
        if key == self._last:
            return  # the panel wants a steady stream; a log only wants the changes
        self._last = key
        self.line({"type": "status", **dataclasses.asdict(status)})

    def on_cue(self, cue: Cue, latency_ms: float) -> None:
        record = dict(cue.as_dict())
        record["latency_ms"] = round(latency_ms, 1)
        timings = self.runner.stats.cue_timings if self.runner is not None else []
        if timings and timings[-1].cue is cue:
            record["apex_latency_ms"] = round(timings[-1].apex_latency_ms, 1)
        self.line(_finite(record))

    def on_early_cue(self, early: EarlyCue, latency_ms: float) -> None:
        record = dict(early.as_dict())
        record["latency_ms"] = round(latency_ms, 1)
        timings = self.runner.stats.early_timings if self.runner is not None else []
        if timings and timings[-1].cue == early.cue:
            record["apex_latency_ms"] = round(timings[-1].apex_latency_ms, 1)
        self.line(_finite(record))

    def on_early_withdrawn(self, withdrawn: EarlyCueWithdrawn, advised: bool) -> None:
        self.line(_finite({**withdrawn.as_dict(), "suggestion_withdrawn": advised}))

    def on_suggestion(self, suggestion: Suggestion) -> None:
        record = {"type": "suggestion", **dataclasses.asdict(suggestion)}
        record["t_s"], record["confidence"] = round(suggestion.t_s, 3), round(suggestion.confidence, 3)
        self.line(_finite(record))

    def on_self(self, note: SelfNote) -> None:
        self.line(_finite(dict(note.as_dict())))

    def on_playbook_error(self, error: Exception, in_force: str) -> None:
        """A playbook version that could not be used (at the start or saved during the call): one jsonl
        line for programs and one stderr line for the person, once per bad version."""
        if self._closed:
            return  # after the summary: the run is over
        message = " ".join(str(error).split())
        self.line({"type": "playbook_error", "message": message, "in_force": in_force})
        text = f"callcoach: warning: the playbook was not loaded: {message}; {in_force} stays in force\n"
        if self._err_fd is not None:
            with contextlib.suppress(OSError):
                os.write(self._err_fd, text.encode("utf-8", "replace"))
                return
        print(text, end="", file=self.err, flush=True)

    def on_store(self, state: str, message: str) -> None:
        """The session record cannot be written (or can again): one line each way, never one per retry."""
        self.line({"type": "store", "state": state, "message": message})

    def on_vcam(self, state: str, message: str) -> None:
        if state.startswith("self_"):
            self.line({"type": "self_status", "state": state.removeprefix("self_"), "message": message})
        else:
            self.line({"type": "vcam", "state": state, "message": message})


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def run_headless(
    factory: RunnerFactory,
    duration: float | None,
    out: TextIO = sys.stdout,
    advisor: object = None,
    start_record: Callable[[], dict[str, Any]] | None = None,
) -> int:
    writer = HeadlessWriter(out)
    watcher = advisor.watcher if isinstance(advisor, Selector) else None
    if watcher is not None:
        watcher.listen(writer.on_playbook_error)  # also follows the file between cues
    runner = factory(writer)
    writer.runner = runner
    if start_record is not None:  # the session record exists once the runner is built: say where it is kept
        writer.line(start_record())
    interrupted = False
    stopped_code = 130  # Ctrl-C; a kill or a closed terminal: 128 + its signal (cli.main.Stopped)
    runner.start()
    try:
        if duration is not None:
            # S seconds of coaching, counted once the models have loaded (which alone may take longer on a busy
            # machine); a file is held until then anyway.
            deadline = time.monotonic() + _LOAD_WAIT_S
            while not (runner.models_ready.wait(0.1) or runner.done) and time.monotonic() < deadline:
                pass
        runner.wait(duration)
    except KeyboardInterrupt as exc:
        interrupted = True
        stopped_code = getattr(exc, "code", 130)
    finally:
        runner.stop(timeout=2.0)
        runner.settle()  # stopped while the models were still loading: let that end before the process does
        if watcher is not None:
            watcher.close()
    summary = _final_summary(runner, _recorder_for(writer), interrupted)
    damage = _file_damage(runner)
    if damage is not None:  # as `callcoach analyze` says it: the summary covers what was read
        summary["complete"], summary["error"] = False, " ".join(str(damage).split())
    writer.line(_finite(summary), last=True)
    if interrupted:
        return stopped_code
    if damage is not None:
        raise damage
    if runner.stats.end == "error":
        err = runner.error
        if isinstance(err, CallcoachError):
            raise err
        raise CallcoachError(f"live run failed: {runner.stats.end_message}")
    return 0


def _final_summary(runner: LiveRunner, recorder: Any, interrupted: bool) -> dict[str, Any]:
    """The run's last JSON line: the runner's statistics, how it ended, the store and the camera's state."""
    summary = runner.stats.as_dict()
    if recorder is not None:
        recorder.flush(timeout=2.0)  # one more try: the summary then says what is really still unwritten
    if recorder is not None and recorder.failing:
        # Events still held because the store cannot be written; the line on stderr at the end says how
        # many were finally lost.
        summary["store"] = {"state": "failing", "message": recorder.failing, "unwritten": recorder.pending}
    if interrupted:
        summary["end"] = "interrupted"
    summary["clean_stop"] = runner.stopped
    if runner.companion is not None:
        summary["vcam"] = runner.companion.state
        summary["self_notes"] = runner.self_notes
        if runner.companion.self_stats is not None:
            summary["self"] = runner.companion.self_stats
    return summary


def _file_damage(runner: LiveRunner) -> SourceError | None:
    return damage_of(runner.source)


def damage_of(source: FrameSource) -> SourceError | None:
    """The error of a --video file that stopped well short of its header's frame count (truncated or
    damaged): the run ended as if the video were over, but the user has to hear that it was not whole."""
    from callcoach.sources.paced import PacedFileSource

    return source.damage if isinstance(source, PacedFileSource) else None


def _recorder_for(listener: object) -> Any:
    from callcoach.session.recorder import recorder_for

    return recorder_for(listener)


def headless_notice() -> None:
    """Runs without the panel get no consent screen: the first one (per version of the note) prints it on
    stderr instead, stdout being jsonl. A config directory that cannot be written only means it shows again."""
    if not headless_notice_due():
        return
    print(f"{CONSENT_TEXT.replace('`', '')}\n\n{HEADLESS_NOTICE_END}\n", file=sys.stderr, flush=True)
    with contextlib.suppress(OSError):
        record_headless_notice()


def headless_advisor(context: str) -> Advisor | None:
    """The playbook's selector for jsonl runs (no Textual needed); a broken playbook is said once on stderr and
    the run goes on with cue lines only, as the panel does."""
    from callcoach.playbook.selector import default_selector

    try:
        return cast(Advisor, default_selector(context))
    except CallcoachError as exc:
        print(
            f"callcoach: the playbook cannot be used ({' '.join(str(exc).split())}); printing cues without suggestions",
            file=sys.stderr,
            flush=True,
        )
        return None
