"""The post-call summary as plain data, built from the store; renderers live in ``callcoach.session.report``.

Valence is a deliberately coarse reading of each cue, used only to find the moments worth a second look:

- positive: the two smiles (``duchenne_smile``, ``polite_smile``);
- negative: cues whose usual reading is contempt, anger, disgust, tension or sadness
  (``unilateral_lip_pull``, ``micro_anger``, ``nose_wrinkle``, ``lip_compression``, ``micro_frown``);
- neutral: everything else (``eyebrow_flash``, ``blink_cluster``, ``gaze_aversion``, ``micro_surprise``),
  because each as often means interest, thinking or nothing at all.

A moment is the ``MOMENT_WINDOW_S`` seconds after a cue's apex; its score is the summed confidence of the
cues of one valence inside it. The best non-overlapping windows are reported. Cues are guesses about brief
movements: a "negative" moment is where a second look may help, not a finding about anyone.

Coaching measures (a suggestion's mark is the user's last mark on it):

- detections per minute: cues spotted / session minutes;
- approach success rate: suggestions marked *helped* / suggestions marked at all;
- false-positive rate: suggestions marked *misread* / suggestions marked at all;
- repair success rate: of the *misread* suggestions that were followed by at least one more suggestion,
  the share where one of the next ``REPAIR_WITHIN`` (2) suggestions was marked *helped*.

A rate is None (shown as "n/a") when nothing counts towards it, never 0.

Self-coaching notes about the user's own face, when the session has any, are summarised apart
(``callcoach.session.self_summary``) and never enter the measures, moments or trend above.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from callcoach.cues.vocabulary import CUE_NAMES, PLAIN_WORDS, REGION
from callcoach.session.schema import StoreError
from callcoach.session.self_summary import SelfSummary, build_self_summary
from callcoach.session.store import CueRecord, SessionRow, SessionStore, SuggestionRecord

VALENCE: dict[str, int] = {
    "duchenne_smile": 1,
    "polite_smile": 1,
    "unilateral_lip_pull": -1,
    "micro_anger": -1,
    "nose_wrinkle": -1,
    "lip_compression": -1,
    "micro_frown": -1,
}
VALENCE_WORDS = {1: "positive", -1: "negative", 0: "neutral"}
#: Plain words for each cue (the panel's wording).
CUE_LABEL: dict[str, str] = PLAIN_WORDS
MOMENT_WINDOW_S = 15.0
TOP_MOMENTS = 3
TREND_SESSIONS = 5
REPAIR_WITHIN = 2
#: Changes smaller than these read as "steady" (rates are 0..1; detections per minute compare relatively).
_STEADY_RATE = 0.05
_STEADY_RELATIVE = 0.10

MEASURE_LABELS: dict[str, str] = {
    "detections_per_minute": "detections per minute",
    "approach_success_rate": "approach success rate (helped / marked)",
    "false_positive_rate": "false-positive rate (misread / marked)",
    "repair_success_rate": "repair success rate (misread, then helped within 2)",
}


def valence(cue: str) -> int:
    return VALENCE.get(cue, 0)


def label(cue: str) -> str:
    return CUE_LABEL.get(cue, cue.replace("_", " "))


@dataclass(frozen=True)
class Measures:
    minutes: float
    cues: int
    suggestions: int
    marked: int
    helped: int
    misread: int
    repairs_possible: int
    repaired: int
    detections_per_minute: float | None
    approach_success_rate: float | None
    false_positive_rate: float | None
    repair_success_rate: float | None


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def coaching_measures(duration_s: float, cue_count: int, suggestions: Sequence[SuggestionRecord]) -> Measures:
    shown = sorted(suggestions, key=lambda s: (s.t_s, s.id))
    marks = [s.mark for s in shown]
    helped, misread = marks.count("helped"), marks.count("misread")
    marked = helped + misread
    possible = repaired = 0
    for i, mark in enumerate(marks):
        if mark != "misread" or i + 1 >= len(marks):
            continue
        possible += 1
        repaired += "helped" in marks[i + 1 : i + 1 + REPAIR_WITHIN]
    minutes = duration_s / 60.0
    return Measures(
        minutes=minutes,
        cues=cue_count,
        suggestions=len(shown),
        marked=marked,
        helped=helped,
        misread=misread,
        repairs_possible=possible,
        repaired=repaired,
        detections_per_minute=cue_count / minutes if minutes > 0 else None,
        approach_success_rate=_rate(helped, marked),
        false_positive_rate=_rate(misread, marked),
        repair_success_rate=_rate(repaired, possible),
    )


@dataclass(frozen=True)
class TimelinePoint:
    t_s: float
    cue: str
    region: str
    valence: int
    confidence: float
    scale: str


@dataclass(frozen=True)
class Moment:
    valence: int
    start_s: float
    end_s: float
    #: Summed confidence of the cues of this valence in the window.
    score: float
    #: (cue, count) of this valence in the window, most frequent first.
    cues: tuple[tuple[str, int], ...]
    #: The plain words of the suggestions shown in the window.
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrendPoint:
    session_id: int
    started_at: float
    measures: Measures


@dataclass(frozen=True)
class SessionSummary:
    session: SessionRow
    duration_s: float
    timeline: tuple[TimelinePoint, ...]
    per_cue: tuple[tuple[str, int], ...]
    per_region: tuple[tuple[str, int], ...]
    negative_moments: tuple[Moment, ...]
    positive_moments: tuple[Moment, ...]
    suggestions: tuple[SuggestionRecord, ...]
    measures: Measures
    #: This session and up to ``TREND_SESSIONS - 1`` before it, oldest first.
    trend: tuple[TrendPoint, ...]
    #: The "Your own face" part; None when the session has no self-coaching notes (no vcam).
    own: SelfSummary | None = None
    #: Ids of suggestions made from a movement's early sign that its end did not bear out (withdrawn).
    unconfirmed: frozenset[int] = frozenset()

    def trend_of(self, measure: str) -> str | None:
        """ "up", "down" or "steady" against the average of the earlier sessions; None without a comparison."""
        if not self.trend:
            return None
        *earlier, current = (getattr(p.measures, measure) for p in self.trend)
        before = [v for v in earlier if v is not None]
        if current is None or not before:
            return None
        mean = sum(before) / len(before)
        steady = _STEADY_RELATIVE * abs(mean) if measure == "detections_per_minute" else _STEADY_RATE
        if abs(current - mean) <= steady:
            return "steady"
        return "up" if current > mean else "down"


def find_moments(
    cues: Sequence[CueRecord],
    suggestions: Sequence[SuggestionRecord],
    sign: int,
    *,
    window_s: float = MOMENT_WINDOW_S,
    top: int = TOP_MOMENTS,
    until: float | None = None,
) -> tuple[Moment, ...]:
    """The best ``top`` non-overlapping windows of cues of valence ``sign``, best first; ``until`` (the end of
    the session) cuts the last window short, for display."""
    chosen = [c for c in sorted(cues, key=lambda c: c.apex_s) if valence(c.cue) == sign]
    candidates = []
    for first in chosen:
        inside = [c for c in chosen if first.apex_s <= c.apex_s < first.apex_s + window_s]
        candidates.append((sum(c.confidence for c in inside), first.apex_s, inside))
    candidates.sort(key=lambda item: (-item[0], item[1]))
    picked: list[Moment] = []
    for score, start, inside in candidates:
        if len(picked) >= top:
            break
        if any(start < m.start_s + window_s and m.start_s < start + window_s for m in picked):
            continue
        said = tuple(s.plain for s in suggestions if start <= s.t_s < start + window_s)
        counts = tuple(Counter(c.cue for c in inside).most_common())
        end = start + window_s if until is None else max(start, min(start + window_s, until))
        picked.append(Moment(sign, start, end, round(score, 3), counts, said))
    return tuple(picked)


def unconfirmed_suggestions(cues: Sequence[CueRecord], suggestions: Sequence[SuggestionRecord]) -> frozenset[int]:
    """Suggestions no final cue stands behind: made from an early cue whose movement was then withdrawn.

    The store keeps final cues only, and the live runner matches an early cue to its final one by the same rule
    (``callcoach.live.advice.EarlyAdvice``): same face, same name, the final's span covering the early apex. A
    suggestion made from a final cue is dated at its end (or apex), so it always has one.
    """

    def backed(g: SuggestionRecord) -> bool:
        return any(
            c.face == g.face
            and c.cue == g.cue
            and c.onset_s - 1e-6 <= g.t_s <= (c.offset_s if c.offset_s is not None else c.apex_s) + 1e-6
            for c in cues
        )

    return frozenset(g.id for g in suggestions if not backed(g))


def _counts(names: Sequence[str], order: Sequence[str]) -> tuple[tuple[str, int], ...]:
    counter = Counter(names)
    rank = {name: i for i, name in enumerate(order)}
    return tuple(sorted(counter.items(), key=lambda kv: (-kv[1], rank.get(kv[0], len(rank)), kv[0])))


def _measures_for(store: SessionStore, row: SessionRow) -> Measures:
    return coaching_measures(row.duration_s(), row.cues, store.suggestions(row.id))


def build_summary(
    store: SessionStore, session_id: int | None = None, *, trend_sessions: int = TREND_SESSIONS
) -> SessionSummary:
    """The summary of one session (default: the newest). Raises ``StoreError`` when there is none."""
    if session_id is None:
        last = store.last_session()
        if last is None:
            raise StoreError("no sessions yet: 'callcoach live' keeps one per run (unless --no-record-session)")
        session_id = last.id
    row = store.session(session_id)
    cues = store.cue_events(session_id)
    suggestions = store.suggestions(session_id)
    own = store.self_notes(session_id)
    last_t = max([c.offset_s or c.apex_s for c in cues] + [s.t_s for s in suggestions] + [n.t_s for n in own] + [0.0])
    duration = max(row.duration_s(), last_t)
    timeline = tuple(
        TimelinePoint(c.apex_s, c.cue, REGION.get(c.cue, "face"), valence(c.cue), c.confidence, c.scale) for c in cues
    )
    regions = list(dict.fromkeys(REGION.values()))
    earlier = [r for r in store.sessions(limit=trend_sessions, up_to=session_id) if r.id != session_id]
    earlier = list(reversed(earlier[: trend_sessions - 1]))
    trend = tuple(TrendPoint(r.id, r.started_at, _measures_for(store, r)) for r in earlier)
    measures = coaching_measures(duration, len(cues), suggestions)
    return SessionSummary(
        session=row,
        duration_s=duration,
        timeline=timeline,
        per_cue=_counts([c.cue for c in cues], CUE_NAMES),
        per_region=_counts([REGION.get(c.cue, "face") for c in cues], regions),
        negative_moments=find_moments(cues, suggestions, -1, until=duration),
        positive_moments=find_moments(cues, suggestions, 1, until=duration),
        suggestions=tuple(suggestions),
        measures=measures,
        trend=(*trend, TrendPoint(row.id, row.started_at, measures)),
        own=build_self_summary(own),
        unconfirmed=unconfirmed_suggestions(cues, suggestions),
    )
