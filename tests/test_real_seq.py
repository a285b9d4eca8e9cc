"""The posed-sequence form of the real bench (callcoach_bench/real_seq.py): the blend and the sequence it
replays, on scripted observations (no data, no model)."""

from __future__ import annotations

from scripted import NEUTRAL_BLENDSHAPES, NEUTRAL_GEOMETRY

from callcoach.vision.types import FaceObservation, HeadPose
from callcoach_bench.real_seq import blend, replay, sequence


def _face(shift: float, emotion: dict[str, float]) -> FaceObservation:
    return FaceObservation(
        face_id=0,
        bbox=(0.3, 0.2, 0.4, 0.5),
        pose=HeadPose(yaw=shift * 4, pitch=0.0, roll=0.0),
        blendshapes={
            k: v + (0.5 if k.startswith("mouthSmile") else 0.0) * shift for k, v in NEUTRAL_BLENDSHAPES.items()
        },
        geometry={k: v + (0.05 if k.startswith("mouth_corner") else 0.0) * shift for k, v in NEUTRAL_GEOMETRY.items()},
        emotion=emotion,
    )


NEUTRAL = _face(0.0, {"neutral": 0.9, "happiness": 0.1})
SMILE = _face(1.0, {"neutral": 0.1, "happiness": 0.9})


def test_blend_runs_from_the_neutral_face_to_the_apex() -> None:
    half = blend(NEUTRAL, SMILE, 0.5)
    assert half.blendshapes["mouthSmileLeft"] == NEUTRAL.blendshapes["mouthSmileLeft"] + 0.25
    assert abs(half.geometry["mouth_corner_r"] - (NEUTRAL_GEOMETRY["mouth_corner_r"] + 0.025)) < 1e-12
    assert half.pose.yaw == 2.0
    assert half.emotion == {"neutral": 0.5, "happiness": 0.5}
    assert blend(NEUTRAL, SMILE, 1.0) == SMILE


def test_sequence_is_lead_then_ramp_then_hold_and_ends_at_the_apex() -> None:
    faces = sequence(NEUTRAL, SMILE, lead=2, ramp=4, hold=3)
    assert len(faces) == 9
    assert faces[:2] == [NEUTRAL, NEUTRAL]
    assert faces[-4:] == [SMILE] * 4
    smiles = [f.blendshapes["mouthSmileLeft"] for f in faces]
    assert smiles == sorted(smiles)


def test_a_rising_smile_reads_as_a_smile() -> None:
    out = replay(sequence(NEUTRAL, SMILE, lead=1, ramp=12, hold=0))
    assert out["cue"] in ("polite_smile", "duchenne_smile")
    assert out["top"] == "happiness"
