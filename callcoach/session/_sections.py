"""What every rendering of a ``SessionSummary`` shows: the headline, the coaching measures, the tables in
reading order (``Section``, ``sections``) and the small text helpers they share.

Kept apart from ``report`` (which re-exports all of it) so that each module stays within the project's size
bound and the terminal, Markdown and HTML renderers all build on the one set of tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callcoach.playbook.wording import first_refusal
from callcoach.session import self_summary
from callcoach.session.summary import (
    MEASURE_LABELS,
    VALENCE_WORDS,
    Measures,
    Moment,
    SessionSummary,
    label,
    valence,
)

NOTE = (
    "Cues are guesses about brief facial movements, never verdicts about anyone. callcoach is not a lie "
    "detector and makes no medical claim. Use this to reflect on your own approach."
)
WITHHELD = "(not shown: the line breaks callcoach's wording rules)"
UNCONFIRMED_TAG = "(not confirmed) "
UNCONFIRMED_NOTE = (
    "(not confirmed): the suggestion came from a movement's first sign, and no final cue of that name was "
    "kept for it (the movement was withdrawn, or the session ended first); take it as a weaker guess."
)


def clock(t_s: float) -> str:
    minutes, seconds = divmod(int(max(0.0, t_s)), 60)
    return f"{minutes}:{seconds:02d}"


def when(epoch: float | None) -> str:
    return "-" if epoch is None else datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")


def percent(rate: float | None, part: int | None = None, whole: int | None = None) -> str:
    if rate is None:
        return "n/a"
    text = f"{rate:.0%}"
    return f"{text} ({part} of {whole})" if part is not None and whole else text


def measure_rows(m: Measures) -> list[tuple[str, str, str]]:
    """(key, label, value) for each coaching measure, as every renderer shows them."""
    dpm = "n/a" if m.detections_per_minute is None else f"{m.detections_per_minute:.1f} ({m.cues} cues)"
    return [
        ("detections_per_minute", MEASURE_LABELS["detections_per_minute"], dpm),
        (
            "approach_success_rate",
            MEASURE_LABELS["approach_success_rate"],
            percent(m.approach_success_rate, m.helped, m.marked),
        ),
        (
            "false_positive_rate",
            MEASURE_LABELS["false_positive_rate"],
            percent(m.false_positive_rate, m.misread, m.marked),
        ),
        (
            "repair_success_rate",
            MEASURE_LABELS["repair_success_rate"],
            percent(m.repair_success_rate, m.repaired, m.repairs_possible),
        ),
    ]


def short_name(kind: str, name: str, limit: int = 40) -> str:
    """A source name fit for a title: a file's own name rather than its path, long window titles cut."""
    if kind in ("video", "images", "image"):
        name = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    elif name.startswith(kind + " "):  # window sources call themselves "window 'Title'"
        name = name[len(kind) + 1 :].strip("'\"")
    return name if len(name) <= limit else name[: limit - 1] + "…"


#: Which way is an improvement; more detections per minute is neither better nor worse.
_BETTER = {"approach_success_rate": "up", "false_positive_rate": "down", "repair_success_rate": "up"}


def trend_text(s: SessionSummary, key: str) -> str:
    direction = s.trend_of(key)
    if direction is None:
        return "-"
    if direction == "steady" or key not in _BETTER:
        return direction
    return f"{direction} ({'better' if direction == _BETTER[key] else 'worse'})"


def headline(s: SessionSummary) -> str:
    row = s.session
    return (
        f"Session {row.id} · {when(row.started_at)} · {clock(s.duration_s)} long · {row.source_kind} "
        f"'{short_name(row.source_kind, row.source_name)}' · context {row.context} · {row.status}"
    )


def moment_text(m: Moment) -> str:
    cues = ", ".join(f"{label(c)} ×{n}" for c, n in m.cues)
    return f"{clock(m.start_s)}–{clock(m.end_s)}: {cues}"


