"""``callcoach live``: coach on a call as it happens, in the Textual panel or headless as jsonl.

Headless jsonl starts with a ``session`` line (is a cue log kept, where, and how to switch it off), then carries
the cue lines of ``callcoach analyze`` plus ``latency_ms`` and ``apex_latency_ms`` (see callcoach.live.stats), a
status line whenever the state changes, and a summary line last. The first headless run prints the consent
note on stderr once, as the panel shows it before its first run. Cue and
status times are seconds since the run started.
"""

from __future__ import annotations

import argparse
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
from typing import TYPE_CHECKING, Any, TextIO, cast

from callcoach.core.marks import SelfNote
from callcoach.cues.vocabulary import Cue, EarlyCue, EarlyCueWithdrawn
from callcoach.errors import CallcoachError, SourceError, UsageError
from callcoach.live.companion import Companion
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
from callcoach.playbook.types import CONTEXTS, Suggestion
from callcoach.session import settings
from callcoach.session.recorder import LiveRecording, playbook_version
from callcoach.sources.base import FrameSource

if TYPE_CHECKING:
    from callcoach.vision.selfview import SelfViewReference

#: Screen capture rate when --fps is not given (kept here so parsing the options imports no mss).
LIVE_FPS = 30.0
#: --duration: the longest wait for the models to load before its seconds start.
_LOAD_WAIT_S = 120.0

RunnerFactory = Callable[[LiveListener], LiveRunner]

_SOURCES = ("window", "region", "auto", "camera", "video")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_argument_group("what to watch (one of)")
    src.add_argument(
        "--window", metavar="TITLE", help="follow the window whose title contains TITLE (X11, Windows, macOS)"
    )
    src.add_argument("--region", metavar="X,Y,W,H", help="a fixed screen region, in pixels")
    src.add_argument(
        "--monitor",
        type=int,
        metavar="N",
        help="a whole monitor (1 = first; 0 = all); with --auto, the monitor to scan",
    )
    src.add_argument(
        "--auto",
        action="store_true",
        help="find the other person's video tile on the screen; with --vcam your own self-view "
        "tile is recognised by matching your webcam (else by size and place: a small corner face)",
    )
    src.add_argument("--camera", type=int, metavar="N", help="camera number N (0 = the first)")
    src.add_argument(
        "--video",
        metavar="FILE",
        help="a video file, played at its real rate from when the models "
        "have loaded; every frame is analysed (slower than real time if need be)",
    )
    parser.add_argument("--loop", action="store_true", help="--video: start again at the end")
    parser.add_argument(
        "--fps",
        type=float,
        default=None,
        metavar="F",
        help="screen, window and --auto capture rate (default 30); --video: delivery rate (default: the file's own)",
    )
    parser.add_argument("--headless", action="store_true", help="no panel: jsonl on stdout")
    parser.add_argument(
        "--duration",
        type=float,
        metavar="S",
        help="--headless: stop after S seconds (counted once the models have loaded)",
    )
    parser.add_argument("--format", choices=("jsonl",), default="jsonl", help="--headless output (jsonl)")
    parser.add_argument(
        "--context",
        choices=CONTEXTS,
        default="general",
        help="coaching context for the panel's suggestions (the panel can switch it)",
    )
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=2.0,
        metavar="S",
        help="seconds of a face used as its neutral baseline (default 2.0)",
    )
    cam = parser.add_argument_group("your own camera (optional)")
    cam.add_argument(
        "--vcam",
        action="store_true",
        help="also pass your webcam through to the 'CallCoach Camera' virtual camera (pick it in the "
        "call app) and coach your own face on a quieter line. Without a virtual camera device you "
        "are told what to do, the webcam is released and coaching the other person goes on "
        "(with --vcam-video, your own face is still coached from the file)",
    )
    cam.add_argument("--vcam-camera", type=int, metavar="N", help="--vcam: your webcam's number (default 0)")
    cam.add_argument("--vcam-video", metavar="FILE", help="--vcam: a video file standing in for your webcam")
    cam.add_argument("--vcam-device", metavar="PATH", help="--vcam: virtual camera device (default: first free)")
    cam.add_argument("--vcam-backend", metavar="NAME", help="--vcam: pyvirtualcam backend (default: the platform's)")
    cam.add_argument(
        "--no-self-coach",
        action="store_true",
        help="--vcam: only pass the webcam through; do not analyse your own face",
    )
    parser.add_argument(
        "--no-record-session",
        action="store_true",
        help="keep no cue log of this run ('callcoach sessions record off': of any run). A cue log "
        "holds the cues seen, the suggestions shown, your marks, (with --vcam) the notes about your "
        "own face and the window or source name; never video, pictures or sound. "
        "'callcoach summary' reads it",
    )


