"""Fault injection, playbook and inputs: every bad input ends fast, with one clear line, and loses nothing.

Each case is made in tmp_path (an alias bomb, a 20,000-deep list, a symlink to /dev/zero, a 52 MB file, a
PNG whose header says 25,000 x 25,000, a FIFO, a truncated real clip, a symlink loop, a 0-byte PNG) and run
through the command line in a subprocess with a timeout. The time bounds are generous (a loaded 2-core
machine): they catch an hour-long walk or a hang, not a slow second. See docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import pytest

from callcoach.errors import PlaybookError
from callcoach.playbook import loader
from callcoach.playbook.limits import MAX_DEPTH, MAX_NODES
from callcoach.playbook.loader import default_playbook_path, parse_playbook
from callcoach.playbook.watcher import PlaybookWatcher

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TEXT = default_playbook_path().read_text(encoding="utf-8")
#: Seconds a refused input may take end to end, process start-up (and on a loaded machine) included.
FAST_S = 30.0


def run_cli(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    path = str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")
    full_env = {**os.environ, "PYTHONPATH": path, **(env or {})}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "callcoach", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    return proc, time.monotonic() - started


def assert_one_line(proc: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """Exit ``code``, exactly one line on stderr, ``callcoach: error:`` first, no traceback, no native log."""
    assert proc.returncode == code, proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr[-2000:]
    line = lines[0]
    assert line.startswith("callcoach: error: "), line
    for needle in needles:
        assert needle in line, line
    for noise in ("Traceback", "[ERROR", "[ WARN", "Assertion", "AttributeError", "Exception ignored"):
        assert noise not in proc.stderr, proc.stderr
    return line


# --- fault makers -----------------------------------------------------------------------------------------


def alias_bomb() -> str:
    """Billion laughs: nine levels of nine aliases, 9**9 (387 million) strings once expanded; 342 bytes."""
    text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    previous = "a"
    for name in "bcdefghi":
        text += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text


def deep_list(depth: int = 20_000) -> str:
    return "[" * depth + "]" * depth


def huge_png(path: Path, side: int = 25_000) -> None:
    """A real, valid PNG of side x side black pixels: about 1.8 MB on disk, 1.9 GB once decoded to RGB.

    Compressing 1.9 GB takes half a minute, so one block of rows is deflated once, ended with a full flush
    (which makes it independent of what came before) and repeated; only the checksum sees every byte.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = 500
    assert side % rows == 0
    block = (b"\x00" * (1 + side * 3)) * rows  # filter byte 0, then the row's pixels
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = raw.compress(block) + raw.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(side // rows):
        adler = zlib.adler32(block, adler)
    final_empty_block = b"\x03\x00"
    idat = b"\x78\xda" + deflated * (side // rows) + final_empty_block + struct.pack(">I", adler)
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def huge_png_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("huge") / "huge.png"
    huge_png(path)
    return path


# --- playbook: the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["alias bomb", "deep list", "symlink to /dev/zero", "52 MB file", "symlink loop"])
def test_bad_playbook_file_is_one_line_within_seconds(tmp_path: Path, case: str) -> None:
    path = tmp_path / "playbook.yaml"
    if case == "alias bomb":
        path.write_text(alias_bomb(), encoding="utf-8")
        needles: tuple[str, ...] = (f"{MAX_NODES:,} entries", "alias (*name)")
    elif case == "deep list":
        path.write_text(deep_list(), encoding="utf-8")
        needles = (f"nested more than {MAX_DEPTH} levels",)
    elif case == "symlink to /dev/zero":
        if not Path("/dev/zero").exists():
            pytest.skip("no /dev/zero on this system")
        path.symlink_to("/dev/zero")
        needles = ("not a regular file",)
    elif case == "52 MB file":
        with path.open("wb") as fh:
            fh.write(b"version: 1\n")
            fh.truncate(52 * 1024 * 1024)
        needles = ("52.0 MB", "1.0 MB limit")
    else:
        (tmp_path / "other.yaml").symlink_to(path)
        path.symlink_to(tmp_path / "other.yaml")
        needles = ("symlink loop",)
    proc, took = run_cli("playbook", "validate", str(path))
    assert_one_line(proc, 1, str(path), *needles)
    assert took < FAST_S
    assert proc.stdout == ""


def test_the_limits_leave_a_real_playbook_alone() -> None:
    # The packaged default is well inside every bound, and small aliases are still fine.
    assert parse_playbook(DEFAULT_TEXT, "default.yaml").version == 1
    with pytest.raises(PlaybookError, match="required, but missing"):  # as far as validation: aliases expanded
        parse_playbook("version: 1\nx: &x [1, 2]\ny: *x\n", "small.yaml")


def test_a_limit_error_points_at_the_line() -> None:
    with pytest.raises(PlaybookError) as caught:
        parse_playbook("version: 1\n" + alias_bomb(), "pb.yaml")
    assert str(caught.value).startswith("pb.yaml:")
    with pytest.raises(PlaybookError, match=r"^pb.yaml:1: nested more than"):
        parse_playbook(deep_list(200), "pb.yaml")


# --- playbook: saved during a call ------------------------------------------------------------------------


def test_a_bomb_saved_during_the_call_never_stalls_the_caller(tmp_path: Path) -> None:
    path = tmp_path / "playbook.yaml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8")
    errors: list[PlaybookError] = []
    watcher = PlaybookWatcher(path, on_error=errors.append, interval_s=0.0)
    before = watcher.playbook
    for bad in (alias_bomb(), deep_list()):
        path.write_text(bad, encoding="utf-8")
        started = time.monotonic()
        watcher.poll()  # what the inference thread calls on every cue
        assert time.monotonic() - started < 1.0
        assert watcher.wait(FAST_S)
        assert watcher.playbook is before  # the last good playbook stays in force
    assert len(errors) == 2 and all("\n" not in str(e) for e in errors)


def test_a_load_that_hangs_is_given_up_and_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "playbook.yaml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8")
    errors: list[PlaybookError] = []
    now = [0.0]
    watcher = PlaybookWatcher(path, on_error=errors.append, interval_s=0.0, timeout_s=0.5, clock=lambda: now[0])
    before = watcher.playbook
    release = threading.Event()

    def stuck(target: object) -> object:
        release.wait(30)  # stands in for any read that does not come back
        raise PlaybookError("released")

    monkeypatch.setattr(loader, "load_playbook", stuck)
    path.write_text(DEFAULT_TEXT.replace("cooldown_s: 10", "cooldown_s: 4"), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert watcher.poll() is False  # started, not waited for
    now[0] += 0.1
    assert watcher.poll() is False and not errors  # still within its time
    now[0] += 1.0
    assert watcher.poll() is False  # past its time: given up
    assert len(errors) == 1 and "took more than 0.5 s" in str(errors[0])
    release.set()
    time.sleep(0.2)
    assert watcher.playbook is before and len(errors) == 1  # the abandoned load's late result is ignored


def test_a_check_after_a_save_reads_the_save_even_while_an_older_load_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The playbook screen's check() right after the editor saved, while a poll is still reading the version
    before it: the save must be in force when check() returns (it once waited for the older load only)."""
    path = tmp_path / "playbook.yaml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8")
    watcher = PlaybookWatcher(path, interval_s=0.0)
    real_load = loader.load_playbook
    reading, release = threading.Event(), threading.Event()

    def slow_first_read(target: Path) -> object:
        playbook = real_load(target)
        if not reading.is_set():
            reading.set()
            release.wait(10)  # the poll's read of the older version, not yet in force
        return playbook

    monkeypatch.setattr(loader, "load_playbook", slow_first_read)

    def save(cooldown: int, bump_s: int) -> None:
        path.write_text(DEFAULT_TEXT.replace("cooldown_s: 10", f"cooldown_s: {cooldown}"), encoding="utf-8")
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump_s * 1_000_000_000))

    save(4, 2)
    watcher.poll()  # starts reading the cooldown-4 version
    assert reading.wait(10)
    save(7, 4)  # the editor's save
    threading.Timer(0.2, release.set).start()
    watcher.check()
    assert watcher.playbook.cooldown_s == 7


def test_listen_reports_the_start_and_each_bad_save_once(tmp_path: Path) -> None:
    path = tmp_path / "playbook.yaml"
    path.write_text("version: [\n", encoding="utf-8")
    watcher = PlaybookWatcher(path, interval_s=0.05)
    reports: list[tuple[str, str]] = []
    try:
        watcher.listen(lambda error, in_force: reports.append((str(error), in_force)))
        assert reports == [(reports[0][0], "the packaged default playbook")] and str(path) in reports[0][0]
        path.write_text(alias_bomb(), encoding="utf-8")
        deadline = time.monotonic() + FAST_S
        while len(reports) < 2 and time.monotonic() < deadline:  # no cue needed: the watcher follows the file
            time.sleep(0.05)
        time.sleep(0.3)
        assert len(reports) == 2 and reports[1][1] == "the last good playbook" and "alias (*name)" in reports[1][0]
    finally:
        watcher.close()


@pytest.mark.slow
def test_headless_run_reports_a_broken_playbook_and_keeps_going(real_media: Path, tmp_path: Path) -> None:
    """At the start and mid-call: a playbook_error jsonl line and one stderr warning each; the run goes on."""
    config = tmp_path / "config"
    user = config / "callcoach" / "playbook.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("version: [\n", encoding="utf-8")

    def save_bomb() -> None:
        time.sleep(8.0)
        user.write_text(alias_bomb(), encoding="utf-8")

    threading.Thread(target=save_bomb, daemon=True).start()
    proc, _took = run_cli(
        "live",
        "--headless",
        "--video",
        str(real_media / "WolfgangLanger_Pexels.mp4"),
        "--duration",
        "16",
        "--no-record-session",
        env={"XDG_CONFIG_HOME": str(config)},
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    problems = [r for r in records if r["type"] == "playbook_error"]
    assert [p["in_force"] for p in problems] == ["the packaged default playbook", "the last good playbook"]
    assert "alias (*name)" in problems[1]["message"]
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("callcoach: warning: the playbook")]
    assert len(warnings) == 2 and "Traceback" not in proc.stderr
    # The analysis went on after the bad save: frames kept coming until the end.
    assert records[-1]["type"] == "summary" and records[-1]["frames"] > 0
    last_bad = max(i for i, r in enumerate(records) if r["type"] == "playbook_error")
    assert any(r["type"] in ("cue", "status", "suggestion", "early_cue") for r in records[last_bad + 1 : -1])


# --- inputs ------------------------------------------------------------------------------------------------


def test_huge_png_is_refused_from_its_header(huge_png_file: Path) -> None:
    assert huge_png_file.stat().st_size < 3 * 1024 * 1024
    proc, took = run_cli("analyze", str(huge_png_file))
    assert_one_line(proc, 1, "625 megapixels", "100-megapixel limit", "scale it down")
    assert "re-export it as PNG" not in proc.stderr
    assert took < FAST_S


def test_huge_image_without_a_suffix_is_still_checked(huge_png_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "picture"
    path.symlink_to(huge_png_file)
    proc, took = run_cli("analyze", str(path))
    assert_one_line(proc, 1, "megapixel limit")
    assert took < FAST_S


def test_an_image_just_over_the_limit_names_its_size(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    huge_png(path, side=12_000)  # 144 megapixels: under Pillow's own bound, over ours
    proc, took = run_cli("analyze", str(path))
    assert_one_line(proc, 1, "12000 x 12000 pixels (144 megapixels)", "100-megapixel limit")
    assert took < FAST_S


def test_zero_byte_png_is_our_own_message(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.touch()
    proc, took = run_cli("analyze", str(path))
    assert_one_line(proc, 1, "empty (0 bytes)")
    assert took < FAST_S


def test_symlink_loop_is_named_as_such(tmp_path: Path) -> None:
    (tmp_path / "a.mp4").symlink_to(tmp_path / "b.mp4")
    (tmp_path / "b.mp4").symlink_to(tmp_path / "a.mp4")
    proc, took = run_cli("analyze", str(tmp_path / "a.mp4"))
    assert_one_line(proc, 1, "symlink loop")
    assert "no such file" not in proc.stderr
    assert took < FAST_S


def test_fifo_without_a_writer_gives_up_within_seconds(tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    proc, took = run_cli("analyze", str(fifo), timeout=60)
    assert_one_line(proc, 1, "nothing arrived on the pipe")
    assert took < FAST_S


@pytest.mark.parametrize("command", [["live", "--headless", "--duration", "1", "--no-record-session"], ["vcam"]])
def test_a_fifo_played_live_is_refused_at_once(tmp_path: Path, command: list[str]) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    proc, took = run_cli(*command, "--video", str(fifo), timeout=60)
    assert_one_line(proc, 1, "is a pipe (FIFO)", "regular file")
    assert took < FAST_S


@pytest.mark.slow
def test_fifo_is_read_once_as_a_stream(real_media: Path, tmp_path: Path) -> None:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "stream"
    os.mkfifo(fifo)
    clip = (real_media / "WolfgangLanger_Pexels.mp4").read_bytes()

    def write() -> None:
        try:
            with open(fifo, "wb") as out:  # blocks until callcoach opens the pipe: once
                out.write(clip)
        except BrokenPipeError:
            pass

    threading.Thread(target=write, daemon=True).start()
    proc, _took = run_cli("analyze", str(fifo), "--quiet", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert summary["complete"] is True and summary["frames"] == 472


@pytest.mark.slow
def test_truncated_video_is_reported_incomplete(real_media: Path, tmp_path: Path) -> None:
    clip = (real_media / "WolfgangLanger_Pexels.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip[: len(clip) // 2])  # the index is at the front: about half the frames decode
    proc, _took = run_cli("analyze", str(cut), "--quiet", timeout=300)
    line = assert_one_line(proc, 1, "stopped after", "of the 472 frames", "truncated")
    summary = json.loads(proc.stdout.splitlines()[-1])
    assert summary["type"] == "summary" and summary["complete"] is False
    assert 0 < summary["frames"] < 472 and summary["error"] in line  # what was read is kept and summarised


@pytest.mark.slow
def test_whole_real_clips_are_not_called_truncated(real_media: Path) -> None:
    """The margin for containers that list a few frames more than they decode (no_face.mp4: 98 and 95)."""
    from callcoach.sources.files import VideoFileSource

    for name in ("no_face.mp4", "single_face.mp4", "face_noface.mov", "noface_face.mov"):
        source = VideoFileSource(real_media / name)
        frames = sum(1 for _ in source.frames())  # raises SourceError if it were judged truncated
        assert frames > 0


# --- cameras and the virtual camera ------------------------------------------------------------------------

MISSING_CAMERA = "7"


def _no_camera_7() -> None:
    if Path(f"/dev/video{MISSING_CAMERA}").exists():
        pytest.skip("this machine has a camera 7")


def test_missing_camera_is_one_line_without_opencv_noise() -> None:
    _no_camera_7()
    proc, took = run_cli("live", "--camera", MISSING_CAMERA, "--headless", "--duration", "1", "--no-record-session")
    assert_one_line(proc, 1, f"cannot open camera {MISSING_CAMERA}")
    assert took < FAST_S


def test_vcam_without_a_camera_is_one_line_without_opencv_noise() -> None:
    _no_camera_7()
    proc, took = run_cli("vcam", "--camera", MISSING_CAMERA, "--duration", "1")
    assert_one_line(proc, 1, f"cannot open camera {MISSING_CAMERA}")
    assert took < FAST_S


@pytest.mark.parametrize(
    "command",
    [
        ["live", "--camera", "-1", "--headless", "--duration", "1", "--no-record-session"],
        ["vcam", "--camera", "-1", "--duration", "1"],
    ],
)
def test_a_negative_camera_number_is_a_usage_error_not_a_crash(command: list[str]) -> None:
    # OpenCV takes -1 as "any camera"; with none attached its probe crashed the process (exit 139, no message).
    proc, took = run_cli(*command)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.splitlines()[-1].endswith("argument --camera: must be 0 or more, not -1")
    assert "Traceback" not in proc.stderr
    assert took < FAST_S


def test_the_camera_source_itself_refuses_a_negative_number() -> None:
    from callcoach.errors import SourceError
    from callcoach.sources.camera import CameraSource

    with pytest.raises(SourceError, match="no camera -1: camera numbers start at 0"):
        CameraSource(-1)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
@pytest.mark.parametrize(
    "command",
    [
        ["analyze", "-q", "single_face.mp4"],
        ["analyze", "-q", "--format", "table", "single_face.mp4"],
        ["playbook", "show"],
    ],
)
def test_a_full_disk_behind_standard_output_is_one_line(real_media: Path, command: list[str]) -> None:
    # `callcoach analyze clip > out.jsonl` with the disk full: /dev/full refuses every write with ENOSPC.
    args = [str(real_media / a) if a.endswith(".mp4") else a for a in command]
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started = time.monotonic()
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "callcoach", *args],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
    assert_one_line(proc, 1, "cannot write the output: No space left on device")
    assert time.monotonic() - started < FAST_S


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        (["bench", "accuracy", "--seed", "-1", "--size", "small"], "--seed: must be 0 or more, not -1"),
        (["bench", "speed", "clip.mp4", "--frames", "0"], "--frames: must be 10 or more, not 0"),
        (["bench", "speed", "clip.mp4", "--max-faces", "0"], "--max-faces: must be 1 or more, not 0"),
        (["bench", "speed", "clip.mp4", "--process-runs", "x"], "--process-runs: not a whole number: 'x'"),
    ],
)
def test_bench_numbers_out_of_range_are_refused_before_any_work(command: list[str], needle: str) -> None:
    proc, took = run_cli(*command)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert needle in proc.stderr.splitlines()[-1]
    assert "Traceback" not in proc.stderr
    assert took < FAST_S


BAD_BACKEND = [
    ["vcam", "--backend", "obs-typo", "--camera", MISSING_CAMERA],
    ["live", "--video", "x.mp4", "--headless", "--vcam", "--vcam-backend", "obs-typo"],
]


@pytest.mark.parametrize("command", BAD_BACKEND)
def test_unknown_vcam_backend_lists_the_valid_ones(command: list[str]) -> None:
    proc, took = run_cli(*command)
    line = assert_one_line(proc, 2, "'obs-typo' is not a virtual camera backend", "choose one of")
    assert "KeyError" not in line
    assert took < FAST_S


# --- the panel ---------------------------------------------------------------------------------------------


def test_panel_shows_a_notice_for_a_broken_playbook_at_start_and_on_a_bad_save(tmp_path: Path) -> None:
    import asyncio

    from ui_fakes import Harness, started

    from callcoach.playbook.selector import Selector

    path = tmp_path / "playbook.yaml"
    # Brackets in the message ("[oops") must show as text, not be taken for Textual markup.
    path.write_text("version: 1\ncues: [oops\n", encoding="utf-8")
    watcher = PlaybookWatcher(path, interval_s=0.05)
    harness = Harness()
    harness.selector = Selector(watcher)  # type: ignore[assignment]

    def notices(app: object) -> list[str]:
        return [f"{n.title}: {n.message}" for n in app._notifications]  # type: ignore[attr-defined]

    async def scenario() -> None:
        app = harness.app()
        async with app.run_test(size=(100, 30)) as pilot:
            await started(pilot, app)
            await pilot.pause()
            first = [n for n in notices(app) if n.startswith("Playbook not loaded")]
            assert len(first) == 1 and str(path) in first[0] and "packaged default" in first[0]
            path.write_text(alias_bomb(), encoding="utf-8")
            for _ in range(200):  # the watcher follows the file by itself; no cue is needed
                await pilot.pause(0.05)
                if len([n for n in notices(app) if n.startswith("Playbook not loaded")]) == 2:
                    break
            shown = [n for n in notices(app) if n.startswith("Playbook not loaded")]
            assert len(shown) == 2 and "alias (*name)" in shown[1] and "last good playbook" in shown[1]

    try:
        asyncio.run(scenario())
    finally:
        watcher.close()


def test_closing_a_video_mid_pass_is_not_called_truncated(real_media: Path) -> None:
    from callcoach.sources.files import VideoFileSource

    source = VideoFileSource(real_media / "WolfgangLanger_Pexels.mp4")
    seen = 0
    for _frame in source.frames():  # no SourceError: the pass was ended on purpose
        seen += 1
        if seen == 10:
            source.close()
    assert 10 <= seen < 472
