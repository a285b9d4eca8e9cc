"""``callcoach privacy``: check the "local only" promise on this machine, by watching the models run.

A child process loads the Face Landmarker and the appearance model, runs them on generated frames (no
camera, no file, no face needed: the point is to start the libraries and their threads), and records a
session in a temporary store. Where ``strace`` exists (Linux), the child runs under it and every network
call and file the child opened for writing is read from what the kernel saw, native libraries' threads
included. Without strace only Python's own calls are visible (an audit hook); the report says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from callcoach.errors import CallcoachError
from callcoach.privacy import sandbox, strace
from callcoach.privacy.files import mode_of
from callcoach.privacy.scratch import PREFIX, stale_folders
from callcoach.privacy.switches import DEAD_PROXY, offline_environment_applied

_TRACED = "network,execve,openat,creat,mkdir,mkdirat,rename,renameat,renameat2"
_NOT_FILES = ("/dev/", "/proc/", "/sys/")
_PY_NET_EVENTS = frozenset(
    {
        "socket.connect",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
    }
)


def _leaves_machine(event: str, args: tuple[object, ...]) -> bool:
    """Python's audit events: does this one name a host outside loopback (or ask DNS for one)?"""
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
        host = args[0] if args else None
    else:
        address = args[1] if len(args) > 1 else None
        if not isinstance(address, tuple):
            return False  # a Unix socket path
        host = address[0]
    if host is None or host == "localhost":
        return False
    return not strace.is_loopback(
        host if isinstance(host, str) else host.decode() if isinstance(host, bytes) else str(host)
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seconds",
        type=float,
        default=8.0,
        help="how long to run the models (default 8; MediaPipe's uploader posted within 6 s)",
    )
    parser.add_argument("--no-strace", action="store_true", help="do not trace the probe even if strace exists")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the text report")
    parser.add_argument("--probe", metavar="DIR", help=argparse.SUPPRESS)  # the child's side


# --- the child --------------------------------------------------------------------------------------------


def _probe(store_dir: str, seconds: float) -> int:
    import numpy as np

    seen: dict[str, list[str]] = {"network": [], "writes": []}

    def hook(event: str, args: tuple[object, ...]) -> None:
        if event in _PY_NET_EVENTS and _leaves_machine(event, args):
            seen["network"].append(f"{event}{args[1:] if event.startswith('socket.') else args}")
        elif event == "open" and len(args) > 1 and isinstance(args[1], str) and set(args[1]) & set("wax+"):
            seen["writes"].append(str(args[0]))

    sys.addaudithook(hook)
    from callcoach.session.store import SessionStore
    from callcoach.sources.base import Frame
    from callcoach.vision.pipeline import VisionPipeline

    rng = np.random.default_rng(0)
    base = np.full((360, 480, 3), 128, np.uint8)
    import cv2

    cv2.ellipse(base, (240, 170), (80, 105), 0, 0, 360, (205, 170, 150), -1)
    for x in (210, 270):
        cv2.circle(base, (x, 150), 9, (40, 40, 40), -1)
    cv2.ellipse(base, (240, 225), (28, 10), 0, 0, 180, (90, 40, 40), 3)
    pipeline = VisionPipeline()
    frames = 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            noise = rng.integers(0, 6, base.shape, dtype=np.uint8)
            pipeline.observe(Frame(frames, frames / 30.0, np.ascontiguousarray(base + noise)))
            frames += 1
    finally:
        pipeline.close()
    with SessionStore(Path(store_dir) / "sessions.db", retention_days=None) as store:
        sid = store.begin_session(source_kind="video", source_name="privacy probe", context="general")
        store.end_session(sid)
    print(json.dumps({"frames": frames, "seconds": round(time.monotonic() - start, 1), **seen}))
    return 0


# --- the parent -------------------------------------------------------------------------------------------


def _files_written(calls: list[strace.NetCall]) -> list[str]:
    out: list[str] = []
    for c in calls:
        if c.failed or c.name not in ("openat", "creat", "mkdir", "mkdirat"):
            continue
        parts = [p.strip() for p in c.args.split(",")]
        quoted = [p for p in parts if p.startswith('"')]
        if not quoted:
            continue
        path = quoted[0].strip('"')
        if c.name == "openat" and not any(f in c.args for f in ("O_WRONLY", "O_RDWR", "O_CREAT")):
            continue
        if path.startswith(_NOT_FILES) or path in out:
            continue
        out.append(path + ("/" if c.name.startswith("mkdir") else ""))
    return out


