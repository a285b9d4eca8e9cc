"""What the self-coach reports: its state for the panel's self-coaching row (``SelfStatus``), its counters for
the run's summary (``SelfStats``), and the words of its notes. Frozen values, so the companion can pass them
on from the self thread without holding on to the coach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SelfState = Literal["starting", "calibrating", "ready", "no_face", "unreadable", "idle", "error", "stopped"]
LeakMode = Literal["listening", "always"]

#: The user's own cues reported as leaks, each line a guess about the user's own face; ``{when}`` is "while
#: they were talking", or nothing outside listening (only shown with ``leak_mode="always"``). Left out:
#: gaze_aversion (on a call the eyes go to the screen, notes and the other tile, not the camera, so a
#: glance away is the normal state), blink_cluster (screens and dry eyes), micro_surprise and
#: eyebrow_flash (engaged reactions, not leaks), and smiles (the mirror check's business).
LEAK_LINES: dict[str, str] = {
    "lip_compression": "you may have pressed your lips together{when}",
    "unilateral_lip_pull": "one side of your mouth may have pulled up{when} (it can read as doubt)",
    "micro_anger": "your brows and lips may have tightened for a moment{when}",
    "nose_wrinkle": "your nose may have wrinkled for a moment{when}",
    "micro_frown": "you may have frowned for a moment{when}",
}
MIRROR_LINES = {
    "mirror_met": "you seem to have smiled back",
    "mirror_missed": "they may have smiled warmly: a smile back might land well",
}


@dataclass(frozen=True)
class SelfStatus:
    state: SelfState
    #: One plain line for the panel's self-coaching row.
    message: str
    baseline_progress: float = 0.0


@dataclass(frozen=True)
class SelfStats:
    """A snapshot of the counters; ``SelfCoach.stats`` makes a new one on each read."""

    offered: int = 0
    frames: int = 0
    dropped: int = 0
    skipped: int = 0
    frames_with_face: int = 0
    face_seen: bool = False
    baseline_ready: bool = False
    baseline_progress: float = 0.0
    leaks: int = 0
    leaks_quiet: int = 0
    mirror_checks: int = 0
    #: Warm remote cues inside an earlier check's window: answered by that check.
    mirror_merged: int = 0
    mirror_met: int = 0
    mirror_missed: int = 0
    mirror_unresolved: int = 0
    errors: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "type": "self_summary",
            **{k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()},
        }
