"""Renderers for a ``SessionSummary``: the terminal (rich), Markdown, and one self-contained HTML file.

Every string that came from a playbook, a window title or a self-coaching note is escaped, in the HTML and in
the Markdown (``md_text``). The "Your own face" tables (``self_summary``) come last, quieter, and only when the
session has self-coaching notes, so a session without them renders exactly as before.

The tables every renderer shows are built in ``_sections`` and the HTML (everything inline, nothing fetched
from the network) in ``_html``, so that each module stays within the project's size bound; both are
re-exported here because callers and tests import every renderer from this module. The terminal and Markdown
renderers are below.
"""

from __future__ import annotations

import re

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from callcoach.session._html import CHART_KEY as CHART_KEY
from callcoach.session._html import COLORS as COLORS
from callcoach.session._html import MARK_COLORS as MARK_COLORS
from callcoach.session._html import OWN_CHART_KEY as OWN_CHART_KEY
from callcoach.session._html import OWN_MARKERS as OWN_MARKERS
from callcoach.session._html import chart_axis as chart_axis
from callcoach.session._html import render_html as render_html
from callcoach.session._html import timeline_png as timeline_png
from callcoach.session._sections import NOTE as NOTE
from callcoach.session._sections import UNCONFIRMED_NOTE as UNCONFIRMED_NOTE
from callcoach.session._sections import UNCONFIRMED_TAG as UNCONFIRMED_TAG
from callcoach.session._sections import WITHHELD as WITHHELD
from callcoach.session._sections import Section as Section
from callcoach.session._sections import clock as clock
from callcoach.session._sections import headline as headline
from callcoach.session._sections import measure_rows as measure_rows
from callcoach.session._sections import moment_text as moment_text
from callcoach.session._sections import own_sections as own_sections
from callcoach.session._sections import percent as percent
from callcoach.session._sections import sections as sections
from callcoach.session._sections import short_name as short_name
from callcoach.session._sections import shown as shown
from callcoach.session._sections import text_timeline as text_timeline
from callcoach.session._sections import trend_text as trend_text
from callcoach.session._sections import when as when
from callcoach.session.summary import SessionSummary, label

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
