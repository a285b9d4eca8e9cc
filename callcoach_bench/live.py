"""`callcoach bench live`: the live pipeline's figures on a paced video or a real window.

Runs, each through ``LiveRunner`` exactly as ``callcoach live`` runs it (capture thread, drop-oldest,
inference thread):
- one face: the video played at its own rate (or a --window / --region capture at --fps);
- N faces (``--faces``, default 4, --video only): N copies of the clip tiled in a grid, each started at a
  different point, delivered at 15 fps, like a gallery view;
- start-up: ``callcoach live --video ... --headless`` as a child process, timed from spawn to the first
  status line that follows an analysed frame (imports, model loading and the first frame included).
Latencies: per frame (capture to analysed), per cue (capture of the emitting frame to emission) and per
cue from the apex frame (see callcoach.live.stats). The first second after the first analysed frame is
warm-up and is left out of the frame latencies. ``vision_ms`` is the vision stage's own time per analysed
frame, with its per-stage means and maxima (landmarker, small-face search, appearance CNN, geometry), to
show where a frame's budget goes. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from callcoach.contract import LiveListener
from callcoach.core.argtypes import whole_number
from callcoach.errors import UsageError
from callcoach.live.runner import LiveRunner
from callcoach.live.stats import percentile
from callcoach.sources.base import FrameSource

WARMUP_S = 1.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_argument_group("source (one of)")
    src.add_argument("--video", metavar="FILE", help="a clip with a face, played at its real rate")
    src.add_argument("--window", metavar="TITLE", help="a real window, followed by title (X11)")
    src.add_argument("--region", metavar="X,Y,W,H", help="a fixed screen region")
    parser.add_argument("--duration", type=float, default=20.0, metavar="S", help="seconds per run (default 20)")
    parser.add_argument(
        "--faces",
        type=whole_number(0),
        default=4,
        metavar="N",
        help="copies of the clip in the multi-face run, delivered at 15 fps (default 4; 0 = skip)",
    )
    parser.add_argument("--fps", type=float, default=None, help="capture rate for --window/--region (default 30)")
    parser.add_argument("--no-startup", action="store_true", help="skip the whole-process start-up timing")
    parser.add_argument(
        "--self-video",
        metavar="FILE",
        help="also run the one-face clip with self-coaching (--vcam) on FILE standing in for your "
        "webcam, passed to no device: what coaching your own face costs the other side",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")


class _Quiet(LiveListener):
    def on_status(self, status: Any) -> None:
        pass

    def on_cue(self, cue: Any, latency_ms: float) -> None:
        pass

    def on_suggestion(self, suggestion: Any) -> None:
        pass


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _vision_figures(timings: dict[str, list[float]], skip: int) -> dict[str, Any]:
    """Vision's own milliseconds per analysed frame (no capture wait, no cue engine), after warm-up."""
    stages = {k: v[skip:] for k, v in timings.items() if len(v) > skip}
    if not stages:
        return {}
    total = [sum(parts) for parts in zip(*stages.values(), strict=False)]
    return {
        "vision_ms": {**{f"p{q}": _round(percentile(total, q)) for q in (50, 95, 99)}, "max": _round(max(total))},
        "stage_ms_mean": {k: _round(sum(v) / len(v), 2) for k, v in stages.items()},
        "stage_ms_max": {k: _round(max(v)) for k, v in stages.items()},
    }


def _advisor() -> Any:
    from callcoach.playbook.selector import default_selector

    return default_selector("general")


def _companion(video: str) -> Any:
    from callcoach.live.companion import CameraCompanion
    from callcoach.live.selfcoach import SelfCoach
    from callcoach.sources.paced import PacedFileSource
    from callcoach.vcam.passthrough import PassThrough
    from callcoach.vcam.sink import NullSink

    return CameraCompanion(
        PassThrough(PacedFileSource(video, loop=True), NullSink()),
        selfcoach_factory=lambda on_note, talking, on_status: SelfCoach(on_note, remote_talking=talking),
    )


