"""The real-face micro-movement bench (callcoach_bench/micro_real.py): what its clips are made of. Skipped
without the real labelled set (see tests/test_real_bench.py)."""

from __future__ import annotations

import numpy as np
import pytest
from test_real_bench import realfaces

from callcoach_bench import micro_real

pytestmark = pytest.mark.slow


def test_a_cut_clip_moves_part_way_and_back_from_onset_to_offset_and_a_stream_rests_around_it() -> None:
    import cv2

    from callcoach_bench.xfade import sample

    data = realfaces()
    made = micro_real.clips(data, per_label=1, seed=7, noise=2.0)
    cut, stream = next(made), next(made)
    neutral, expression = sample(data, "dev", 1, 7)[0]
    assert cut.file == stream.file == expression.path.name and cut.label == expression.label
    photo = cv2.imread(str(neutral.path))
    assert photo is not None
    rest = cv2.cvtColor(photo, cv2.COLOR_BGR2RGB).astype(np.float32)

    def off(frame: np.ndarray) -> float:
        return float(np.abs(frame.astype(np.float32) - rest).mean())

    onset, apex, offset = cut.truth
    assert onset == 0.0 and 0.05 <= apex <= 0.2 and 0.1 <= offset - apex <= 0.3
    assert len(cut.frames) == round(offset * micro_real.FPS) + 1
    # First and last frames are the neutral photo with its sensor noise (2 grey levels: 1.6 on average);
    # the apex frame has moved part of the way to the expression.
    assert off(cut.frames[0]) < 2.0 and off(cut.frames[-1]) < 2.0
    assert off(cut.frames[round(apex * micro_real.FPS)]) > off(cut.frames[0]) + 0.3
    assert cut.amplitude in micro_real.AMPLITUDES
    # The stream shape rests 0.6-1 s before the movement and after it; every frame has its own noise.
    assert 0.6 <= stream.truth[0] <= 1.0 and len(stream.frames) > len(cut.frames)
    assert not np.array_equal(stream.frames[0], stream.frames[1])