def _check(args: argparse.Namespace) -> None:
    # "is not": --camera 0 is a choice, and 0 == False.
    chosen = [name for name in _SOURCES if getattr(args, name) is not None and getattr(args, name) is not False]
    if args.monitor is not None and not args.auto:
        chosen.append("monitor")
    if len(chosen) != 1:
        what = "none" if not chosen else " and ".join("--" + c for c in chosen)
        raise UsageError(f"choose exactly one of --window, --region, --monitor, --auto, --camera, --video (got {what})")
    for name in ("fps", "baseline_seconds", "duration"):
        value = getattr(args, name)
        if value is not None and (not math.isfinite(value) or value < 0 or (name != "baseline_seconds" and value == 0)):
            raise UsageError(f"--{name.replace('_', '-')} must be a positive number, got {value}")
    if args.duration is not None and not args.headless:
        raise UsageError("--duration is for --headless runs; in the panel, quit with q")
    vcam_only = [
        o for o in ("vcam_camera", "vcam_video", "vcam_device", "vcam_backend") if getattr(args, o) is not None
    ] + (["no_self_coach"] if args.no_self_coach else [])
    if vcam_only and not args.vcam:
        raise UsageError(f"--{vcam_only[0].replace('_', '-')} goes with --vcam")
    if args.vcam_backend is not None:
        from callcoach.vcam.sink import check_backend

        check_backend(args.vcam_backend)  # a misspelt name is a bad option, not a notice mid-call
    if args.vcam_camera is not None and args.vcam_video is not None:
        raise UsageError("choose one of --vcam-camera and --vcam-video")
    if args.vcam and args.camera is not None and args.vcam_video is None and args.camera == (args.vcam_camera or 0):
        raise UsageError(
            f"--camera {args.camera} is also the webcam --vcam passes through; watch the other person "
            "with --window, --region or --auto"
        )
    if not args.headless and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the live panel needs a terminal; use --headless for jsonl output")


def make_source(args: argparse.Namespace) -> FrameSource:
    """The source the options ask for; fails with one clear line before any thread starts."""
    if args.window is not None:
        from callcoach.sources.window import WindowSource

        return WindowSource(args.window, fps=args.fps or LIVE_FPS)
    if args.region is not None:
        from callcoach.sources.screen import ScreenSource, parse_region

        return ScreenSource(region=parse_region(args.region), fps=args.fps or LIVE_FPS)
    if args.auto:
        from callcoach.live.autolock import AutoLockSource

        return AutoLockSource(
            monitor=1 if args.monitor is None else args.monitor,
            fps=args.fps or LIVE_FPS,
            self_view=self_view_reference(args),
        )
    if args.monitor is not None:
        from callcoach.sources.screen import ScreenSource

        return ScreenSource(monitor=args.monitor, fps=args.fps or LIVE_FPS)
    if args.camera is not None:
        from callcoach.sources.camera import CameraSource

        return CameraSource(args.camera)
    from callcoach.sources.paced import PacedFileSource

    # Lossless: every frame is analysed, as `callcoach analyze` reads the file (slower than real time if need be).
    return PacedFileSource(args.video, fps=args.fps, loop=args.loop, lossless=True)


def self_view_reference(args: argparse.Namespace) -> SelfViewReference | None:
    """With --auto and --vcam, one ``SelfViewReference`` shared by the source (reads it) and the self-coach
    (feeds it): the self-view tile is recognised by matching the user's webcam. None otherwise."""
    if not (args.auto and args.vcam and not args.no_self_coach):
        return None
    reference: SelfViewReference | None = getattr(args, "_self_view", None)
    if reference is None:  # kept on args: a restarted run's source and companion share it too
        from callcoach.vision.selfview import SelfViewReference

        reference = args._self_view = SelfViewReference()
    return reference


def make_companion(args: argparse.Namespace) -> Companion | None:
    """The webcam pass-through and self-coach for --vcam; a failure to open them never stops the run."""
    if not args.vcam:
        return None
    from callcoach.live.companion import UnavailableCompanion, build_companion

    try:
        return build_companion(
            camera=args.vcam_camera,
            video=args.vcam_video,
            device=args.vcam_device,
            backend=args.vcam_backend,
            self_coach=not args.no_self_coach,
            baseline_seconds=args.baseline_seconds,
            self_view=self_view_reference(args),
        )
    except CallcoachError as exc:
        return UnavailableCompanion(f"--vcam: {' '.join(str(exc).split())}")


