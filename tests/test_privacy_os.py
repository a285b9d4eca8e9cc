"""Local only, checked where it can fail: what the kernel sees the real commands do.

Every command runs as its own process under ``strace -f`` (all threads, native libraries' included), with
HOME pointing at an empty folder. The checks, per command:

- no DNS query (port 53, loopback included) and no connect/sendto/sendmsg/sendmmsg to an internet address
  outside 127.0.0.0/8 and ::1, whatever the kernel answered (an attempt counts);
- with the seccomp wall (the default on Linux) no internet socket is even created: every one asked for was
  refused;
- without the wall (``CALLCOACH_NETWORK_SANDBOX=off``, for the commands that load the models) still no
  DNS and no internet connect or datagram at all, loopback included: the telemetry is off by the
  libraries' own switches, not only walled in;
- no compiler, linker or ldconfig started;
- nothing left in the temp folder by the process, and nothing written under HOME.

Plus: a command killed (SIGKILL, SIGTERM) leaves no scratch folder, and one killed in the middle of an
import has its folder removed by the next start.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from callcoach.privacy import strace
from callcoach.privacy.scratch import PREFIX

STRACE = shutil.which("strace") if sys.platform.startswith("linux") else None


def _strace_cannot_trace() -> str:
    if STRACE is None:
        return "strace is not installed (Linux: apt-get install strace; .ci/run does)"
    probe = subprocess.run(
        [STRACE, "-f", "-qq", "-o", os.devnull, "true"], capture_output=True, text=True, check=False, timeout=60
    )
    return "" if probe.returncode == 0 else f"strace cannot trace here: {probe.stderr.strip()[:200]}"


_NO_STRACE = _strace_cannot_trace()
needs_strace = pytest.mark.skipif(bool(_NO_STRACE), reason=_NO_STRACE or "strace works")
REPO = Path(__file__).resolve().parent.parent
#: Programs that must not start: the compiler and linker ctypes.util.find_library falls back to, and ldconfig.
TOOLCHAIN = {"gcc", "cc", "c++", "g++", "collect2", "ld", "ld.bfd", "ld.gold", "ldconfig", "x86_64-linux-gnu-gcc"}


@dataclass
class Traced:
    proc: subprocess.CompletedProcess[str]
    calls: list[strace.NetCall]
    pid: int

    def why(self) -> str:
        return f"exit {self.proc.returncode}\nstderr: {self.proc.stderr[-1500:]}"


#: What a command may write under HOME: callcoach's own settings, never a cache. ``consent.json`` records that a
#: headless run printed the consent note once (docs/sessions.md); ``sessions.json`` holds the cue-log switch.
ALLOWED_UNDER_HOME = frozenset(
    {".config", ".config/callcoach", ".config/callcoach/consent.json", ".config/callcoach/sessions.json"}
)


def _home_writes(home: Path) -> list[str]:
    """Everything under HOME except callcoach's own small settings files (which must stay small JSON)."""
    found = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    for name in found:
        if name.endswith(".json"):
            assert (home / name).stat().st_size < 4096, f"{name} is larger than a settings file"
    return [name for name in found if name not in ALLOWED_UNDER_HOME]


def _env(home: Path, data: Path, *, wall: bool = True) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "MPLCONFIGDIR", "CALLCOACH_NETWORK_SANDBOX")
    }
    env.update(HOME=str(home), CALLCOACH_DATA_DIR=str(data), PYTHONPATH=str(REPO))
    if not wall:
        env["CALLCOACH_NETWORK_SANDBOX"] = "off"
    return env


def run_traced(args: list[str], env: dict[str, str], trace: Path, timeout: float = 300) -> Traced:
    assert STRACE is not None
    cmd = [
        STRACE,
        "-f",
        "-qq",
        "-e",
        "signal=none",
        "-e",
        "trace=network,execve",
        "-o",
        str(trace),
        sys.executable,
        "-m",
        "callcoach",
        *args,
    ]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )
    text = trace.read_text(encoding="utf-8", errors="replace")
    first = re.match(r"\s*(\d+)", text)
    assert first, f"empty trace for {args}"
    return Traced(proc, strace.parse(text), int(first.group(1)))


def _left_in_tmp(pid: int) -> list[str]:
    return sorted(p.name for p in Path(tempfile.gettempdir()).glob(f"{PREFIX}{pid}-*"))


