"""The Markdown report keeps text that users control (window titles, playbook lines, notes) as plain text: no
heading, link, image, HTML, code span or extra table cell can be smuggled in through it."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pytest
from session_fakes import T0, data_dir, leak, make_session, suggestion

from callcoach.playbook.guardrails import forbidden_claims
from callcoach.session.report import WITHHELD, _fence, md_text, render_html, render_markdown
from callcoach.session.store import SessionStore
from callcoach.session.summary import build_summary

__all__ = ["data_dir"]
markdown_it = pytest.importorskip("markdown_it")  # comes with rich

HOSTILE = [
    "# h",
    "[x](javascript:alert(1))",
    "![img](https://example.invalid/p.png)",
    "<script>alert(1)</script>",
    "a | b | c",
    "``code`` and `more`",
    "line one\n# line two\n\n- item",
    "*bold* _em_ ~~gone~~",
    "see http://example.invalid and www.example.invalid",
    "&lt;b&gt; &#60;i&#62;",
    "ends with a backslash \\",
    "<https://example.invalid>",
]


def render(text: str) -> str:
    """Markdown to HTML the way a viewer shows it: CommonMark with raw HTML, GitHub's tables, strikethrough."""
    return str(markdown_it.MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(text))


def visible(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


@pytest.mark.parametrize("text", HOSTILE)
def test_md_text_shows_the_words_and_nothing_else(text: str) -> None:
    out = render(f"# {md_text(text)}\n\n| a |\n|---|\n| {md_text(text)} |\n")
    assert out.count("<h1>") == 1 and "<h2>" not in out and "<ul>" not in out
    for tag in ("<a ", "<img", "<script", "<code", "<em>", "<strong>", "<s>", "<del>", "<b>", "<i>"):
        assert tag not in out, (text, out)
    cells = re.findall(r"<td>(.*?)</td>", out, re.S)
    assert len(cells) == 1, (text, out)  # the pipes stayed inside the one cell
    title = re.search(r"<h1>(.*?)</h1>", out, re.S)
    assert title is not None
    assert visible(title.group(1)) == visible(cells[0]) == " ".join(text.split())  # reads as written


def test_report_with_a_hostile_window_title_and_playbook_lines(data_dir: Path) -> None:
    # The headline cuts a title at 40 characters: the hostile part comes first.
    title = "<script>x</script>|[x](javascript:1)\n## fake `rm -rf`"
    with SessionStore() as store:
        sid = make_session(
            store,
            source_name=title,
            cues=[(10.0, "micro_frown", 0.6)],
            self_notes=[dataclasses.replace(leak(12.0, "micro_frown"), message="<b>you</b> | `x`")],
        )
        hostile = dataclasses.replace(
            suggestion(11.0, "micro_frown"),
            plain="maybe | [doubt](http://x.invalid)",
            move="Ask: `what` <i>now</i>?\n# not a heading",
        )
        with store.transaction() as conn:
            store.insert_suggestion(conn, sid, hostile, T0 + 11.0)
        md = render_markdown(build_summary(store, sid))
    out = render(md)
    assert out.count("<h1>") == 1 and "fake</h" not in out and "not a heading</h" not in out
    for tag in ("<a ", "<script", "<code>rm", "<code>what", "<code>x", "<b>", "<i>"):
        assert tag not in out, tag
    assert "<script>x</script>|[x](javascript:1)" in visible(out)
    assert "<b>you</b> | `x`" in visible(out) and "Ask: `what` <i>now</i>? # not a heading" in visible(out)
    # Every table row has as many cells as its header.
    for table in re.findall(r"<table>(.*?)</table>", out, re.S):
        heads = len(re.findall(r"<th[ >]", table))
        body = "".join(re.findall(r"<tbody>.*?</tbody>", table, re.S))  # none in an empty section
        for row in body.split("</tr>")[:-1]:
            assert len(re.findall(r"<td[ >]", row)) == heads, row
    suggestions = re.search(r"Suggestions shown and your marks</h2>(.*?)</table>", out, re.S)
    assert suggestions is not None and "maybe | [doubt](http://x.invalid)" in visible(suggestions.group(1))
    assert "micro_frown" in md  # cue names stay readable in the Markdown source


def test_the_timeline_fence_cannot_be_closed_from_inside() -> None:
    """The timeline's labels come from the store; a label full of backticks must not end its code block."""
    lines = ["``` |·▪·|", "a ```` b |■··|"]
    fence = _fence(lines)
    assert fence == "`````"
    out = render("\n".join([fence, *lines, fence, "", "# after"]))
    assert out.count("<pre>") == 1 and "<h1>after</h1>" in out and "a ```` b" in html.unescape(out)
    assert _fence(["micro_frown |·▪·|"]) == "```"


def test_a_stored_line_the_guard_now_refuses_is_not_repeated(data_dir: Path) -> None:
    """A session kept with an older playbook may hold a line the wording guard refuses today."""
    with SessionStore() as store:
        sid = make_session(store, cues=[(10.0, "micro_frown", 0.6)])
        old = dataclasses.replace(
            suggestion(11.0, "micro_frown"), plain="Maybe they are lying.", move="Say: “You look upset.”"
        )
        with store.transaction() as conn:
            store.insert_suggestion(conn, sid, old, T0 + 11.0)
        summary = build_summary(store, sid)
    md = render_markdown(summary)
    assert "lying" not in md and "You look upset" not in md
    # In the suggestions table (the plain words and the move) and in the moment it belongs to.
    assert md.count(md_text(WITHHELD)) == 3 and forbidden_claims(md) == []
    html_text = render_html(summary)
    assert "lying" not in html_text and "You look upset" not in html_text
