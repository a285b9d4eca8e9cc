"""``callcoach live``'s options, and the checks made on them before any source, camera or thread opens:
a mistake in them is one usage line, never a notice in the middle of a call."""

from __future__ import annotations

import argparse
import math
import sys

from callcoach.core.argtypes import whole_number
from callcoach.errors import UsageError
from callcoach.playbook.types import CONTEXTS

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
    src.add_argument("--camera", type=whole_number(0), metavar="N", help="camera number N (0 = the first)")
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
    cam.add_argument(
        "--vcam-camera", type=whole_number(0), metavar="N", help="--vcam: your webcam's number (default 0)"
    )
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


def check_options(args: argparse.Namespace) -> None:
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
            kind = "0 or more" if name == "baseline_seconds" else "a positive number"
            raise UsageError(f"--{name.replace('_', '-')} must be {kind}, got {value}")
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