def _store_columns(db: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {
            t: [r[1] for r in conn.execute(f"PRAGMA table_info('{t}')")] for t in tables if not t.startswith("sqlite_")
        }
    finally:
        conn.close()


def run_check(seconds: float, use_strace: bool) -> dict[str, object]:
    tracer = shutil.which("strace") if use_strace and sys.platform.startswith("linux") else None
    untraced = (
        ""
        if tracer
        else "--no-strace"
        if not use_strace
        else "strace not found"
        if sys.platform.startswith("linux")
        else f"no strace on {sys.platform}"
    )
    work = Path(tempfile.mkdtemp(prefix="callcoach-privacy-"))
    try:
        store_dir = work / "store"
        store_dir.mkdir(mode=0o700)
        trace_file = work / "trace.txt"
        cmd = [sys.executable, "-m", "callcoach", "privacy", "--probe", str(store_dir), "--seconds", str(seconds)]
        if tracer:
            cmd = [tracer, "-f", "-qq", "-e", "signal=none", "-e", f"trace={_TRACED}", "-o", str(trace_file), *cmd]
        before = {p.name for p in stale_folders()}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 180, check=False)
        if tracer and proc.returncode != 0 and "strace:" in proc.stderr:
            # strace exists but may not trace here (a container without ptrace): say so, run untraced.
            untraceable = next(line for line in proc.stderr.splitlines() if "strace:" in line)
            untraced = f"strace could not trace here ({untraceable})"
            tracer = None
            proc = subprocess.run(
                cmd[cmd.index(sys.executable) :], capture_output=True, text=True, timeout=seconds + 180, check=False
            )
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise CallcoachError(f"the privacy probe failed (exit {proc.returncode}): {tail}")
        child = json.loads(proc.stdout.strip().splitlines()[-1])
        report: dict[str, object] = {
            "platform": sys.platform,
            "sandbox": {
                "active": sandbox.status().active,
                "detail": sandbox.status().detail,
                "internet_socket_refused_here": sandbox.internet_refused(),
            },
            "telemetry_switches": {
                "applied": offline_environment_applied(),
                "libcurl_proxy": DEAD_PROXY,
                "ORT_DISABLE_TELEMETRY": os.environ.get("ORT_DISABLE_TELEMETRY"),
            },
            "probe": {
                "frames": child["frames"],
                "seconds": child["seconds"],
                "traced_with": tracer,
                "untraced_because": untraced,
            },
            "python_level": {
                "network_attempts": child["network"],
                "files_opened_for_writing": sorted(set(child["writes"])),
                "files_left": sorted(
                    {f for f in child["writes"] if os.path.exists(f) and not f.startswith(str(store_dir))}
                ),
            },
        }
        if tracer:
            calls = strace.parse(trace_file.read_text(encoding="utf-8", errors="replace"))
            created, refused = strace.inet_sockets(calls)
            written = _files_written(calls)
            report["kernel_level"] = {
                "network_attempts": [str(c) for c in strace.outside_traffic(calls)],
                "dns_queries": len(strace.dns_queries(calls)),
                "internet_sockets_created": len(created),
                "internet_sockets_refused": len(refused),
                "programs_run": strace.programs_run(calls)[1:],  # the first is the probe itself
                "files_written": written,
                # Three separate lists: written and removed again, still there afterwards, and the probe's
                # own session store (made on purpose, deleted with the probe's folder below).
                "files_removed": [f for f in written if not os.path.exists(f) and not f.startswith(str(store_dir))],
                "files_left": [f for f in written if os.path.exists(f) and not f.startswith(str(store_dir))],
                "files_in_probe_store": [f for f in written if f.startswith(str(store_dir))],
            }
        report["store_kept_by_a_session"] = _store_columns(store_dir / "sessions.db")
        report["store_modes"] = {"folder": mode_of(store_dir), "file": mode_of(store_dir / "sessions.db")}
        # Other processes on this machine may make and leave folders meanwhile: only dead processes' count.
        report["scratch_left_by_probe"] = sorted({p.name for p in stale_folders()} - before)
        from callcoach.session import settings

        db = settings.db_path()
        report["your_store"] = {
            "path": str(db),
            "exists": db.exists(),
            "mode": mode_of(db),
            "folder_mode": mode_of(db.parent),
        }
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def network_attempts(report: dict[str, object]) -> int:
    kernel = report.get("kernel_level")
    python_level = report["python_level"]
    assert isinstance(python_level, dict)
    count = len(python_level["network_attempts"])
    if isinstance(kernel, dict):
        count = max(count, len(kernel["network_attempts"]))
    return count


