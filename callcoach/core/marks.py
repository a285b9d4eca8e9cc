"""The user's verdicts and the self-coaching notes: declared once, checked once.

The panel's ``h``/``m`` keys, the selector's feedback, the session store (whose schema repeats the two
words in a CHECK constraint) and the summary all take their words from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

#: The user's mark on the last suggestion: it helped, or the guess was a misread.
MarkKind = Literal["helped", "misread"]
MARK_KINDS: tuple[MarkKind, ...] = get_args(MarkKind)

#: What a self-coaching note is about: a leak of the user's own face, or the mirror check met or missed.
NoteKind = Literal["leak", "mirror_met", "mirror_missed"]
NOTE_KINDS: tuple[NoteKind, ...] = get_args(NoteKind)


def check_mark(kind: str) -> MarkKind:
    """``kind`` as a mark, or ValueError in the words the store and the recorder have always used."""
    if kind not in MARK_KINDS:
        raise ValueError(f"a mark is 'helped' or 'misread', not {kind!r}")
    return kind


@dataclass(frozen=True)
class SelfNote:
    """One self-coaching line: about the user's own face, a guess, never a verdict. No pixels."""

    kind: NoteKind
    #: Seconds since the session's origin: the user's cue apex (leak) or the remote cue's apex (mirror).
    t_s: float
    #: The user's own cue (leak), or the remote warm cue that started the check (mirror).
    cue: str
    #: The remote face of a mirror check; None for leaks (always the user's own face).
    face: int | None
    message: str
    confidence: float
    #: The other person was talking at the cue's apex (or had just stopped).
    remote_talking: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "type": "self",
            "kind": self.kind,
            "t_s": round(self.t_s, 3),
            "cue": self.cue,
            "face": self.face,
            "message": self.message,
            "confidence": round(self.confidence, 3),
            "remote_talking": self.remote_talking,
        }
