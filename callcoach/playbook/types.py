"""What the playbook stage hands to the UI and the session store: one suggestion at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Context = Literal["general", "sales", "negotiation", "social", "leadership", "customer_service"]
CONTEXTS: tuple[str, ...] = ("general", "sales", "negotiation", "social", "leadership", "customer_service")
#: Words shown to people for each context key.
CONTEXT_LABELS: dict[str, str] = {
    "general": "general",
    "sales": "sales",
    "negotiation": "negotiation",
    "social": "dating / social",
    "leadership": "leadership",
    "customer_service": "customer service",
}

Strength = Literal["gentle", "stronger"]


@dataclass(frozen=True)
class Suggestion:
    """One calibrated, low-pressure response to a cue: evidence, never a verdict."""

    t_s: float
    cue: str
    face: int
    #: Where the movement was seen, in plain words: "eyes", "brows", "mouth", "nose"...
    region: str
    #: The cue in plain words, phrased as a guess ("a quick eyebrow raise, maybe interest").
    plain: str
    confidence: float
    #: One small move to try now (mirror warmth, soften, clarify, offer an opt-out, invite).
    move: str
    #: An opt-out or repair line, for when the guess was wrong.
    repair: str
    #: Saying nothing is the better choice right now (the move text then says why).
    say_nothing: bool
    #: "stronger" only when at least two signals support the cue (two cues, or a cue and the appearance model).
    strength: Strength
    context: str
    #: The evidence behind it: cue names (and "appearance" when the appearance model agreed).
    supporting: tuple[str, ...] = ()
