"""The wording guard: the corpus of refused and accepted lines, the playbook check, and the run-time check of
every suggestion and note before it reaches the screen."""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from ui_fakes import CUE, SUGGESTION, Harness, pilot_test, started, status, text_of
from wording_corpus import judge, load, score

from callcoach.contract import LiveListener
from callcoach.core.marks import SelfNote
from callcoach.errors import PlaybookError
from callcoach.live.advice import CueDispatch
from callcoach.live.state import LiveStatus
from callcoach.live.stats import RunStats
from callcoach.playbook.loader import default_playbook_path, load_playbook, parse_playbook
from callcoach.playbook.types import Suggestion
from callcoach.playbook.wording import KIND_LABEL, Refusal, refusals, suggestion_refusal
from callcoach.ui.screens import ConsentScreen

CORPUS = load()
ITEMS = [(half, i, item) for half, items in CORPUS.items() for i, item in enumerate(items)]


# --- the corpus ------------------------------------------------------------------------------------------


def test_the_corpus_is_big_enough_and_covers_every_kind() -> None:
    items = [item for _, _, item in ITEMS]
    bad = [x for x in items if x["kind"] != "ok"]
    good = [x for x in items if x["kind"] == "ok"]
    assert len(bad) >= 60 and len(good) >= 60
    for kind in ("lie", "diagnosis", "manipulation", "face"):
        assert sum(x["kind"] == kind for x in bad) >= 20, kind
    assert {x["spoken"] for x in good} == {True, False}
    assert len({x["text"] for x in items}) == len(items)  # no line counted twice


@pytest.mark.parametrize(("half", "index", "item"), ITEMS, ids=[f"{h}{i}" for h, i, _ in ITEMS])
def test_corpus_line(half: str, index: int, item: dict[str, Any]) -> None:
    assert judge(item) is None, item["text"]


def test_accuracy_per_half(capsys: pytest.CaptureFixture[str]) -> None:
    """The figures of docs/playbook.md (also: python tests/wording_corpus.py)."""
    for half, items in CORPUS.items():
        bad, good = score(items)
        with capsys.disabled():
            print(
                f"\nwording corpus {half}: bad refused {bad.right}/{bad.total}, good accepted {good.right}/{good.total}"
            )
        assert bad.accuracy == 1.0 and good.accuracy == 1.0, bad.wrong + good.wrong


@pytest.mark.parametrize(
    ("text", "spoken", "kind"),
    [
        ("Maybe they are lying.", False, "lie"),
        ("Might be a symptom of depression", False, "diagnosis"),
        ("Tell them: “I can see you are hiding something.”", True, "lie"),
        ("They are vulnerable: push.", False, "manipulation"),
        ("You seem nervous.", True, "face"),
    ],
)
def test_a_refusal_names_the_kind_of_claim_and_why(text: str, spoken: bool, kind: str) -> None:
    found = refusals(text, spoken=spoken)
    assert found and found[0].kind == kind
    message = found[0].message
    assert message.startswith(KIND_LABEL[kind]) and found[0].phrase in message and ": " in message


@pytest.mark.parametrize(
    ("text", "excused"),
    [
        ("It never says anyone is lying.", True),  # a denial in its own clause
        ("Never pressure them.", True),
        ("Maybe they are lying.", False),  # a hedge is no denial
        ("Might not be telling the truth.", False),  # the "not" is part of the claim
        ("I'm not sure whether they are lying.", False),  # nor does doubt deny it
        ("It's quick, and it detects lies.", False),  # another clause's "not" does not count
        ("Not a toy.\nLiars beware.", False),
    ],
)
def test_negation_and_hedges(text: str, excused: bool) -> None:
    assert (refusals(text) == []) is excused


def test_face_remarks_count_only_in_lines_said_aloud() -> None:
    assert refusals("They may look uneasy.") == []  # a hedged guess, shown to the user only
    assert [r.kind for r in refusals("“You look uneasy.”", spoken=True)] == ["face"]
    assert refusals("“You don’t look convinced.”", spoken=True)  # a negation does not excuse a remark
    assert refusals("“If you feel unsure, say so.”", spoken=True) == []  # a condition does


# --- the playbook ----------------------------------------------------------------------------------------


def test_the_default_playbook_passes_unchanged() -> None:
    load_playbook(default_playbook_path())


DEFAULT = default_playbook_path().read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("Something landed; they may be enjoying this part.", "Maybe they are lying.", "lie"),
        ("Something landed; they may be enjoying this part.", "Might be a symptom of depression", "diagnosis"),
        ("Smile back and keep the same easy pace.", "Tell them: “I can see you are hiding something.”", "lie"),
        ("Smile back and keep the same easy pace.", "They are vulnerable: push for the close.", "manipulation"),
        ("Smile back and keep the same easy pace.", "Say: “You look relieved.”", "face"),
        ("Something landed; they may be enjoying this part.", "Maybe say “your face lit up”.", "face"),
    ],
)
def test_the_playbook_refuses_each_kind_with_its_line(old: str, new: str, kind: str) -> None:
    assert DEFAULT.count(old) == 1
    with pytest.raises(PlaybookError) as info:
        parse_playbook(DEFAULT.replace(old, new), "playbook.yaml")
    message = str(info.value)
    assert message.startswith("playbook.yaml:") and KIND_LABEL[kind] in message, message


