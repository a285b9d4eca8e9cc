"""The flash window under Xvfb, filmed with mss: flashes of 40 to 500 ms stay on screen for what was asked,
within one 60 Hz frame, and what the window reports (and a trial stores) agrees with what the capture saw.

The virtual X server is given real-time priority, as desktop compositors arrange for themselves: on this shared
machine (load averages of 15 on 2 cores) an ordinary-priority Xvfb was sometimes not scheduled for a tenth of
a second, and then a picture reached the screen late whatever the window did (docs/practice.md).
"""

from __future__ import annotations

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
    if not facts["realtime_server"]:
        pytest.skip(
            "real-time priority is not allowed here (needs root or CAP_SYS_NICE): timings would "
            "measure the machine's scheduler, not the window"
        )
    assert len(records) == 3 * len(DURATIONS_MS), facts
    assert facts["runs"] == facts["showings"], f"the capture and the window disagree on the flash count: {facts}"
    assert facts["median_grab_ms"] < 5.0, facts  # fine enough to time a 40 ms flash
    for r in records:
        assert r.captured_ms is not None, r
        assert within(r, r.captured_ms, r.asked_ms), r  # on screen for what was asked
        assert within(r, r.captured_ms, r.reported_ms), r  # and the stored length is what the screen showed
        assert abs(r.reported_ms - r.asked_ms) <= FRAME_60HZ_MS, r