def check_common(name: str, run: Traced, *, wall: bool) -> None:
    outside = strace.outside_traffic(run.calls)
    assert outside == [], f"{name}: network attempts:\n" + "\n".join(map(str, outside))
    created, _refused = strace.inet_sockets(run.calls)
    if wall:
        assert created == [], f"{name}: internet sockets created under the wall:\n" + "\n".join(map(str, created))
    else:
        inet = [c for c in run.calls if c.targets]
        assert inet == [], f"{name}: internet traffic attempted without the wall:\n" + "\n".join(map(str, inet))
    started = [Path(p).name for p in strace.programs_run(run.calls)]
    assert not set(started) & TOOLCHAIN, f"{name}: started {started}"
    assert _left_in_tmp(run.pid) == [], f"{name}: left {_left_in_tmp(run.pid)} in the temp folder"


def _summary(stdout: str) -> dict[str, object]:
    records = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    summaries = [r for r in records if r.get("type") == "summary"]
    assert summaries, stdout[-1000:]
    summary: dict[str, object] = summaries[-1]
    return summary


@needs_strace
@pytest.mark.slow
def test_no_command_reaches_the_network_spawns_a_toolchain_or_leaves_files(real_media: Path, tmp_path: Path) -> None:
    clip = real_media / "single_face.mp4"
    home, data, out = tmp_path / "home", tmp_path / "data", tmp_path / "out"
    for folder in (home, data, out):
        folder.mkdir()
    env = _env(home, data)

    def traced(name: str, *args: str, timeout: float = 300, wall: bool = True) -> Traced:
        run = run_traced(
            list(args), env if wall else _env(home, data, wall=False), tmp_path / f"{name}.trace", timeout=timeout
        )
        check_common(name, run, wall=wall)
        return run

    run = traced("analyze", "analyze", str(clip), "-q")
    assert run.proc.returncode == 0 and _summary(run.proc.stdout)["frames"], run.why()

    run = traced(
        "live",
        "live",
        "--video",
        str(clip),
        "--loop",
        "--headless",
        "--duration",
        "30",
        "--vcam",
        "--vcam-video",
        str(clip),
    )
    assert run.proc.returncode == 0 and _summary(run.proc.stdout)["frames"], run.why()

    run = traced("demo", "demo", "--headless-check", "30")
    analysed = re.search(r"(\d+) frames analysed", run.proc.stdout)
    # rc 1 only if no cue came in time on a loaded machine; the models must have run either way.
    assert run.proc.returncode in (0, 1) and analysed and int(analysed.group(1)) > 0, run.why()

    run = traced("vcam", "vcam", "--video", str(clip), "--duration", "3")
    # No v4l2loopback device on CI: one clear line; with one, a real pass-through.
    assert run.proc.returncode == 0 or "v4l2" in run.proc.stderr, run.why()

    report = out / "report.html"
    run = traced("summary", "summary", "--html", str(report))
    assert run.proc.returncode == 0 and report.stat().st_size > 1000, run.why()

    run = traced("playbook", "playbook", "validate", str(REPO / "callcoach" / "playbook" / "default.yaml"))
    assert run.proc.returncode == 0, run.why()

    run = traced("bench", "bench", "accuracy", "--size", "small", timeout=900)
    assert run.proc.returncode == 0, run.why()

    # Without the wall: the attempts are gone at their source, not only refused.
    run = traced("analyze-unwalled", "analyze", str(clip), "-q", wall=False)
    assert run.proc.returncode == 0, run.why()
    run = traced("live-unwalled", "live", "--video", str(clip), "--loop", "--headless", "--duration", "30", wall=False)
    assert run.proc.returncode == 0 and _summary(run.proc.stdout)["frames"], run.why()

    assert _home_writes(home) == []


# --- kills -----------------------------------------------------------------------------------------------


