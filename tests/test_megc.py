"""MEGC-style spotting scores on hand-made intervals with known IoU."""

from __future__ import annotations

import pytest

from callcoach.cues.vocabulary import Cue
from callcoach_bench.megc import (
    ClipInput,
    Counts,
    GroundTruth,
    Prediction,
    interval,
    iou,
    match,
    score,
    score_both,
)


def gt(cue: str, onset: float, offset: float, face: int = 0) -> GroundTruth:
    return GroundTruth(cue, None, onset, (onset + offset) / 2, offset, face)


def pred(cue: str, onset: float, offset: float | None, face: int = 0) -> Prediction:
    return Prediction(cue, onset, onset, offset, face)


def clip(truths: list[GroundTruth], preds: list[Prediction], duration: float = 10.0, frame_s: float = 0.0) -> ClipInput:
    return ClipInput("c", duration, tuple(truths), tuple(preds), frame_s)


def test_iou_known_values() -> None:
    assert iou((0, 2), (0, 2)) == 1.0
    assert iou((0, 2), (0, 1)) == 0.5
    assert iou((0, 2), (1, 3)) == pytest.approx(1 / 3)
    assert iou((0, 1), (1, 2)) == 0.0  # touching is not overlapping
    assert iou((0, 1), (3, 4)) == 0.0
    assert iou((1, 1), (1, 1)) == 0.0  # zero length


def test_iou_of_exactly_half_is_a_match() -> None:
    s = score([clip([gt("eyebrow_flash", 0, 2)], [pred("eyebrow_flash", 0, 1)])])
    assert (s.overall.tp, s.overall.fp, s.overall.fn) == (1, 0, 0)


def test_below_half_is_a_miss_and_a_false_positive() -> None:
    s = score([clip([gt("eyebrow_flash", 0, 2)], [pred("eyebrow_flash", 1, 3)])])
    assert (s.overall.tp, s.overall.fp, s.overall.fn) == (0, 1, 1)


def test_empty_predictions_are_all_misses() -> None:
    s = score([clip([gt("polite_smile", 1, 2), gt("polite_smile", 4, 5)], [])])
    assert (s.overall.tp, s.overall.fp, s.overall.fn) == (0, 0, 2)
    assert s.overall.precision == 0.0 and s.overall.recall == 0.0 and s.overall.f1 == 0.0


def test_nothing_labelled_nothing_spotted() -> None:
    s = score([clip([], [])])
    assert (s.overall.tp, s.overall.fp, s.overall.fn) == (0, 0, 0)
    assert s.overall.f1 == 0.0


def test_predictions_in_a_distractor_clip_are_false_positives() -> None:
    s = score([clip([], [pred("lip_compression", 1, 1.3), pred("blink_cluster", 3, 4)])])
    assert s.overall.fp == 2
    assert s.per_cue["lip_compression"].fp == 1 and s.per_cue["blink_cluster"].fp == 1


def test_duplicate_predictions_match_once() -> None:
    s = score([clip([gt("micro_frown", 1, 2)], [pred("micro_frown", 1, 2), pred("micro_frown", 1, 2)])])
    assert (s.overall.tp, s.overall.fp, s.overall.fn) == (1, 1, 0)


def test_greedy_matching_takes_the_best_pair_first() -> None:
    # One prediction overlaps two labels; it must go to the one it overlaps best, leaving the other missed.
    truths = [gt("micro_anger", 0.0, 1.0), gt("micro_anger", 0.2, 1.2)]
    m = match(clip(truths, [pred("micro_anger", 0.2, 1.1)]))
    assert len(m) == 1 and m[0][0] == 1 and m[0][2] == pytest.approx(0.9 / 1.0)
    # Two predictions, two labels: one-to-one, each to its better partner.
    m = match(clip(truths, [pred("micro_anger", 0.0, 1.0), pred("micro_anger", 0.2, 1.2)]))
    assert sorted((t, p) for t, p, _ in m) == [(0, 0), (1, 1)]


def test_open_ended_prediction_runs_to_the_clip_end() -> None:
    assert interval(pred("gaze_aversion", 3.0, None), 4.0) == (3.0, 4.0)
    near_end = [gt("gaze_aversion", 3.0, 4.0)]
    assert score([clip(near_end, [pred("gaze_aversion", 3.0, None)], duration=4.0)]).overall.tp == 1
    assert score([clip(near_end, [pred("gaze_aversion", 3.0, None)], duration=10.0)]).overall.tp == 0


def test_frame_length_makes_single_frame_spots_comparable() -> None:
    one_frame = [gt("eyebrow_flash", 2.0, 2.0)]
    assert score([clip(one_frame, [pred("eyebrow_flash", 2.0, 2.0)])]).overall.tp == 0
    assert score([clip(one_frame, [pred("eyebrow_flash", 2.0, 2.0)], frame_s=0.04)]).overall.tp == 1


def test_cue_aware_versus_cue_agnostic() -> None:
    c = clip([gt("eyebrow_flash", 2, 2.4)], [pred("micro_surprise", 2, 2.4)])
    aware, agnostic = score_both([c])
    assert (aware.overall.tp, aware.overall.fp, aware.overall.fn) == (0, 1, 1)
    assert aware.per_cue["eyebrow_flash"].fn == 1 and aware.per_cue["micro_surprise"].fp == 1
    assert (agnostic.overall.tp, agnostic.overall.fp, agnostic.overall.fn) == (1, 0, 0)


def test_faces_do_not_match_each_other() -> None:
    s = score([clip([gt("polite_smile", 1, 2, face=0)], [pred("polite_smile", 1, 2, face=1)])])
    assert (s.overall.tp, s.overall.fp, s.overall.fn) == (0, 1, 1)


def test_micro_macro_split_follows_megc() -> None:
    # Hits and misses count for the label's scale, false positives for the spotted interval's scale.
    truths = [gt("micro_frown", 1.0, 1.3), gt("micro_frown", 4.0, 5.5)]
    preds = [pred("micro_frown", 1.0, 1.3), pred("micro_frown", 7.0, 8.0)]
    s = score([clip(truths, preds)])
    assert (s.per_scale["micro"].tp, s.per_scale["micro"].fn, s.per_scale["micro"].fp) == (1, 0, 0)
    assert (s.per_scale["macro"].tp, s.per_scale["macro"].fn, s.per_scale["macro"].fp) == (0, 1, 1)
    assert gt("x", 0, 0.5).scale == "micro" and gt("x", 0, 0.51).scale == "macro"


def test_counts_sum_over_clips_and_metrics() -> None:
    clips = [
        ClipInput("a", 10, (gt("blink_cluster", 2, 3),), (pred("blink_cluster", 2, 3),)),
        ClipInput("b", 10, (gt("blink_cluster", 2, 3),), (pred("blink_cluster", 5, 6),)),
    ]
    s = score(clips)
    assert (s.overall.tp, s.overall.fp, s.overall.fn) == (1, 1, 1)
    assert s.per_clip["a"].tp == 1 and s.per_clip["b"].fp == 1
    c = Counts(tp=3, fp=1, fn=2)
    assert c.precision == 0.75 and c.recall == 0.6
    assert c.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert s.as_dict()["overall"] == Counts(1, 1, 1).as_dict()


def test_prediction_from_cue() -> None:
    cue = Cue("nose_wrinkle", "disgust", "micro", 1.0, 1.1, None, 0.5, 0.7, 2)
    assert Prediction.from_cue(cue) == Prediction("nose_wrinkle", 1.0, 1.1, None, 2)
