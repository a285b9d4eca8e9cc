"""The summary's numbers on a hand-made session, and its three renderings."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.console import Console
from session_fakes import SELF_NOTES, T0, data_dir, leak, make_session, mirror, standard_session

from callcoach.core.marks import SelfNote
from callcoach.playbook.guardrails import comments_on_their_face, forbidden_claims
from callcoach.session.report import print_terminal, render_html, render_markdown
from callcoach.session.schema import StoreError
from callcoach.session.store import SessionStore
from callcoach.session.summary import VALENCE, SessionSummary, build_summary, coaching_measures

__all__ = ["data_dir"]
DAY = 86400.0


@pytest.fixture
def store(data_dir: Path) -> SessionStore:
    return SessionStore()


def test_measures_on_the_hand_made_session(store: SessionStore) -> None:
    s = build_summary(store, standard_session(store))
    m = s.measures
    assert (m.cues, m.suggestions, m.marked, m.helped, m.misread) == (20, 8, 6, 3, 3)
    assert m.minutes == 10.0 and m.detections_per_minute == 2.0
    assert m.approach_success_rate == 0.5 and m.false_positive_rate == 0.5
    # misread at 3:25 -> helped two later (repaired); 6:41 -> misread, unmarked (not); 7:32 -> -, helped (repaired)
    assert (m.repairs_possible, m.repaired) == (3, 2) and m.repair_success_rate == pytest.approx(2 / 3)


def test_rates_are_none_not_zero_when_nothing_counts() -> None:
    m = coaching_measures(0.0, 0, [])
    assert m.detections_per_minute is None and m.approach_success_rate is None
    assert m.false_positive_rate is None and m.repair_success_rate is None


def test_counts_moments_and_timeline(store: SessionStore) -> None:
    s = build_summary(store, standard_session(store))
    assert dict(s.per_cue)["duchenne_smile"] == 4 and dict(s.per_cue)["lip_compression"] == 3
    assert s.per_region == (
        ("mouth", 6),
        ("mouth+eyes", 4),
        ("eyes", 4),
        ("brows", 2),
        ("brows+mouth", 2),
        ("nose", 1),
        ("brows+eyes", 1),
    )
    assert [m.start_s for m in s.negative_moments] == [200.0, 400.0, 300.0]
    worst = s.negative_moments[0]
    assert worst.score == pytest.approx(2.6) and dict(worst.cues) == {
        "lip_compression": 1,
        "micro_frown": 1,
        "unilateral_lip_pull": 1,
        "micro_anger": 1,
    }
    assert worst.suggestions == ("micro_frown at 205s, maybe",)
    assert [m.start_s for m in s.positive_moments] == [10.0, 500.0, 360.0]
    assert len(s.timeline) == 20 and s.timeline[0].valence == 1 and s.timeline[0].region == "mouth+eyes"


def test_valence_is_the_documented_one() -> None:
    assert {c for c, v in VALENCE.items() if v > 0} == {"duchenne_smile", "polite_smile"}
    assert {c for c, v in VALENCE.items() if v < 0} == {
        "unilateral_lip_pull",
        "micro_anger",
        "nose_wrinkle",
        "lip_compression",
        "micro_frown",
    }


def test_trend_compares_with_the_earlier_sessions_only(store: SessionStore) -> None:
    ten = [(30.0 * i + 5, "blink_cluster", 0.5) for i in range(10)]
    two_misreads = [(100.0, "micro_frown", "misread"), (200.0, "micro_frown", "misread")]
    for days in (2, 1):
        make_session(store, started_at=T0 - days * DAY, cues=ten, suggestions=two_misreads)
    current = standard_session(store)
    make_session(store, started_at=T0 + DAY, cues=ten)  # later: not part of this session's trend
    s = build_summary(store, current)
    assert [p.session_id for p in s.trend] == [1, 2, current]
    assert s.trend_of("detections_per_minute") == "up"  # 2.0 against 1.0
    assert s.trend_of("approach_success_rate") == "up"  # 50% against 0%
    assert s.trend_of("false_positive_rate") == "down"  # 50% against 100%
    assert s.trend_of("repair_success_rate") == "up"
    assert build_summary(store, 1).trend_of("approach_success_rate") is None  # nothing to compare with
    md = render_markdown(s)
    assert "| false-positive rate (misread / marked) | 50% (3 of 6) | down (better) |" in md
    assert "| detections per minute | 2.0 (20 cues) | up |" in md


def test_no_sessions_and_unknown_ids_are_clear_errors(store: SessionStore) -> None:
    with pytest.raises(StoreError, match="no sessions yet"):
        build_summary(store)
    with pytest.raises(StoreError, match="no session 42"):
        build_summary(store, 42)


# --- renderings ------------------------------------------------------------------------------------------


def summary_of(store: SessionStore, **kwargs: object) -> SessionSummary:
    return build_summary(store, standard_session(store, **kwargs))


def test_markdown_report(store: SessionStore) -> None:
    md = render_markdown(summary_of(store))
    assert md.startswith("# Session 1 ·") and "Cues are guesses" in md
    assert "| approach success rate (helped / marked) | 50% (3 of 6) | - |" in md
    assert "| repair success rate (misread, then helped within 2) | 67% (2 of 3) | - |" in md
    assert "## Timeline" in md and "smile reaching the eyes |" in md
    assert "| 3:20–3:35 | lips pressed together ×1, brief frown ×1, one-sided lip pull ×1, brief tightening" in md
    assert "| 3:25 | micro_frown | micro_frown at 205s, maybe | Ask an open question. | misread |" in md
    assert "## Trend over the last sessions" in md
    assert forbidden_claims(md) == [] and comments_on_their_face(md) == []


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.tables: list[str | None] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append(found)
        if tag == "table":
            self.tables.append(found.get("id"))
        self.urls += [v for k, v in attrs if k in ("href", "src") and v and not v.startswith("data:")]


def test_html_report_is_self_contained_with_the_chart_and_the_tables(store: SessionStore) -> None:
    text = render_html(summary_of(store, source_name="<script>alert(1)</script> & co"))
    page = Page()
    page.feed(text)
    assert page.tables == [
        "measures",
        "cues",
        "regions",
        "negative-moments",
        "positive-moments",
        "suggestions",
        "trend",
    ]
    (chart,) = page.images
    assert chart["id"] == "timeline-chart" and "20 cues" in (chart["alt"] or "")
    src = chart["src"] or ""
    assert src.startswith("data:image/png;base64,")
    png = base64.b64decode(src.split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    assert page.urls == [] and "<script>" not in text and "&lt;script&gt;" in text
    assert forbidden_claims(text) == []


def test_an_empty_session_still_renders(store: SessionStore) -> None:
    s = build_summary(store, make_session(store, duration_s=90.0))
    assert s.measures.detections_per_minute == 0.0
    md, text = render_markdown(s), render_html(s)
    assert "none" in md and 'id="timeline-chart"' in text and 'id="suggestions"' in text


def test_terminal_report(store: SessionStore) -> None:
    out = io.StringIO()
    print_terminal(summary_of(store), Console(file=out, width=100, color_system=None))
    text = out.getvalue()
    assert "Session 1" in text and "Coaching measures" in text and "50% (3 of 6)" in text
    assert "Timeline (minutes into the call)" in text and "Moments with the most negative-leaning cues" in text


# --- "Your own face": self-coaching notes (sessions run with --vcam) -------------------------------------

OWN_TABLES = ["own-overview", "own-cues", "own-notes"]


def test_own_face_numbers(store: SessionStore) -> None:
    own = summary_of(store, self_notes=SELF_NOTES).own
    assert own is not None
    assert (own.leaks, own.leaks_while_talking, own.mirror_met, own.mirror_missed) == (4, 3, 2, 1)
    assert own.leaks_by_cue == (("lip_compression", 3, 2), ("unilateral_lip_pull", 1, 1))
    assert own.mirror_checks == 3 and own.mirror_met_rate == pytest.approx(2 / 3)
    assert [n.t_s for n in own.notes] == sorted(n.t_s for n in SELF_NOTES)
    only_leaks = build_summary(store, make_session(store, started_at=T0 + DAY, self_notes=[leak(5.0, "micro_frown")]))
    assert only_leaks.own is not None and only_leaks.own.mirror_met_rate is None
    assert "| mirror checks met (you smiled back) | n/a |" in render_markdown(only_leaks)


def test_own_face_notes_never_touch_the_measures_or_the_trend(store: SessionStore) -> None:
    plain = build_summary(store, standard_session(store))
    with_own = build_summary(store, standard_session(store, started_at=T0 + 1, self_notes=SELF_NOTES))
    assert with_own.measures == plain.measures and with_own.per_cue == plain.per_cue
    assert with_own.negative_moments == plain.negative_moments


def test_own_face_in_markdown(store: SessionStore) -> None:
    md = render_markdown(summary_of(store, self_notes=SELF_NOTES))
    assert md.index("## Trend over the last sessions") < md.index("## Your own face: overview")
    assert "*From your own camera, for you only: guesses" in md
    assert "| your own brief cues that may have shown | 4 (3 while the other person was talking) |" in md
    assert "| mirror checks met (you smiled back) | 67% (2 of 3) |" in md and "| mirror checks missed | 1 |" in md
    assert "| lip_compression | lips pressed together | 3 | 2 |" in md
    assert "| 0:12 | mirror check met, after their smile reaching the eyes | You smiled back. |" in md
    assert (
        "| 3:21 | may have shown: lips pressed together while the other person was talking |"
        " Your lips may have tightened at 201s; breathe out. |"
    ) in md
    assert "| 6:43 | may have shown: lips pressed together | " in md  # not while they talked
    # The own-face notes speak to the user about the user's face ("you smiled back"): only the part about the
    # other person must not remark on a face.
    about_them = md[: md.index("## Your own face")]
    assert forbidden_claims(md) == [] and comments_on_their_face(about_them) == []


def test_a_long_list_of_own_notes_is_cut_short(store: SessionStore) -> None:
    notes = [leak(10.0 * i, "lip_compression") for i in range(15)]
    md = render_markdown(summary_of(store, self_notes=notes))
    assert "| 1:50 |" in md and "| 2:00 |" not in md
    assert "| … | 3 more notes | all of them: callcoach sessions export |" in md


def test_own_face_in_html(store: SessionStore) -> None:
    notes = [*SELF_NOTES, SelfNote("leak", 30.0, "micro_frown", None, "<script>alert(2)</script>", 0.5, True)]
    text = render_html(summary_of(store, self_notes=notes))
    page = Page()
    page.feed(text)
    assert page.tables == [
        "measures",
        "cues",
        "regions",
        "negative-moments",
        "positive-moments",
        "suggestions",
        "trend",
        *OWN_TABLES,
    ]
    assert page.urls == [] and "<script>" not in text and "&lt;script&gt;alert(2)" in text
    assert '<table id="own-overview" class="quiet"' in text and "67% (2 of 3)" in text
    (chart,) = page.images
    assert (chart["src"] or "").startswith("data:image/png;base64,")
    about_them = text[: text.index("<h2>Your own face")]  # the own-face part speaks to the user about the user
    assert forbidden_claims(text) == [] and comments_on_their_face(about_them) == []


def test_own_face_in_the_terminal(store: SessionStore) -> None:
    out = io.StringIO()
    print_terminal(summary_of(store, self_notes=SELF_NOTES), Console(file=out, width=140, color_system=None))
    text = out.getvalue()
    assert text.index("Trend over the last sessions") < text.index("Your own face: overview")
    assert "From your own camera, for you only" in text and "67% (2 of 3)" in text
    assert "Your own face: cues that may have shown" in text and "lips pressed together" in text
    assert "Your own face: notes over the call" in text and "You smiled back." in text


def test_without_own_notes_there_is_no_own_face_part(store: SessionStore) -> None:
    s = summary_of(store)
    assert s.own is None
    out = io.StringIO()
    print_terminal(s, Console(file=out, width=140, color_system=None))
    for text in (out.getvalue(), render_markdown(s), render_html(s)):
        assert "own face" not in text.lower() and "mirror check" not in text


def test_own_notes_extend_the_session_length_when_they_come_last(store: SessionStore) -> None:
    s = build_summary(
        store,
        make_session(store, duration_s=0.0, cues=[(5.0, "polite_smile", 0.5)], self_notes=[mirror(40.0, met=True)]),
    )
    assert s.duration_s == 40.0
