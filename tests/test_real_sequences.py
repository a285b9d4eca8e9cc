"""Real posed smiles built up frame by frame, read from the first frame as the resting face (how a
neutral-to-apex image folder is read with ``--baseline-seconds 0``): each is a felt smile, as it is when
shown at once. Guards the baseline's hold during a movement (cues/baseline.py) on real faces; the figures
over the whole set are `python -m callcoach_bench.real_seq` (docs/detector.md, Posed sequences).

Reads dev-half people of ../shared/realfaces in place (research-only data, never copied); skips without it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_real_bench import realfaces

from callcoach.sources.files import read_image
from callcoach.vision.types import FaceObservation
from callcoach_bench.real import PhotoVision, load_manifest, photos_by_person
from callcoach_bench.real_seq import replay, sequence

pytestmark = pytest.mark.slow

#: Dev-half people per source: the first ones in the split's order.
PEOPLE = {"kdef": 8, "jaffe": 5}


@pytest.fixture(scope="module")
def smiles() -> Iterator[list[tuple[str, FaceObservation, FaceObservation]]]:
    by_person, splits = photos_by_person(load_manifest(realfaces()), tuple(PEOPLE))
    vision = PhotoVision()
    pairs = []
    try:
        for source, count in PEOPLE.items():
            split = splits[source]
            for subject in sorted(s for s in split if split[s] == "dev")[:count]:
                photos = by_person[(source, subject)]
                neutral = next(r for r in photos if r.label == "neutral")
                happy = next(r for r in photos if r.label == "happiness")
                a, b = vision.observe(read_image(neutral.path)), vision.observe(read_image(happy.path))
                assert a is not None and b is not None, subject
                pairs.append((subject, a, b))
    finally:
        vision.close()
    yield pairs


@pytest.mark.parametrize(("ramp", "hold"), [(1, 5), (12, 0), (30, 0)])
def test_a_real_smile_built_up_slowly_is_named_as_one_shown_at_once(
    smiles: list[tuple[str, FaceObservation, FaceObservation]], ramp: int, hold: int
) -> None:
    # Shown at once (one neutral frame, then 5 of the smile) or rising over 12 or 30 frames. Before the hold,
    # 6 of these 13 smiles rising over 12 frames were named `polite_smile` (no emotion): the baseline's
    # refresh in mid-rise took the first rising frames for the resting face.
    named = {
        subject: replay(sequence(neutral, happy, lead=1, ramp=ramp, hold=hold)) for subject, neutral, happy in smiles
    }
    happy = [s for s, out in named.items() if out["emotion"] == "happiness"]
    assert len(happy) >= len(named) - 2, {s: out["cue"] for s, out in named.items()}
