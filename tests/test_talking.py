"""The talking rule (cues/talking.py) on scripted mouth series: the same at webcam rates, and not fooled by
tracker jitter on fast video."""

from __future__ import annotations

import math

import numpy as np

from callcoach.cues.talking import TalkDetector, binned, swings


def _series(
    fps: float, seconds: float, speech_hz: float, amplitude: float, jitter: float, seed: int = 0
) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    n = int(fps * seconds)
    return [
        (i / fps, amplitude * (0.5 - 0.5 * math.cos(2 * math.pi * speech_hz * i / fps)) + float(rng.normal(0, jitter)))
        for i in range(n)
    ]


def _talking_share(samples: list[tuple[float, float]], skip_s: float = 1.0) -> float:
    detector = TalkDetector()
    flags = [detector.update(t, v) for t, v in samples]
    kept = [f for (t, _), f in zip(samples, flags, strict=True) if t >= skip_s]
    return sum(kept) / len(kept)


def test_webcam_rates_keep_one_sample_per_bin() -> None:
    for fps in (15.0, 24.0, 25.0, 30.0):
        samples = _series(fps, 2.0, 4.0, 2.0, 0.1)
        assert binned(samples) == [v for _, v in samples]


def test_webcam_rates_with_jittered_timestamps_are_read_sample_by_sample() -> None:
    # Live frames are stamped when they arrive: a few ms early or late must not merge two of them.
    rng = np.random.default_rng(7)
    for fps in (25.0, 30.0):
        samples = [(t + float(rng.normal(0, 0.004)), v) for t, v in _series(fps, 1.0, 4.0, 2.0, 0.1)]
        samples.sort()
        assert binned(samples) == [v for _, v in samples]


def test_fast_video_is_averaged_into_webcam_frames() -> None:
    samples = [(i / 200.0, float(i % 2)) for i in range(200)]  # alternating 0/1 at 200 fps
    means = binned(samples)
    assert 29 <= len(means) <= 31
    assert all(0.3 <= m <= 0.7 for m in means)


def test_speech_is_talking_at_any_frame_rate() -> None:
    for fps in (25.0, 30.0, 60.0, 200.0):
        assert _talking_share(_series(fps, 4.0, 4.0, 2.0, 0.1)) > 0.9, fps


def test_a_still_face_is_not_talking_at_webcam_rates() -> None:
    for fps in (25.0, 30.0):
        assert _talking_share(_series(fps, 4.0, 0.0, 0.0, 0.1)) == 0.0


def test_jitter_on_fast_video_is_not_speech() -> None:
    # Jitter of 0.3 floors per sample: at 200 fps, counting swings sample by sample sees many of them in
    # every second (the old rule read this still face as talking); averaged into 1/30 s bins it is still.
    samples = _series(200.0, 6.0, 0.0, 0.0, 0.3, seed=3)
    raw_swings = swings([v for t, v in samples if 2.0 <= t < 3.0])
    assert raw_swings >= 3
    assert _talking_share(samples) < 0.05


def test_no_values_no_swings() -> None:
    assert swings([]) == 0
    assert binned([]) == []


def test_short_history_is_not_talking() -> None:
    detector = TalkDetector()
    assert not any(detector.update(i / 30.0, 3.0 * (i % 2)) for i in range(4))
