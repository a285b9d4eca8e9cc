"""The talking-clip smile bench's scoring (callcoach_bench/smileclips.py): labels, held runs and F1."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcoach.errors import UsageError
from callcoach_bench.smileclips import held, load_labels, report, scores

LABELS = Path(__file__).resolve().parents[1] / "callcoach_bench" / "labels" / "talking_smiles.csv"


def test_the_shipped_labels_parse_and_hold_both_classes() -> None:
    items = load_labels(LABELS)
    assert len(items) >= 20
    assert any(i.smile for i in items) and any(not i.smile for i in items)
    assert all(i.end_s > i.start_s >= 0 for i in items)


def test_a_broken_labels_file_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "labels.csv"
    bad.write_text("clip,start_s,end_s,smile\nx.mp4,zero,10,1\n")
    with pytest.raises(UsageError, match="cannot read the labels"):
        load_labels(bad)
    with pytest.raises(UsageError, match="cannot read the labels"):
        load_labels(tmp_path / "missing.csv")
    for row in ("x.mp4,0,10", "x.mp4,0,10,yes", "x.mp4,10,5,1", "x.mp4,0,nan,1", ",0,10,1"):
        bad.write_text(f"clip,start_s,end_s,smile\n{row}\n")
        with pytest.raises(UsageError, match="row 2"):
            load_labels(bad)


def test_scores_count_the_smile_class() -> None:
    s = scores([True, True, False, False], [True, False, True, False])
    assert (s["tp"], s["fp"], s["fn"]) == (1, 1, 1)
    assert s["precision"] == s["recall"] == s["f1"] == 0.5
    assert scores([False, False], [False, False])["f1"] == 0.0  # no smile anywhere: nothing to find


def test_held_needs_consecutive_samples_spanning_the_time() -> None:
    step = 0.08
    flags = [(i * step, True) for i in range(4)]  # 0.24 s
    assert not held(flags)
    assert held([(i * step, True) for i in range(6)])  # 0.40 s
    broken = [(i * step, i != 3) for i in range(8)]  # up 0-0.16, down, up 0.32-0.56
    assert not held(broken)


def test_the_report_puts_the_trivial_answer_beside_the_two_readers() -> None:
    rows = [
        {"smile": True, "callcoach": True, "fer": False},
        {"smile": False, "callcoach": False, "fer": True},
    ]
    out = report(rows)
    assert out["callcoach"]["f1"] == 1.0 and out["fer"]["f1"] == 0.0
    assert out["always_smile"]["precision"] == 0.5
