"""The self-contained HTML rendering of a ``SessionSummary`` and its timeline chart.

The HTML carries everything inline (CSS, the timeline chart as a base64 PNG drawn with matplotlib's Agg
canvas, no script, no external URL), so it can be opened anywhere, mailed to oneself or archived, and it
never reaches out to the network. Every string that came from a playbook, a window title or a self-coaching
note is escaped.

Kept apart from ``report`` (which re-exports it) so that each module stays within the project's size bound;
it is also the only renderer that loads matplotlib.
"""

from __future__ import annotations

import base64
import html
import io

from callcoach.session._sections import NOTE, Section, clock, headline, sections
from callcoach.session.summary import SessionSummary, label, valence

CHART_KEY = (
    "Each dot is one cue, larger when the detector was surer. Triangles along the top are the suggestions "
    "shown: green if you marked them helped, red if misread, grey if unmarked; an outline only if not "
    "confirmed. Shaded bands are the moments listed below."
)
OWN_CHART_KEY = (
    "The bottom row is your own face: a cross where one of your own cues may have shown, a ring for "
    "each mirror check (green if you smiled back, red if not)."
)
COLORS = {1: "#2e8b57", -1: "#c0392b", 0: "#7f8c8d"}
MARK_COLORS = {"helped": "#2e8b57", "misread": "#c0392b", None: "#95a5a6"}
#: The user's own notes on the chart: leaks as grey crosses, mirror checks as rings (met green, missed red).
OWN_MARKERS = {"leak": ("x", "#7f8c8d"), "mirror_met": ("o", "#2e8b57"), "mirror_missed": ("o", "#c0392b")}


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
