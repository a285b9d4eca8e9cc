"""The live panel's behaviour, driven by a scripted fake runner and selector (no camera, no models)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from textual.widgets import ProgressBar, Static
from ui_fakes import (
    CONSENT,
    CUE,
    MIRROR_MISSED,
    SAY_NOTHING,
    SUGGESTION,
    FakeRunner,
    Harness,
    pilot_test,
    started,
    status,
    text_of,
)

from callcoach.cues.vocabulary import EarlyCueWithdrawn
from callcoach.live.contract import LiveListener
from callcoach.playbook.types import CONTEXTS
from callcoach.ui.app import CoachApp
from callcoach.ui.messages import PanelListener, StatusChanged
from callcoach.ui.screens import ConsentScreen, HelpScreen
from callcoach.ui.widgets import CueLog, Notice, SelfLine, SuggestionCard, confidence_words, suggestion_view

# --- wording ---------------------------------------------------------------------------------------------


def test_confidence_is_words_and_number() -> None:
    assert confidence_words(0.62) == "maybe (0.62)"
    assert confidence_words(0.3).startswith("faint")
    assert confidence_words(0.8).startswith("likely")


def test_say_nothing_view_explains_instead_of_instructing() -> None:
    view = suggestion_view(SAY_NOTHING)
    assert view.say_nothing and view.move_label == "Why"
    assert view.heading.startswith("Lips pressed together")
    assert "mouth" in view.where and "maybe (0.48)" in view.where


# --- the listener ----------------------------------------------------------------------------------------


class Collect:
    def __init__(self) -> None:
        self.messages: list[object] = []

    def post_message(self, message: object) -> bool:
        self.messages.append(message)
        return True


def test_listener_thins_statuses_but_never_drops_a_change_of_state() -> None:
    now = [0.0]
    target = Collect()
    listener = PanelListener(target, min_interval_s=0.1, clock=lambda: now[0])  # type: ignore[arg-type]
    for i in range(30):  # one second of frames at 30 fps, same state
        now[0] = i / 30
        listener.on_status(status("calibrating", baseline_progress=i / 30))
    assert 8 <= len(target.messages) <= 11
    listener.on_status(status("locked"))  # same instant as the last one: a change always goes through
    assert target.messages[-1].status.state == "locked"  # type: ignore[attr-defined]


def test_queued_statuses_replace_each_other() -> None:
    first, second = StatusChanged(status("calibrating")), StatusChanged(status("locked"))
    assert first.can_replace(second)


# --- consent ---------------------------------------------------------------------------------------------


@pilot_test
async def test_consent_blocks_coaching_until_acknowledged() -> None:
    h = Harness()
    app = h.app(acknowledged=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ConsentScreen)
        await pilot.press("p", "c", "h", "d")  # panel keys do nothing behind the consent screen
        await app.workers.wait_for_complete()
        assert h.runners == [] and h.selector.contexts == []
        await pilot.press("a")
        await started(pilot, app)
        assert not isinstance(app.screen, ConsentScreen)
        assert h.acknowledged_calls == 1
        assert h.runner.calls == ["start"]
        assert h.selector.contexts == ["general"]


@pilot_test
async def test_quit_on_the_consent_screen_never_starts_the_runner() -> None:
    h = Harness()
    app = h.app(acknowledged=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.click("#quit")
        await pilot.pause()
    assert h.runners == [] and h.acknowledged_calls == 0


@pilot_test
async def test_acknowledged_starts_at_once() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        assert h.runner.calls == ["start"]
        assert not isinstance(app.screen, ConsentScreen)


# --- states ----------------------------------------------------------------------------------------------


@pilot_test
async def test_status_transitions_are_shown_in_plain_words() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        listener = h.runner.listener
        assert "loading the models" in text_of(app, "#notice")

        listener.on_status(status("calibrating", baseline_progress=0.6, fps=25.0, latency_ms_p95=180.0, faces=1))
        await pilot.pause()
        bar = app.query_one("#baseline", ProgressBar)
        assert bar.display and bar.progress == pytest.approx(0.6)
        assert "calibrating" in text_of(app, "#state")
        assert "25 fps · delay 180 ms" in text_of(app, "#metrics")

        listener.on_status(status("locked", faces=1))
        await pilot.pause()
        assert not bar.display and text_of(app, "#state") == "face locked"

        expected = {
            "no_face": ("no face", "No face in view"),
            "unreadable": ("face unreadable", "Can't read reliably: lighting or angle."),
            "blank": ("blank picture", "The picture is blank"),
            "source_lost": ("source lost", "Source lost"),
        }
        for state, (label, words) in expected.items():
            listener.on_status(status(state))
            await pilot.pause()
            assert text_of(app, "#state") == label
            assert words in text_of(app, "#notice")
            assert app.query_one(Notice).has_class("trouble")

        listener.on_status(status("error", message="capture failed: the window is gone"))
        await pilot.pause()
        assert text_of(app, "#notice") == "Capture failed: the window is gone"


@pilot_test
async def test_a_runner_that_fails_to_start_is_an_error_state_not_a_crash() -> None:
    def broken(listener: LiveListener) -> FakeRunner:
        raise RuntimeError("no camera here")

    app = CoachApp(broken, consent_text=CONSENT, acknowledged=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        await pilot.pause()
        assert app.status.state == "error"
        assert "no camera here" in text_of(app, "#notice")


@pilot_test
async def test_listener_calls_from_another_thread_reach_the_panel() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        listener = h.runner.listener

        def feed() -> None:
            for i in range(200):
                listener.on_status(status("calibrating", t_s=i / 30, baseline_progress=i / 200))
            listener.on_status(status("locked", t_s=7.0))
            listener.on_cue(CUE, 120.0)
            listener.on_suggestion(SUGGESTION)

        thread = threading.Thread(target=feed)
        thread.start()
        thread.join()
        await pilot.pause()
        await pilot.pause()
        assert app.status.state == "locked"
        assert app.suggestion == SUGGESTION


# --- suggestions -----------------------------------------------------------------------------------------


@pilot_test
async def test_a_suggestion_is_shown_with_where_how_sure_move_and_repair() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        h.runner.listener.on_status(status("locked"))
        h.runner.listener.on_suggestion(SUGGESTION)
        await pilot.pause()
        card = app.query_one(SuggestionCard)
        assert text_of(app, "#plain") == "A quick eyebrow raise, maybe interest"
        assert "brows" in text_of(app, "#where") and "maybe (0.62)" in text_of(app, "#where")
        assert "small nod" in text_of(app, "#move-row .row-text")
        assert "reading too much" in text_of(app, "#repair-row .row-text")
        assert not app.query_one("#say-nothing").display
        assert not card.has_class("stale")

        h.runner.listener.on_suggestion(SAY_NOTHING)
        await pilot.pause()
        assert app.query_one("#say-nothing").display
        assert str(app.query_one("#move-row .row-label", Static).render()) == "Why"
        assert not app.query_one("#repair-row").display  # no repair line: the row goes away
        assert card.has_class("say-nothing")


@pilot_test
async def test_a_suggestion_goes_grey_when_it_no_longer_fits() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        listener = h.runner.listener
        listener.on_status(status("locked", t_s=4.0))
        listener.on_suggestion(SUGGESTION)
        await pilot.pause()
        card = app.query_one(SuggestionCard)
        assert not card.has_class("stale")
        listener.on_status(status("no_face", t_s=5.0))
        await pilot.pause()
        assert card.has_class("stale") and card.border_title == "earlier"
        listener.on_status(status("locked", t_s=6.0))
        await pilot.pause()
        assert not card.has_class("stale")
        listener.on_status(status("locked", t_s=60.0, fps=24.0))  # long ago in this conversation
        await pilot.pause()
        assert card.has_class("stale")


# --- keys ------------------------------------------------------------------------------------------------


@pilot_test
async def test_p_pauses_and_resumes_the_runner() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        h.runner.listener.on_status(status("locked"))
        await pilot.press("p")
        assert h.runner.calls[-1] == "pause"
        assert text_of(app, "#state") == "paused" and "press p to resume" in text_of(app, "#notice")
        await pilot.press("p")
        assert h.runner.calls[-1] == "resume"
        assert text_of(app, "#state") != "paused"


@pilot_test
async def test_c_cycles_the_context_and_tells_the_selector() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        for _ in CONTEXTS:
            await pilot.press("c")
        assert h.selector.contexts == ["general", *CONTEXTS[1:], "general"]
        await pilot.press("c", "c")
        assert app.context == "negotiation"
        assert text_of(app, "#context") == "· context: negotiation"
        await pilot.press("c")
        assert text_of(app, "#context") == "· context: dating / social"


@pilot_test
async def test_h_and_m_mark_the_last_suggestion_once() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        await pilot.press("h")  # nothing to mark yet
        assert h.selector.marks == []
        h.runner.listener.on_suggestion(SAY_NOTHING)
        h.runner.listener.on_suggestion(SUGGESTION)
        await pilot.pause()
        await pilot.press("h")
        assert h.selector.marks == [(SUGGESTION, "helped")]
        assert app.query_one(SuggestionCard).border_subtitle == "marked: helped"
        await pilot.press("m")  # one verdict per suggestion
        assert len(h.selector.marks) == 1
        h.runner.listener.on_suggestion(SAY_NOTHING)
        await pilot.pause()
        await pilot.press("m")
        assert h.selector.marks[-1] == (SAY_NOTHING, "misread")


@pilot_test
async def test_d_shows_the_last_cues_with_their_times() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        log = app.query_one(CueLog)
        assert not log.display
        h.runner.listener.on_cue(CUE, 150.0)
        await pilot.pause()
        assert "1 cue so far" in text_of(app, "#where")
        await pilot.press("d")
        assert log.display
        assert "0:04.0  quick eyebrow raise · brows · likely (0.70) · 150 ms" in str(log.render())
        await pilot.press("d")
        assert not log.display


@pilot_test
async def test_help_opens_and_closes_and_shows_the_consent_note_again() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("p")  # panel keys are off while help is open
        assert "pause" not in h.runner.calls
        await pilot.press("e")
        assert isinstance(app.screen, ConsentScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("question_mark", "question_mark")
        assert not isinstance(app.screen, HelpScreen)
        assert h.acknowledged_calls == 0  # reading the note again asks nothing


@pilot_test
async def test_q_stops_the_runner_and_quits() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        await pilot.press("q")
        await pilot.pause()
    assert h.runner.calls == ["start", "stop"]
    app.stop_runner()  # idempotent: a second way out does not stop twice
    assert h.runner.calls == ["start", "stop"]


@pilot_test
async def test_every_key_is_in_the_footer() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot, app)
        shown = {key for key, active in app.screen.active_bindings.items() if active.binding.show and active.enabled}
        assert {"p", "c", "h", "m", "d", "question_mark", "q"} <= shown


# --- the demo --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_demo_headless_check_shows_cues_and_suggestions() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "callcoach", "demo", "--headless-check", "14"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "[face found · calibrating]" in out and "[face locked]" in out
    assert "cue     " in out and "suggest " in out
    assert "seen at the " in out
    assert out.strip().splitlines()[-1].startswith("summary: ")


@pytest.mark.slow
@pilot_test
async def test_demo_runs_in_the_panel_through_the_real_pipeline() -> None:
    from callcoach.live.runner import LiveRunner
    from callcoach.ui.demo import SynthSource, fallback_advisor

    runners: list[LiveRunner] = []

    def factory(listener: LiveListener) -> LiveRunner:
        runners.append(LiveRunner(SynthSource(), listener, advisor=fallback_advisor("general")))
        return runners[-1]

    app = CoachApp(factory, consent_text=CONSENT, acknowledged=True)
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(300):  # the first cue comes ~4 s after the models load; allow a slow machine 30 s
            await pilot.pause(0.1)
            if app.suggestion is not None or app.status.state == "error":
                break
        assert app.status.state == "locked", app.status
        assert app.suggestion is not None
        await pilot.press("q")
    assert runners[0].wait(5.0)


# --- --vcam: the camera's state, the privacy key, the user's own line -------------------------------------


@pilot_test
async def test_privacy_key_only_with_a_virtual_camera_and_notes_show_quietly() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test() as pilot:
        await started(pilot, app)
        runner = h.runner
        assert app.check_action("privacy", ()) is False  # hidden from the footer without --vcam
        await pilot.press("v")
        assert "privacy" not in runner.calls
        assert not app.query_one(SelfLine).display

        runner.privacy = False
        runner.listener.on_vcam("live", "live: passing the camera through")
        await pilot.pause()
        assert app.check_action("privacy", ()) is True
        assert "camera live" in text_of(app, "#vcam")
        await pilot.press("v")
        assert runner.privacy is True and "camera private" in text_of(app, "#vcam")
        await pilot.press("v")
        assert runner.privacy is False and "camera live" in text_of(app, "#vcam")

        runner.listener.on_self(MIRROR_MISSED)
        await pilot.pause()
        line = app.query_one(SelfLine)
        assert line.display and "a smile back might land well" in str(line.render())
        assert str(line.render()).startswith("you · 0:12.4")
        # A note never takes the card's place.
        assert app.suggestion is None

        # The self-coach's own state sits beside the camera's in the status bar.
        runner.listener.on_vcam("self_calibrating", "self-coaching: learning your resting expression")
        await pilot.pause()
        assert text_of(app, "#self-state") == "you: calibrating" and "camera live" in text_of(app, "#vcam")
        runner.listener.on_vcam("self_error", "self-coaching stopped: model failed")
        await pilot.pause()
        assert text_of(app, "#self-state") == "you: off"
        assert any("self-coaching stopped" in str(n.message) for n in app._notifications)
        assert app.check_action("privacy", ()) is True  # the video still flows: the key stays


@pilot_test
async def test_missing_virtual_camera_is_a_notification_and_coaching_goes_on() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test() as pilot:
        await started(pilot, app)
        listener = h.runner.listener
        listener.on_vcam("unavailable", "no virtual camera device; coaching the other person goes on")
        listener.on_status(status("locked", message="face locked: coaching"))
        listener.on_suggestion(SUGGESTION)
        await pilot.pause()
        assert any("coaching the other person goes on" in str(n.message) for n in app._notifications)
        assert "no virtual camera" in text_of(app, "#vcam")
        assert app.check_action("privacy", ()) is False
        assert app.suggestion == SUGGESTION


@pilot_test
async def test_a_suggestion_whose_early_cue_was_not_confirmed_turns_grey() -> None:
    h = Harness()
    app = h.app()
    async with app.run_test() as pilot:
        await started(pilot, app)
        listener = h.runner.listener
        listener.on_status(status("locked", t_s=4.2, message="face locked: coaching"))
        listener.on_suggestion(SUGGESTION)  # made from an early cue with its apex at 4.0 s
        await pilot.pause()
        card = app.query_one(SuggestionCard)
        assert card.border_title == "now"
        other = EarlyCueWithdrawn("lip_compression", 0, onset_s=3.5, apex_s=3.7, t_s=4.3, reason="outranked")
        listener.on_early_withdrawn(other, True)
        await pilot.pause()
        assert card.border_title == "now"  # another cue's withdrawal leaves this card alone
        mine = EarlyCueWithdrawn(
            SUGGESTION.cue, SUGGESTION.face, onset_s=3.8, apex_s=SUGGESTION.t_s, t_s=4.4, reason="unreadable"
        )
        listener.on_early_withdrawn(mine, True)
        await pilot.pause()
        assert card.border_title == "earlier" and card.border_subtitle == "not confirmed"
        assert card.has_class("stale")
        listener.on_suggestion(SAY_NOTHING)  # a new suggestion is current again
        await pilot.pause()
        assert card.border_title == "now" and card.border_subtitle is None


def test_the_demo_panel_says_its_clips_are_synthetic(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    from callcoach.ui import app as app_module
    from callcoach.ui import demo

    asked: dict[str, object] = {}

    def fake_run_live_app(factory: object, **kwargs: object) -> int:
        asked.update(kwargs)
        return 0

    monkeypatch.setattr(app_module, "run_live_app", fake_run_live_app)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(demo, "_advice", lambda context: (demo.fallback_advisor(context), None))
    args = argparse.Namespace(seed=0, headless_check=None, context="general")
    assert demo.main(args) == 0
    title = asked["title"]
    assert isinstance(title, str) and "synthetic" in title

    @pilot_test
    async def scenario() -> None:
        h = Harness()
        app = CoachApp(h.factory, consent_text=CONSENT, acknowledged=True, cue_log=lambda: False, title=title)
        async with app.run_test(size=(80, 24)) as pilot:
            await started(pilot, app)
            assert text_of(app, "#title") == title
            # It fits beside the context and the privacy badge in 80 columns: nothing of them is cut.
            assert text_of(app, "#context").endswith("general")
            assert text_of(app, "#privacy").endswith("cue log off")
            for part in ("#title", "#context", "#privacy"):
                assert app.query_one(part).content_region.width >= len(text_of(app, part)), part

    scenario()