def run_once(source: FrameSource, duration: float, label: str, companion: Any = None) -> dict[str, Any]:
    visions: list[Any] = []

    def vision_factory() -> Any:
        from callcoach.live.runner import default_vision

        visions.append(default_vision())
        return visions[-1]

    runner = LiveRunner(source, _Quiet(), vision_factory=vision_factory, advisor=_advisor(), companion=companion)
    runner.start()
    runner.wait(duration)
    t_stop = time.monotonic()
    runner.stop(timeout=2.0)
    stop_s = time.monotonic() - t_stop
    s = runner.stats
    # Frame latencies after warm-up: the first frames pay for lazy allocations in the models.
    steady = s.frame_latency_ms
    skip = 0
    if s.first_done_at is not None and s.frames > 1 and s.last_done_at is not None:
        span = s.last_done_at - s.first_done_at
        skip = int(len(steady) * min(1.0, WARMUP_S / span)) if span > 0 else 0
    cue_ms = [c.latency_ms for c in s.cue_timings]
    apex_ms = [c.apex_latency_ms for c in s.cue_timings]
    source_fps = getattr(source, "fps", None)
    analysed_window = s.frames + s.blank_frames  # taken from the slot and looked at (vision or blank test)
    return {
        "run": label,
        "source": s.source,
        "source_fps": _round(source_fps),
        "seconds": round(s.duration_s, 1),
        "first_frame_s": _round(s.first_frame_s, 3),
        "fps": round(s.fps, 2),
        "captured": s.captured,
        "analysed": analysed_window,
        "repeated": s.repeated_frames,
        "dropped": s.dropped,
        "dropped_share": round(s.dropped / max(1, s.dropped + analysed_window), 4),
        "frame_latency_ms": {f"p{q}": _round(steady.percentile(q, skip)) for q in (50, 95, 99)},
        "cues": len(cue_ms),
        "cue_latency_ms": {f"p{q}": _round(percentile(cue_ms, q)) for q in (50, 95, 99)},
        "apex_latency_ms": {f"p{q}": _round(percentile(apex_ms, q)) for q in (50, 95)},
        "early_cues": len(s.early_timings),
        "early_apex_latency_ms": {
            f"p{q}": _round(percentile([e.apex_latency_ms for e in s.early_timings], q)) for q in (50, 95)
        },
        "suggestions": len(s.suggestion_apex_latency_ms),
        "suggestion_apex_latency_ms": {f"p{q}": _round(percentile(s.suggestion_apex_latency_ms, q)) for q in (50, 95)},
        "faces_seen": len(s.face_ids),
        "face_share": round(s.frames_with_face / s.frames, 3) if s.frames else 0.0,
        "stop_s": round(stop_s, 3),
        "end": s.end,
        **_vision_figures(getattr(visions[0], "timings", {}) if visions else {}, skip),
        **_self_figures(companion),
    }


def _self_figures(companion: Any) -> dict[str, Any]:
    stats = getattr(companion, "self_stats", None) if companion is not None else None
    if not stats:
        return {}
    return {
        "self_frames": stats.get("frames"),
        "self_skipped": stats.get("skipped"),
        "self_dropped": stats.get("dropped"),
        "self_baseline_ready": stats.get("baseline_ready"),
    }


def startup(video: str) -> float | None:
    """Seconds from spawning ``callcoach live --video`` to its first status after an analysed frame."""
    cmd = [sys.executable, "-m", "callcoach", "live", "--video", video, "--headless", "--duration", "6"]
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    found: float | None = None
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            record = json.loads(line)
            if record.get("type") == "status" and record.get("state") not in ("starting",):
                found = time.monotonic() - start
                break
    finally:
        proc.kill()
        proc.wait()
    return found


def _sources(args: argparse.Namespace) -> list[tuple[str, FrameSource]]:
    fps = args.fps or 30.0
    if args.window:
        from callcoach.sources.window import WindowSource

        return [("window, one face", WindowSource(args.window, fps=fps))]
    if args.region:
        from callcoach.sources.screen import ScreenSource, parse_region

        return [("region", ScreenSource(region=parse_region(args.region), fps=fps))]
    from callcoach.sources.paced import PacedFileSource

    # Looped, so a run lasts --duration whatever the clip's length.
    one = PacedFileSource(args.video, fps=args.fps, loop=True)
    runs: list[tuple[str, FrameSource]] = [(f"one face, {one.fps:.0f} fps", one)]
    if args.faces > 1:
        runs.append((f"{args.faces} faces, 15 fps", PacedFileSource(args.video, fps=15.0, loop=True, tiles=args.faces)))
    return runs


def main(args: argparse.Namespace) -> int:
    chosen = [n for n in ("video", "window", "region") if getattr(args, n)]
    if len(chosen) != 1:
        raise UsageError("give one of --video FILE, --window TITLE or --region X,Y,W,H")
    if not args.duration > 0:
        raise UsageError(f"--duration must be positive, got {args.duration}")
    results = []
    for label, source in _sources(args):
        results.append(run_once(source, args.duration, label))
    if args.self_video and args.video:
        from callcoach.sources.paced import PacedFileSource

        one = PacedFileSource(args.video, fps=args.fps, loop=True)
        results.insert(
            1,
            run_once(
                one, args.duration, f"one face + self-coach, {one.fps:.0f} fps", companion=_companion(args.self_video)
            ),
        )
    report: dict[str, Any] = {"runs": results, "cpus": os.cpu_count()}
    if args.video and not args.no_startup:
        report["startup_to_first_frame_s"] = _round(startup(args.video), 3)
    _print(report, args.format)
    return 0


def _print(report: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(report, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    runs = report["runs"]
    table = Table(title=f"callcoach bench live ({report['cpus']} CPUs); figures, not pass/fail")
    table.add_column("measure")
    for r in runs:
        table.add_column(r["run"], justify="right")
    for key in runs[0]:
        if key == "run":
            continue
        cells = []
        for r in runs:
            v = r.get(key, "")
            cells.append(" / ".join(f"{k} {x}" for k, x in v.items()) if isinstance(v, dict) else str(v))
        table.add_row(key, *cells)
    Console().print(table)
    if "startup_to_first_frame_s" in report:
        print(f"start-up, command to first analysed frame: {report['startup_to_first_frame_s']} s")
