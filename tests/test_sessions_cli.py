"""``callcoach sessions ...`` and ``callcoach summary`` end to end, in a private data directory."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from session_fakes import SELF_NOTES, T0, data_dir, make_session, standard_session

from callcoach.session.store import SessionStore

__all__ = ["data_dir"]
REPO = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    # os.environ carries the data_dir fixture's CALLCOACH_DATA_DIR and XDG_CONFIG_HOME.
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "callcoach", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def assert_clean_error(proc: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("callcoach: error: ") and needle in lines[0], proc.stderr
    assert proc.stdout == ""


def test_a_data_folder_that_is_a_file_is_named_not_taken_for_no_sessions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    afile = tmp_path / "not-a-folder"
    afile.write_text("x")
    monkeypatch.setenv("CALLCOACH_DATA_DIR", str(afile))
    assert_clean_error(run("sessions", "list"), 1, f"cannot use {afile} for callcoach's data: it is a file")


@pytest.fixture
def two_sessions(data_dir: Path) -> tuple[int, int]:
    with SessionStore() as store:
        return standard_session(store), make_session(
            store, started_at=T0 + 3600, source_name="Follow-up", cues=[(5.0, "polite_smile", 0.5)]
        )


def test_without_sessions(data_dir: Path) -> None:
    listed = run("sessions", "list")
    assert listed.returncode == 0 and listed.stdout.startswith("No sessions yet")
    assert_clean_error(run("summary"), 1, "no sessions yet")
    assert_clean_error(run("sessions", "show", "1"), 1, "no sessions yet")
    assert not data_dir.exists()  # reading never creates the store


def test_list_and_show(two_sessions: tuple[int, int]) -> None:
    first, _ = two_sessions
    listed = run("sessions", "list")
    assert listed.returncode == 0, listed.stderr
    assert "Weekly sync" in listed.stdout and "Follow-up" in listed.stdout and "2 session(s)" in listed.stdout
    assert listed.stdout.index("Follow-up") < listed.stdout.index("Weekly sync")  # newest first
    shown = run("sessions", "show", str(first))
    assert shown.returncode == 0, shown.stderr
    assert "micro_frown at 205s, maybe" in shown.stdout and "duchenne_smile" in shown.stdout
    assert f"callcoach summary {first}" in shown.stdout
    assert "Follow-up" in run("sessions", "show", "last").stdout
    assert_clean_error(run("sessions", "show", "99"), 1, "no session 99")
    assert_clean_error(run("sessions", "show", "abc"), 2, "not 'abc'")


def test_list_keeps_one_line_a_session_and_cuts_long_names_with_an_ellipsis(data_dir: Path) -> None:
    long_names = (
        "Zoom Meeting - Quarterly planning with the extended leadership team",
        "Supercalifragilisticexpialidociousmeetingnamewithoutanyspaces",
    )
    with SessionStore() as store:
        for i, name in enumerate(long_names):
            make_session(store, started_at=T0 + 60 * i, source_name=name)
    proc = run("sessions", "list")  # COLUMNS=120 in run(); a terminal of 80 below
    env_80 = {**os.environ, "COLUMNS": "80", "PYTHONPATH": str(REPO)}
    narrow = subprocess.run(
        [sys.executable, "-m", "callcoach", "sessions", "list"], capture_output=True, text=True, env=env_80, check=False
    )
    for listing in (proc, narrow):
        assert listing.returncode == 0, listing.stderr
        table = listing.stdout.splitlines()[:3]
        assert table[0].split() == ["id", "started", "length", "source", "context", "status", "cues", "sugg.", "marks"]
        for line, name in zip(table[1:], reversed(long_names), strict=True):
            assert "sales" in line and line.rstrip().endswith("0"), listing.stdout  # the whole row on one line
            shown = line.split("window: ", 1)[1].split(" sales")[0].strip()
            assert shown.endswith("…") and name.startswith(shown[:-1]), (shown, name)  # cut, not folded
    assert all(len(line) <= 80 for line in narrow.stdout.splitlines()[:3]), narrow.stdout


def test_export_json_and_csv(two_sessions: tuple[int, int], tmp_path: Path) -> None:
    first, _ = two_sessions
    proc = run("sessions", "export", str(first), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["session"]["id"] == first and record["session"]["source_name"] == "Weekly sync"
    assert len(record["cue_events"]) == 20 and len(record["suggestions"]) == 8 and len(record["marks"]) == 6
    assert set(record["cue_events"][0]) >= {"cue", "apex_s", "confidence", "latency_ms"}
    target = tmp_path / "one.csv"
    proc = run("sessions", "export", str(first), "--format", "csv", "-o", str(target))
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert len(rows) == 28 and [r["type"] for r in rows].count("suggestion") == 8
    assert [float(r["t_s"]) for r in rows] == sorted(float(r["t_s"]) for r in rows)
    assert [r["mark"] for r in rows if r["type"] == "suggestion"][:2] == ["helped", "misread"]
    assert_clean_error(run("sessions", "export", "7"), 1, "no session 7")


@pytest.fixture
def own_session(data_dir: Path) -> int:
    with SessionStore() as store:
        return standard_session(store, self_notes=SELF_NOTES)


def test_export_includes_self_notes(own_session: int, tmp_path: Path) -> None:
    proc = run("sessions", "export", str(own_session))
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    notes = record["self_notes"]
    assert record["session"]["self_notes"] == 7 and len(notes) == 7
    assert notes[0] == {
        "kind": "mirror_met",
        "t_s": 12.0,
        "cue": "duchenne_smile",
        "face": 0,
        "message": "You smiled back.",
        "confidence": 0.7,
        "remote_talking": False,
    }
    assert notes[1]["kind"] == "leak" and notes[1]["face"] is None and notes[1]["remote_talking"] is True
    proc = run("sessions", "export", str(own_session), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert len(rows) == 35 and [float(r["t_s"]) for r in rows] == sorted(float(r["t_s"]) for r in rows)
    own = [r for r in rows if r["type"] == "self"]
    assert [r["kind"] for r in own].count("leak") == 4 and len(own) == 7
    first = own[0]
    assert (first["t_s"], first["kind"], first["cue"], first["face"], first["remote_talking"], first["message"]) == (
        "12.0",
        "mirror_met",
        "duchenne_smile",
        "0",
        "0",
        "You smiled back.",
    )
    assert own[1]["face"] == "" and own[1]["remote_talking"] == "1"
    assert all(r["kind"] == r["message"] == r["remote_talking"] == "" for r in rows if r["type"] != "self")


def test_a_session_without_self_notes_exports_an_empty_list(two_sessions: tuple[int, int]) -> None:
    record = json.loads(run("sessions", "export", str(two_sessions[0])).stdout)
    assert record["self_notes"] == [] and record["session"]["self_notes"] == 0
    assert "Notes on your own face" not in run("sessions", "show", str(two_sessions[0])).stdout


def test_show_summary_and_delete_with_self_notes(own_session: int, tmp_path: Path) -> None:
    shown = run("sessions", "show", str(own_session))
    assert shown.returncode == 0, shown.stderr
    assert "Notes on your own face" in shown.stdout and "mirror_missed" in shown.stdout
    md = tmp_path / "report.md"
    proc = run("summary", str(own_session), "--markdown", str(md))
    assert proc.returncode == 0, proc.stderr
    assert "Your own face: overview" in proc.stdout and "67% (2 of 3)" in proc.stdout
    assert "## Your own face: notes over the call" in md.read_text(encoding="utf-8")
    assert run("sessions", "delete", str(own_session)).returncode == 0
    with SessionStore() as store:
        assert store.self_notes(own_session) == [] and store.sessions() == []


def test_delete(two_sessions: tuple[int, int]) -> None:
    first, second = two_sessions
    proc = run("sessions", "delete", str(second))
    assert proc.returncode == 0 and proc.stdout.startswith(f"Deleted session {second}"), proc.stderr
    assert_clean_error(run("sessions", "delete", str(second)), 1, f"no session {second}")
    with SessionStore() as store:
        assert [r.id for r in store.sessions()] == [first]


def test_summary_in_the_terminal_and_as_files(two_sessions: tuple[int, int], tmp_path: Path) -> None:
    first, second = two_sessions
    last = run("summary")
    assert last.returncode == 0, last.stderr
    assert f"Session {second}" in last.stdout and "Coaching measures" in last.stdout
    html, md = tmp_path / "report.html", tmp_path / "report.md"
    proc = run("summary", str(first), "--html", str(html), "--markdown", str(md))
    assert proc.returncode == 0, proc.stderr
    assert "50% (3 of 6)" in proc.stdout and f"Wrote the HTML report to {html}" in proc.stdout
    assert 'id="timeline-chart"' in html.read_text(encoding="utf-8")
    assert md.read_text(encoding="utf-8").startswith(f"# Session {first}")
    assert_clean_error(run("summary", "12"), 1, "no session 12")
    assert_clean_error(run("summary", str(first), "--html", str(tmp_path / "missing" / "r.html")), 1, "cannot write")


def test_summary_report_named_dash_goes_to_stdout_and_no_file_is_made(
    two_sessions: tuple[int, int], tmp_path: Path
) -> None:
    first, _ = two_sessions
    work = tmp_path / "cwd"
    work.mkdir()
    md = run("summary", str(first), "--markdown", "-", cwd=work)
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith(f"# Session {first}")  # the Markdown itself, not the terminal view
    assert "Coaching measures" in md.stdout and "Wrote" not in md.stdout + md.stderr
    html = run("summary", str(first), "--html", "-", "--markdown", str(tmp_path / "r.md"), cwd=work)
    assert html.returncode == 0, html.stderr
    assert html.stdout.lstrip().lower().startswith("<!doctype html") and 'id="timeline-chart"' in html.stdout
    assert html.stdout.rstrip().endswith("</html>")
    assert f"Wrote the Markdown report to {tmp_path / 'r.md'}" in html.stderr  # kept off the piped report
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith(f"# Session {first}")
    assert list(work.iterdir()) == []  # no file called '-'
    assert_clean_error(run("summary", "--html", "-", "--markdown", "-", cwd=work), 2, "only one of")
    helped = run("summary", "--help")
    assert "'-' prints it on standard output" in " ".join(helped.stdout.split())


def test_retention_setting(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLCOACH_RETENTION_DAYS")
    with SessionStore(retention_days=None) as store:
        make_session(store, started_at=time.time() - 40 * 86400)
        make_session(store, started_at=time.time() - 86400)
    shown = run("sessions", "retention")
    assert shown.returncode == 0 and "deleted after 90 days" in shown.stdout
    proc = run("sessions", "retention", "30")
    assert proc.returncode == 0 and "1 older session(s) deleted" in proc.stdout, proc.stderr
    assert "deleted after 30 days" in run("sessions", "list").stdout
    assert "kept until you delete them" in run("sessions", "retention", "off").stdout
    assert_clean_error(run("sessions", "retention", "-3"), 2, "number of days or 'off'")
