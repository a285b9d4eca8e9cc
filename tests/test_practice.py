"""Practice drills without a display: schedule, staircase, scoring, the headless CLI, the store, stats, plan."""

from __future__ import annotations

import argparse
import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from session_fakes import data_dir, make_session
from test_session_store import hand_made_v1

from callcoach.cli.main import build_parser
from callcoach.cues.vocabulary import EMOTIONS
from callcoach.errors import UsageError
from callcoach.practice import cli
from callcoach.practice.drill import (
    CUE_LABELS,
    DURATIONS_MS,
    NONE,
    PracticeError,
    Presentation,
    Recognition,
    Staircase,
    Trial,
    parse_answer,
    schedule,
    score,
)
from callcoach.practice.plan import PHASES, today
from callcoach.practice.stats import DAY_S, build_progress, shortest_reliable
from callcoach.practice.store import PracticeStore
from callcoach.session.store import SessionStore

__all__ = ["data_dir"]
REPO = Path(__file__).resolve().parents[1]


class FakeClock:
    def __init__(self, step_s: float = 0.0) -> None:
        self.t, self.step = 100.0, step_s

    def __call__(self) -> float:
        self.t += self.step
        return self.t


def trial(label: str, answer: str, asked: float = 200.0, rt: float = 500.0) -> Trial:
    return Trial(1, label, answer, label == answer, asked, asked, False, rt, False)


# --- core logic ---------------------------------------------------------------------------------------------


def test_same_seed_same_stimuli_other_seed_other_order() -> None:
    a, b, c = schedule(7, 40, "emotions"), schedule(7, 40, "emotions"), schedule(8, 40, "emotions")
    assert a == b and a != c
    labels = [x[0] for x in a]
    assert labels.count(NONE) == 8  # 20% blanks, so false positives can be counted
    counts = [labels.count(e) for e in EMOTIONS]
    assert set(labels) == {*EMOTIONS, NONE} and max(counts) - min(counts) <= 1  # balanced rounds
    assert all(700 <= rest <= 1300 for _, _, rest in a)


def test_schedule_only_uses_faces_that_show_the_label() -> None:
    plan = schedule(1, 30, "emotions", {"anna": ("happiness", "anger"), "ben": ("anger",)})
    assert {label for label, _, _ in plan} == {"happiness", "anger", NONE}
    assert all(face == "anna" for label, face, _ in plan if label == "happiness")
    with pytest.raises(PracticeError, match="none of the faces"):
        schedule(1, 5, "cues", {"anna": ("happiness",)})


def test_staircase_shortens_after_two_right_and_lengthens_after_a_miss() -> None:
    s = Staircase()
    assert s.current_ms == 500
    s.update("fear", True)
    assert s.current_ms == 500
    s.update(NONE, True)  # a blank says nothing about speed
    s.update("fear", True)
    assert s.current_ms == 200
    for _ in range(20):
        s.update("fear", True)
    assert s.current_ms == 40  # bottom of the staircase
    s.update("fear", False)
    assert s.current_ms == 67
    assert Staircase([100.0]).current_ms == 100.0
    with pytest.raises(UsageError):
        Staircase([0.0])


def test_answers_by_name_prefix_alias_number_and_none() -> None:
    assert parse_answer("Fear", "emotions") == "fear"
    assert parse_answer("sur", "emotions") == "surprise"
    assert parse_answer("happy", "emotions") == "happiness"
    assert parse_answer("3", "emotions") == EMOTIONS[2]
    assert parse_answer("nothing", "emotions") == NONE and parse_answer("0", "cues") == NONE
    assert parse_answer("eyebrow flash", "cues") == "eyebrow_flash"
    assert parse_answer("d", "emotions") == "disgust"  # a unique prefix
    for bad in ("hapy", "", "7x"):
        with pytest.raises(UsageError, match="not an answer"):
            parse_answer(bad, "emotions")
    with pytest.raises(UsageError):
        parse_answer("micro", "cues")  # three cues start with it


