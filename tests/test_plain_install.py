"""What a plain ``pip install .`` (no bench extra: no scikit-image, scipy or ``callcoach_bench``) can run, end
to end through the CLI, with those packages made unimportable (see plain_install.py). The demo's own check is
in test_demo_clip.py. A real install in a fresh virtualenv was checked by hand (docs/architecture.md, "A
plain install")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from plain_install import BLOCKER, run_blocked
from session_fakes import data_dir

from callcoach.playbook.guardrails import record_headless_notice

__all__ = ["data_dir"]


def test_bench_commands_ask_for_the_bench_extra_in_one_line(tmp_path: Path) -> None:
    for words in (["bench", "accuracy"], ["bench", "real"], ["bench", "speed", "clip.mp4"]):
        proc, report = run_blocked(*words, cwd=tmp_path)
        assert report["loaded"] == [], report
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert lines[0].startswith(f"callcoach: error: 'callcoach {' '.join(words[:2])}' needs the bench extra")
        assert "pip install 'callcoach[bench]'" in lines[0]


@pytest.mark.slow
def test_practice_with_the_built_in_faces_needs_no_bench_extra(data_dir: Path) -> None:
    answers = "happiness\nsadness\nanger\nnone\n"
    proc, report = run_blocked("practice", "recognize", "--headless", "--trials", "4", "--seed", "3", stdin=answers)
    assert report == {"asked": [], "loaded": []}, report
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [r["n"] for r in records if r["type"] == "trial"] == [1, 2, 3, 4]
    assert records[-1]["type"] == "score" and records[-1]["trials"] == 4


def test_the_built_in_practice_faces_load_without_the_bench_extra() -> None:
    # The window (not --headless) shows these; loading them is what a plain install must manage.
    program = BLOCKER + (
        "from callcoach.practice.stimuli import load_stimuli\n"
        "faces = load_stimuli('emotions').labels_by_face()\n"
        "print('FACES', sorted(faces['builtin']))\n"
        "blocked_report()\n"
    )
    proc, report = run_blocked(program=program)
    assert report == {"asked": [], "loaded": []}, report
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "FACES ['anger', 'contempt', 'disgust', 'fear', 'happiness', 'sadness', 'surprise']" in proc.stdout


@pytest.mark.slow
def test_practice_with_the_users_faces_asks_for_the_bench_extra(data_dir: Path, tmp_path: Path) -> None:
    proc, _ = run_blocked("practice", "recognize", "--headless", "--trials", "2", "--faces", str(tmp_path))
    assert proc.returncode != 0
    assert proc.stderr.startswith("callcoach: error: ") and "callcoach[bench]" in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1


@pytest.mark.slow
def test_analyze_needs_no_bench_extra(real_media: Path, tmp_path: Path) -> None:
    proc, report = run_blocked("analyze", str(real_media / "single_face.mp4"), "--quiet", cwd=tmp_path)
    assert report == {"asked": [], "loaded": []}, report
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])
    assert summary["type"] == "summary" and summary["complete"] is True and summary["frames_with_face"] > 0


@pytest.mark.slow
def test_demo_with_a_broken_playbook_says_so_in_one_line_and_goes_on(data_dir: Path, tmp_path: Path) -> None:
    record_headless_notice()
    from callcoach.playbook.loader import user_playbook_path

    playbook = user_playbook_path()
    playbook.parent.mkdir(parents=True, exist_ok=True)
    playbook.write_text("version: 1\ncues: [unclosed\n", encoding="utf-8")
    proc, report = run_blocked("demo", "--headless-check", "10", cwd=tmp_path)
    assert report == {"asked": [], "loaded": []}, report
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("callcoach: warning: the playbook was not loaded: ") and str(playbook) in lines[0]
    assert lines[0].endswith("the packaged default playbook stays in force")
    assert "suggest " in proc.stdout  # the packaged default advises meanwhile
