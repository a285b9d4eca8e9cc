"""A raised brow in a real sad or fearful face is named by the fused reading, not as surprise or a greeting's
flash (``channels.BROW_SWITCH_P``; docs/detector.md, Naming). The pairs are dev-half people of
../shared/realfaces (read in place, research-only, never copied; skips without it) whose strongest cue was
`eyebrow_flash` or surprise under the old switch, shown as `callcoach_bench.xfade` shows them (pixel
cross-fades in colour, grey, or as a small JPEG tile) and read by the product's own vision and engine, with
the first frame as the resting face (`callcoach analyze FOLDER --baseline-seconds 0`).
"""

from __future__ import annotations

import pytest
from test_real_bench import realfaces

from callcoach.analysis import analyze_frames
from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.vocabulary import Cue
from callcoach.sources.base import Frame
from callcoach_bench import xfade
from callcoach_bench.real import load_manifest, photos_by_person

pytestmark = pytest.mark.slow

#: (source, subject, expression photo, form, look): the label is the photo's.
PAIRS = [
    ("jaffe", "NM", "NM.SA2.99.tiff", "cross-fade", "colour"),
    ("kdef", "AM26", "AM26SAS.JPG", "cross-fade", "grey"),
    ("kdef", "AM26", "AM26SAS.JPG", "slow", "colour"),
    ("kdef", "AF35", "AF35AFS.JPG", "cross-fade", "grey"),
    ("kdef", "AF11", "AF11AFS.JPG", "cross-fade", "tile"),
    ("jaffe", "NM", "NM.SA1.98.tiff", "cross-fade", "tile"),
]


def strongest(images: list[object]) -> Cue | None:
    """The strongest cue of an image sequence read as `callcoach analyze` reads an image folder."""
    import cv2
    import numpy as np

    from callcoach.vision.pipeline import VisionConfig, VisionPipeline

    frames = [
        Frame(i, i / 30.0, np.ascontiguousarray(cv2.cvtColor(im, cv2.COLOR_BGR2RGB)))  # type: ignore[call-overload]
        for i, im in enumerate(images)
    ]
    vision = VisionPipeline(live=False, config=VisionConfig(appearance_period=1))
    try:
        events = list(analyze_frames(frames, vision, CueEngine(EngineConfig(baseline_seconds=0.0))))
    finally:
        vision.close()
    return max((e for e in events if isinstance(e, Cue)), key=lambda c: c.intensity, default=None)


def test_raised_brows_in_real_sad_and_fearful_faces_are_named_by_the_reading() -> None:
    import cv2

    by_person, splits = photos_by_person(load_manifest(realfaces()), ("kdef", "jaffe"))
    named = {}
    for source, subject, photo, form, look in PAIRS:
        subject_id = f"{source}_{subject}"
        photos = by_person[(source, subject_id)]
        assert splits[source][subject_id] == "dev"  # never a held-out person
        neutral = next(r for r in photos if r.label == "neutral")
        expression = next(r for r in photos if r.path.name == photo)
        a, b = cv2.imread(str(neutral.path)), cv2.imread(str(expression.path))
        cue = strongest(xfade.shown(a, b, form, look))
        named[(photo, form, look)] = (expression.label, None if cue is None else (cue.cue, cue.emotion))
    right = [k for k, (label, cue) in named.items() if cue is not None and cue[1] == label]
    # All six are named right on this machine, none under the old switch. Two of the tiles are close calls
    # (sadness 0.31 against neutral 0.29; fear 0.52 against surprise 0.48): with every pixel 1 to 3 levels
    # brighter or darker one of them tips (5 of 6), so another CPU's arithmetic may tip one or two.
    assert len(right) >= len(PAIRS) - 2, named
