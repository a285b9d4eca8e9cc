"""The command line: clean one-line errors, exit codes, and the jsonl/csv/table writers."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import callcoach.cli.main as cli
from callcoach.analysis import Summary
from callcoach.cli.output import CsvWriter, JsonlWriter, TableWriter, frame_record
from callcoach.cues.vocabulary import BaselineEvent, Cue
from callcoach.errors import SourceError
from callcoach.vision.types import APPEARANCE_CLASSES, FaceObservation, FrameObservation, HeadPose

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("cv2", "mediapipe", "onnxruntime")


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "callcoach", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or REPO,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def assert_clean_error(proc: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("callcoach: error: ")
    assert needle in lines[0]
    assert "Traceback" not in proc.stderr


# --- end to end: errors -------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.mp4"
    assert_clean_error(run_cli("analyze", str(path)), 1, str(path))


def test_empty_directory(tmp_path: Path) -> None:
    assert_clean_error(run_cli("analyze", str(tmp_path)), 1, str(tmp_path))


@pytest.mark.parametrize("name", ["notes.mp4", "notes.txt"])
def test_text_file_renamed_mp4(tmp_path: Path, name: str) -> None:
    # notes.txt once "played" as a 69-frame video of its characters (FFmpeg's ANSI-art demuxer) and exit 0.
    path = tmp_path / name
    path.write_text("meeting notes, not a video\n" * 50)
    # Also proves FFmpeg's own complaints do not leak onto stderr.
    assert_clean_error(run_cli("analyze", str(path)), 1, str(path))


@pytest.mark.parametrize("flag", [["--fps", "0"], ["--fps", "-2"], ["--baseline-seconds", "-1"]])
def test_bad_numbers_are_usage_errors(tmp_path: Path, flag: list[str]) -> None:
    assert_clean_error(run_cli("analyze", str(tmp_path), *flag), 2, flag[0])


def test_help_and_version() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0 and "analyze" in proc.stdout and "bench" in proc.stdout
    proc = run_cli("analyze", "--help")
    assert proc.returncode == 0 and "--baseline-seconds" in proc.stdout and "--per-frame" in proc.stdout
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("callcoach ")


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys\nfrom callcoach.cli.main import main\n"
        "for argv in (['--help'], ['analyze', '--help'], ['bench', '--help']):\n    main(argv)\n"
        f"print('HEAVY', [m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert "HEAVY []" in proc.stdout


def _with_command(monkeypatch: pytest.MonkeyPatch, words: tuple[str, ...], target: str) -> None:
    extra = cli.ExternalCommand(words, target, "test command", positionals=(("video", "a video"),))
    monkeypatch.setattr(cli, "EXTERNAL_COMMANDS", (*cli.EXTERNAL_COMMANDS, extra))


def test_missing_extension_module_is_a_clean_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _with_command(monkeypatch, ("bench", "nosuch"), "callcoach_bench.no_such_module:main")
    assert cli.main(["bench", "nosuch", "clip.mp4"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "callcoach: error: 'callcoach bench nosuch' is not available in this build " + (
        "(no callcoach_bench.no_such_module)\n"
    )


def test_extension_module_declares_its_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cc_fake_bench.py").write_text(
        "def add_arguments(parser):\n"
        "    parser.add_argument('--frames', type=int, default=1)\n"
        "def main(args):\n"
        "    print(args.video, args.frames)\n"
        "    return 3\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    _with_command(monkeypatch, ("bench", "fake"), "cc_fake_bench:main")
    assert cli.main(["bench", "fake", "--frames", "7", "clip.mp4"]) == 3
    assert capsys.readouterr().out == "clip.mp4 7\n"


# --- in-process: error handling in main() -------------------------------------------------------------


def test_keyboard_interrupt_exits_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(_args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_analyze", interrupted)
    assert cli.main(["analyze", "x.mp4"]) == 130
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_callcoach_error_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def failing(_args: object) -> int:
        raise SourceError("bad thing\nwith a second line")

    monkeypatch.setattr(cli, "run_analyze", failing)
    assert cli.main(["analyze", "x.mp4"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == "callcoach: error: bad thing with a second line\n"


# --- writers, fed scripted events ---------------------------------------------------------------------


def _summary(**overrides: Any) -> Summary:
    fields: dict[str, Any] = {"frames": 3, "frames_with_face": 2, "duration_s": 0.0667, "faces": 1, "cues": 1}
    fields |= {"cues_by_name": {"micro_surprise": 1}, "baseline_ready": True, "source": "clip.mp4"}
    return Summary(**(fields | overrides))


def _face(big: bool) -> FaceObservation:
    emotion = {name: 1 / 7 for name in APPEARANCE_CLASSES}
    size = 0.5 if big else 0.1
    return FaceObservation(
        face_id=0 if big else 1,
        bbox=(0.1, 0.1, size, size),
        pose=HeadPose(yaw=12.345678, pitch=-3.0, roll=0.5),
        blendshapes={"browInnerUp": 0.123456789, "jawOpen": float("nan")} if big else {"jawOpen": 0.9},
        geometry={"mouth_width": 0.4},
        emotion=emotion if big else None,
    )


def _events() -> list[object]:
    cue = Cue("micro_surprise", "surprise", "micro", 0.0333, 0.05, 0.0667, 0.8, 0.6, 0)
    return [
        FrameObservation(0, 0.0, 640, 360, (_face(False), _face(True))),
        BaselineEvent(0, 0.0, "calibrating", 0.5),
        FrameObservation(1, 1 / 30, 640, 360, ()),
        BaselineEvent(0, 1 / 30, "ready", 1.0),
        FrameObservation(2, 2 / 30, 640, 360, (_face(True),)),
        cue,
        _summary(),
    ]


@pytest.mark.parametrize("per_frame", [False, True])
def test_jsonl_writer_lines(per_frame: bool) -> None:
    out = io.StringIO()
    writer = JsonlWriter(out, per_frame=per_frame)
    for event in _events():
        writer.write(event)
    writer.finish()
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    types = [r["type"] for r in records]
    expected = ["baseline", "baseline", "cue", "summary"]
    if per_frame:
        expected = ["frame", "baseline", "frame", "baseline", "frame", "cue", "summary"]
    assert types == expected
    assert records[-1]["frames"] == 3 and records[-1]["frames_with_face"] == 2
    assert set(records[-2]) >= {"cue", "emotion", "scale", "onset_s", "apex_s", "offset_s", "confidence"}
    for record in records:
        if record["type"] == "baseline":
            assert set(record) == {"type", "face", "t_s", "status", "progress"}
    if per_frame:
        first, empty = records[0], records[2]
        assert set(first) == {"type", "t_s", "face", "emotion", "appearance", "aus", "blendshapes", "faces", "pose"}
        assert first["face"] is True and first["faces"] == 2
        # the largest face is reported, values at 4 decimals, NaN as null
        assert first["blendshapes"] == {"browInnerUp": 0.1235, "jawOpen": None}
        assert first["pose"] == {"yaw": 12.3457, "pitch": -3.0, "roll": 0.5}
        assert set(first["emotion"]) == set(APPEARANCE_CLASSES)
        # vision alone (no engine): no AUs, and the emotion is the appearance model's own
        assert first["aus"] is None and first["emotion"] == first["appearance"]
        assert empty["face"] is False and empty["emotion"] is None and empty["pose"] is None
        assert empty["faces"] == 0 and empty["blendshapes"] == {}


def test_frame_record_without_emotion() -> None:
    record = frame_record(FrameObservation(0, 0.0, 10, 10, (_face(False),)))
    assert record["emotion"] is None and record["blendshapes"] == {"jawOpen": 0.9}


def test_csv_writer() -> None:
    out, err = io.StringIO(), io.StringIO()
    writer = CsvWriter(out, err)
    for event in _events():
        writer.write(event)
    writer.finish()
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 1 and rows[0]["cue"] == "micro_surprise" and rows[0]["face"] == "0"
    assert err.getvalue().count("\n") == 1 and err.getvalue().startswith("summary: frames=3")


def test_table_writer_mentions_no_face_and_baseline() -> None:
    out = io.StringIO()
    writer = TableWriter(out)
    for event in _events():
        writer.write(event)
    writer.finish()
    assert "micro_surprise" in out.getvalue() and "Summary" in out.getvalue()

    no_face = io.StringIO()
    writer = TableWriter(no_face)
    writer.write(_summary(frames_with_face=0, cues=0, cues_by_name={}, baseline_ready=False))
    writer.finish()
    assert "No face was found" in no_face.getvalue()

    never = io.StringIO()
    writer = TableWriter(never, baseline_seconds=2.0)
    writer.write(_summary(cues=0, cues_by_name={}, baseline_ready=False))
    writer.finish()
    assert "baseline never became ready" in never.getvalue()


# --- end to end on real clips (need the vision pipeline and the cue engine) ----------------------------


def _jsonl(proc: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.mark.slow
def test_analyze_real_clip_jsonl_per_frame(real_media: Path) -> None:
    proc = run_cli("analyze", str(real_media / "single_face.mp4"), "--per-frame")
    records = _jsonl(proc)
    assert proc.stderr == ""  # jsonl mode: nothing but errors on stderr
    assert records[-1]["type"] == "summary"
    assert [r["type"] for r in records].count("summary") == 1
    frames = [r for r in records if r["type"] == "frame"]
    assert len(frames) == records[-1]["frames"] == 72
    assert records[-1]["frames_with_face"] > 60
    assert any(r["type"] == "baseline" and r["status"] == "ready" for r in records)


@pytest.mark.slow
def test_analyze_clip_without_face_is_not_an_error(real_media: Path) -> None:
    records = _jsonl(run_cli("analyze", str(real_media / "no_face.mp4")))
    summary = records[-1]
    assert summary["type"] == "summary" and summary["frames_with_face"] == 0 and summary["cues"] == 0
    assert summary["frames"] > 90


@pytest.mark.slow
def test_analyze_table_and_csv(real_media: Path) -> None:
    clip = str(real_media / "single_face.mp4")
    table = run_cli("analyze", clip, "--format", "table")
    assert table.returncode == 0 and "Summary" in table.stdout
    proc = run_cli("analyze", clip, "--format", "csv")
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[0].startswith("onset_s,apex_s,offset_s,cue")
    assert "summary: frames=72" in proc.stderr


@pytest.mark.slow
def test_analyze_single_photo(real_media: Path) -> None:
    records = _jsonl(run_cli("analyze", str(real_media / "single_face.jpg"), "--baseline-seconds", "0"))
    assert records[-1]["frames"] == 1 and records[-1]["frames_with_face"] == 1


@pytest.mark.slow
def test_corrupt_frame_mid_folder_keeps_what_was_read(real_media: Path, tmp_path: Path) -> None:
    import cv2

    source = cv2.imread(str(real_media / "single_face.jpg"))
    assert source is not None
    for i in range(30):
        cv2.imwrite(str(tmp_path / f"frame{i}.png"), source)
    (tmp_path / "frame20.png").write_bytes(b"not a png")
    proc = run_cli("analyze", str(tmp_path), "--fps", "10")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "frame20.png" in proc.stderr and "Traceback" not in proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["type"] == "summary" and summary["complete"] is False
    assert summary["frames"] == 20 and "frame20.png" in summary["error"]


def test_per_frame_needs_jsonl(tmp_path: Path) -> None:
    proc = run_cli("analyze", str(tmp_path), "--format", "table", "--per-frame")
    assert proc.returncode == 2 and "--per-frame" in proc.stderr and proc.stdout == ""


@pytest.mark.slow
def test_reader_closing_the_pipe_is_not_an_error(real_media: Path) -> None:
    # --per-frame writes ~150 kB, more than a pipe holds, so the writer really meets a closed pipe.
    cmd = f'"{sys.executable}" -m callcoach analyze "{real_media / "single_face.mp4"}" --per-frame | head -n 1'
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["type"] in {"baseline", "frame"}
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_bench_speed_refuses_a_photo_and_a_missing_file(real_media: Path, tmp_path: Path) -> None:
    photo = run_cli("bench", "speed", str(real_media / "single_face.jpg"))
    assert photo.returncode == 1 and photo.stderr.count("\n") == 1 and "at least 20 frames" in photo.stderr
    missing = run_cli("bench", "speed", str(tmp_path / "absent.mp4"))
    assert missing.returncode == 1 and "absent.mp4" in missing.stderr and "Traceback" not in missing.stderr


def test_a_full_disk_under_one_of_our_files_names_that_file_not_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Standard output is fine here (it flushes): the failing write was to a file of ours, so that is named.
    import errno

    def full(_args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", "/data/callcoach/sessions.db")

    parser = cli.build_parser(["playbook", "show"])
    args = parser.parse_args(["playbook", "show"])
    monkeypatch.setattr(cli, "build_parser", lambda _argv: _Fixed(args, full))
    assert cli._main(["playbook", "show"]) == 1
    err = capsys.readouterr().err
    assert err == "callcoach: error: cannot write '/data/callcoach/sessions.db': No space left on device\n"


class _Fixed:
    """A parser stand-in that returns ``args`` with ``handler`` swapped in."""

    def __init__(self, args: Any, handler: Any) -> None:
        self.args, self.handler = args, handler

    def parse_args(self, _argv: list[str]) -> Any:
        self.args.handler = self.handler
        return self.args
