"""What the vision stage hands to the cue stage: small, frozen, pixel-free observations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: FER2013 class order of the appearance model's output.
APPEARANCE_CLASSES: tuple[str, ...] = (
    "anger",
    "disgust",
    "fear",
    "happiness",
    "sadness",
    "surprise",
    "neutral",
)


@dataclass(frozen=True)
class HeadPose:
    """Head rotation in degrees: yaw (left/right), pitch (up/down), roll (tilt)."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class FaceObservation:
    """One tracked face in one frame.

    ``geometry`` holds landmark measures normalised by face size (see ``callcoach.vision.geometry``);
    ``blendshapes`` the 52 MediaPipe scores; ``emotion`` the appearance model's probabilities over
    ``APPEARANCE_CLASSES`` (None when the model has not run on this face yet; on a live gallery of several
    faces it runs on each face every second frame, and the frames between carry its last result).
    """

    face_id: int
    #: Normalised box in the frame: x, y, width, height in 0..1.
    bbox: tuple[float, float, float, float]
    pose: HeadPose
    blendshapes: Mapping[str, float]
    geometry: Mapping[str, float]
    emotion: Mapping[str, float] | None = None
    #: Action units (0..1, against this person's resting face) and the fused emotion reading (AU prototypes
    #: with ``emotion``), filled in by the analysis from the cue engine; None from vision alone and while
    #: the baseline is calibrating (see ``callcoach.cues.aus``).
    aus: Mapping[str, float] | None = None
    reading: Mapping[str, float] | None = None
    #: Face regions covered by a hand or an object in this frame: "mouth", "eyes" (one eye or both, or dark
    #: glasses); their cues are not read (``callcoach.vision.occlusion``).
    hidden: frozenset[str] = frozenset()


@dataclass(frozen=True)
class FrameObservation:
    """Everything vision saw in one frame; ``faces`` is empty when no face was found."""

    index: int
    t_s: float
    width: int
    height: int
    faces: tuple[FaceObservation, ...] = field(default_factory=tuple)