def text_timeline(s: SessionSummary, width: int = 60) -> list[str]:
    """One row per cue seen: a character per time slice, '·' none, '▪' one, '■' several."""
    if not s.timeline:
        return []
    span = max(s.duration_s, max(p.t_s for p in s.timeline), 1.0)
    names = [c for c, _ in sorted(s.per_cue, key=lambda kv: -valence(kv[0]))]
    pad = max(len(label(c)) for c in names)
    lines = []
    for name in names:
        cells = [0] * width
        for p in s.timeline:
            if p.cue == name:
                cells[min(width - 1, int(p.t_s / span * width))] += 1
        strip = "".join("·" if n == 0 else "▪" if n == 1 else "■" for n in cells)
        lines.append(f"{label(name):<{pad}} |{strip}|")
    lines.append(f"{'':<{pad}}  0:00{clock(span):>{width - 4}}")
    return lines


# --- the tables every renderer shows ----------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    #: A line under the title; and whether to show the table quieter (the user's own notes).
    note: str = ""
    quiet: bool = False


def _trend_rows(s: SessionSummary) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for p in s.trend:
        m = p.measures
        dpm = "n/a" if m.detections_per_minute is None else f"{m.detections_per_minute:.1f}"
        rows.append(
            (
                str(p.session_id),
                when(p.started_at),
                dpm,
                percent(m.approach_success_rate),
                percent(m.false_positive_rate),
                percent(m.repair_success_rate),
            )
        )
    return rows


def shown(text: str) -> str:
    """A stored playbook line as the report shows it: a session kept before the wording guard (or with an older
    playbook) may hold a line the guard now refuses, and the report does not repeat it."""
    return text if first_refusal(text, spoken=True) is None else WITHHELD


def sections(s: SessionSummary) -> list[Section]:
    """The report's tables in reading order, the timeline chart going after the first."""

    def moments(items: tuple[Moment, ...]) -> tuple[tuple[str, ...], ...]:
        return tuple(
            (
                f"{clock(m.start_s)}–{clock(m.end_s)}",
                moment_text(m).split(": ", 1)[1],
                "; ".join(shown(x) for x in m.suggestions) or "-",
            )
            for m in items
        )

    return [
        Section(
            "measures",
            "Coaching measures",
            ("measure", "this session", "trend"),
            tuple((lbl, value, trend_text(s, key)) for key, lbl, value in measure_rows(s.measures)),
        ),
        Section(
            "cues",
            "Cues",
            ("cue", "in plain words", "reading", "count"),
            tuple((c, label(c), VALENCE_WORDS[valence(c)], str(n)) for c, n in s.per_cue),
        ),
        Section("regions", "By region", ("region", "count"), tuple((r, str(n)) for r, n in s.per_region)),
        Section(
            "negative-moments",
            "Moments with the most negative-leaning cues",
            ("when", "cues", "suggested then"),
            moments(s.negative_moments),
        ),
        Section(
            "positive-moments",
            "Moments with the most positive-leaning cues",
            ("when", "cues", "suggested then"),
            moments(s.positive_moments),
        ),
        Section(
            "suggestions",
            "Suggestions shown and your marks",
            ("at", "cue", "suggestion", "move", "mark"),
            tuple(
                (
                    clock(g.t_s),
                    g.cue,
                    (UNCONFIRMED_TAG if g.id in s.unconfirmed else "") + shown(g.plain),
                    ("(say nothing) " if g.say_nothing else "") + shown(g.move),
                    g.mark or "-",
                )
                for g in s.suggestions
            ),
            note=UNCONFIRMED_NOTE if s.unconfirmed else "",
        ),
        Section(
            "trend",
            "Trend over the last sessions",
            ("session", "started", "det./min", "approach", "false pos.", "repair"),
            tuple(_trend_rows(s)),
        ),
        *own_sections(s),
    ]


def own_sections(s: SessionSummary) -> list[Section]:
    """The "Your own face" tables; none for a session without self-coaching notes."""
    own = s.own
    if own is None:
        return []
    title = self_summary.TITLE
    return [
        Section(
            "own-overview",
            f"{title}: overview",
            ("measure", "this session"),
            self_summary.overview_rows(own),
            note=self_summary.NOTE,
            quiet=True,
        ),
        Section(
            "own-cues",
            f"{title}: cues that may have shown",
            ("cue", "in plain words", "count", "while the other person talked"),
            self_summary.leak_rows(own),
            quiet=True,
        ),
        Section(
            "own-notes",
            f"{title}: notes over the call",
            ("at", "about", "note shown"),
            self_summary.note_rows(own, clock),
            quiet=True,
        ),
    ]
