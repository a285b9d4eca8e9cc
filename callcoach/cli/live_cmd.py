"""``callcoach live``: coach on a call as it happens, in the Textual panel or headless as jsonl.

This module builds the run from the options: the source, the --vcam companion and the runner. The options
and their checks are in callcoach.cli.live_options, the headless jsonl run in callcoach.cli.live_headless.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, cast

from callcoach.cli.live_headless import (
    HeadlessWriter,
    RunnerFactory,
    damage_of,
    headless_advisor,
    headless_notice,
    run_headless,
)
from callcoach.cli.live_options import add_arguments, check_options
from callcoach.errors import CallcoachError, SourceError
from callcoach.live.companion import Companion
from callcoach.live.contract import Advisor, LiveListener
from callcoach.live.runner import LiveRunner
from callcoach.session import settings
from callcoach.session.recorder import LiveRecording, playbook_version
from callcoach.sources.base import FrameSource

if TYPE_CHECKING:
    from callcoach.vision.selfview import SelfViewReference

#: Screen capture rate when --fps is not given (kept here so parsing the options imports no mss).
LIVE_FPS = 30.0

#: Looked up here by tests and by ``callcoach.cli.main`` (which asks this module for ``add_arguments``).
__all__ = [
    "LIVE_FPS",
    "HeadlessWriter",
    "LiveRunner",
    "RunnerFactory",
    "add_arguments",
    "main",
    "make_companion",
    "make_source",
    "run_headless",
    "runner_factory",
    "self_view_reference",
]


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


def _check_vcam_video(path: str) -> None:
    """A missing or unreadable --vcam-video is the user's mistake: one line now, not a notice later."""
    from callcoach.sources.paced import PacedFileSource

    try:
        PacedFileSource(path).close()
    except CallcoachError as exc:
        raise SourceError(f"--vcam-video: {' '.join(str(exc).split())}") from exc


def main(args: argparse.Namespace) -> int:
    check_options(args)
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
        headless_notice()
        try:
            advisor = headless_advisor(args.context)
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
    damage = damage_of(source)
    if damage is not None:  # the panel showed it; said again once the terminal is back, and exit 1
        raise damage
    return int(result or 0)


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
