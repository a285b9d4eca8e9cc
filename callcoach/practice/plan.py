"""The 60-day practice plan: three phases, each day's drills, from the day the user started.

The phases follow the method the product comes from (sensory groundwork, then live practice, then timed
measurement), written here in callcoach's own terms: each drill is a command the user can run.
"""

from __future__ import annotations

from dataclasses import dataclass

PLAN_DAYS = 60


@dataclass(frozen=True)
class Drill:
    what: str
    minutes: int
    command: str | None = None


@dataclass(frozen=True)
class Phase:
    name: str
    first_day: int
    last_day: int
    aim: str
    drills: tuple[Drill, ...]


PHASES: tuple[Phase, ...] = (
    Phase(
        "groundwork",
        1,
        14,
        "see the seven expressions at slow and medium speed; 50% right by the end of week 2",
        (
            Drill(
                "recognition at long flashes (500 and 200 ms), slow-motion replay after each miss",
                10,
                "callcoach practice recognize --trials 20 --durations 500,200",
            ),
            Drill(
                "mirror drill: make each expression yourself, briefly, and see which parts of the face moved",
                10,
                "callcoach practice mirror",
            ),
            Drill("note one face in your day that changed unexpectedly, and what came just before", 2),
        ),
    ),
    Phase(
        "live practice",
        15,
        35,
        "read 100 and 67 ms flashes; start naming the cues as well as the emotions",
        (
            Drill(
                "adaptive recognition test (the staircase shortens flashes as you get them right)",
                10,
                "callcoach practice recognize --trials 30",
            ),
            Drill(
                "cue vocabulary test: the eleven movements, not only the emotions",
                5,
                "callcoach practice recognize --mode cues --trials 20",
            ),
            Drill("mirror drill on the cues you miss most (see practice stats)", 5, "callcoach practice mirror"),
            Drill("after a call, read its summary and mark what helped or was misread", 5, "callcoach summary"),
        ),
    ),
    Phase(
        "measurement",
        36,
        60,
        "70% right at short flashes with few false positives; weekly review",
        (
            Drill(
                "timed test down to 40 ms, both vocabularies",
                10,
                "callcoach practice recognize --trials 40 --durations 100,67,40",
            ),
            Drill("weekly review of accuracy, false positives and live-call measures", 5, "callcoach practice stats"),
            Drill("mirror drill: one fast expression at a time, under half a second", 5, "callcoach practice mirror"),
        ),
    ),
)


@dataclass(frozen=True)
class Today:
    day: int
    phase: Phase | None
    week: int

    @property
    def finished(self) -> bool:
        return self.day > PLAN_DAYS


def today(day: int) -> Today:
    """What day ``day`` of the plan asks (day 1 is the first practice day; past day 60 no phase applies)."""
    if day < 1:
        day = 1
    phase = next((p for p in PHASES if p.first_day <= day <= p.last_day), None)
    return Today(day, phase, (day - 1) // 7 + 1)
