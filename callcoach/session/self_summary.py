"""The "Your own face" part of the post-call summary: self-coaching notes from the user's own camera.

Self-coaching (``callcoach live --vcam``) runs the user's own face through the cue engine and leaves two kinds of
note, both kept in the ``self_notes`` table:

- a *leak*: one of the user's own cues (pressed lips, a one-sided lip pull...) that may have shown, mostly
  while the other person was talking;
- a *mirror check*: after a warm cue from the other person (a smile), did the user smile back within a few
  seconds? ``mirror_met`` or ``mirror_missed``.

The summary counts leaks by cue (and how many came while the other person talked), the mirror checks met
and missed with the met rate (None, shown as "n/a", when there were none), and lists the first notes with
their times. Everything here is worded as a guess about a brief movement, meant for the user alone: never a
verdict about the user or anyone else. A session without self notes has no such part at all, so its report
reads exactly as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from callcoach.cues.vocabulary import CUE_NAMES, PLAIN_WORDS
from callcoach.session.store import SelfNoteRecord

#: How many notes the report lists; all of them are in the export.
LISTED_NOTES = 12

TITLE = "Your own face"
NOTE = (
    "From your own camera, for you only: guesses about brief movements of your own face, meant as quiet "
    "prompts for next time, never verdicts. A mirror check asks whether you smiled back within a few "
    "seconds of the other person's warm cue."
)
KIND_WORDS = {"leak": "may have shown", "mirror_met": "mirror check met", "mirror_missed": "mirror check missed"}


def _plain(cue: str) -> str:
    return PLAIN_WORDS.get(cue, cue.replace("_", " "))


@dataclass(frozen=True)
class SelfSummary:
    notes: tuple[SelfNoteRecord, ...]
    #: (cue, count, of which while the other person was talking), most frequent first.
    leaks_by_cue: tuple[tuple[str, int, int], ...]
    leaks: int
    leaks_while_talking: int
    mirror_met: int
    mirror_missed: int

    @property
    def mirror_checks(self) -> int:
        return self.mirror_met + self.mirror_missed

    @property
    def mirror_met_rate(self) -> float | None:
        return self.mirror_met / self.mirror_checks if self.mirror_checks else None


def build_self_summary(notes: Sequence[SelfNoteRecord]) -> SelfSummary | None:
    """None without notes: the report then has no "Your own face" part (sessions recorded without vcam)."""
    if not notes:
        return None
    ordered = tuple(sorted(notes, key=lambda n: n.t_s))
    leaks = [n for n in ordered if n.kind == "leak"]
    total = Counter(n.cue for n in leaks)
    talking = Counter(n.cue for n in leaks if n.remote_talking)
    rank = {name: i for i, name in enumerate(CUE_NAMES)}
    by_cue = tuple(
        sorted(
            ((c, k, talking[c]) for c, k in total.items()),
            key=lambda item: (-item[1], rank.get(item[0], len(rank)), item[0]),
        )
    )
    kinds = Counter(n.kind for n in ordered)
    return SelfSummary(
        notes=ordered,
        leaks_by_cue=by_cue,
        leaks=len(leaks),
        leaks_while_talking=sum(talking.values()),
        mirror_met=kinds["mirror_met"],
        mirror_missed=kinds["mirror_missed"],
    )


def note_words(note: SelfNoteRecord) -> str:
    """What a note was about, in plain words (the note's own message is shown next to it)."""
    if note.kind == "leak":
        during = " while the other person was talking" if note.remote_talking else ""
        return f"{KIND_WORDS['leak']}: {_plain(note.cue)}{during}"
    return f"{KIND_WORDS.get(note.kind, note.kind)}, after their {_plain(note.cue)}"


def _rate(rate: float | None, part: int, whole: int) -> str:
    return "n/a" if rate is None else f"{rate:.0%} ({part} of {whole})"


def overview_rows(s: SelfSummary) -> tuple[tuple[str, str], ...]:
    leaks = f"{s.leaks} ({s.leaks_while_talking} while the other person was talking)" if s.leaks else "0"
    return (
        ("your own brief cues that may have shown", leaks),
        ("mirror checks met (you smiled back)", _rate(s.mirror_met_rate, s.mirror_met, s.mirror_checks)),
        ("mirror checks missed", str(s.mirror_missed)),
    )


def leak_rows(s: SelfSummary) -> tuple[tuple[str, str, str, str], ...]:
    return tuple((c, _plain(c), str(n), str(talking)) for c, n, talking in s.leaks_by_cue)


def note_rows(
    s: SelfSummary, clock: Callable[[float], str], limit: int = LISTED_NOTES
) -> tuple[tuple[str, str, str], ...]:
    """(at, what, the note shown) for the first ``limit`` notes, and a last row saying how many more."""
    rows = [(clock(n.t_s), note_words(n), n.message) for n in s.notes[:limit]]
    if len(s.notes) > limit:
        rows.append(("…", f"{len(s.notes) - limit} more notes", "all of them: callcoach sessions export"))
    return tuple(rows)
