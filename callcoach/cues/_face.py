"""The cue engine's state for one face, and how one frame of that face is read into it.

The gates that act on the measures themselves live here: the head speed the engine mutes channels on,
the eyes held through a blink, and the regions a hand or an object hides (held a little after the hand
is last seen; covered eyes read as at rest).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from callcoach.cues.baseline import RobustBaseline
from callcoach.cues.channels import EXPRESSION, ApexData
from callcoach.cues.early import EarlyAnnouncer
from callcoach.cues.features import INDEX, feature_vector
from callcoach.cues.micro import MicroSpotter
from callcoach.cues.spotter import BlinkClusterSpotter, Excursion, Spotter
from callcoach.cues.talking import TalkDetector
from callcoach.cues.warmup import WarmupWatcher
from callcoach.vision.types import FaceObservation

_EYE_FEATURES = np.array(
    [INDEX[n] for n in ("aperture", "upper_lid", "lower_lid", "cheek", "squint_bs", "gaze_x", "gaze_y")]
)
#: A channel this far to its threshold (1.0) on the last frame holds the baseline's reference still: a
#: movement that builds up slowly is not absorbed into the face it is measured against.
MOVING_ACT = 0.5

# Channels read from the lips and the nose-to-lip distance: silent while the mouth is hidden. The held
# expression is among them: the reading it follows weighs the mouth's AUs too.
_MOUTH_CHANNELS = ("smile", "compression", "lip_pull", "nose", "frown", EXPRESSION)
# Channels read from the eyes and brows: silent while a hand, an object or dark glasses cover an eye.
_EYE_CHANNELS = ("brow_raise", "anger", "gaze")
# Measures drawn from the eyes and brows (and the inner eye corner): read as at rest while the eyes are
# hidden, so no action unit, eye crinkle or brow movement comes from what the landmarks guess there.
_EYE_REGION = np.array(
    [
        INDEX[n]
        for n in (
            "aperture",
            "upper_lid",
            "lower_lid",
            "cheek",
            "squint_bs",
            "blink_bs",
            "gaze_x",
            "gaze_y",
            "brow_inner",
            "brow_outer",
            "brow_inner_bs",
            "brow_outer_bs",
            "brow_down_bs",
            "brow_gap",
            "nose_eye",
            "cheek_squint_bs",
            "eye_wide_bs",
        )
    ]
)
_REGION_CHANNELS = {"mouth": _MOUTH_CHANNELS, "eyes": _EYE_CHANNELS}
# A hand over the mouth is missed on some frames (fingers turn, blur, lie flat): the mouth stays hidden
# this long after the last frame it was seen covered.
_HIDDEN_HOLD_S = 0.6


@dataclass
class _Face:
    face_id: int
    baseline: RobustBaseline
    spotters: dict[str, Spotter]
    blinks: BlinkClusterSpotter = field(default_factory=BlinkClusterSpotter)
    last_t: float = 0.0
    last_pose: tuple[float, float] | None = None
    head_speed: float = 0.0
    held_eyes: np.ndarray | None = None
    talk: TalkDetector = field(default_factory=TalkDetector)
    emotion_mean: dict[str, float] | None = None
    pending: list[Excursion] = field(default_factory=list)
    #: False while the head turns fast or sits far from its baseline pose (channels muted).
    reliable: bool = True
    #: Speech seen on the last frame, and the channel activations it was read with (empty until ready).
    talking: bool = False
    acts: dict[str, float] = field(default_factory=dict)
    early: EarlyAnnouncer | None = None
    #: Action units (0..1) and the fused emotion reading of the last readable frame (None until ready).
    aus: dict[str, float] | None = None
    reading: dict[str, float] | None = None
    #: Regions covered on the last frame ("mouth", "eyes"), from vision, each held until its time here.
    hidden: frozenset[str] = frozenset()
    hidden_until: dict[str, float] = field(default_factory=dict)
    micro: MicroSpotter | None = None
    #: Intervals of the cues already given for this face: a micro spot inside one is the same movement.
    spans: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=16))
    #: The last frame with a movement under way on a channel that explains a held expression.
    explained_t: float = -math.inf
    #: The held expression's strongest frame (activation and apex data) while a movement that explains it
    #: was under way, by the movement's (channel, onset): that movement's cue may be named from it and take
    #: its strength (``_describe``).
    held_during: dict[tuple[str, float], tuple[float, ApexData]] = field(default_factory=dict)
    #: Smiles seen before the baseline is ready (cues.warmup).
    warm: WarmupWatcher = field(default_factory=WarmupWatcher)
    #: Intervals of the smiles given from the warm-up (offset None: inf).
    warm_spans: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=4))


def _follow_head(st: _Face, face: FaceObservation, t: float) -> None:
    dt = max(1e-3, t - st.last_t) if st.last_pose is not None else 0.0
    if st.last_pose is not None and dt > 0:
        speed = (abs(face.pose.yaw - st.last_pose[0]) + abs(face.pose.pitch - st.last_pose[1])) / dt
        # Smoothed over ~3 frames: one jittery pose estimate should not mute a whole event.
        st.head_speed = 0.6 * st.head_speed + 0.4 * speed
    st.last_pose = (face.pose.yaw, face.pose.pitch)
    st.last_t = t


def _read_face(st: _Face, face: FaceObservation, t: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """The face's measures as the channels read them, as the AUs read them, and whether the eyes are
    closed; updates the hidden regions and the eyes held through a blink."""
    base = st.baseline
    x = feature_vector(face)
    # The AUs read the eyes as they are: a laugh's squeeze closes them as far as a blink does.
    x_raw = x.copy()
    for region in face.hidden & _REGION_CHANNELS.keys():
        st.hidden_until[region] = t + _HIDDEN_HOLD_S
    st.hidden = frozenset(r for r, until in st.hidden_until.items() if t < until)
    eyes_hidden = "eyes" in st.hidden and base.ready
    if eyes_hidden:
        # What the landmarks draw under a hand or dark lenses is a guess: the eyes read as at rest.
        x[_EYE_REGION] = x_raw[_EYE_REGION] = base.median[_EYE_REGION]
    # No blink is read from covered eyes (MediaPipe guesses the lids there).
    closed = not eyes_hidden and _eyes_closed(base, x)
    if closed and st.held_eyes is not None:
        x[_EYE_FEATURES] = st.held_eyes
    elif not closed:
        st.held_eyes = x[_EYE_FEATURES].copy()
    return x, x_raw, closed


def _eyes_closed(base: RobustBaseline, x: np.ndarray) -> bool:
    """Lids closed or closing, relative to this person's resting eyes.

    At 25 fps a 100 ms blink is often caught half-closed, so a moderate narrowing counts when
    eyeBlink rises with it; a squint (smile, anger, disgust) narrows the eyes as much but leaves
    eyeBlink near its resting value. Hooded or downcast eyes score eyeBlink ~0.7 at rest, hence
    the comparison with the baseline rather than a fixed 0.5.
    """
    if not base.ready:
        return False
    i_ap, i_bl = INDEX["aperture"], INDEX["blink_bs"]
    ratio = x[i_ap] / max(base.median[i_ap], 1e-6)
    rise = x[i_bl] - base.median[i_bl]
    return bool(ratio < 0.55 or (ratio < 0.68 and rise > 0.15) or x[i_bl] > max(0.5, base.median[i_bl] + 0.35))


def _moving(st: _Face) -> bool:
    """A movement under way (a spotter's event, or any channel half-way to its threshold on the last
    frame): the baseline keeps its reference until it is over."""
    # A glance moves the irises, not the face the reference describes.
    return (
        any(s.active for name, s in st.spotters.items() if name != "gaze")
        or max((v for name, v in st.acts.items() if name != "gaze"), default=0.0) >= MOVING_ACT
    )


def _talking(st: _Face, t: float, d: np.ndarray) -> bool:
    return st.talk.update(t, float(d[INDEX["mouth_open"]] + d[INDEX["jaw_open_bs"]]))


def _track_emotion(st: _Face, face: FaceObservation, weight: float) -> None:
    if not face.emotion:
        return
    if st.emotion_mean is None:
        st.emotion_mean = dict(face.emotion)
        return
    for k, v in face.emotion.items():
        st.emotion_mean[k] = (1 - weight) * st.emotion_mean.get(k, v) + weight * v
