"""Practice progress in the terminal (rich) and as one self-contained HTML page (inline SVG chart, no script,
no external URL). Weekly accuracy is drawn as bars (terminal) or a line (HTML) with the targets as goal lines."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from callcoach.practice.plan import PLAN_DAYS, Today
from callcoach.practice.stats import TARGETS, Progress, target_for

PLAN_WEEKS = (PLAN_DAYS + 6) // 7
NOTE = (
    "Practice measures how well you name expressions flashed on a screen; it says nothing about what any "
    "person feels. The targets are the training method's own milestones, not a norm."
)


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def ms(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0f} ms"


def _rows(p: Progress) -> list[tuple[str, str]]:
    return [
        ("trials", str(p.trials)),
        ("accuracy", pct(p.accuracy)),
        ("false-positive rate (named an expression when none was shown)", pct(p.false_positive_rate)),
        ("shortest flash read reliably (70% of 5 or more)", ms(p.shortest_reliable_ms)),
        ("mean reaction time", ms(p.mean_rt_ms)),
        ("live calls: approach success rate (helped / marked)", pct(p.live.approach_success_rate)),
        ("live calls: false-positive rate (misread / marked)", pct(p.live.false_positive_rate)),
        ("live calls: repair success rate", pct(p.live.repair_success_rate)),
    ]


def weekly_chart(p: Progress, width: int = 40) -> list[str]:
    """One bar per week, 0..100%; '|' marks the target in force that week (none before week 2)."""
    lines = []
    for w in p.weeks:
        acc = w.accuracy or 0.0
        cells = [" "] * width
        filled = round(acc * width)
        for i in range(filled):
            cells[i] = "█"
        target = target_for(w.week)
        if target is not None:
            at = min(width - 1, round(target * width))
            cells[at] = "┃" if at >= filled else "╋"
        lines.append(f"week {w.week:>2} {''.join(cells)} {pct(w.accuracy):>4}  ({w.trials} trials)")
    return lines


def progress_renderable(p: Progress) -> RenderableType:
    if p.trials == 0:
        return Text("No practice yet: try 'callcoach practice recognize --trials 20'.")
    head = Text(f"Practice progress, day {p.day} of the {PLAN_DAYS}-day plan", style="bold")
    table = Table(show_header=False)
    for k, v in _rows(p):
        table.add_row(k, v)
    weeks = Table(title="By week", title_justify="left")
    for h in ("week", "trials", "accuracy", "target", "false positives", "shortest reliable", "reaction time"):
        weeks.add_column(h)
    for w in p.weeks:
        weeks.add_row(
            str(w.week),
            str(w.trials),
            pct(w.accuracy),
            pct(w.target),
            pct(w.false_positive_rate),
            ms(w.shortest_reliable_ms),
            ms(w.mean_rt_ms),
        )
    goals = ", ".join(f"{a:.0%} by week {wk}" for wk, a in TARGETS)
    chart = Text("\n".join(weekly_chart(p)), no_wrap=True)
    return Group(
        head,
        Text(NOTE, style="dim"),
        table,
        Text(f"Accuracy by week (┃ = target: {goals})", style="bold"),
        chart,
        weeks,
    )


def print_progress(p: Progress, console: Console | None = None) -> None:
    (console or Console()).print(progress_renderable(p))


def print_plan(t: Today, p: Progress, console: Console | None = None) -> None:
    console = console or Console()
    if p.first_day is None:
        console.print("You have not practised yet; today is day 1 of the plan.")
    if t.phase is None:
        console.print(
            f"Day {t.day}: the {PLAN_DAYS}-day plan is done. Keep a weekly timed test and review "
            "'callcoach practice stats'."
        )
        return
    ph = t.phase
    console.print(
        Text(
            f"Day {t.day} of {PLAN_DAYS} (week {t.week}), phase '{ph.name}' (days {ph.first_day}-{ph.last_day})",
            style="bold",
        )
    )
    console.print(Text(f"Aim: {ph.aim}"))
    table = Table("drill", "minutes", "command")
    for d in ph.drills:
        table.add_row(Text(d.what), str(d.minutes), Text(d.command or "-"))
    console.print(table)


# --- HTML ------------------------------------------------------------------------------------------------

_W, _H, _PAD = 640, 300, 48


def chart_svg(p: Progress) -> str:
    """Weekly accuracy as a blue line with dots; each target as a dashed orange goal line from its week on."""
    # The whole plan (60 days: 9 weeks) is on the axis, so the goal lines run on past the last target.
    last_week = max([w.week for w in p.weeks] + [PLAN_WEEKS])
    span_x = _W - 2 * _PAD

    def x(week: float) -> float:
        return _PAD + (week - 1) / max(1, last_week - 1) * span_x

    def y(rate: float) -> float:
        return _H - _PAD - rate * (_H - 2 * _PAD)

    parts = [
        f'<svg id="progress-chart" xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}" role="img" aria-label="accuracy by week against the targets">',
        f'<rect width="{_W}" height="{_H}" fill="#fff"/>',
    ]
    for r in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{_PAD}" x2="{_W - _PAD}" y1="{y(r):.1f}" y2="{y(r):.1f}" stroke="#ddd"/>'
            f'<text x="{_PAD - 6}" y="{y(r) + 4:.1f}" font-size="11" text-anchor="end">{r:.0%}</text>'
        )
    for wk in range(1, last_week + 1):
        parts.append(f'<text x="{x(wk):.1f}" y="{_H - _PAD + 16}" font-size="11" text-anchor="middle">{wk}</text>')
    parts.append(f'<text x="{_W / 2}" y="{_H - 10}" font-size="12" text-anchor="middle">week of practice</text>')
    for wk, a in TARGETS:
        parts.append(
            f'<line class="goal" x1="{x(wk):.1f}" x2="{_W - _PAD}" y1="{y(a):.1f}" y2="{y(a):.1f}" '
            f'stroke="#e67e22" stroke-width="3" stroke-dasharray="8 5"/>'
            f'<text x="{x(wk):.1f}" y="{y(a) - 6:.1f}" font-size="11" fill="#b35900">'
            f"target {a:.0%} by week {wk}</text>"
        )
    pts = [(x(w.week), y(w.accuracy)) for w in p.weeks if w.accuracy is not None]
    if len(pts) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1f6fd1" stroke-width="3"/>')
    for px, py in pts:
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="6" fill="#1f6fd1"/>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = (
    "body{font:15px/1.45 system-ui,sans-serif;color:#222;max-width:50rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ddd;padding:.3rem .5rem;"
    "text-align:left}th{background:#f4f4f4}.note{color:#555;font-style:italic}"
)


def _table(tid: str, headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table id="{tid}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render_html(p: Progress) -> str:
    started = "-" if p.first_day is None else datetime.fromtimestamp(p.first_day).strftime("%Y-%m-%d")
    title = "callcoach practice progress"
    weeks = [
        (
            str(w.week),
            str(w.trials),
            pct(w.accuracy),
            pct(w.target),
            pct(w.false_positive_rate),
            ms(w.shortest_reliable_ms),
            ms(w.mean_rt_ms),
        )
        for w in p.weeks
    ]
    return "\n".join(
        [
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{_CSS}</style></head><body>",
            f"<h1>{title}</h1><p>Started {html.escape(started)}; day {p.day or 1} of the {PLAN_DAYS}-day plan.</p>",
            f"<p class='note'>{html.escape(NOTE)}</p>",
            _table("kpis", ("measure", "value"), [(k, v) for k, v in _rows(p)]),
            "<h2>Accuracy by week</h2>",
            chart_svg(p),
            "<p class='note'>Blue: your accuracy each week. Dashed orange: the targets.</p>",
            _table(
                "weeks",
                ("week", "trials", "accuracy", "target", "false positives", "shortest reliable", "reaction time"),
                weeks,
            ),
            "</body></html>",
        ]
    )
