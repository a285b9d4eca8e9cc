"""The mirror drill as plain logic: what to ask for, and one line of feedback on what the cue engine saw.

The user makes one expression at a time; the engine (fed by the webcam or a video) reports the cues it
spotted in that attempt's window. ``parts_involved`` says which parts of the face took part: for now the
regions of the cues the engine named (its channels), to be switched to action units when that layer lands:
it is the only place that needs to change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callcoach.cues.vocabulary import MICRO_MAX_S, PLAIN_WORDS, REGION, Cue


@dataclass(frozen=True)
class Prompt:
    cue: str
    ask: str
    #: Longest the movement should last to count as the brief version asked for (None: any length).
    max_s: float | None = None


PROMPTS: tuple[Prompt, ...] = (
    Prompt("eyebrow_flash", "a quick eyebrow flash, under half a second", MICRO_MAX_S),
    Prompt("duchenne_smile", "a smile that reaches the eyes"),
    Prompt("lip_compression", "press your lips together briefly, as if holding something back", MICRO_MAX_S),
    Prompt("micro_surprise", "a flash of surprise: brows up, eyes wide, under half a second", MICRO_MAX_S),
    Prompt("micro_frown", "a brief frown: inner brows up, lip corners down"),
    Prompt("nose_wrinkle", "wrinkle your nose, upper lip up"),
    Prompt("unilateral_lip_pull", "pull one lip corner only"),
)
PROMPT_BY_CUE = {p.cue: p for p in PROMPTS}


@dataclass(frozen=True)
class Attempt:
    prompt: Prompt
    appeared: bool
    duration_s: float | None
    parts: tuple[str, ...]
    seen: tuple[str, ...]
    feedback: str
    #: Action units that rose clearly during the attempt (peak at or over ``AU_SHOWN``), in AU order.
    aus: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "type": "mirror",
            "target": self.prompt.cue,
            "appeared": self.appeared,
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "parts": list(self.parts),
            "seen": list(self.seen),
            "aus": list(self.aus),
            "feedback": self.feedback,
        }


def parts_involved(cues: Sequence[Cue]) -> tuple[str, ...]:
    """The parts of the face that took part (brows, eyes, mouth, nose), from the cues' regions."""
    parts: list[str] = []
    for cue in cues:
        for part in REGION.get(cue.cue, "face").split("+"):
            if part not in parts:
                parts.append(part)
    return tuple(parts)


#: An action unit "took part" when its peak during the attempt reached this (0..1 against the resting face).
AU_SHOWN = 0.3


def active_aus(peaks: Mapping[str, float] | None, threshold: float = AU_SHOWN) -> tuple[str, ...]:
    """The action units whose peak reached ``threshold``, in AU number order (AU1, AU2, AU4, ...)."""
    if not peaks:
        return ()
    shown = [name for name, value in peaks.items() if value >= threshold]
    return tuple(sorted(shown, key=lambda name: int(name[2:]) if name[2:].isdigit() else 999))


def _duration(cue: Cue) -> float | None:
    return None if cue.offset_s is None else max(0.0, cue.offset_s - cue.onset_s)


def judge(prompt: Prompt, cues: Sequence[Cue], au_peaks: Mapping[str, float] | None = None) -> Attempt:
    """One attempt's result from the cues spotted while it lasted and the action units' peaks over it."""
    seen = tuple(dict.fromkeys(c.cue for c in cues))
    parts = parts_involved(cues)
    aus = active_aus(au_peaks)
    which = f", {'+'.join(aus)}" if aus else ""
    hits = [c for c in cues if c.cue == prompt.cue]
    if hits:
        best = max(hits, key=lambda c: c.confidence)
        length = _duration(best)
        where = " and ".join(parts_involved([best]))
        if prompt.max_s is not None and length is not None and length > prompt.max_s:
            line = f"it showed ({where}{which}) but lasted {length:.2f} s: aim for under {prompt.max_s:.1f} s"
        elif length is None:
            line = f"it showed ({where}{which}) and was still going when the recording ended"
        else:
            line = f"clear: {PLAIN_WORDS[prompt.cue]} ({where}{which}) for {length:.2f} s"
        return Attempt(prompt, True, length, parts, seen, line, aus)
    if prompt.cue == "duchenne_smile" and "polite_smile" in seen:
        cheeks = " (AU12 without AU6)" if "AU12" in aus and "AU6" not in aus else ""
        line = f"the eyes did not take part{cheeks}: that reads as a polite smile"
    elif seen:
        names = ", ".join(PLAIN_WORDS.get(s, s) for s in seen)
        line = f"that read as {names} instead"
    else:
        line = "nothing showed clearly: make it a little bigger, facing the camera in good light"
    return Attempt(prompt, False, None, parts, seen, line, aus)
