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


def _confirmed(tracker: FaceTracker, box: tuple[float, float, float, float], t0: float) -> list[int | None]:
    got: list[int | None] = []
    for i in range(3):
        got = tracker.assign([box], t0 + i * 0.04, confirm_now=t0 == 0.0 and i == 0)
    return got


def test_a_fast_move_or_camera_cut_keeps_the_id() -> None:
    # Lost on one frame and found three face-widths away, at 1.7x the size, on the next (a zoom cut).
    tracker = FaceTracker()
    assert _confirmed(tracker, A, 0.0) == [0]
    far = (A[0] + 250, A[1] + 60, A[2] * 1.7, A[3] * 1.7)
    assert _confirmed(tracker, far, 0.12) == [0]
    assert tracker.assign([far], 0.3) == [0]


def test_the_only_face_back_after_a_brief_loss_elsewhere_keeps_the_id() -> None:
    tracker = FaceTracker()
    _confirmed(tracker, A, 0.0)
    assert tracker.assign([], 1.0) == []  # gone for two seconds (turned away, a hand, a cut)
    assert _confirmed(tracker, B, 2.1) == [0]


def test_a_face_lost_while_another_stays_is_not_merged_into_a_newcomer_later() -> None:
    tracker = FaceTracker()
    for i in range(3):
        tracker.assign([A, B], i * 0.04, confirm_now=i == 0)
    # A leaves; after two seconds a third person appears far from both while B stays in view.
    for i in range(50):
        tracker.assign([B], 0.12 + i * 0.04)
    far = (700.0, 300.0, 80.0, 90.0)
    got = [tracker.assign([B, far], 2.2 + i * 0.04) for i in range(3)]
    assert got[-1] == [1, 2]
