"""`callcoach bench speed VIDEO`: how much the whole analysis costs over the bare landmarker.

Two measurements, both against a baseline run on the same clip in the same command:
- in process: frames decoded once into memory, then the bare Face Landmarker (same task options) and the
  full pipeline (vision + cue engine) timed frame by frame, alternating, so both see the same CPU state;
- whole process: ``callcoach analyze`` and a bare-landmarker script each run as a child process over the
  file (decoding included), timed end to end, with the child's peak resident memory.
Each is reported as wall time and as CPU time (user + system, every thread): on a shared, loaded machine
wall time swings with the neighbours' work, CPU time much less, so the CPU ratios are the ones to compare.
Figures are printed, never asserted: they depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from callcoach.core.argtypes import whole_number
from callcoach.errors import CallcoachError, SourceError
from callcoach.sources.base import Frame


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--frames", type=whole_number(10), default=300, help="frames to time in process (default 300; at least 10)"
    )
    parser.add_argument("--rounds", type=whole_number(1), default=2, help="alternating rounds per mode (default 2)")
    parser.add_argument(
        "--max-faces",
        type=whole_number(1),
        default=4,
        help="faces for the multi-face landmarker reference run (default 4)",
    )
    parser.add_argument("--no-process", action="store_true", help="skip the whole-process comparison")
    parser.add_argument(
        "--process-runs",
        type=whole_number(1),
        default=3,
        help="whole-process runs of each, alternating (default 3; median)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output (default table)")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _load(path: str, limit: int) -> list[Frame]:
    from callcoach.sources import open_source

    source = open_source(path)
    try:
        frames: list[Frame] = []
        for frame in source.frames():
            frames.append(frame)
            if len(frames) >= limit:
                break
        return frames
    finally:
        source.close()


def _time_bare(frames: list[Frame], max_faces: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per frame of the bare landmarker."""
    from callcoach.vision.landmarker import Landmarker

    marker = Landmarker(max_faces=max_faces, video=True)
    try:
        out: list[float] = []
        cpu: list[float] = []
        for f in frames:
            t, c = time.perf_counter(), time.process_time()
            marker.detect(f.image, f.t_s)
            cpu.append((time.process_time() - c) * 1000)
            out.append((time.perf_counter() - t) * 1000)
        return out, cpu
    finally:
        marker.close()


def _time_full(frames: list[Frame]) -> tuple[list[float], list[float], dict[str, list[float]]]:
    from callcoach.cues.engine import CueEngine
    from callcoach.vision.pipeline import VisionPipeline

    vision = VisionPipeline(live=False)  # exactly as `callcoach analyze` runs it
    engine = CueEngine()
    cue_ms: list[float] = []
    try:
        out: list[float] = []
        cpu: list[float] = []
        for f in frames:
            t, c = time.perf_counter(), time.process_time()
            obs = vision.observe(f)
            t1 = time.perf_counter()
            list(engine.update(obs))
            t2 = time.perf_counter()
            cpu.append((time.process_time() - c) * 1000)
            cue_ms.append((t2 - t1) * 1000)
            out.append((t2 - t) * 1000)
        list(engine.finish())
        stages = {k: list(v) for k, v in vision.timings.items()}
        stages["cues"] = cue_ms
        return out, cpu, stages
    finally:
        vision.close()


_WRAPPER = (
    "import resource, runpy, sys\n"
    "mod = sys.argv[1]; sys.argv = sys.argv[1:]\n"
    "try:\n"
    "    runpy.run_module(mod, run_name='__main__')\n"
    "except SystemExit as e:\n"
    "    code = e.code\n"
    "else:\n"
    "    code = 0\n"
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec.
    "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
    "sys.stderr.write('\\nMAXRSS_KB=%s\\n' % (hwm[0] if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
    "sys.exit(code)\n"
)


