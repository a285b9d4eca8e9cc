"""Speech: the mouth opening and closing several times a second.

While a face talks, the mouth channels need more movement (speech alone must not fire lip cues) and the
micro spotter is not polled (a syllable lasts as long as a micro-expression). The rule counts direction
changes of the mouth opening that are larger than half a noticeable change (half a floor), over the last
second: three or more are speech.

The rule was set at webcam rates (25-30 fps). At a higher frame rate the same second holds many more
samples, and tracker jitter alone then crosses half a floor between samples again and again: on 200 fps
video a still face read as talking. So on fast video (a median gap between samples under
0.75 of a webcam frame, i.e. over 40 fps) the samples are first averaged into bins of one webcam frame
(1/30 s), which brings it back to the signal the rule was made for: a syllable's swing lasts 60-160 ms,
several bins. Webcam-rate input is read sample by sample as before, whatever the jitter of its timestamps
(binning by time alone would merge two 30 fps frames whose stamps came a few ms early).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

#: One webcam frame: the time resolution the rule was set at.
BIN_S = 1.0 / 30.0
#: Samples are binned only when their median gap is under this share of a bin (faster than 40 fps).
FAST_GAP = 0.75
WINDOW_S = 1.0
#: Smallest step between bins that counts, in floor units (the mouth measures are divided by their floors).
STEP = 0.5
SWINGS = 3
MIN_BINS = 5


def binned(samples: Sequence[tuple[float, float]]) -> list[float]:
    """The values as the rule reads them: as they are at webcam rates, averaged into bins of ``BIN_S`` on
    fast video, in time order."""
    if len(samples) < 2:
        return [v for _, v in samples]
    gaps = np.diff([t for t, _ in samples])
    if float(np.median(gaps)) >= FAST_GAP * BIN_S:
        return [v for _, v in samples]
    means: list[float] = []
    start, total, count = samples[0][0], 0.0, 0
    for t, v in samples:
        if count and t - start >= BIN_S:
            means.append(total / count)
            start, total, count = t, 0.0, 0
        total, count = total + v, count + 1
    means.append(total / count)
    return means


def swings(values: list[float]) -> int:
    """Direction changes between steps of at least ``STEP`` (smaller wobbles are skipped, not counted)."""
    if not values:
        return 0
    count, direction, last = 0, 0, values[0]
    for v in values[1:]:
        step = v - last
        if abs(step) >= STEP:
            new_dir = 1 if step > 0 else -1
            if new_dir != direction:
                count += 1
                direction = new_dir
            last = v
    return count


class TalkDetector:
    """Whether a face is talking, from its mouth opening frame by frame (in floor units from its baseline)."""

    def __init__(self) -> None:
        self._samples: deque[tuple[float, float]] = deque()

    def update(self, t: float, mouth: float) -> bool:
        self._samples.append((t, mouth))
        while self._samples and t - self._samples[0][0] > WINDOW_S:
            self._samples.popleft()
        values = binned(list(self._samples))
        if len(values) < MIN_BINS:
            return False
        return swings(values) >= SWINGS
