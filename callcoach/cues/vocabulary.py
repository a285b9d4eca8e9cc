"""The cue vocabulary: exact names are a public interface (the jsonl output and the playbook use them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CUE_NAMES: tuple[str, ...] = (
    "duchenne_smile",
    "polite_smile",
    "eyebrow_flash",
    "lip_compression",
    "unilateral_lip_pull",
    "nose_wrinkle",
    "blink_cluster",
    "gaze_aversion",
    "micro_frown",
    "micro_anger",
    "micro_surprise",
)

#: The seven universal emotions a cue may suggest.
EMOTIONS: tuple[str, ...] = ("happiness", "sadness", "fear", "disgust", "anger", "surprise", "contempt")

#: The emotion each cue suggests by default, where one fits. ``micro_surprise`` may be reported as
#: ``fear`` instead when the lips stretch sideways (see ``callcoach.cues.rules``).
DEFAULT_EMOTION: dict[str, str | None] = {
    "duchenne_smile": "happiness",
    "polite_smile": None,
    "eyebrow_flash": None,
    "lip_compression": None,
    "unilateral_lip_pull": "contempt",
    "nose_wrinkle": "disgust",
    "blink_cluster": None,
    "gaze_aversion": None,
    "micro_frown": "sadness",
    "micro_anger": "anger",
    "micro_surprise": "surprise",
}

#: Where on the face each cue is seen (the panel and the summary group by it).
REGION: dict[str, str] = {
    "duchenne_smile": "mouth+eyes",
    "polite_smile": "mouth",
    "eyebrow_flash": "brows",
    "lip_compression": "mouth",
    "unilateral_lip_pull": "mouth",
    "nose_wrinkle": "nose",
    "blink_cluster": "eyes",
    "gaze_aversion": "eyes",
    "micro_frown": "brows+mouth",
    "micro_anger": "brows+mouth",
    "micro_surprise": "brows+eyes",
}

#: Each cue in plain words, as people read it in the panel and the summary.
PLAIN_WORDS: dict[str, str] = {
    "duchenne_smile": "smile reaching the eyes",
    "polite_smile": "smile of the mouth only",
    "eyebrow_flash": "quick eyebrow raise",
    "lip_compression": "lips pressed together",
    "unilateral_lip_pull": "one-sided lip pull",
    "nose_wrinkle": "nose wrinkle",
    "blink_cluster": "burst of blinks",
    "gaze_aversion": "glance away",
    "micro_frown": "brief frown",
    "micro_anger": "brief tightening of brows and lips",
    "micro_surprise": "brief surprise",
}

#: Micro-expressions last 1/25 to 1/2 s; anything longer is reported as macro.
MICRO_MAX_S = 0.5

Scale = Literal["micro", "macro"]


@dataclass(frozen=True)
class BaselineEvent:
    """A face's resting baseline started (``calibrating``) or became ``ready``; the cue engine yields it."""

    face: int
    t_s: float
    status: Literal["calibrating", "ready"]
    progress: float

    def as_dict(self) -> dict[str, object]:
        return {
            "type": "baseline",
            "face": self.face,
            "t_s": round(self.t_s, 3),
            "status": self.status,
            "progress": round(self.progress, 3),
        }


@dataclass(frozen=True)
class Cue:
    """One spotted cue. A guess with a confidence, never a verdict."""

    cue: str
    emotion: str | None
    scale: Scale
    onset_s: float
    apex_s: float
    #: None while the movement is still under way at the end of the input.
    offset_s: float | None
    #: Peak deviation from the person's baseline, in robust z units scaled to 0..1.
    intensity: float
    confidence: float
    face: int

    def as_dict(self) -> dict[str, object]:
        return {
            "type": "cue",
            "cue": self.cue,
            "emotion": self.emotion,
            "scale": self.scale,
            "onset_s": round(self.onset_s, 3),
            "apex_s": round(self.apex_s, 3),
            "offset_s": None if self.offset_s is None else round(self.offset_s, 3),
            "intensity": round(self.intensity, 3),
            "confidence": round(self.confidence, 3),
            "face": self.face,
        }


@dataclass(frozen=True)
class EarlyCue:
    """A movement named while it is still under way, once its apex has passed (``EngineConfig(early=True)``).

    A provisional guess: the final ``Cue`` for the same movement follows when it ends, usually with the
    same name; when none with that name follows, an ``EarlyCueWithdrawn`` for it does. Scale and offset are
    not known yet.
    """

    cue: str
    emotion: str | None
    onset_s: float
    apex_s: float
    #: When it was announced: the time of the frame that showed the apex had passed.
    t_s: float
    intensity: float
    confidence: float
    face: int

    def as_dict(self) -> dict[str, object]:
        return {
            "type": "early_cue",
            "cue": self.cue,
            "emotion": self.emotion,
            "onset_s": round(self.onset_s, 3),
            "apex_s": round(self.apex_s, 3),
            "t_s": round(self.t_s, 3),
            "intensity": round(self.intensity, 3),
            "confidence": round(self.confidence, 3),
            "face": self.face,
        }


#: Why an early cue was withdrawn: the face became unreadable (a head turn, fast motion) and the movement
#: was dropped; the face was out of view too long; a stronger movement on a competing channel was kept
#: instead; the movement's final cue came with another name (it follows the withdrawal at once).
WithdrawReason = Literal["unreadable", "face_lost", "outranked", "renamed"]
WITHDRAW_REASONS: tuple[WithdrawReason, ...] = ("unreadable", "face_lost", "outranked", "renamed")


@dataclass(frozen=True)
class EarlyCueWithdrawn:
    """An ``EarlyCue`` that no final cue of the same name will confirm (``EngineConfig(early=True)``).

    ``cue``, ``face``, ``onset_s`` and ``apex_s`` are those of the early cue withdrawn, so a consumer can
    tell which one it was; ``t_s`` is the time of the frame that showed it. Each early cue is settled once:
    by the final cue of the same name whose [onset_s, offset_s] holds its apex_s, or by this.
    """

    cue: str
    face: int
    onset_s: float
    apex_s: float
    t_s: float
    reason: WithdrawReason

    def withdraws(self, early: EarlyCue) -> bool:
        """Whether this is the withdrawal of ``early``."""
        return (early.face, early.cue, early.onset_s, early.apex_s) == (self.face, self.cue, self.onset_s, self.apex_s)

    def as_dict(self) -> dict[str, object]:
        return {
            "type": "early_cue_withdrawn",
            "cue": self.cue,
            "face": self.face,
            "onset_s": round(self.onset_s, 3),
            "apex_s": round(self.apex_s, 3),
            "t_s": round(self.t_s, 3),
            "reason": self.reason,
        }