def _start_live(clip: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "callcoach", "live", "--video", str(clip), "--loop", "--headless", "--duration", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_command_leaves_nothing_in_the_temp_folder(real_media: Path, tmp_path: Path, sig: int) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    data.mkdir()
    proc = _start_live(real_media / "single_face.mp4", _env(home, data))
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 240
        # Killed once frames flow: the libraries are loaded and running their own threads.
        for line in proc.stdout:
            if '"type": "status"' in line and '"state": "starting"' not in line:
                break
            assert time.monotonic() < deadline, "live never got going"
        else:
            pytest.fail(f"live ended before analysing a frame (exit {proc.wait()})")
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _left_in_tmp(proc.pid) == []
    assert _home_writes(home) == []


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_folder_left_by_a_kill_during_an_import_is_removed_by_the_next_start(
    real_media: Path, tmp_path: Path
) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    data.mkdir()
    env = _env(home, data)
    proc = _start_live(real_media / "single_face.mp4", env)
    try:
        deadline = time.monotonic() + 240
        while not _left_in_tmp(proc.pid):  # the scratch folder exists while MediaPipe is being imported
            assert proc.poll() is None and time.monotonic() < deadline, "no scratch folder ever appeared"
            time.sleep(0.01)
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _left_in_tmp(proc.pid), "the kill came after the import: nothing to clean up in this run"
    nxt = subprocess.run(
        [
            sys.executable,
            "-m",
            "callcoach",
            "playbook",
            "validate",
            str(REPO / "callcoach" / "playbook" / "default.yaml"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert nxt.returncode == 0, nxt.stderr
    assert _left_in_tmp(proc.pid) == []


@pytest.mark.slow
def test_privacy_command_reports_zero_attempts_on_this_machine(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "callcoach", "privacy", "--seconds", "4", "--json"],
        capture_output=True,
        text=True,
        env=_env(home, tmp_path / "data"),
        timeout=400,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["probe"]["frames"] > 0
    assert report["python_level"]["network_attempts"] == []
    assert report["scratch_left_by_probe"] == []
    assert report["store_modes"] == (
        {"folder": "0o700", "file": "0o600"} if sys.platform != "win32" else report["store_modes"]
    )
    assert "sessions" in report["store_kept_by_a_session"]
    if not _NO_STRACE:
        kernel = report["kernel_level"]
        assert kernel["network_attempts"] == [] and kernel["dns_queries"] == 0
        assert kernel["internet_sockets_created"] == 0 and report["sandbox"]["active"]
        assert kernel["files_left"] == []
        assert not {Path(p).name for p in kernel["programs_run"]} & TOOLCHAIN
    assert _home_writes(home) == []


@needs_strace
@pytest.mark.slow
def test_screen_capture_talks_to_x11_under_the_wall_and_nothing_else(tmp_path: Path) -> None:
    """The wall keeps AF_UNIX: live capture from an X display (Xvfb's Unix socket) works under it."""
    from xvfb import virtual_display

    home = tmp_path / "home"
    home.mkdir()
    with virtual_display() as display:
        env = _env(home, tmp_path / "data")
        env["DISPLAY"] = display
        run = run_traced(["live", "--monitor", "1", "--headless", "--duration", "20"], env, tmp_path / "live.trace")
    assert run.proc.returncode == 0 and _summary(run.proc.stdout)["captured"], run.why()
    outside = strace.outside_traffic(run.calls)
    assert outside == [], "\n".join(map(str, outside))
    assert strace.inet_sockets(run.calls)[0] == []
    x11 = [c for c in run.calls if c.name == "connect" and "X11-unix" in c.args and not c.failed]
    assert x11, "no connection to the X server's Unix socket was seen"
    # mss looks its X libraries up with ctypes.util.find_library: ldconfig runs (docs/privacy.md), no compiler.
    started = {Path(p).name for p in strace.programs_run(run.calls)}
    assert not started & (TOOLCHAIN - {"ldconfig"}), started
    assert _left_in_tmp(run.pid) == [] and _home_writes(home) == []


@pytest.mark.slow
@needs_strace
def test_privacy_text_lists_files_still_there_apart_from_files_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "callcoach", "privacy", "--seconds", "2"],
        capture_output=True,
        text=True,
        env=_env(home, tmp_path / "data"),
        timeout=400,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Files written "))
    end = next(i for i in range(start + 1, len(lines)) if not lines[i].startswith("  "))
    groups: dict[str, list[str]] = {}
    current = ""
    for line in lines[start + 1 : end]:
        if line.startswith("   "):
            groups[current].append(line.strip())
        else:
            current = line[:19].strip()
            groups[current] = []
    assert set(groups) == {"still there", "removed again", "probe's store"}, lines[start:end]
    assert groups["still there"] == []  # nothing the probe wrote outlives it
    assert groups["probe's store"] and all("/store/sessions.db" in p for p in groups["probe's store"])
    for path in groups["removed again"]:
        assert not Path(path).exists(), path
    written = int(lines[start].split()[2])
    assert written == sum(len(paths) for paths in groups.values())
