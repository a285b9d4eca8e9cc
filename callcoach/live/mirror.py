"""The smile-back check: after a warm cue from the other side, did the user smile within a few seconds?

Pure bookkeeping, no threads: the self-coach feeds it the user's per-frame smile activation, the user's own
smile cues and the remote warm cues, and asks it to resolve the checks whose answer is known.

Remote cues arrive late (the engine names a movement after its offset plus a hold, so seconds after the
apex), so the user's side is kept as a time-stamped history and each check is answered against the window
around the remote apex, whenever the cue arrives. Missing data never counts against the user: a window in
which the user's face was not readable for most of the time is dropped without a note.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal

from callcoach.cues.vocabulary import Cue

#: Remote cues that start a check. Only a smile that reaches the eyes: the coaching method is about
#: answering a genuine smile with a smile. A polite (mouth-only) smile is social punctuation and comes
#: often, so checking it would nag; an eyebrow flash is answered with a flash or a nod, not a smile.
WARM_CUES: frozenset[str] = frozenset({"duchenne_smile"})
#: The user's own cues that count as smiling back (any smile answers a smile).
SMILE_CUES: frozenset[str] = frozenset({"duchenne_smile", "polite_smile"})
#: A smile channel activation at or above this means the smile is there (the engine's own threshold).
SMILE_ON = 1.0

MirrorKind = Literal["mirror_met", "mirror_missed"]


@dataclass(frozen=True)
class MirrorResult:
    """One resolved check: the remote cue that started it, and what the user's face did."""

    kind: MirrorKind
    cue: Cue
    #: When the user's smile was first seen in the window (met), or the window's end (missed).
    at_s: float
    #: Share of [apex, apex + window] in which the user's face was readable (1.0 for met).
    coverage: float


@dataclass
class _Check:
    cue: Cue
    start_s: float
    apex_s: float
    end_s: float


class MirrorTracker:
    """Collects both sides' evidence and answers each check once its window is known."""

    def __init__(
        self,
        window_s: float = 3.0,
        *,
        history_s: float = 15.0,
        min_coverage: float = 0.8,
        min_confidence: float = 0.5,
        warm_cues: frozenset[str] = WARM_CUES,
        max_gap_s: float = 0.4,
        max_open: int = 8,
    ) -> None:
        self.window_s = window_s
        self.history_s = history_s
        self.min_coverage = min_coverage
        self.min_confidence = min_confidence
        self.warm_cues = warm_cues
        # A readable frame vouches for the time up to the next frame, but not across a longer gap (a stalled
        # camera, dropped frames): a smile back lasts over half a second, so it cannot hide in 0.4 s.
        self.max_gap_s = max_gap_s
        self.max_open = max_open
        self._samples: deque[tuple[float, float | None]] = deque()
        self._smiles: deque[tuple[float, float]] = deque()
        self._open: list[_Check] = []
        self._last_end = -1e9
        #: Data about the user's face is complete up to this time (the newest analysed frame).
        self.data_until = -1e9
        self.checks = self.met = self.missed = self.unresolved = self.merged = 0

    # --- evidence ---------------------------------------------------------------------------------

    def add_sample(self, t_s: float, smile: float | None) -> None:
        """The user's smile activation on one analysed frame; None when the face was absent or unreadable."""
        self._samples.append((t_s, smile))
        self.data_until = max(self.data_until, t_s)
        self._trim(t_s)

    def add_smile(self, cue: Cue) -> None:
        """One of the user's own final cues; smiles are kept (they also cover frames the engine merged)."""
        if cue.cue in SMILE_CUES:
            self._smiles.append((cue.onset_s, cue.offset_s if cue.offset_s is not None else cue.apex_s))

    def add_remote(self, cue: Cue) -> bool:
        """A remote final cue; True when it started a new check."""
        if cue.cue not in self.warm_cues or cue.confidence < self.min_confidence:
            return False
        if cue.apex_s <= self._last_end:
            # Within the window of a check already made (a second smile, or the other face of a pair):
            # one answer covers both, so one note.
            self.merged += 1
            return False
        self._last_end = cue.apex_s + self.window_s
        self.checks += 1
        # Searching from the remote onset: a smile that began with theirs is a shared smile, not a miss.
        self._open.append(_Check(cue, min(cue.onset_s, cue.apex_s), cue.apex_s, self._last_end))
        if len(self._open) > self.max_open:  # no frames for a long time: the oldest cannot be answered
            self._open.pop(0)
            self.unresolved += 1
        return True

    # --- answers ----------------------------------------------------------------------------------

    def resolve(self, *, final: bool = False, now_s: float | None = None) -> list[MirrorResult]:
        """Checks whose answer is known: a smile found, or the window over and read.

        ``final`` (the self-coach is stopping) and ``now_s`` (no frames for a while: checks whose window
        ended before ``now_s`` will get no more data) give up on checks that cannot be answered.
        """
        out: list[MirrorResult] = []
        keep: list[_Check] = []
        for check in self._open:
            smile_at = self._smile_in(check.start_s, check.end_s)
            if smile_at is not None:
                self.met += 1
                out.append(MirrorResult("mirror_met", check.cue, smile_at, 1.0))
                continue
            over = self.data_until >= check.end_s
            if not over and not final and (now_s is None or now_s < check.end_s):
                keep.append(check)
                continue
            coverage = self._coverage(check.apex_s, check.end_s)
            if over and coverage >= self.min_coverage:
                self.missed += 1
                out.append(MirrorResult("mirror_missed", check.cue, check.end_s, coverage))
            else:
                self.unresolved += 1  # not seen well enough to say: no note
        self._open = keep
        return out

    @property
    def pending(self) -> int:
        return len(self._open)

    def _smile_in(self, start: float, end: float) -> float | None:
        first: float | None = None
        for t, smile in self._samples:
            if start <= t <= end and smile is not None and smile >= SMILE_ON:
                first = t
                break
        for onset, offset in self._smiles:
            if onset <= end and offset >= start:
                at = max(onset, start)
                first = at if first is None else min(first, at)
        return first

    def _coverage(self, start: float, end: float) -> float:
        if end <= start:
            return 0.0
        covered = 0.0
        samples = list(self._samples)
        for i, (t, smile) in enumerate(samples):
            if smile is None or t > end:
                continue
            nxt = samples[i + 1][0] if i + 1 < len(samples) else t + self.max_gap_s
            lo, hi = max(t, start), min(t + self.max_gap_s, nxt, end)
            if hi > lo:
                covered += hi - lo
        return covered / (end - start)

    def _trim(self, now: float) -> None:
        while self._samples and now - self._samples[0][0] > self.history_s:
            self._samples.popleft()
        while self._smiles and now - self._smiles[0][1] > self.history_s:
            self._smiles.popleft()


__all__ = ["SMILE_CUES", "SMILE_ON", "WARM_CUES", "MirrorKind", "MirrorResult", "MirrorTracker"]