def test_score_counts_accuracy_over_all_trials_and_false_positives_over_blanks() -> None:
    s = score([trial("fear", "fear"), trial("anger", "fear"), trial(NONE, NONE), trial(NONE, "fear")])
    assert (s.trials, s.correct, s.blanks, s.false_positives) == (4, 2, 2, 1)
    assert s.accuracy == 0.5 and s.false_positive_rate == 0.5
    assert score([trial("fear", "fear")]).false_positive_rate is None
    assert score([]).accuracy is None


def test_recognition_measures_reaction_time_on_the_injected_clock_and_replays_misses() -> None:
    clock = FakeClock()
    rec = Recognition(seed=3, trials=3, mode="emotions", clock=clock)
    stim = rec.next_stimulus()
    shown = Presentation(stim.asked_ms, False, clock())
    clock.t += 0.82
    wrong = next(e for e in EMOTIONS if e != stim.label)
    t = rec.answer(stim, shown, wrong if stim.label != NONE else "fear")
    assert t.rt_ms == pytest.approx(820.0) and not t.correct
    assert t.replayed == (stim.label != NONE)


def test_shortest_reliable_flash_needs_five_trials_at_seventy_percent() -> None:
    trials = [trial("fear", "fear", 67.0)] * 4 + [trial("fear", "fear", 200.0)] * 5
    assert shortest_reliable(trials) == 200.0
    trials += [trial("fear", "fear", 67.0), trial("fear", NONE, 67.0)]  # 5 of 6 at 67 ms
    assert shortest_reliable(trials) == 67.0
    assert shortest_reliable([trial(NONE, NONE, 40.0)] * 9) is None  # blanks never count


def test_plan_days_map_to_phases() -> None:
    assert today(1).phase is PHASES[0] and today(14).phase is PHASES[0]
    assert today(15).phase is PHASES[1] and today(36).phase is PHASES[2] and today(60).phase is PHASES[2]
    assert today(61).phase is None and today(61).finished
    assert today(8).week == 2


# --- headless command ---------------------------------------------------------------------------------------


def _args(*argv: str) -> argparse.Namespace:
    full = ["practice", "recognize", *argv]
    return build_parser(full).parse_args(full)


def run_headless(answers: list[str], *argv: str, clock: FakeClock | None = None) -> tuple[int, list[dict[str, Any]]]:
    out = io.StringIO()
    rc = cli.recognize(
        _args("--headless", *argv),
        stdin=io.StringIO("".join(a + "\n" for a in answers)),
        stdout=out,
        clock=clock or FakeClock(0.25),
    )
    return rc, [json.loads(line) for line in out.getvalue().splitlines()]


def test_headless_run_scores_exactly_the_answers_given(data_dir: Path) -> None:
    labels = [label for label, _, _ in schedule(11, 20, "emotions")]
    # Right on the even trials, a wrong emotion on the odd ones (so blanks get false positives there).
    answers = [lab if i % 2 == 0 else ("fear" if lab != "fear" else "anger") for i, lab in enumerate(labels)]
    rc, lines = run_headless(answers, "--seed", "11", "--trials", "20")
    assert rc == 0 and len(lines) == 21
    trials, last = lines[:-1], lines[-1]
    assert [t["label"] for t in trials] == labels and [t["answer"] for t in trials] == answers
    assert [t["n"] for t in trials] == list(range(1, 21))
    assert all(t["correct"] == (t["label"] == t["answer"]) for t in trials)
    assert all(set(t) == {"type", "n", "label", "answer", "correct", "shown_ms", "rt_ms"} for t in trials)
    assert all(t["shown_ms"] in DURATIONS_MS for t in trials)
    assert all(t["rt_ms"] == 250 for t in trials)  # one tick of the injected clock between flash and answer
    blanks = [i for i, lab in enumerate(labels) if lab == NONE]
    fp = sum(i % 2 == 1 for i in blanks) / len(blanks)
    assert last == {"type": "score", "trials": 20, "accuracy": 0.5, "false_positive_rate": round(fp, 4)}
    # The same seed and answers give the same run, durations included.
    assert run_headless(answers, "--seed", "11", "--trials", "20")[1] == lines


def test_headless_durations_follow_the_staircase(data_dir: Path) -> None:
    labels = [label for label, _, _ in schedule(5, 12, "cues")]
    _, lines = run_headless(labels, "--seed", "5", "--trials", "12", "--mode", "cues")
    assert {t["label"] for t in lines[:-1]} <= {*CUE_LABELS, NONE}
    shown = [t["shown_ms"] for t in lines[:-1]]
    assert shown[0] == 500.0 and shown == sorted(shown, reverse=True) and shown[-1] < 200.0
    assert lines[-1]["accuracy"] == 1.0


