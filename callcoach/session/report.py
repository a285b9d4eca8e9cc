"""Renderers for a ``SessionSummary``: the terminal (rich), Markdown, and one self-contained HTML file.

The HTML carries everything inline (CSS, the timeline chart as a base64 PNG drawn with matplotlib's Agg
canvas, no script, no external URL), so it can be opened anywhere, mailed to oneself or archived, and it
never reaches out to the network. Every string that came from a playbook, a window title or a self-coaching
note is escaped, in the HTML and in the Markdown (``md_text``). The "Your own face" tables (``self_summary``)
come last, quieter, and only when the session has self-coaching notes, so a session without them renders
exactly as before.
"""

from __future__ import annotations

import base64
import html
import io
import re
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

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
CHART_KEY = (
    "Each dot is one cue, larger when the detector was surer. Triangles along the top are the suggestions "
    "shown: green if you marked them helped, red if misread, grey if unmarked; an outline only if not "
    "confirmed. Shaded bands are the moments listed below."
)
OWN_CHART_KEY = (
    "The bottom row is your own face: a cross where one of your own cues may have shown, a ring for "
    "each mirror check (green if you smiled back, red if not)."
)
WITHHELD = "(not shown: the line breaks callcoach's wording rules)"
UNCONFIRMED_TAG = "(not confirmed) "
UNCONFIRMED_NOTE = (
    "(not confirmed): the suggestion came from a movement's first sign, and no final cue of that name was "
    "kept for it (the movement was withdrawn, or the session ended first); take it as a weaker guess."
)
COLORS = {1: "#2e8b57", -1: "#c0392b", 0: "#7f8c8d"}
MARK_COLORS = {"helped": "#2e8b57", "misread": "#c0392b", None: "#95a5a6"}
#: The user's own notes on the chart: leaks as grey crosses, mirror checks as rings (met green, missed red).
OWN_MARKERS = {"leak": ("x", "#7f8c8d"), "mirror_met": ("o", "#2e8b57"), "mirror_missed": ("o", "#c0392b")}


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


# --- terminal --------------------------------------------------------------------------------------------


def rich_table(section: Section) -> Table:
    table = Table(
        title=section.title,
        title_justify="left",
        title_style="bold dim" if section.quiet else "bold",
        border_style="dim" if section.quiet else None,
        caption=section.note or None,
        caption_justify="left",
        caption_style="dim",
    )
    for h in section.headers:
        table.add_column(h, overflow="fold")
    for row in section.rows or (("none",) + ("",) * (len(section.headers) - 1),):
        table.add_row(*(Text(x) for x in row))  # Text: a '[' in a playbook line is not rich markup
    return table


class _TextTimeline:
    """The text timeline, as wide as the terminal allows."""

    def __init__(self, summary: SessionSummary) -> None:
        self.summary = summary

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        pad = max((len(label(c)) for c, _ in self.summary.per_cue), default=0)
        width = max(10, min(80, options.max_width - pad - 3))
        yield Text("\n".join(text_timeline(self.summary, width)), no_wrap=True, overflow="crop")


def terminal_timeline(s: SessionSummary) -> RenderableType:
    return _TextTimeline(s)


def terminal_renderable(s: SessionSummary) -> RenderableType:
    first, *rest = sections(s)
    parts: list[RenderableType] = [Text(headline(s), style="bold"), Text(NOTE, style="dim"), rich_table(first)]
    if s.timeline:
        parts += [Text("Timeline (minutes into the call)", style="bold"), _TextTimeline(s)]
    parts += [rich_table(section) for section in rest]
    return Group(*parts)


def print_terminal(s: SessionSummary, console: Console | None = None) -> None:
    (console or Console()).print(terminal_renderable(s))


# --- Markdown --------------------------------------------------------------------------------------------


