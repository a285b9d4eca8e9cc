"""Speech: the mouth opening and closing several times a second.

While a face talks, the mouth channels need more movement (speech alone must not fire lip cues) and the
micro spotter is not polled (a syllable lasts as long as a micro-expression). The rule counts direction
changes of the mouth opening that are larger than half a noticeable change (half a floor), over the last
second: three or more are speech.

The rule was set at webcam rates (25-30 fps). At a higher frame rate the same second holds many more
samples, and tracker jitter alone then crosses half a floor between samples again and again: on 200 fps
video a still face read as talking. So the samples are first averaged into bins of one webcam frame
(1/30 s), which leaves 25-30 fps input exactly as it was (one sample per bin) and brings fast video back
to the signal the rule was made for: a syllable's swing lasts 60-160 ms, several bins.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

#: One webcam frame: the time resolution the rule was set at.
BIN_S = 1.0 / 30.0
#: Frames closer than this to a bin's start share the bin; 30 fps frames (33.3 ms apart) each get their own.
_BIN_SLACK_S = 0.001
WINDOW_S = 1.0
#: Smallest step between bins that counts, in floor units (the mouth measures are divided by their floors).
STEP = 0.5
SWINGS = 3
MIN_BINS = 5


def binned(samples: Iterable[tuple[float, float]]) -> list[float]:
    """Mean of the samples in consecutive bins of ``BIN_S``, in time order."""
    means: list[float] = []
    start, total, count = -1.0, 0.0, 0
    for t, v in samples:
        if count and t - start < BIN_S - _BIN_SLACK_S:
            total, count = total + v, count + 1
            continue
        if count:
            means.append(total / count)
        start, total, count = t, v, 1
    if count:
        means.append(total / count)
    return means


def swings(values: list[float]) -> int:
    """Direction changes between steps of at least ``STEP`` (smaller wobbles are skipped, not counted)."""
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
        values = binned(self._samples)
        if len(values) < MIN_BINS:
            return False
        return swings(values) >= SWINGS