def _children_cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _child(module: str, argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak resident memory (MiB) of ``python -m module argv``
    in its own process."""
    cmd = [sys.executable, "-c", _WRAPPER, module, *argv]
    cpu_before = _children_cpu_s()
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - start
    cpu = _children_cpu_s() - cpu_before  # counts the child once it is waited for, all its threads included
    lines = proc.stderr.strip().splitlines()
    if proc.returncode != 0 or not lines or not lines[-1].startswith("MAXRSS_KB="):
        # The wrapper's own memory line is not the reason; a silent failure is named by its exit code.
        told = [ln for ln in lines if ln.strip() and not ln.startswith("MAXRSS_KB=")]
        said = [ln for ln in told if ln.startswith("callcoach: error:")] or told[-1:]
        reason = said[0].removeprefix("callcoach: error: ") if said else f"exit code {proc.returncode}"
        raise CallcoachError(f"the timed `{module}` process failed: {reason}")
    return wall, cpu, int(lines[-1].split("=", 1)[1]) / 1024


def bare_main(path: str, max_faces: int) -> None:
    """Child-process entry: decode the file and run only the landmarker (the whole-process baseline)."""
    from callcoach.sources import open_source
    from callcoach.vision.landmarker import Landmarker

    marker = Landmarker(max_faces=max_faces, video=True)
    source = open_source(path)
    for frame in source.frames():
        marker.detect(frame.image, frame.t_s)
    source.close()
    marker.close()


def main(args: argparse.Namespace) -> int:
    path = str(args.video)
    from callcoach.sources import open_source

    probe = open_source(path)  # a missing or unreadable file is reported here, in the usual words
    count = probe.frame_count
    probe.close()
    if probe.kind != "video" or (count is not None and count < 20):
        raise SourceError(f"bench speed needs a video of at least 20 frames; {path} is not one")
    result: dict[str, object] = {"video": path}
    if not args.no_process:
        # Child processes first, while this process is still small (a forked child starts from our memory).
        # Alternating repeats, so a burst of the neighbours' load falls on both; the medians are reported.
        bare_runs: list[tuple[float, float, float]] = []
        full_runs: list[tuple[float, float, float]] = []
        for _ in range(max(1, args.process_runs)):
            bare_runs.append(_child("callcoach_bench.speed", ["--bare", path, "1"]))
            full_runs.append(_child("callcoach", ["analyze", path, "--format", "jsonl", "--quiet"]))
        bare_wall, bare_cpu_s, bare_rss = (statistics.median(r[k] for r in bare_runs) for k in range(3))
        full_wall, full_cpu_s, full_rss = (statistics.median(r[k] for r in full_runs) for k in range(3))
        result.update(
            {
                "process_runs": len(bare_runs),
                "process_bare_s": bare_wall,
                "process_full_s": full_wall,
                "ratio_whole_process": full_wall / bare_wall,
                "process_bare_cpu_s": bare_cpu_s,
                "process_full_cpu_s": full_cpu_s,
                "cpu_ratio_whole_process": full_cpu_s / bare_cpu_s,
                "cpu_ratios_whole_process_each_run": [f[1] / b[1] for b, f in zip(bare_runs, full_runs, strict=True)],
                "peak_rss_mib_bare": bare_rss,
                "peak_rss_mib_full": full_rss,
            }
        )
    frames = _load(path, max(10, args.frames))
    h, w = frames[0].image.shape[:2]
    bare: list[float] = []  # the landmarker as the pipeline runs it on one face: num_faces=1
    multi: list[float] = []  # for reference: the landmarker asked for several faces
    full: list[float] = []
    bare_cpu: list[float] = []
    full_cpu: list[float] = []
    stages: dict[str, list[float]] = {}
    for _ in range(max(1, args.rounds)):
        ms, cpu = _time_bare(frames, 1)
        bare += ms[5:]  # the first frames pay for warm-up in every mode
        bare_cpu += cpu[5:]
        multi += _time_bare(frames, args.max_faces)[0][5:]
        ms, cpu, st = _time_full(frames)
        full += ms[5:]
        full_cpu += cpu[5:]
        for k, v in st.items():
            stages.setdefault(k, []).extend(v[5:])
    result.update(
        {
            "frames": len(frames),
            "size": f"{w}x{h}",
            "rounds": args.rounds,
            "bare_ms_p50": statistics.median(bare),
            "bare_ms_p95": _pct(bare, 95),
            f"bare_{args.max_faces}_faces_ms_p50": statistics.median(multi),
            "full_ms_p50": statistics.median(full),
            "full_ms_p95": _pct(full, 95),
            "fps_full": 1000 / statistics.mean(full),
            "fps_bare": 1000 / statistics.mean(bare),
            "ratio_in_process": statistics.mean(full) / statistics.mean(bare),
            "bare_cpu_ms_mean": statistics.mean(bare_cpu),
            "full_cpu_ms_mean": statistics.mean(full_cpu),
            "cpu_ratio_in_process": statistics.mean(full_cpu) / statistics.mean(bare_cpu),
            f"ratio_vs_{args.max_faces}_face_landmarker": statistics.mean(full) / statistics.mean(multi),
            "stages": {k: {"p50": statistics.median(v), "p95": _pct(v, 95)} for k, v in stages.items() if v},
        }
    )
    del frames
    _report(result, args.format)
    return 0


_LABELS = {
    "process_runs": "whole-process runs of each (medians below)",
    "process_bare_s": "whole process, bare landmarker: wall s",
    "process_full_s": "whole process, callcoach analyze: wall s",
    "ratio_whole_process": "ratio whole process, wall (analyze / bare)",
    "process_bare_cpu_s": "whole process, bare landmarker: CPU s",
    "process_full_cpu_s": "whole process, callcoach analyze: CPU s",
    "cpu_ratio_whole_process": "ratio whole process, CPU (analyze / bare)",
    "cpu_ratios_whole_process_each_run": "ratio whole process, CPU, each run",
    "peak_rss_mib_bare": "peak memory, bare landmarker (MiB)",
    "peak_rss_mib_full": "peak memory, callcoach analyze (MiB)",
    "frames": "frames timed in process",
    "rounds": "rounds (alternating)",
    "bare_ms_p50": "bare landmarker, 1 face: ms/frame p50",
    "bare_ms_p95": "bare landmarker, 1 face: ms/frame p95",
    "full_ms_p50": "full analysis: ms/frame p50",
    "full_ms_p95": "full analysis: ms/frame p95",
    "fps_full": "full analysis: frames/s",
    "fps_bare": "bare landmarker: frames/s",
    "ratio_in_process": "ratio in process, wall (full / bare, mean ms)",
    "bare_cpu_ms_mean": "bare landmarker, 1 face: CPU ms/frame mean",
    "full_cpu_ms_mean": "full analysis: CPU ms/frame mean",
    "cpu_ratio_in_process": "ratio in process, CPU (full / bare)",
}


def _report(result: dict[str, object], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(result, indent=2, default=float))
        return
    # Here, not at the top: the bare-landmarker child process imports this module and must not pay for rich.
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="callcoach bench speed", caption=f"{result['video']} ({result['size']})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key in ("video", "stages", "size"):
            continue
        label = _LABELS.get(key, key.replace("_", " "))
        if isinstance(value, list):
            text = " ".join(f"{v:.3f}" for v in value)
        else:
            text = f"{value:.3f}" if isinstance(value, float) else str(value)
        table.add_row(label, text)
    stages = result["stages"]
    assert isinstance(stages, dict)
    for name, v in stages.items():
        table.add_row(f"stage {name}: ms p50 / p95", f"{v['p50']:.3f} / {v['p95']:.3f}")
    console.print(table)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--bare":
        os.environ.setdefault("GLOG_minloglevel", "2")
        bare_main(sys.argv[2], int(sys.argv[3]))
