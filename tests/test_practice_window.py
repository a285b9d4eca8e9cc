"""The flash window under Xvfb, filmed with mss: flashes of 40 to 500 ms stay on screen for what was asked,
within one 60 Hz frame, and what the window reports (and a trial stores) agrees with what the capture saw.

The machine running this is shared and loaded (load averages of 15 on 2 cores are common here): the virtual
X server itself is sometimes not scheduled for a tenth of a second, and then a picture reaches the screen
late whatever the window does. So the test asks for what a person would notice, per asked duration: the
median flash within one frame, and at least four flashes in five within one frame; docs/practice.md lists the
figures, outliers included.
"""

from __future__ import annotations

import statistics

import pytest
from xvfb import virtual_display

from callcoach.practice.drill import DURATIONS_MS
from callcoach.practice.flashcheck import FRAME_60HZ_MS, FlashRecord, capture_flashes

pytestmark = pytest.mark.slow


def within(r: FlashRecord, value: float, reference: float) -> bool:
    # The capture brackets each edge between two grabs: the true length is within half their gaps.
    return abs(value - reference) <= FRAME_60HZ_MS + (r.uncertainty_ms or 0.0) / 2


def test_flashes_of_40_to_500_ms_last_what_was_asked_within_one_frame() -> None:
    with virtual_display() as display:
        records, facts = capture_flashes(display, DURATIONS_MS, repeat=3)
    assert len(records) == 3 * len(DURATIONS_MS), facts
    assert facts["runs"] == facts["showings"], f"the capture and the window disagree on the flash count: {facts}"
    assert facts["median_grab_ms"] < 5.0, facts  # fine enough to time a 40 ms flash
    assert all(r.captured_ms is not None for r in records)
    # What the window stores is within a frame of what was asked (it re-shows a flash that was not, up to
    # three times; after that the trial keeps the length it measured).
    reported_ok = [r for r in records if abs(r.reported_ms - r.asked_ms) <= FRAME_60HZ_MS]
    assert len(reported_ok) >= 0.8 * len(records), records
    for asked in DURATIONS_MS:
        captured = [r.captured_ms or 0.0 for r in records if r.asked_ms == asked]
        assert abs(statistics.median(captured) - asked) <= FRAME_60HZ_MS, (asked, captured)
    on_time = [r for r in records if within(r, r.captured_ms or 0.0, r.asked_ms)]
    agree = [r for r in records if within(r, r.captured_ms or 0.0, r.reported_ms)]
    assert len(on_time) >= 0.8 * len(records), [r for r in records if r not in on_time]
    assert len(agree) >= 0.8 * len(records), [r for r in records if r not in agree]
