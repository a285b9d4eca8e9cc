"""The face-state timing the live runner and the self-coach share (callcoach/live/facestate.py): a face gone
for a while, unreadable for half a second, and the baseline progress that locks a face. Times are session
seconds handed in by the test; no clock runs."""

from __future__ import annotations

import pytest

from callcoach.live.facestate import LOCKED, UNREADABLE_AFTER_S, FaceState, Held, baseline_progress


def test_a_condition_counts_once_it_has_held_without_a_break() -> None:
    held = Held(0.5)
    assert [held.update(t, True) for t in (1.0, 1.2, 1.49)] == [False, False, False]
    assert held.update(1.5, True)  # half a second since it began
    assert held.since == 1.0
    assert not held.update(1.6, False)  # a break starts the count again
    assert held.since is None
    assert not held.update(1.7, True)
    assert not held.update(2.1, True)
    assert held.update(2.2, True)
    held.reset()
    assert held.since is None and not held.update(2.3, True)


def test_a_face_gone_is_said_only_after_a_while() -> None:
    faces = FaceState(0.3)
    assert faces.absent(0.0)  # never seen: the self-coach says so from the first faceless frame
    faces.seen(1.0)
    assert not faces.absent(1.0)
    assert not faces.absent(1.29)
    assert faces.absent(1.3)
    faces.seen(2.0)
    assert not faces.absent(2.1)


def test_the_runner_counts_the_session_start_as_the_last_sighting() -> None:
    faces = FaceState(0.3, start_counts_as_seen=True)
    assert not faces.absent(0.2)  # a session without a face yet is not "no face" at once
    assert faces.absent(0.3)


def test_unreadable_waits_half_a_second_by_default() -> None:
    faces = FaceState(0.3)
    assert faces.unreadable.after_s == UNREADABLE_AFTER_S == 0.5
    assert not faces.unreadable.update(4.0, True)
    assert not faces.unreadable.update(4.4, True)
    assert faces.unreadable.update(4.5, True)
    assert FaceState(0.3, unreadable_after_s=0.0).unreadable.update(0.0, True)


class Engine:
    """Baseline progress per face, growing over ``seconds`` from each face's first time."""

    def __init__(self, starts: dict[int, float], seconds: float = 2.0) -> None:
        self.starts, self.seconds = starts, seconds

    def baseline_progress(self, face_id: int, t_s: float) -> float:
        return min(1.0, max(0.0, (t_s - self.starts[face_id]) / self.seconds))


def test_baseline_progress_is_the_furthest_face_and_locks_at_one() -> None:
    engine = Engine({1: 0.0, 2: 1.0})
    assert baseline_progress(engine, [2], 1.5) == pytest.approx(0.25)
    assert baseline_progress(engine, [1, 2], 1.5) == pytest.approx(0.75)  # the face seen longest
    assert baseline_progress(engine, [2, 1], 2.0) == LOCKED
    assert baseline_progress(engine, [2], 2.0) < LOCKED
    with pytest.raises(ValueError):
        baseline_progress(engine, [], 1.0)  # only asked with a face in view
