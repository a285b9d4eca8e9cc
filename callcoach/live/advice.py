"""Suggestions as soon as a movement has peaked: early cues advise, and their final cue does not repeat it.

The engine names a movement twice when run with ``EngineConfig(early=True)``: an ``EarlyCue`` once its apex
has passed (0.2-0.4 s after the apex on the synthetic set, instead of 0.6-1.3 s for the final ``Cue``),
and the final ``Cue`` once it has ended. The panel should answer the first, so the advisor sees the early
cue as a provisional ``Cue`` (no offset yet), and the final cue of the same movement (same face, same name,
its span covering the early apex) is passed over. A final cue with a different name than its early one,
which the measurements have not shown yet, is advised on its own.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from callcoach.contract import Advisor, LiveListener
from callcoach.core.clock import MONOTONIC, Clock
from callcoach.core.state import LiveStatus
from callcoach.cues.vocabulary import MICRO_MAX_S, Cue, EarlyCue, EarlyCueWithdrawn, Scale
from callcoach.live.stats import CueTiming, EarlyTiming, RunStats
from callcoach.playbook.wording import suggestion_refusal

_log = logging.getLogger(__name__)
#: Early cues remembered per run, to match finals against (a movement's final comes within ~3 s).
_REMEMBERED = 64


def provisional_cue(early: EarlyCue) -> Cue:
    """The early cue in the shape the advisor takes: no offset yet; scale from how long it has lasted."""
    scale: Scale = "micro" if early.t_s - early.onset_s <= MICRO_MAX_S else "macro"
    return Cue(
        cue=early.cue,
        emotion=early.emotion,
        scale=scale,
        onset_s=early.onset_s,
        apex_s=early.apex_s,
        offset_s=None,
        intensity=early.intensity,
        confidence=early.confidence,
        face=early.face,
    )


@dataclass(frozen=True)
class _Advised:
    face: int
    cue: str
    onset_s: float
    apex_s: float


class EarlyAdvice:
    """Remembers which early cues were put to the advisor, so their final cues are not put to it again."""

    def __init__(self) -> None:
        self._advised: deque[_Advised] = deque(maxlen=_REMEMBERED)

    def advised_early(self, early: EarlyCue) -> None:
        self._advised.append(_Advised(early.face, early.cue, early.onset_s, early.apex_s))

    def withdraw(self, face: int, cue: str, onset_s: float, apex_s: float) -> bool:
        """Forget an advised early cue whose movement was not confirmed; True if it had been advised."""
        for seen in self._advised:
            if (
                seen.face == face
                and seen.cue == cue
                and abs(seen.apex_s - apex_s) < 1e-6
                and abs(seen.onset_s - onset_s) < 1e-6
            ):
                self._advised.remove(seen)
                return True
        return False

    def already_advised(self, cue: Cue) -> bool:
        """True when ``cue`` is the final cue of a movement whose early cue was advised on."""
        end = cue.offset_s if cue.offset_s is not None else cue.apex_s
        for seen in self._advised:
            if seen.face == cue.face and seen.cue == cue.cue and cue.onset_s - 1e-6 <= seen.apex_s <= end + 1e-6:
                self._advised.remove(seen)
                return True
        return False


class CueDispatch:
    """Hands each cue the runner's engine produced to the listener, the companion and the advisor, and keeps
    its timings. Runs on the inference thread; ``origin_s`` and ``status`` are read when a cue arrives."""

    def __init__(
        self,
        listener: LiveListener,
        stats: RunStats,
        *,
        advisor: Advisor | None,
        companion: Any,
        origin_s: Callable[[], float],
        status: Callable[[], LiveStatus],
        clock: Clock = MONOTONIC,
    ) -> None:
        self.listener, self.stats, self.advisor, self.companion = listener, stats, advisor, companion
        self._clock = clock
        self._origin_s, self._status = origin_s, status
        self._early = EarlyAdvice()

    def final(self, cue: Cue, frame_t: float) -> None:
        now = self._clock.now()
        timing = CueTiming(
            cue=cue,
            latency_ms=(now - frame_t) * 1000.0,
            apex_latency_ms=(now - (self._origin_s() + cue.apex_s)) * 1000.0,
        )
        self.stats.cue_timings.append(timing)
        self.stats.cues_by_name[cue.cue] += 1
        self.listener.on_cue(cue, timing.latency_ms)
        if self.companion is not None:
            self.companion.note_remote_cue(cue)
        if not self._early.already_advised(cue):
            self._advise(cue)

    def early(self, early: EarlyCue, frame_t: float) -> None:
        now = self._clock.now()
        timing = EarlyTiming(early.cue, (now - frame_t) * 1000.0, (now - (self._origin_s() + early.apex_s)) * 1000.0)
        self.stats.early_timings.append(timing)
        self.listener.on_early_cue(early, timing.latency_ms)
        # Only an early cue that made a suggestion stands for its movement: one the selector declined (under
        # the threshold at the first apex, a cool-down) leaves the final cue to be judged on its own.
        if self._advise(provisional_cue(early)):
            self._early.advised_early(early)

    def withdrawn(self, withdrawn: EarlyCueWithdrawn) -> None:
        """An early cue's movement ended without its final cue (or with another name): say so, and whether a
        suggestion had been made from it, so the panel can stop showing that suggestion as current."""
        self.stats.early_withdrawn += 1
        advised = self._early.withdraw(withdrawn.face, withdrawn.cue, withdrawn.onset_s, withdrawn.apex_s)
        self.listener.on_early_withdrawn(withdrawn, advised)

    def _advise(self, cue: Cue) -> bool:
        if self.advisor is None:
            return False
        suggestion = self.advisor(cue, self._status())
        if suggestion is None:
            return False
        refused = suggestion_refusal(suggestion)
        if refused is not None:
            # A playbook is checked when it loads, but an advisor may build lines at run time: one that breaks
            # the house rules is not shown at all (nothing is better than a claim we never make).
            self.stats.suggestions_withheld += 1
            _log.warning("suggestion for %s held back: %s", cue.cue, refused.message)
            return False
        self.stats.suggestion_apex_latency_ms.append((self._clock.now() - (self._origin_s() + cue.apex_s)) * 1000.0)
        self.listener.on_suggestion(suggestion)
        return True