def test_trials_are_kept_in_the_store_without_pixels_and_stats_read_them(data_dir: Path) -> None:
    labels = [label for label, _, _ in schedule(2, 10, "emotions")]
    run_headless(labels, "--seed", "2", "--trials", "10")
    with SessionStore() as store:
        stored = PracticeStore(store).trials()
        progress = build_progress(store)
    assert [s.trial.label for s in stored] == labels and all(s.trial.correct for s in stored)
    assert progress.trials == 10 and progress.accuracy == 1.0 and progress.day == 1
    assert progress.false_positive_rate == 0.0 and progress.weeks[0].week == 1
    run_headless(labels, "--seed", "2", "--trials", "10", "--no-record")
    with SessionStore() as store:
        assert len(PracticeStore(store).trials()) == 10  # --no-record kept nothing
    conn = sqlite3.connect(data_dir / "sessions.db")
    kinds = {
        r[2].upper()
        for t in ("practice_runs", "practice_trials")
        for r in conn.execute(f"PRAGMA table_info({t})").fetchall()
    }
    conn.close()
    assert kinds <= {"INTEGER", "REAL", "TEXT"}


def test_input_that_ends_early_keeps_and_scores_the_answered_trials(data_dir: Path) -> None:
    labels = [label for label, _, _ in schedule(4, 5, "emotions")]
    out = io.StringIO()
    with pytest.raises(PracticeError, match="ended after 2 of 5"):
        cli.recognize(
            _args("--headless", "--seed", "4", "--trials", "5"),
            stdin=io.StringIO(f"{labels[0]}\n{labels[1]}\n"),
            stdout=out,
            clock=FakeClock(),
        )
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert lines[-1] == {
        "type": "score",
        "trials": 2,
        "accuracy": 1.0,
        "false_positive_rate": lines[-1]["false_positive_rate"],
    }
    with SessionStore() as store:
        assert len(PracticeStore(store).trials()) == 2


def test_a_bad_answer_is_one_clear_error_line_from_the_cli(data_dir: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "callcoach", "practice", "recognize", "--headless", "--seed", "1", "--trials", "3"],
        input="hapy\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=_env(data_dir),
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "callcoach: error: answer 1: 'hapy' is not an answer; use one of happiness, sadness, fear, disgust, "
        "anger, surprise, contempt, none (or 1-7, 0 for none)"
    ]
    assert json.loads(proc.stdout.splitlines()[-1])["trials"] == 0


def _env(data: Path) -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(REPO), "CALLCOACH_DATA_DIR": str(data)}