# --- at run time -----------------------------------------------------------------------------------------

BAD = dataclasses.replace(SUGGESTION, move="Say: “I can see you are hiding something.”")
BAD_PLAIN = dataclasses.replace(SUGGESTION, plain="maybe a symptom of an anxiety disorder")
BAD_REPAIR = dataclasses.replace(SUGGESTION, repair="Sorry, you just looked so angry.")


def test_suggestion_refusal_checks_every_shown_field() -> None:
    assert suggestion_refusal(SUGGESTION) is None
    for bad, kind in ((BAD, "lie"), (BAD_PLAIN, "diagnosis"), (BAD_REPAIR, "face")):
        refused = suggestion_refusal(bad)
        assert isinstance(refused, Refusal) and refused.kind == kind
    # A hedged guess about them is fine in any field; telling them is not.
    quiet = dataclasses.replace(SUGGESTION, say_nothing=True, move="They may look uneasy; give them the pause.")
    assert suggestion_refusal(quiet) is None
    assert suggestion_refusal(dataclasses.replace(quiet, move="Why: “you look uneasy” would only hurt.")) is not None


class Collect(LiveListener):
    def __init__(self) -> None:
        self.suggestions: list[Suggestion] = []

    def on_status(self, status: LiveStatus) -> None:
        pass

    def on_cue(self, cue: Any, latency_ms: float) -> None:
        pass

    def on_suggestion(self, suggestion: Suggestion) -> None:
        self.suggestions.append(suggestion)


def test_a_suggestion_built_at_run_time_that_breaks_the_rules_is_not_shown() -> None:
    """Whatever the advisor builds, a refused line never reaches the panel, the jsonl or the session record."""
    answers = [BAD, SUGGESTION, BAD_REPAIR]
    listener, stats = Collect(), RunStats()
    dispatch = CueDispatch(
        listener,
        stats,
        advisor=lambda cue, status: answers.pop(0),
        companion=None,
        origin_s=time.monotonic,
        status=lambda: status("locked"),
    )
    for _ in range(3):
        dispatch.final(CUE, time.monotonic())
    assert listener.suggestions == [SUGGESTION]
    assert stats.suggestions_withheld == 2 and stats.as_dict()["suggestions_withheld"] == 2


@pilot_test
async def test_the_panel_does_not_show_a_refused_suggestion_or_note() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        listener: Any = h.runner.listener
        listener.on_status(status("locked", faces=1))
        listener.on_suggestion(BAD)
        await pilot.pause()
        assert app.suggestion is None and "Nothing to suggest yet" in text_of(app, "#plain")
        listener.on_suggestion(SUGGESTION)
        await pilot.pause()
        assert app.suggestion == SUGGESTION
        listener.on_suggestion(BAD_PLAIN)  # the good one stays; the refused one never replaces it
        await pilot.pause()
        assert app.suggestion == SUGGESTION and "eyebrow raise" in text_of(app, "#plain")
        listener.on_self(
            SelfNote("leak", 3.0, "micro_frown", None, "you may have frowned: maybe a sign of ADHD", 0.6, False)
        )
        await pilot.pause()
        assert not app.query_one("#self-line").display


def test_self_coaching_notes_pass_the_same_guard() -> None:
    from callcoach.live.selfcoach import SelfCoach, SelfNote

    said: list[Any] = []
    coach = SelfCoach(said.append, vision_factory=lambda: None, engine_factory=lambda s: None)  # type: ignore[arg-type,return-value]
    coach._say(SelfNote("leak", 1.0, "micro_frown", None, "you may have frowned for a moment", 0.7, True))
    coach._say(SelfNote("leak", 2.0, "micro_frown", None, "you may have frowned: a symptom of stress", 0.7, True))
    assert [n.message for n in said] == ["you may have frowned for a moment"]


# --- what the panel says is kept -------------------------------------------------------------------------


@pytest.mark.parametrize("on", [True, False, None])
def test_the_badge_and_consent_say_whether_a_cue_log_is_kept(on: bool | None) -> None:
    async def scenario() -> None:
        h = Harness()
        app = h.app(acknowledged=False, cue_log=on)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, ConsentScreen)
            now = str(app.screen.query_one("#consent-now").render()) if on is not None else ""
            await pilot.click("#agree")
            await started(pilot, app)
            badge = text_of(app, "#privacy")
        assert badge.startswith("local only · no video kept") and "not recording" not in badge
        if on is None:
            assert "cue log" not in badge
        else:
            assert badge.endswith(f"cue log {'on' if on else 'off'}") and badge in now

    import asyncio

    asyncio.run(scenario())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([str(Path(__file__))]))
