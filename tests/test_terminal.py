"""The terminal the user sees: no native log line on it, our own lines on it, Ctrl-C quiet at any moment.

These run the real ``python -m callcoach`` in a subprocess (and, for the panel, in tmux, whose capture-pane
shows the screen as a person sees it): what is checked is what reaches the terminal, not what Python meant
to write.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: What MediaPipe, LiteRT, XNNPACK and glog write on fd 2 (see docs/reliability.md for the full lines).
NATIVE = re.compile(
    r"W0000 |I0000 |E0000 |INFO: |WARNING: Logging|XNNPACK|LiteRT|DestroyAccelerator|"
    r"face_landmarker_graph|inference_feedback_manager|\.cc:\d+\]"
)


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "CALLCOACH_LOG_DIR": str(tmp_path / "log"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def _from_a_terminal(ignore_hup: bool = False) -> None:
    """The child's SIGINT and SIGHUP as a shell in a terminal gives them: a suite started in the background
    (`nohup pytest &`) passes both on ignored, and callcoach rightly keeps an ignored signal ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_IGN if ignore_hup else signal.SIG_DFL)


def _cli(tmp_path: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcoach", *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def test_native_lines_go_to_the_log_and_our_own_lines_to_the_terminal(tmp_path: Path, real_media: Path) -> None:
    """analyze loads every model: the native lines are in native.log (so they were written, and caught), none on
    stderr, and our own last line (the summary) is still on stderr."""
    proc = _cli(tmp_path, "analyze", str(real_media / "single_face.mp4"), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert not NATIVE.search(proc.stderr), proc.stderr
    assert not NATIVE.search(proc.stdout)
    assert "summary: frames=72" in proc.stderr  # ours, after the models loaded and closed
    log = (tmp_path / "log" / "native.log").read_text(errors="replace")
    assert NATIVE.search(log), log  # the capture is what kept them off the terminal, not silence
    assert (tmp_path / "log" / "native.log").stat().st_mode & 0o077 == 0


def test_an_error_after_the_models_loaded_still_reaches_the_terminal(tmp_path: Path) -> None:
    """Our error line is written while native threads are busy on fd 2: it must be on stderr, whole."""
    proc = _cli(tmp_path, "demo", "--headless-check", "0.5", "--context", "general")
    assert "Traceback" not in proc.stderr
    assert not NATIVE.search(proc.stderr + proc.stdout), proc.stderr
    assert proc.stdout.startswith("callcoach demo:")
    assert "summary:" in proc.stdout
    if proc.returncode != 0:  # no cue within half a second of coaching is the expected failure: said in one line
        assert proc.returncode == 1
        assert proc.stderr.startswith("callcoach: error: the demo showed no cue"), proc.stderr
        assert proc.stderr.count("\n") == 1


@pytest.mark.parametrize("after_s", [0.0, 0.5, 6.0])
def test_ctrl_c_at_any_moment_exits_130_without_a_traceback(tmp_path: Path, after_s: float) -> None:
    """SIGINT while importing the command, while the models load, and while coaching. The clock starts when
    callcoach's own code runs (it creates the native log first thing): a Ctrl-C while the interpreter itself
    is still starting (importing ``site``) is Python's, before any line of ours."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "callcoach", "demo", "--headless-check", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        preexec_fn=_from_a_terminal,
    )
    log = tmp_path / "log" / "native.log"
    deadline = time.monotonic() + 60
    while not log.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(after_s)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert not NATIVE.search(err), err
    assert err.count("\n") <= 1


def _clip(name: str) -> Path:
    clip = REPO / "tests" / ".cache" / "pyfeat" / "feat" / "tests" / "data" / name
    if not clip.exists():
        pytest.skip("real test media missing: run `python tests/realdata.py`")
    return clip


def _analyze_signalled(tmp_path: Path, clip: Path, signum: int, ignore_hup: bool = False) -> tuple[int, str, str]:
    """`callcoach analyze CLIP` sent ``signum`` once its first line is out (the models loaded, frames being read):
    its status, stdout and stderr. ``ignore_hup``: started as `nohup` starts it, SIGHUP ignored."""
    out_path = tmp_path / "out.jsonl"
    with out_path.open("w") as out_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "callcoach", "analyze", "-q", str(clip)],
            stdout=out_file,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(tmp_path),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            preexec_fn=lambda: _from_a_terminal(ignore_hup),
        )
        deadline = time.monotonic() + 120
        while out_path.stat().st_size == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signum)
        try:
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    return proc.returncode, out_path.read_text(), err


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_kill_or_a_closed_terminal_still_ends_analyze_with_its_summary(tmp_path: Path, signum: int) -> None:
    """`kill` (SIGTERM) or the terminal closing (SIGHUP) mid-analysis: as Ctrl-C, the summary of what was read is
    still the last line (marked incomplete), and the exit status is 128 + the signal."""
    code, out, err = _analyze_signalled(tmp_path, _clip("WolfgangLanger_Pexels.mp4"), signum)
    assert code == 128 + signum, (out[-500:], err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["type"] == "summary" and summary["complete"] is False
    assert summary["error"] == f"stopped by {signal.Signals(signum).name}"


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", "callcoach-test", *args], capture_output=True, text=True, check=False).stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_panel_never_shows_a_native_line(tmp_path: Path) -> None:
    """`callcoach demo` in tmux: captures through start-up, coaching and after the window closed."""
    from callcoach.playbook.guardrails import acknowledge_consent

    acknowledge_consent(tmp_path / "config" / "callcoach" / "consent.json")
    env = _env(tmp_path)
    command = " ".join(
        f"{k}={v!r}"
        for k, v in env.items()
        if k in ("PYTHONPATH", "CALLCOACH_LOG_DIR", "XDG_CONFIG_HOME", "CALLCOACH_DATA_DIR")
    )
    _tmux("kill-server")
    _tmux("new-session", "-d", "-s", "panel", "-x", "100", "-y", "32")
    # The shell stays for a while after the app so that what is left on the screen can be captured.
    _tmux(
        "respawn-pane",
        "-k",
        "-t",
        "panel",
        f"env {command} {sys.executable} -m callcoach demo; echo EXITED $?; sleep 60",
    )
    captures: list[str] = []
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            time.sleep(0.5)
            captures.append(_tmux("capture-pane", "-p", "-t", "panel"))
            if "Face locked" in captures[-1] or "face locked" in captures[-1]:
                break
        time.sleep(3)  # some coaching
        captures.append(_tmux("capture-pane", "-p", "-t", "panel"))
        _tmux("send-keys", "-t", "panel", "q")
        for _ in range(60):
            time.sleep(0.5)
            captures.append(_tmux("capture-pane", "-p", "-t", "panel"))
            if "EXITED" in captures[-1]:
                break
    finally:
        _tmux("kill-server")
    # The panel was drawn (its top bar; the demo's title says "synthetic demo", not "callcoach").
    assert any("context:" in c for c in captures[:-1]), captures[-1]
    assert "EXITED 0" in captures[-1], captures[-1]
    leaked = [c for c in captures if NATIVE.search(c)]
    assert not leaked, leaked[0]


def test_ctrl_c_in_the_panel_stops_the_runner_and_exits_130() -> None:
    import asyncio

    from ui_fakes import Harness

    async def scenario() -> None:
        h = Harness()
        app = h.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+c")
            await pilot.pause()
        assert app.return_code == 130
        assert h.runner.calls[-1] == "stop"

    asyncio.run(scenario())


def test_a_kill_between_two_events_still_gets_the_summary(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The signal can land while a line is being written, outside the analysis generator: it is handed over,
    so the engine is flushed and the summary still comes last."""
    import callcoach.cli.output as output
    from callcoach.cli.main import Stopped, _main

    clip = _clip("single_face.mp4")
    real = output.make_writer
    written: list[str] = []

    class Killed:
        def __init__(self, inner: output.Writer) -> None:
            self.inner = inner

        def write(self, event: object) -> None:
            written.append(type(event).__name__)
            if len(written) == 20:
                raise Stopped(signal.SIGTERM)
            self.inner.write(event)

        def finish(self) -> None:
            self.inner.finish()

    monkeypatch.setattr(output, "make_writer", lambda *a, **k: Killed(real(*a, **k)))
    assert _main(["analyze", "-q", "--per-frame", str(clip)]) == 143
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary["type"] == "summary" and summary["complete"] is False
    assert summary["error"] == "stopped by SIGTERM"
    assert 15 <= summary["frames"] < 72  # what was read before the kill, not the whole clip


def test_nohup_is_kept(tmp_path: Path) -> None:
    """Started under `nohup` (SIGHUP ignored), a closed terminal does not stop the analysis."""
    code, out, err = _analyze_signalled(tmp_path, _clip("single_face.mp4"), signal.SIGHUP, ignore_hup=True)
    assert code == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["complete"] is True and summary["frames"] == 72
