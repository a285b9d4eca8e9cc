"""What a flash really showed: runs the flash window in a child process and films its screen area with mss.

Every grab is compared with the three pictures the window can show (rest face, expression, mask); a run of
grabs nearest the expression is one flash, its length the time from the midpoint between the last
non-expression grab and the first expression grab to the same midpoint at its end. ``uncertainty_ms`` is
the sum of those two gaps: a flash's true length is within half of it of ``captured_ms``. Used by the tests
and for the figures in docs/practice.md:

    DISPLAY=:N python -m callcoach.practice.flashcheck --durations 500,200,100,67,40 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from callcoach.practice.stimuli import load_stimuli
from callcoach.practice.window import mask_for

FRAME_60HZ_MS = 1000.0 / 60.0
#: Rows and columns of the window that are filmed: the middle of the face (brows to mouth), where the rest
#: face, the expression and the mask all differ. A small patch keeps the display server's share of the work
#: (it copies every grab) small on a busy machine.
_PATCH = (90, 290, 100, 260)


@dataclass(frozen=True)
class FlashRecord:
    asked_ms: float
    #: What the window measured and would store for the trial.
    reported_ms: float
    #: What the screen capture saw, and how sure it is (+- half of it).
    captured_ms: float | None
    uncertainty_ms: float | None
    #: Showings it took to get one within a frame (the window re-shows a mistimed flash).
    tries: int = 1


def _references() -> dict[str, np.ndarray]:
    faces = load_stimuli("emotions").faces["builtin"]
    images = {"rest": faces["neutral"], "expression": faces["surprise"], "mask": mask_for(faces["neutral"])}
    y0, y1, x0, x1 = _PATCH
    return {k: v[y0:y1:2, x0:x1:2].astype(np.int16) for k, v in images.items()}


def _realtime() -> bool:
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(5))  # below the window's own priority
        return True
    except (AttributeError, OSError):
        return False


def display_servers() -> list[int]:
    """Pids of the Xvfb servers this process started (its children): the tests and the docs' run give them
    real-time priority, as desktop compositors arrange for themselves."""
    pids = []
    for task in os.listdir("/proc/self/task"):
        try:
            children = Path(f"/proc/self/task/{task}/children").read_text().split()
        except OSError:
            continue
        for pid in children:
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "Xvfb":
                    pids.append(int(pid))
            except OSError:
                continue
    return pids


def prioritise_server(pids: Sequence[int]) -> bool:
    try:
        for pid in pids:
            os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(20))
    except (AttributeError, OSError):
        return False
    return bool(pids)


def capture_flashes(
    display: str, durations: Sequence[float], repeat: int, timeout_s: float = 180.0
) -> tuple[list[FlashRecord], dict[str, float]]:
    """Flash ``durations`` ``repeat`` times on ``display`` and film it; the records in order, and capture facts."""
    import mss

    server_rt = prioritise_server(display_servers())
    refs = _references()
    env = {**os.environ, "DISPLAY": display}
    cmd = [
        sys.executable,
        "-m",
        "callcoach.practice.window",
        "--flash-check",
        ",".join(f"{d:g}" for d in durations),
        "--repeat",
        str(repeat),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    ready = proc.stdout.readline()
    if '"ready"' not in ready:
        proc.kill()
        raise RuntimeError(f"the flash window did not start ({ready!r}, exit {proc.wait()})")
    times: list[float] = []
    kinds: list[str] = []
    saved = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    rt = _realtime()
    deadline = time.monotonic() + timeout_s
    try:
        with mss.MSS() as sct:
            y0, y1, x0, x1 = _PATCH
            region = {"left": x0, "top": y0, "width": x1 - x0, "height": y1 - y0}
            while proc.poll() is None and time.monotonic() < deadline:
                t = time.perf_counter()
                grab = np.asarray(sct.grab(region))[::2, ::2, :3].astype(np.int16)
                dist = {k: float(np.abs(grab - r).mean()) for k, r in refs.items()}
                times.append(t)
                kinds.append(min(dist, key=dist.__getitem__))
                time.sleep(0.0005)  # leave the display server some air
    finally:
        if rt:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        if saved is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = saved
        if proc.poll() is None:
            proc.kill()
        out = proc.stdout.read()
        proc.wait()
    reported = [json.loads(line) for line in out.splitlines() if '"flash"' in line]
    runs: list[tuple[float, float]] = []
    start = None
    for i, kind in enumerate(kinds):
        if kind == "expression" and start is None and i > 0:
            start = i
        elif kind != "expression" and start is not None:
            length = (times[i] + times[i - 1]) / 2 - (times[start] + times[start - 1]) / 2
            gap = (times[i] - times[i - 1]) + (times[start] - times[start - 1])
            runs.append((length * 1000.0, gap * 1000.0))
            start = None
    records = []
    shown = sum(int(f.get("tries", 1)) for f in reported)
    at = 0
    for flash in reported:
        # A mistimed flash is shown again: the capture sees every showing, the last one is the one that counts.
        at += int(flash.get("tries", 1))
        captured = runs[at - 1] if len(runs) == shown else (None, None)
        records.append(
            FlashRecord(
                float(flash["asked_ms"]), float(flash["shown_ms"]), captured[0], captured[1], int(flash.get("tries", 1))
            )
        )
    gaps = np.diff(times) * 1000.0 if len(times) > 1 else np.zeros(1)
    facts = {
        "grabs": float(len(times)),
        "median_grab_ms": float(np.median(gaps)),
        "runs": float(len(runs)),
        "showings": float(shown),
        "realtime_capture": float(rt),
        "realtime_server": float(server_rt),
    }
    return records, facts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach.practice.flashcheck")
    parser.add_argument("--durations", default="500,200,100,67,40")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    display = os.environ.get("DISPLAY")
    if not display:
        print("set DISPLAY (for example to an Xvfb display)", file=sys.stderr)
        return 2
    records, facts = capture_flashes(display, [float(x) for x in args.durations.split(",")], args.repeat)
    for r in records:
        print(json.dumps(asdict(r)))
    print(json.dumps(facts))
    by: dict[float, list[FlashRecord]] = {}
    for r in records:
        by.setdefault(r.asked_ms, []).append(r)
    print(f"{'asked':>7} {'reported (median, worst)':>26} {'captured (median, worst)':>26}  within 1 frame")
    for asked, rs in by.items():
        rep = [r.reported_ms for r in rs]
        cap = [r.captured_ms for r in rs if r.captured_ms is not None]
        within = sum(abs(c - asked) <= FRAME_60HZ_MS for c in cap)
        worst_rep = max(rep, key=lambda v: abs(v - asked))
        worst_cap = max(cap, key=lambda v: abs(v - asked)) if cap else float("nan")
        med_cap = np.median(cap) if cap else float("nan")
        print(
            f"{asked:>7.0f} {np.median(rep):>15.1f} {worst_rep:>9.1f} {med_cap:>15.1f} {worst_cap:>9.1f}"
            f"  {within}/{len(cap)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
