"""The selector's rules on scripted cue series: silence while calibrating, thresholds, cool-down, support."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from callcoach.cues.vocabulary import CUE_NAMES, DEFAULT_EMOTION, REGION, Cue
from callcoach.live.contract import Advisor
from callcoach.live.state import LiveState, LiveStatus
from callcoach.playbook.loader import default_playbook_path, load_playbook
from callcoach.playbook.model import Playbook
from callcoach.playbook.selector import Selector, context_choices, cue_names, default_selector, preview
from callcoach.playbook.types import CONTEXTS, Suggestion
from callcoach.playbook.watcher import PlaybookWatcher

PLAYBOOK = load_playbook(default_playbook_path())
COOLDOWN = PLAYBOOK.cooldown_s
WINDOW = PLAYBOOK.support_window_s
# For the support rules alone: every cue may speak, so what is under test is only how strong the move is.
NO_COOLDOWN = PLAYBOOK.model_copy(update={"cooldown_s": 0.0})


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def cue(name: str, t: float, confidence: float = 0.7, face: int = 0) -> Cue:
    return Cue(
        cue=name,
        emotion=DEFAULT_EMOTION.get(name),
        scale="micro",
        onset_s=t - 0.1,
        apex_s=t,
        offset_s=t + 0.1,
        intensity=0.5,
        confidence=confidence,
        face=face,
    )


def status(state: LiveState = "locked", progress: float = 1.0, t: float = 0.0) -> LiveStatus:
    return LiveStatus(t_s=t, source="test", state=state, message="", baseline_progress=progress)


LOCKED = status()


def run(selector: Selector, series: list[Cue], st: LiveStatus = LOCKED) -> list[Suggestion | None]:
    return [selector(c, st) for c in series]


def test_selector_is_an_advisor() -> None:
    advisor: Advisor = Selector(PLAYBOOK)
    assert advisor(cue("eyebrow_flash", 5.0), LOCKED) is not None


@pytest.mark.parametrize(
    "st",
    [
        status("calibrating", 0.5),
        status("locked", 0.99),
        status("unreadable"),
        status("paused"),
        status("no_face"),
        status("starting", 0.0),
        status("source_lost"),
    ],
    ids=["calibrating", "baseline-not-full", "unreadable", "paused", "no-face", "starting", "source-lost"],
)
def test_nothing_unless_coaching(st: LiveStatus) -> None:
    selector = Selector(PLAYBOOK)
    assert run(selector, [cue(name, 20.0 * i) for i, name in enumerate(CUE_NAMES)], st) == [None] * len(CUE_NAMES)
    # The first cue once the baseline is ready gets a suggestion: nothing was used up while waiting.
    assert selector(cue("eyebrow_flash", 300.0), LOCKED) is not None


def test_threshold_per_context() -> None:
    assert PLAYBOOK.threshold("eyebrow_flash", "general") == 0.5
    assert PLAYBOOK.threshold("eyebrow_flash", "social") == 0.6
    general = Selector(PLAYBOOK, "general")
    social = Selector(PLAYBOOK, "social")
    assert general(cue("eyebrow_flash", 1.0, confidence=0.55), LOCKED) is not None
    assert social(cue("eyebrow_flash", 1.0, confidence=0.55), LOCKED) is None
    assert social(cue("eyebrow_flash", 1.0, confidence=0.65), LOCKED) is not None
    general.set_context("social")
    assert general(cue("eyebrow_flash", 100.0, confidence=0.55), LOCKED) is None
    with pytest.raises(ValueError, match="unknown context"):
        general.set_context("dating")


def test_cool_down_between_moves() -> None:
    selector = Selector(PLAYBOOK)
    out = run(
        selector,
        [
            cue("eyebrow_flash", 10.0),
            cue("micro_surprise", 10.0 + COOLDOWN / 2),
            cue("micro_frown", 10.0 + COOLDOWN + 0.5),
        ],
    )
    assert out[0] is not None and out[1] is None and out[2] is not None


def test_injected_clock_drives_the_cool_down() -> None:
    now = [0.0]
    selector = Selector(PLAYBOOK, clock=lambda: now[0])
    assert selector(cue("eyebrow_flash", 1.0), LOCKED) is not None
    # Stream time jumps far ahead, but the injected clock has not moved: still cooling down.
    assert selector(cue("micro_frown", 500.0), LOCKED) is None
    now[0] = COOLDOWN + 0.1
    assert selector(cue("micro_frown", 501.0), LOCKED) is not None


def test_single_cue_only_ever_gets_a_gentle_move() -> None:
    for context in CONTEXTS:
        selector = Selector(PLAYBOOK, context)
        series = [cue(name, 100.0 * i, confidence=0.9) for i, name in enumerate(CUE_NAMES)]
        for c, suggestion in zip(series, run(selector, series), strict=True):
            assert suggestion is not None, (context, c.cue)
            script = PLAYBOOK.script(c.cue, context)
            assert suggestion.strength == "gentle"
            assert suggestion.supporting == (c.cue,)
            if suggestion.say_nothing:
                assert suggestion.move == script.say_nothing.line
            else:
                assert suggestion.move in script.moves and suggestion.move != script.stronger


def test_two_different_cues_allow_the_stronger_move() -> None:
    now = [0.0]
    selector = Selector(PLAYBOOK, clock=lambda: now[0])
    first = selector(cue("lip_compression", 10.0), LOCKED)
    assert first is not None and first.strength == "gentle"
    # While cooling down there is no suggestion, but the cue is remembered as evidence...
    now[0] = 1.0
    assert selector(cue("micro_frown", 11.0), LOCKED) is None
    # ...so once the cool-down is over, a third cue close to both in stream time is backed by them.
    now[0] = COOLDOWN + 0.5
    third = selector(cue("micro_anger", 12.0), LOCKED)
    assert third is not None and third.strength == "stronger"
    assert third.supporting == ("micro_anger", "lip_compression", "micro_frown")

    backed = Selector(NO_COOLDOWN)
    backed(cue("lip_compression", 50.0, confidence=0.6), LOCKED)
    stronger = backed(cue("micro_frown", 50.0 + WINDOW - 0.5), LOCKED)
    assert stronger is not None and stronger.strength == "stronger"
    assert stronger.move == PLAYBOOK.script("micro_frown", "general").stronger
    assert stronger.supporting == ("micro_frown", "lip_compression")


def paired(first: Cue, second: Cue, context: str = "general") -> Suggestion | None:
    """The suggestion for ``second`` right after ``first`` (no cool-down in the way)."""
    selector = Selector(NO_COOLDOWN, context)
    selector(first, LOCKED)
    return selector(second, LOCKED)


def test_what_counts_as_support() -> None:
    stronger = paired(cue("lip_compression", 10.0), cue("micro_anger", 12.0))
    assert stronger is not None and stronger.strength == "stronger"
    same_cue = paired(cue("lip_compression", 10.0), cue("lip_compression", 12.0))
    assert same_cue is not None and same_cue.strength == "gentle"
    other_face = paired(cue("lip_compression", 10.0, face=1), cue("micro_anger", 12.0, face=0))
    assert other_face is not None and other_face.strength == "gentle"
    too_far = paired(cue("lip_compression", 10.0), cue("micro_anger", 10.0 + WINDOW + 0.5))
    assert too_far is not None and too_far.strength == "gentle"
    below_threshold = paired(cue("lip_compression", 10.0, confidence=0.3), cue("micro_anger", 12.0))
    assert below_threshold is not None and below_threshold.strength == "gentle"


def test_no_repeat_of_the_last_move() -> None:
    selector = Selector(PLAYBOOK, seed=3)
    moves = [s.move for s in run(selector, [cue("eyebrow_flash", 20.0 * i) for i in range(12)]) if s]
    assert len(moves) == 12
    assert all(a != b for a, b in itertools.pairwise(moves))
    assert set(moves) == set(PLAYBOOK.script("eyebrow_flash", "general").moves)


def test_stronger_move_is_not_repeated_back_to_back() -> None:
    selector = Selector(NO_COOLDOWN)
    out = []
    for i in range(3):
        selector(cue("lip_compression", 100.0 * i), LOCKED)
        out.append(selector(cue("micro_anger", 100.0 * i + 1.0), LOCKED))
    assert [s.strength for s in out if s] == ["stronger", "gentle", "stronger"]


def test_say_nothing_for_blinks_and_glances_alone() -> None:
    for name in ("blink_cluster", "gaze_aversion"):
        selector = Selector(PLAYBOOK)
        quiet = selector(cue(name, 10.0), LOCKED)
        assert quiet is not None and quiet.say_nothing
        assert quiet.move == PLAYBOOK.script(name, "general").say_nothing.line
        # A quiet note does not start the move cool-down: the next cue, backed by the first, can speak.
        backed = selector(cue("lip_compression", 11.0), LOCKED)
        assert backed is not None and not backed.say_nothing and backed.strength == "stronger"
        # And a glance backed by another cue is no longer "alone".
        again = paired(cue("lip_compression", 10.0), cue(name, 12.0))
        assert again is not None and not again.say_nothing


def test_quiet_notes_have_their_own_cool_down() -> None:
    selector = Selector(PLAYBOOK)
    out = run(selector, [cue("blink_cluster", 10.0), cue("blink_cluster", 12.0), cue("blink_cluster", 25.0)])
    assert out[0] is not None and out[1] is None and out[2] is not None and out[2].say_nothing


def test_suggestion_fields() -> None:
    s = Selector(PLAYBOOK, "sales")(cue("micro_surprise", 7.0, confidence=0.8, face=2), LOCKED)
    assert s is not None
    script = PLAYBOOK.script("micro_surprise", "sales")
    assert (s.cue, s.face, s.context, s.region) == ("micro_surprise", 2, "sales", REGION["micro_surprise"])
    assert s.t_s == pytest.approx(7.1) and s.confidence == 0.8
    assert s.plain == script.plain and s.repair in script.repairs


def test_unknown_cue_is_ignored() -> None:
    assert Selector(PLAYBOOK)(cue("pupil_dilation", 1.0), LOCKED) is None


def test_deterministic_for_a_seed() -> None:
    series = [cue(CUE_NAMES[i % len(CUE_NAMES)], 6.0 * i, confidence=0.5 + (i % 5) / 10) for i in range(60)]
    assert run(Selector(PLAYBOOK, seed=7), series) == run(Selector(PLAYBOOK, seed=7), series)


def test_marks_update_the_threshold() -> None:
    selector = Selector(PLAYBOOK)
    s = selector(cue("eyebrow_flash", 1.0, confidence=0.52), LOCKED)
    assert s is not None
    selector.mark(s, "misread")
    assert selector.threshold("eyebrow_flash") == pytest.approx(0.55)
    assert selector(cue("eyebrow_flash", 100.0, confidence=0.52), LOCKED) is None
    selector.mark(s, "helped")
    assert selector.threshold("eyebrow_flash") == pytest.approx(0.5)
    stats = selector.stats()[("eyebrow_flash", "general")]
    assert (stats.helped, stats.misread) == (1, 1)
    with pytest.raises(ValueError):
        selector.mark(s, "great")  # type: ignore[arg-type]


def test_preview_for_the_playbook_screen() -> None:
    assert cue_names() == CUE_NAMES
    assert [key for key, _label in context_choices()] == list(CONTEXTS)
    for name in CUE_NAMES:
        for context in CONTEXTS:
            script = PLAYBOOK.script(name, context)
            gentle = preview(PLAYBOOK, name, context, index=1)
            assert gentle.context == context and gentle.strength == "gentle"
            if script.say_nothing.when == "never":
                assert gentle.move == script.moves[1 % len(script.moves)]
            strong = preview(PLAYBOOK, name, context, stronger=True)
            if script.stronger and script.say_nothing.when != "always":
                assert strong.strength == "stronger" and strong.move == script.stronger


def test_selector_follows_a_watched_playbook(tmp_path: Path) -> None:
    path = tmp_path / "playbook.yaml"
    text = default_playbook_path().read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    watcher = PlaybookWatcher(path, interval_s=0.0)
    selector = Selector(watcher)
    assert selector(cue("eyebrow_flash", 1.0, confidence=0.55), LOCKED) is not None
    path.write_text(text.replace("general: {min_confidence: 0.5}", "general: {min_confidence: 0.9}"), encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    selector(cue("eyebrow_flash", 50.0, confidence=0.55), LOCKED)  # starts the reload; never waits for it
    assert watcher.wait(10.0)
    assert selector(cue("eyebrow_flash", 100.0, confidence=0.55), LOCKED) is None
    assert isinstance(selector.playbook, Playbook) and selector.playbook.contexts.general.min_confidence == 0.9


def test_default_selector_follows_the_user_playbook(config_home: Path) -> None:
    errors: list[object] = []
    selector = default_selector("sales", on_error=errors.append)
    assert selector.context == "sales" and selector.watcher is not None
    assert selector.watcher.path == default_playbook_path()
    assert Selector().watcher is not None  # no playbook given: the same behaviour
    user = config_home / "callcoach" / "playbook.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("version: 1\ncues: oops\n", encoding="utf-8")
    selector.watcher.interval_s = 0.0
    # A bad user copy: reported, the default stays in force, the call goes on.
    assert selector(cue("eyebrow_flash", 1.0), LOCKED) is not None
    assert selector.watcher.wait(10.0)
    assert len(errors) == 1 and str(errors[0]).startswith(f"{user}:")


def test_a_new_stream_starts_afresh() -> None:
    selector = Selector(PLAYBOOK)
    assert selector(cue("eyebrow_flash", 500.0), LOCKED) is not None
    # The source was replaced and stream time restarted near zero: no cool-down carried over from before.
    assert selector(cue("micro_frown", 2.0), LOCKED) is not None