def files_lines(kernel: dict[str, Any]) -> list[str]:
    """The files the probe wrote, in three separate groups: still there afterwards (what a user would find
    on disk), removed again before it ended, and the probe's own session store (with its journal files;
    made on purpose in a folder this check deletes)."""
    written: list[str] = kernel["files_written"]
    left: list[str] = kernel["files_left"]
    removed: list[str] = kernel.get("files_removed", [f for f in written if f not in left])
    store: list[str] = kernel.get("files_in_probe_store", [])
    indent = " " * 19

    def group(title: str, paths: list[str], empty: str) -> list[str]:
        head = f"{title:<19}{len(paths)}" + (f": {empty}" if not paths else "")
        return [head] + [indent + f for f in paths]

    return [
        f"Files written      {len(written)} while the probe ran (opened for writing or created, as the kernel saw it):",
        *group("  still there", left, "nothing the probe wrote is left on disk"),
        *group("  removed again", removed, "none"),
        *group("  probe's store", store, "none"),
    ]


def _text(report: dict[str, object]) -> str:
    sb = report["sandbox"]
    probe = report["probe"]
    py = report["python_level"]
    switches = report["telemetry_switches"]
    assert isinstance(sb, dict) and isinstance(probe, dict) and isinstance(py, dict) and isinstance(switches, dict)
    lines = [
        "callcoach privacy: the models were run here and watched; nothing below is a promise, it was measured.",
        "",
        f"Network wall       {'ON' if sb['active'] else 'off'}: {sb['detail']}",
        f"                   an internet socket asked for just now was "
        f"{'refused' if sb['internet_socket_refused_here'] else 'ALLOWED'}",
        "Telemetry          onnxruntime: ORT_DISABLE_TELEMETRY=1 and disable_telemetry_events(); MediaPipe: its",
        "                   uploader's libcurl is sent to a Unix-socket proxy that does not exist "
        f"({'applied' if switches['applied'] else 'NOT applied'})",
        f"Probe              Face Landmarker + appearance model on {probe['frames']} generated frames "
        f"({probe['seconds']} s)"
        + (", traced with strace" if probe["traced_with"] else f", not traced: {probe['untraced_because']}"),
    ]
    kernel = report.get("kernel_level")
    if isinstance(kernel, dict):
        attempts = kernel["network_attempts"]
        lines += [
            f"Network attempts   {len(attempts)} (DNS queries: {kernel['dns_queries']}; connections or datagrams "
            "to an address outside loopback, as the kernel saw them, all threads)"
        ]
        lines += [f"                   {a[:150]}" for a in attempts]
        lines += [
            f"Internet sockets   {kernel['internet_sockets_refused']} asked for and refused by the wall, "
            f"{kernel['internet_sockets_created']} created (a socket alone sends nothing)",
            "Programs started   " + (", ".join(kernel["programs_run"]) or "none"),
        ]
        lines += files_lines(kernel)
    else:
        why = probe["untraced_because"]
        lines += [
            f"Network attempts   {len(py['network_attempts'])} from Python code (audit hook). Native libraries' "
            f"own threads cannot be seen without strace ({why})."
        ]
        lines += [f"                   {a[:150]}" for a in py["network_attempts"]]
        opened = py["files_opened_for_writing"]
        lines += [f"Files written      {len(opened)} opened for writing by Python code (native libraries unseen):"]
        lines += [" " * 19 + f for f in opened]
        py_left = py.get("files_left", [])
        gone = "" if py_left else ": nothing the probe wrote is left on disk"
        lines += [f"  still there      {len(py_left)}{gone}"]
        lines += [" " * 19 + f for f in py_left]
    left = report["scratch_left_by_probe"]
    assert isinstance(left, list)
    gone = f"no {PREFIX}* folder left by the probe"
    lines.append("Temp folder        " + (f"LEFT BEHIND: {', '.join(left)}" if left else gone))
    modes = report["store_modes"]
    kept = report["store_kept_by_a_session"]
    assert isinstance(modes, dict) and isinstance(kept, dict)
    lines.append(
        f"Session store      a session writes one SQLite file: folder {modes['folder']}, file {modes['file']};"
        " it keeps these columns and nothing else (no frames, pixels or landmarks):"
    )
    lines += [f"                   {table}: {', '.join(cols)}" for table, cols in kept.items()]
    yours = report["your_store"]
    assert isinstance(yours, dict)
    lines.append(
        f"Your store         {yours['path']} "
        + (f"(file {yours['mode']}, folder {yours['folder_mode']})" if yours["exists"] else "(none yet)")
    )
    lines += ["", "What each platform gets, and what this check cannot see: docs/privacy.md"]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    if args.probe:
        return _probe(args.probe, args.seconds)
    if not 0 < args.seconds <= 600:
        raise CallcoachError(f"--seconds must be more than 0 and at most 600, got {args.seconds:g}")
    report = run_check(args.seconds, use_strace=not args.no_strace)
    print(json.dumps(report, indent=2) if args.json else _text(report), flush=True)
    attempts = network_attempts(report)
    if attempts:
        raise CallcoachError(f"{attempts} network attempt(s) seen: local only does NOT hold on this machine")
    return 0