# Characters that start Markdown (CommonMark and GitHub's tables, strikethrough and autolinks) inside a line. An
# underscore inside a word emphasises nothing, so cue names such as micro_frown stay as they are.
_MD_SPECIAL = re.compile(r"[\\`*\[\]#|~!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_MD_HTML = {"<": "&lt;", ">": "&gt;"}


def md_text(value: str) -> str:
    """Text a user controls (a window title, a playbook line, a note), made inert in Markdown: one line, every
    character that could open a heading, link, image, emphasis, code span, HTML tag or table cell escaped, and
    bare web addresses no longer turned into links."""
    text = " ".join(value.split())
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    text = re.sub(r"&(?=#?\w+;)", "&amp;", text)  # before "<" becomes "&lt;"
    text = re.sub(r"[<>]", lambda m: _MD_HTML[m.group(0)], text)
    # GitHub links "www." and "scheme://" on its own; an escaped slash or dot reads the same and links nothing.
    text = text.replace("://", ":\\/\\/")
    return re.sub(r"(?i)\bwww\.", lambda m: m.group(0)[:-1] + "\\.", text)


def _md_table(section: Section) -> list[str]:
    lines = [
        f"## {md_text(section.title)}",
        "",
        *([f"*{md_text(section.note)}*", ""] if section.note else []),
        "| " + " | ".join(md_text(h) for h in section.headers) + " |",
        "|" + "---|" * len(section.headers),
    ]
    lines += ["| " + " | ".join(md_text(x) for x in r) + " |" for r in section.rows]
    return lines + ([] if section.rows else ["", "none"]) + [""]


def _fence(lines: list[str]) -> str:
    """A code fence longer than any run of backticks inside, so nothing in it can close it early."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def render_markdown(s: SessionSummary) -> str:
    first, *rest = sections(s)
    out = [f"# {md_text(headline(s))}", "", f"*{md_text(NOTE)}*", "", *_md_table(first)]
    if s.timeline:
        timeline = text_timeline(s)
        fence = _fence(timeline)
        out += ["## Timeline", "", fence, *timeline, fence, ""]
    for section in rest:
        out += _md_table(section)
    return "\n".join(out)


# --- HTML ------------------------------------------------------------------------------------------------


def chart_axis(s: SessionSummary) -> tuple[float, str, float]:
    """(seconds per unit, unit name, length in units) of the chart's time axis: it fits the session, in seconds
    for a short one (a 10 s session is not drawn on a minute), else in minutes."""
    own_times = [n.t_s for n in s.own.notes] if s.own is not None else []
    seconds = max(s.duration_s, max([p.t_s for p in s.timeline] + [g.t_s for g in s.suggestions] + own_times + [1.0]))
    unit, name = (1.0, "seconds") if seconds < 120 else (60.0, "minutes")
    return unit, name, seconds / unit


def timeline_png(s: SessionSummary) -> bytes:
    """The timeline chart: one row per cue, a dot per detection (size: confidence, colour: reading), the
    suggestions along the top coloured by the user's mark, and the top moments shaded."""
    from callcoach.privacy.scratch import contained_caches

    with contained_caches():  # matplotlib's font cache: a scratch folder, not ~/.cache
        from matplotlib.backends.backend_agg import FigureCanvasAgg  # Agg only: no display, no global pyplot
        from matplotlib.figure import Figure

    names = [c for c, _ in sorted(s.per_cue, key=lambda kv: -valence(kv[0]))]
    rows = {name: i + 1 for i, name in enumerate(reversed(names))}
    top = len(names) + 1
    fig = Figure(figsize=(10, 1.8 + 0.4 * top), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    unit, unit_name, span = chart_axis(s)
    for moment in s.negative_moments + s.positive_moments:
        ax.axvspan(moment.start_s / unit, moment.end_s / unit, color=COLORS[moment.valence], alpha=0.12, lw=0)
    for p in s.timeline:
        ax.scatter(
            p.t_s / unit,
            rows[p.cue],
            s=40 + 160 * p.confidence,
            color=COLORS[p.valence],
            alpha=0.85,
            edgecolors="white",
            linewidths=0.5,
        )
    for g in s.suggestions:
        color = MARK_COLORS.get(g.mark, MARK_COLORS[None])
        hollow = g.id in s.unconfirmed  # an outline only: its movement was withdrawn
        ax.scatter(g.t_s / unit, top, marker="v", s=90, color=color, facecolors="none" if hollow else color)
    ticks, names_shown = [*rows.values(), top], [*(label(n) for n in rows), "suggestions shown"]
    if s.own is not None:  # a row of its own under the other person's cues
        for kind, (marker, color) in OWN_MARKERS.items():
            times = [n.t_s / unit for n in s.own.notes if n.kind == kind]
            if times:
                ax.scatter(
                    times,
                    [0] * len(times),
                    marker=marker,
                    s=70,
                    linewidths=1.5,
                    color=color,
                    facecolors="none" if marker == "o" else color,
                )
        ticks, names_shown = [0, *ticks], ["your own face", *names_shown]
    ax.set_yticks(ticks, names_shown)
    ax.set_ylim(-0.6 if s.own is not None else 0.4, top + 0.6)
    ax.set_xlim(-0.02 * span, 1.02 * span)  # dots at the very start or end stay whole
    ax.set_xlabel(f"{unit_name} into the call")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Cues over the call (guesses; green leans positive, red negative, grey neutral)", fontsize=10)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;max-width:60rem;margin:2rem auto;
padding:0 1rem}h1{font-size:1.35rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
.note{color:#555;font-style:italic}table{border-collapse:collapse;margin:.5rem 0;width:100%}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f4f4f4}
td:first-child{white-space:nowrap}
img.chart{max-width:100%;height:auto;border:1px solid #eee}.positive{color:#2e8b57}.negative{color:#c0392b}
"""


def _html_table(section: Section) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in section.headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in r) + "</tr>" for r in section.rows)
    if not section.rows:
        body = f"<tr><td colspan='{len(section.headers)}'>none</td></tr>"
    quiet = ' class="quiet" style="color:#555"' if section.quiet else ""
    table = f'<table id="{section.id}"{quiet}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    note = f"<p class='note'>{html.escape(section.note)}</p>" if section.note else ""
    return f"<h2>{html.escape(section.title)}</h2>{note}{table}"


def render_html(s: SessionSummary) -> str:
    title = html.escape(headline(s))
    first, *rest = sections(s)
    png = base64.b64encode(timeline_png(s)).decode("ascii")
    alt = html.escape(
        f"Timeline chart of {len(s.timeline)} cues and {len(s.suggestions)} suggestions over {clock(s.duration_s)}"
    )
    return "\n".join(
        [
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{title}</h1>",
            f"<p class='note'>{html.escape(NOTE)}</p>",
            _html_table(first),
            "<h2>Timeline</h2>",
            f'<img id="timeline-chart" class="chart" alt="{alt}" src="data:image/png;base64,{png}">',
            f"<p class='note'>{html.escape(CHART_KEY if s.own is None else CHART_KEY + ' ' + OWN_CHART_KEY)}</p>",
            *(_html_table(section) for section in rest),
            "</body></html>",
        ]
    )
