"""``callcoach vcam``: the webcam passed through, unchanged, to the "CallCoach Camera" virtual camera.

Pick "CallCoach Camera" in Zoom, Meet or Teams. In a terminal, v (or space, or Enter) toggles the privacy
pause (a still, blurred picture), q or Ctrl+C stops. Without a virtual camera device the command prints one line saying
what to do on this platform and exits 1.
"""

from __future__ import annotations

import argparse
import math
import sys
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from callcoach.cli.keys import single_keys
from callcoach.core.argtypes import whole_number
from callcoach.errors import UsageError, VcamError
from callcoach.sources.base import FrameSource

if TYPE_CHECKING:
    from callcoach.vcam.passthrough import PassThrough


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "keys, in a terminal: v (or space, or Enter) toggles the privacy pause (the call sees a still, "
        "blurred picture); q or Ctrl+C stops"
    )
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--camera", type=whole_number(0), metavar="N", help="camera number N (default 0, the first)")
    src.add_argument("--video", metavar="FILE", help="a video file played at its real rate, instead of a camera")
    parser.add_argument("--loop", action="store_true", help="--video: start again at the end")
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: until Ctrl+C)")
    parser.add_argument("--device", metavar="PATH", help="virtual camera device (default: the first free one)")
    parser.add_argument("--backend", metavar="NAME", help="pyvirtualcam backend (default: the platform's)")


def _open_source(args: argparse.Namespace) -> FrameSource:
    if args.video is not None:
        from callcoach.sources.paced import PacedFileSource

        return PacedFileSource(args.video, loop=bool(args.loop))
    from callcoach.sources.camera import CameraSource

    return CameraSource(0 if args.camera is None else int(args.camera))


def _privacy_keys(passthrough: PassThrough, keys: Iterator[str], quit_event: threading.Event) -> None:
    """v, space or Enter toggle the privacy pause, q stops; runs on a daemon thread while stdin is a terminal."""
    for key in keys:
        if key in ("q", "Q", "\x03", "\x04"):
            quit_event.set()
            return
        if key in ("v", "V", " ", "\r", "\n"):
            on = passthrough.toggle_privacy()
            print(
                "privacy pause on: sending a still, blurred picture (v: live again)" if on else "live again",
                file=sys.stderr,
                flush=True,
            )


def main(args: argparse.Namespace) -> int:
    duration = args.duration
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise UsageError(f"--duration must be a positive number of seconds, got {duration}")

    from callcoach.vcam.passthrough import PassThrough
    from callcoach.vcam.sink import PyVirtualCamSink

    sink = PyVirtualCamSink(device=args.device, backend=args.backend)
    source = _open_source(args)

    def on_state(state: str, message: str) -> None:
        if state == "live":
            where = sink.device_name or "the virtual camera"
            print(
                f"callcoach vcam: {source.name} -> {where}; pick it in your call app"
                + (" (v: privacy pause, q: stop)" if sys.stdin.isatty() else ""),
                file=sys.stderr,
                flush=True,
            )

    passthrough = PassThrough(source, sink, on_state=on_state)
    quit_event = threading.Event()
    killed: int | None = None
    with single_keys(sys.stdin) as keys:
        if keys is not None:
            threading.Thread(target=_privacy_keys, args=(passthrough, keys, quit_event), daemon=True).start()
        try:
            passthrough.start()
            deadline = None if duration is None else time.monotonic() + duration
            # Short waits, so that q (from the key thread) and Ctrl+C are both taken at once.
            while not passthrough.wait(0.1) and not quit_event.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
        except KeyboardInterrupt as exc:
            # Ctrl-C is how a pass-through is ended (status 0 below); a kill or a closed terminal is not, and
            # says so in the status (cli.main.Stopped: 128 + the signal).
            killed = getattr(exc, "code", None)
        finally:
            passthrough.stop()
    state = passthrough.state
    if state == "sink_error":
        error = passthrough.error
        raise error if isinstance(error, VcamError) else VcamError(passthrough.message)
    if state == "lost":
        print(f"callcoach: {passthrough.message}", file=sys.stderr)
        return 1
    print(
        f"callcoach vcam: {passthrough.message}; {passthrough.sent} frames passed through, "
        f"{passthrough.dropped} skipped",
        file=sys.stderr,
    )
    return 0 if killed is None else killed