def runner_factory(args: argparse.Namespace, first: FrameSource, advisor: Advisor | None = None) -> RunnerFactory:
    """``factory(listener) -> LiveRunner`` (not started), as the panel's ``run_live_app`` wants it. The first
    call uses the source opened to check the options; later calls (a restarted run) open a fresh one."""
    sources = [first]

    def factory(listener: LiveListener) -> LiveRunner:
        source = sources.pop() if sources else make_source(args)
        return LiveRunner(
            source, listener, advisor=advisor, baseline_seconds=args.baseline_seconds, companion=make_companion(args)
        )

    return factory


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
    runner.start()
    try:
        if duration is not None:
            # S seconds of coaching, counted once the models have loaded (which alone may take longer on a busy
            # machine); a file is held until then anyway.
            deadline = time.monotonic() + _LOAD_WAIT_S
            while not (runner.models_ready.wait(0.1) or runner.done) and time.monotonic() < deadline:
                pass
        runner.wait(duration)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        runner.stop(timeout=2.0)
        runner.settle()  # stopped while the models were still loading: let that end before the process does
    summary = _final_summary(runner, _recorder_for(writer), interrupted)
    damage = _file_damage(runner)
    if damage is not None:  # as `callcoach analyze` says it: the summary covers what was read
        summary["complete"], summary["error"] = False, " ".join(str(damage).split())
    writer.line(_finite(summary), last=True)
    if interrupted:
        return 130
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
    return _damage_of(runner.source)


def _damage_of(source: FrameSource) -> SourceError | None:
    """The error of a --video file that stopped well short of its header's frame count (truncated or
    damaged): the run ended as if the video were over, but the user has to hear that it was not whole."""
    from callcoach.sources.paced import PacedFileSource

    return source.damage if isinstance(source, PacedFileSource) else None


def _recorder_for(listener: object) -> Any:
    from callcoach.session.recorder import recorder_for

    return recorder_for(listener)


def _check_vcam_video(path: str) -> None:
    """A missing or unreadable --vcam-video is the user's mistake: one line now, not a notice later."""
    from callcoach.sources.paced import PacedFileSource

    try:
        PacedFileSource(path).close()
    except CallcoachError as exc:
        raise SourceError(f"--vcam-video: {' '.join(str(exc).split())}") from exc


def main(args: argparse.Namespace) -> int:
    _check(args)
    if args.vcam and args.vcam_video is not None:
        _check_vcam_video(args.vcam_video)
    off_reason = settings.cue_log_off_reason(args.no_record_session)
    source = make_source(args)
    # The session record (cue events, suggestions, marks; never frames) starts when the runner is built.
    recording = LiveRecording(
        source_kind=source.kind,
        source_name=source.name,
        context=args.context,
        enabled=off_reason is None,
        off_reason=off_reason,
    )
    if args.headless:
        _headless_notice()
        try:
            advisor = _headless_advisor(args.context)
            recording.playbook_version = playbook_version(advisor) or recording.playbook_version

            def start_record() -> dict[str, Any]:
                if sys.stderr.isatty():  # a person is watching: the same line in words
                    print(f"callcoach: {recording.start_line()}", file=sys.stderr, flush=True)
                return recording.start_record()

            return run_headless(
                recording.wrap_factory(runner_factory(args, source, advisor)),
                args.duration,
                advisor=advisor,
                start_record=start_record,
            )
        finally:
            # stdout is jsonl: keep it clean; a loss is said on stderr even when it is not a terminal.
            recording.finish(sys.stderr if sys.stderr.isatty() else None, trouble=sys.stderr)
    try:
        from callcoach.ui.app import run_live_app
    except ImportError as exc:
        source.close()
        raise CallcoachError(
            f"the live panel is not available in this build ({exc}); use --headless for jsonl output"
        ) from exc
    advisor, selector = _advice(args.context)
    factory = runner_factory(args, source, advisor)
    try:
        result = run_live_app(
            runner_factory=recording.wrap_factory(factory),
            selector=recording.wrap_selector(selector),
            context=args.context,
            cue_log=lambda: recording.keeping,
        )
    finally:
        recording.finish(sys.stdout)
    damage = _damage_of(source)
    if damage is not None:  # the panel showed it; said again once the terminal is back, and exit 1
        raise damage
    return int(result or 0)


def _headless_notice() -> None:
    """Runs without the panel get no consent screen: the first one (per version of the note) prints it on
    stderr instead, stdout being jsonl. A config directory that cannot be written only means it shows again."""
    if not headless_notice_due():
        return
    print(f"{CONSENT_TEXT.replace('`', '')}\n\n{HEADLESS_NOTICE_END}\n", file=sys.stderr, flush=True)
    with contextlib.suppress(OSError):
        record_headless_notice()


def _headless_advisor(context: str) -> Advisor | None:
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


def _advice(context: str) -> tuple[Advisor | None, Any]:
    """The playbook's selector (an Advisor the panel can also switch context on), as the demo finds it."""
    try:
        from callcoach.ui import demo
    except ImportError:
        return None, None
    selector = demo.load_selector(context) if hasattr(demo, "load_selector") else None
    if selector is not None:
        return cast(Advisor, selector), selector
    fallback = getattr(demo, "fallback_advisor", None)
    return (fallback(context) if callable(fallback) else None), None
