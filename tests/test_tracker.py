"""Face ids: confirmation, short gaps, re-identification after leaving, several people."""

from __future__ import annotations

from callcoach.vision.tracker import FaceTracker

A = (100.0, 100.0, 80.0, 90.0)
B = (400.0, 120.0, 80.0, 90.0)


def test_a_face_is_reported_after_three_sightings() -> None:
    tracker = FaceTracker()
    assert tracker.assign([A], 0.04) == [None]
    assert tracker.assign([A], 0.08) == [None]
    assert tracker.assign([A], 0.12) == [0]


def test_the_first_frame_of_a_source_needs_no_second_sighting() -> None:
    assert FaceTracker().assign([A, B], 0.0, confirm_now=True) == [0, 1]


def test_a_one_frame_false_detection_never_gets_an_id() -> None:
    tracker = FaceTracker()
    ids = [tracker.assign([A], i * 0.04, confirm_now=i == 0)[0] for i in range(10)]
    ids.append(tracker.assign([A, B], 0.4)[1])  # B flickers once
    ids += [tracker.assign([A], 0.44 + i * 0.04)[0] for i in range(5)]
    assert ids[-1] == 0 and ids[10] is None
    later = [tracker.assign([A, B], 1.0 + i * 0.04) for i in range(3)]
    assert later[-1] == [0, 1]  # B for real this time


def test_short_gap_keeps_the_id_and_a_return_gets_it_back() -> None:
    tracker = FaceTracker()
    for i in range(3):
        tracker.assign([A], i * 0.04, confirm_now=i == 0)
    assert tracker.assign([], 0.5) == []
    assert tracker.assign([A], 0.9) == [0]  # within keep_s
    moved = (A[0] + 40, A[1] + 10, A[2] * 1.1, A[3] * 1.1)  # back after 5 s, a little to the side
    got = [tracker.assign([moved], 6.0 + i * 0.04) for i in range(3)]
    assert got[-1] == [0]


def test_a_different_person_elsewhere_gets_a_new_id() -> None:
    tracker = FaceTracker()
    for i in range(3):
        tracker.assign([A], i * 0.04, confirm_now=i == 0)
    got = [tracker.assign([B], 5.0 + i * 0.04) for i in range(3)]
    assert got[-1] == [1]
