"""Practice progress as plain data: accuracy by week, false positives, the shortest flash read reliably,
reaction time, against the method's weekly targets; and the live-call measures beside them.

Weeks count from the user's first practice run (week 1 = days 1-7). The targets are the method's own
(docs/practice.md): 50% accuracy by the end of week 2 and 70% by the end of week 6. "Read reliably" means
at least ``RELIABLE_ACCURACY`` right on at least ``RELIABLE_MIN_TRIALS`` expression trials at that flash
length (the asked length, bucketed to the staircase's steps).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from callcoach.practice.drill import DURATIONS_MS, NONE, Trial, score
from callcoach.practice.store import PracticeStore, StoredTrial
from callcoach.session.store import SessionStore
from callcoach.session.summary import coaching_measures

#: (week, accuracy) the method aims for.
TARGETS: tuple[tuple[int, float], ...] = ((2, 0.5), (6, 0.7))
RELIABLE_ACCURACY = 0.7
RELIABLE_MIN_TRIALS = 5
DAY_S = 86400.0


@dataclass(frozen=True)
class WeekStats:
    week: int
    trials: int
    accuracy: float | None
    false_positive_rate: float | None
    mean_rt_ms: float | None
    shortest_reliable_ms: float | None
    #: The accuracy target in force by the end of this week (None before week 2's).
    target: float | None


@dataclass(frozen=True)
class LiveMeasures:
    sessions: int
    marked: int
    approach_success_rate: float | None
    false_positive_rate: float | None
    repair_success_rate: float | None


@dataclass(frozen=True)
class Progress:
    first_day: float | None
    day: int | None
    trials: int
    accuracy: float | None
    false_positive_rate: float | None
    mean_rt_ms: float | None
    shortest_reliable_ms: float | None
    weeks: tuple[WeekStats, ...]
    live: LiveMeasures

    def as_json(self) -> dict[str, object]:
        def r(x: float | None, nd: int = 4) -> float | None:
            return None if x is None else round(x, nd)

        return {
            "type": "progress",
            "day": self.day,
            "trials": self.trials,
            "accuracy": r(self.accuracy),
            "false_positive_rate": r(self.false_positive_rate),
            "mean_rt_ms": r(self.mean_rt_ms, 1),
            "shortest_reliable_ms": self.shortest_reliable_ms,
            "targets": [{"week": w, "accuracy": a} for w, a in TARGETS],
            "weeks": [
                {
                    "week": w.week,
                    "trials": w.trials,
                    "accuracy": r(w.accuracy),
                    "false_positive_rate": r(w.false_positive_rate),
                    "mean_rt_ms": r(w.mean_rt_ms, 1),
                    "shortest_reliable_ms": w.shortest_reliable_ms,
                    "target": w.target,
                }
                for w in self.weeks
            ],
            "live": {
                "sessions": self.live.sessions,
                "marked": self.live.marked,
                "approach_success_rate": r(self.live.approach_success_rate),
                "false_positive_rate": r(self.live.false_positive_rate),
                "repair_success_rate": r(self.live.repair_success_rate),
            },
        }


def bucket(ms: float) -> float:
    """The staircase step nearest to an asked duration."""
    return min(DURATIONS_MS, key=lambda d: abs(d - ms))


def shortest_reliable(trials: Sequence[Trial]) -> float | None:
    by_step: dict[float, list[bool]] = {}
    for t in trials:
        if t.label != NONE:
            by_step.setdefault(bucket(t.asked_ms), []).append(t.correct)
    ok = [
        ms
        for ms, hits in by_step.items()
        if len(hits) >= RELIABLE_MIN_TRIALS and sum(hits) / len(hits) >= RELIABLE_ACCURACY
    ]
    return min(ok) if ok else None


def target_for(week: int) -> float | None:
    due = [a for w, a in TARGETS if week >= w]
    return due[-1] if due else None


def _mean_rt(trials: Sequence[Trial]) -> float | None:
    # A 0 ms answer was scripted (a headless run fed by a pipe answers before any person could): it has no
    # reaction time to count, and would pull the mean towards an impossible figure.
    timed = [t.rt_ms for t in trials if t.rt_ms > 0]
    return sum(timed) / len(timed) if timed else None


def day_number(first_day: float, now: float) -> int:
    """Day 1 is the day of the first run (whole days since then, plus one)."""
    return int(max(0.0, now - first_day) // DAY_S) + 1


def live_measures(store: SessionStore, limit: int = 50) -> LiveMeasures:
    """The live calls' coaching measures, pooled over the last ``limit`` sessions (counts, then rates)."""
    rows = store.sessions(limit=limit)
    marked = helped = misread = possible = repaired = 0
    for row in rows:
        m = coaching_measures(row.duration_s(), row.cues, store.suggestions(row.id))
        marked, helped, misread = marked + m.marked, helped + m.helped, misread + m.misread
        possible, repaired = possible + m.repairs_possible, repaired + m.repaired
    return LiveMeasures(
        len(rows),
        marked,
        helped / marked if marked else None,
        misread / marked if marked else None,
        repaired / possible if possible else None,
    )


def build_progress(store: SessionStore, *, mode: str | None = None, now: float | None = None) -> Progress:
    practice = PracticeStore(store)
    stored = practice.trials(mode)
    first = practice.first_day()
    now = time.time() if now is None else now
    weeks: dict[int, list[StoredTrial]] = {}
    if first is not None:
        for s in stored:
            weeks.setdefault((day_number(first, s.answered_at) - 1) // 7 + 1, []).append(s)
    week_stats = []
    for week in sorted(weeks):
        ts = [s.trial for s in weeks[week]]
        sc = score(ts)
        week_stats.append(
            WeekStats(
                week,
                len(ts),
                sc.accuracy,
                sc.false_positive_rate,
                _mean_rt(ts),
                shortest_reliable(ts),
                target_for(week),
            )
        )
    all_trials = [s.trial for s in stored]
    total = score(all_trials)
    return Progress(
        first,
        None if first is None else day_number(first, now),
        len(all_trials),
        total.accuracy,
        total.false_positive_rate,
        _mean_rt(all_trials),
        shortest_reliable(all_trials),
        tuple(week_stats),
        live_measures(store),
    )
