"""Early cues: name a movement once its apex has passed, while it is still under way.

The final cue waits for the movement to end and then for competing channels to settle, so on a live call
it arrives one to several seconds after the face moved. The rule here decides, frame by frame, when
enough is known to say the same thing sooner:

- the apex has passed: the activation has fallen below ``fall`` of the peak's height above ``floor``, or
  the peak has not grown for ``stall_s`` (a held expression has no fall to wait for);
- the movement has lasted the spotter's minimum (a 0.1 s glance is not a gaze aversion);
- optionally, per channel, ``settle_s`` more after the apex (none by default);
- no stronger movement on a competing channel overlaps it, whether under way or ended: the final cue
  would be dropped in its favour.

At most one early cue per excursion: an excursion that resumes within the merge gap of an announced
one is the same movement and is not announced again. Blink clusters get none; they are only known
once the last blink is over, which is when their final cue is emitted anyway.

Every early cue is then settled once: by the final cue of the same name whose span holds its apex, or by
an ``EarlyCueWithdrawn`` on the frame that shows none will come (the movement was dropped as the face
became unreadable or was lost, was outranked by a stronger competing one, or its final cue was named
otherwise; that withdrawal comes just before the final cue).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from callcoach.cues.spotter import Excursion, Spotter
from callcoach.cues.vocabulary import Cue, EarlyCue, EarlyCueWithdrawn, WithdrawReason


@dataclass(frozen=True)
class EarlyRule:
    #: The apex has passed once the activation is below this share of the peak's height above ``floor``.
    fall: float = 0.75
    #: The spotter's end threshold: a fall is measured on what lies above it, not above zero.
    floor: float = 0.5
    #: ... on this many frames in a row ...
    confirm_frames: int = 2
    #: ... or once the peak has not grown for this long.
    stall_s: float = 0.4
    #: Extra wait after the apex, per channel. None by default: the name is read at the channel's apex,
    #: early and final alike, so a second movement peaking later changes neither; only a new, higher
    #: apex would, and the fall rule already waits for that (see docs/detector.md, "Early cues"). The
    #: exception: a held expression that fires later under a movement named for no emotion renames its
    #: final cue, and the early one is then withdrawn as renamed.
    #: (channel, seconds) pairs: a tuple keeps the rule, and the engine config holding it, hashable.
    settle_s: tuple[tuple[str, float], ...] = ()


class EarlyAnnouncer:
    """Per face: which excursions are ready to be announced early, each at most once."""

    def __init__(self, rule: EarlyRule, compete: Collection[frozenset[str]], merge_gap_s: float) -> None:
        self.rule = rule
        self._compete = compete
        self._merge_gap_s = merge_gap_s
        self._settle = dict(rule.settle_s)
        #: Onsets of announced excursions, per channel, kept while that excursion can still grow by merging.
        self._announced: dict[str, set[float]] = {}
        #: Early cues announced and not settled yet, with their channel.
        self._open: list[tuple[str, EarlyCue]] = []

    def ready(
        self, t: float, spotters: Mapping[str, Spotter], closed: Mapping[str, Excursion], pending: Collection[Excursion]
    ) -> list[Excursion]:
        """Excursions to announce on this frame.

        ``closed`` holds the excursions that ended on this frame, before they are merged into
        ``pending``: what each would merge into tells whether it was already announced.
        """
        current: dict[str, Excursion] = {}
        for channel, spotter in spotters.items():
            ex = closed.get(channel) or spotter.current()
            if ex is not None:
                current[channel] = ex
        self._prune(current, pending)
        out = []
        for channel, ex in current.items():
            if not self._due(t, ex, spotters[channel], channel in closed):
                continue
            target = self._merge_target(ex, pending)
            done = self._announced.setdefault(channel, set())
            if ex.onset_s in done or (target is not None and target.onset_s in done):
                continue
            if self._outranked(t, ex, current, pending):
                continue
            done.add(ex.onset_s)
            if target is not None:
                done.add(target.onset_s)  # the merged excursion keeps the earlier onset
            out.append(ex)
        return out

    def _due(self, t: float, ex: Excursion, spotter: Spotter, closed: bool) -> bool:
        if t - ex.onset_s < spotter.min_s:
            return False
        if t - ex.apex_s < self._settle.get(ex.channel, 0.0):
            return False
        if closed:
            return True
        floor = self.rule.floor
        # Two frames in a row: the speech gate flickering on for one frame divides the mouth channels,
        # which looks like a fall but is not one.
        fallen = spotter.recent_max(self.rule.confirm_frames) < floor + self.rule.fall * (ex.peak - floor)
        return fallen or t - ex.apex_s >= self.rule.stall_s

    def _merge_target(self, ex: Excursion, pending: Collection[Excursion]) -> Excursion | None:
        # The same test as the engine's merge, made before this excursion has ended.
        for prev in pending:
            if (
                prev.channel == ex.channel
                and prev.offset_s is not None
                and 0.0 <= ex.onset_s - prev.offset_s <= self._merge_gap_s
            ):
                return prev
        return None

    def _outranked(
        self, t: float, ex: Excursion, current: Mapping[str, Excursion], pending: Collection[Excursion]
    ) -> bool:
        end = ex.offset_s if ex.offset_s is not None else t
        for other in (*current.values(), *pending):
            if frozenset((other.channel, ex.channel)) not in self._compete or other.peak <= ex.peak:
                continue
            other_end = other.offset_s if other.offset_s is not None else t
            if min(end, other_end) > max(ex.onset_s, other.onset_s):
                return True
        return False

    def _prune(self, current: Mapping[str, Excursion], pending: Collection[Excursion]) -> None:
        live: dict[str, set[float]] = {}
        for ex in (*current.values(), *pending):
            live.setdefault(ex.channel, set()).add(ex.onset_s)
        for channel, onsets in self._announced.items():
            onsets &= live.get(channel, set())

    def announced(self, channel: str, early: EarlyCue) -> None:
        """``early`` was yielded for an excursion on ``channel``: it awaits its final cue or a withdrawal."""
        self._open.append((channel, early))

    def settle(self, ex: Excursion, cue: Cue | None, t: float) -> list[EarlyCueWithdrawn]:
        """``ex`` leaves the pending list, as ``cue`` or dropped for a stronger competing one (None).

        The early cues it holds are confirmed by a final cue of the same name, else withdrawn.
        """
        held = [e for channel, e in self._open if channel == ex.channel and _holds(ex, e.apex_s)]
        if not held:
            return []
        self._open = [(c, e) for c, e in self._open if e not in held]
        return [
            _withdrawn(e, t, "outranked" if cue is None else "renamed") for e in held if cue is None or cue.cue != e.cue
        ]

    def sweep(
        self, t: float, spotters: Mapping[str, Spotter], pending: Collection[Excursion], reason: WithdrawReason
    ) -> list[EarlyCueWithdrawn]:
        """Withdraw the early cues whose movement is neither under way nor pending any more (it was cut)."""
        live = [ex for ex in (*(s.current() for s in spotters.values()), *pending) if ex is not None]
        out, keep = [], []
        for channel, e in self._open:
            if any(ex.channel == channel and _holds(ex, e.apex_s) for ex in live):
                keep.append((channel, e))
            else:
                out.append(_withdrawn(e, t, reason))
        self._open = keep
        return out


def _holds(ex: Excursion, t: float) -> bool:
    """Whether ``t`` (an early cue's apex) falls in ``ex``: merges and later apexes keep it there."""
    return ex.onset_s - 1e-9 <= t <= (ex.offset_s if ex.offset_s is not None else math.inf) + 1e-9


def _withdrawn(e: EarlyCue, t: float, reason: WithdrawReason) -> EarlyCueWithdrawn:
    return EarlyCueWithdrawn(cue=e.cue, face=e.face, onset_s=e.onset_s, apex_s=e.apex_s, t_s=t, reason=reason)