def test_cli_end_to_end_twenty_trials_then_stats_json(data_dir: Path) -> None:
    labels = [label for label, _, _ in schedule(9, 20, "emotions")]
    answers = [lab if i < 15 else NONE for i, lab in enumerate(labels)]
    base = [sys.executable, "-m", "callcoach", "practice"]
    proc = subprocess.run(
        [*base, "recognize", "--headless", "--seed", "9", "--trials", "20"],
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=_env(data_dir),
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    expected = sum(a == lab for a, lab in zip(answers, labels, strict=True)) / 20
    assert lines[-1]["accuracy"] == expected
    stats = subprocess.run(
        [*base, "stats", "--format", "json"], capture_output=True, text=True, timeout=60, cwd=REPO, env=_env(data_dir)
    )
    assert stats.returncode == 0, stats.stderr
    kpis = json.loads(stats.stdout)
    assert kpis["trials"] == 20 and kpis["accuracy"] == expected
    assert kpis["targets"] == [{"week": 2, "accuracy": 0.5}, {"week": 6, "accuracy": 0.7}]
    assert kpis["weeks"][0]["week"] == 1 and kpis["live"]["sessions"] == 0
    table = subprocess.run(
        [*base, "stats"], capture_output=True, text=True, timeout=60, cwd=REPO, env={**_env(data_dir), "COLUMNS": "100"}
    )
    assert "Accuracy by week" in table.stdout and f"{expected:.0%}" in table.stdout
    page = data_dir.parent / "progress.html"
    html = subprocess.run(
        [*base, "stats", "--html", str(page), "--mode", "cues", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=_env(data_dir),
    )
    assert html.returncode == 0 and json.loads(html.stdout)["trials"] == 0  # no cue-mode trials yet
    assert page.read_text().startswith("<!DOCTYPE html>")
    bad = subprocess.run(
        [*base, "stats", "--html", str(data_dir / "no" / "such" / "dir.html")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=_env(data_dir),
    )
    assert bad.returncode == 2 and bad.stderr.startswith("callcoach: error: cannot write")
    plan = subprocess.run(
        [*base, "plan", "--format", "json"], capture_output=True, text=True, timeout=60, cwd=REPO, env=_env(data_dir)
    )
    assert json.loads(plan.stdout)["day"] == 1 and json.loads(plan.stdout)["phase"] == "groundwork"


def test_stats_html_named_dash_goes_to_stdout_and_no_file_is_made(data_dir: Path, tmp_path: Path) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "callcoach", "practice", "stats", "--html", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=work,
        env=_env(data_dir),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("<!DOCTYPE html>") and proc.stdout.rstrip().endswith("</html>")
    assert list(work.iterdir()) == []  # no file called '-'


# --- store and stats across weeks ---------------------------------------------------------------------------


def test_weeks_count_from_the_first_run_and_live_measures_join_in(data_dir: Path) -> None:
    t0 = 1_750_000_000.0
    with SessionStore() as store:
        practice = PracticeStore(store)
        for day, right in ((0, 2), (9, 6), (40, 8)):
            run = practice.begin_run(
                mode="emotions",
                seed=1,
                stimuli="builtin",
                presenter="headless",
                planned=10,
                started_at=t0 + day * DAY_S,
            )
            for i in range(10):
                practice.add_trial(
                    run, trial("fear", "fear" if i < right else "anger", rt=400.0 + i), answered_at=t0 + day * DAY_S + i
                )
        make_session(store)
        progress = build_progress(store, now=t0 + 41 * DAY_S)
    assert progress.day == 42 and progress.trials == 30
    assert [(w.week, w.accuracy, w.target) for w in progress.weeks] == [(1, 0.2, None), (2, 0.6, 0.5), (6, 0.8, 0.7)]
    assert progress.live.sessions == 1


def test_the_migration_keeps_old_sessions_and_adds_the_practice_tables(data_dir: Path) -> None:
    db = hand_made_v1(data_dir)
    with SessionStore() as store:
        row = store.session(1)
        assert (row.source_name, row.cues, row.suggestions, row.marks) == ("Old call", 1, 1, 1)
        run = PracticeStore(store).begin_run(mode="cues", seed=None, stimuli="photos", presenter="window", planned=1)
        PracticeStore(store).add_trial(run, trial("eyebrow_flash", NONE))
        assert build_progress(store).live.sessions == 1
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM practice_trials").fetchone()[0] == 1
    assert conn.execute("SELECT source_name FROM sessions").fetchall() == [("Old call",)]
    conn.close()


# --- the user's own photos and faces ------------------------------------------------------------------------


def _photo_set(root: Path, names: dict[str, str]) -> Path:
    from callcoach.practice.stimuli import ASSETS

    root.mkdir()
    for name, asset in names.items():
        (root / name).write_bytes((ASSETS / f"{asset}.jpg").read_bytes())
    return root


def test_labelled_photos_by_file_name_limit_the_test_to_what_they_show(data_dir: Path, tmp_path: Path) -> None:
    from callcoach.practice.stimuli import load_stimuli

    root = _photo_set(
        tmp_path / "photos",
        {
            "anna_neutral.jpg": "neutral",
            "anna_happy.jpg": "happiness",
            "anna_anger.jpg": "anger",
            "ben_neutral.jpg": "neutral",
            "ben_fear.jpg": "fear",
            "carl_fear.jpg": "fear",  # no neutral: left out
            "notes_x.jpg": "neutral",
        },
    )
    s = load_stimuli("emotions", photos_dir=str(root))
    assert set(s.labels_by_face()["anna"]) == {"happiness", "anger"} and s.labels_by_face()["ben"] == ("fear",)
    assert "carl" not in s.faces and s.image("anna", NONE).shape == (360, 360, 3)
    _, lines = run_headless(["none"] * 30, "--seed", "1", "--trials", "30", "--photos", str(root))
    assert {t["label"] for t in lines[:-1]} <= {"happiness", "anger", "fear", NONE}
    assert {t["label"] for t in lines[:-1]} >= {"happiness", "anger", "fear", NONE}


def test_labelled_photos_from_a_csv_and_their_errors(data_dir: Path, tmp_path: Path) -> None:
    from callcoach.practice.stimuli import load_stimuli

    root = _photo_set(tmp_path / "p", {"1.jpg": "neutral", "2.jpg": "surprise"})
    (root / "labels.csv").write_text("file,person,label\n1.jpg,dee,neutral\n2.jpg,dee,surprised\n")
    assert load_stimuli("emotions", photos_dir=str(root)).labels_by_face()["dee"] == ("surprise",)
    (root / "labels.csv").write_text("file,person,label\n1.jpg,dee,neutral\n3.jpg,dee,fear\n")
    with pytest.raises(PracticeError, match=r"labels.csv line 3: 3.jpg does not exist"):
        load_stimuli("emotions", photos_dir=str(root))
    (root / "labels.csv").write_text("file,person,label\n2.jpg,dee,surprise\n")
    with pytest.raises(PracticeError, match="no person with a neutral photo"):
        load_stimuli("emotions", photos_dir=str(root))
    with pytest.raises(PracticeError, match="not a folder"):
        load_stimuli("emotions", photos_dir=str(tmp_path / "nowhere"))


@pytest.mark.slow
def test_faces_in_the_users_photos_and_videos_are_warped_into_each_label(real_media: Path, tmp_path: Path) -> None:
    pytest.importorskip("scipy", reason="--faces needs scipy for the warp")
    import numpy as np

    from callcoach.practice.stimuli import load_stimuli

    root = tmp_path / "faces"
    root.mkdir()
    for name in ("single_face.jpg", "free-mountain-vector-01.jpg", "WolfgangLanger_Pexels.mp4"):
        (root / name).symlink_to(real_media / name)
    s = load_stimuli("emotions", faces_dir=str(root))
    assert set(s.faces) == {"single_face", "WolfgangLanger_Pexels"}  # no face in the mountain; no built-in one
    for face in ("single_face", "WolfgangLanger_Pexels"):
        imgs = s.faces[face]
        assert set(imgs) == {"neutral", *EMOTIONS}
        # Every expression changed the face: a one-sided lip pull moves only a small patch, but clearly.
        moved = {e: int(np.abs(imgs[e].astype(int) - imgs["neutral"]).max()) for e in EMOTIONS}
        assert all(v > 40 for v in moved.values()), moved
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PracticeError, match="no photo or video there shows a face"):
        load_stimuli("emotions", faces_dir=str(empty))


def test_the_shipped_faces_are_checked_by_sha256(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from callcoach.practice import stimuli

    assert set(stimuli.builtin("cues")) == {"neutral", *CUE_LABELS}
    copy = tmp_path / "assets"
    shutil.copytree(stimuli.ASSETS, copy)
    data = bytearray((copy / "fear.jpg").read_bytes())
    data[-10] ^= 0xFF
    (copy / "fear.jpg").write_bytes(bytes(data))
    monkeypatch.setattr(stimuli, "ASSETS", copy)
    with pytest.raises(PracticeError, match=r"fear.jpg is altered \(sha256\); reinstall"):
        stimuli.builtin("emotions")
    (copy / "fear.jpg").unlink()
    with pytest.raises(PracticeError, match=r"fear\.jpg is missing"):
        stimuli.builtin("emotions")


def test_the_window_test_without_a_display_is_one_clear_line(data_dir: Path) -> None:
    env = {k: v for k, v in _env(data_dir).items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.run(
        [sys.executable, "-m", "callcoach", "practice", "recognize", "--trials", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "callcoach: error: no display for the practice window (DISPLAY is not set); use --headless"
    ]
    with SessionStore() as store:
        assert PracticeStore(store).first_day() is None  # a run that never showed anything does not start the plan
