"""The playbook screen: browsing cues x contexts, previewing suggestions, editing through $VISUAL.

Every test runs with a throw-away HOME and config dir, so the real playbook is never read or written. The
"editor" is a small Python script that rewrites one line of the file, as a person would in their editor.
Regenerate the two snapshots after a deliberate change with

    python -m pytest tests/test_playbook_screen.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, Tabs
from ui_fakes import CONSENT, Harness

from callcoach.playbook.loader import default_playbook_path, load_playbook, user_playbook_path
from callcoach.playbook.selector import Selector, preview
from callcoach.playbook.watcher import PlaybookWatcher
from callcoach.ui.app import CoachApp
from callcoach.ui.playbook_screen import (
    PlaybookApp,
    PlaybookScreen,
    _Section,
    preview_caption,
    short_path,
    written_fields,
)
from callcoach.ui.widgets import SuggestionCard

DEFAULT = load_playbook(default_playbook_path())
OLD_MOVE = "Pause for a beat and let them speak."  # eyebrow_flash, general, first gentle move
NEW_MOVE = "Nod once, then wait for them to go on."

_EDITOR = """
import pathlib, sys
old, new, path = sys.argv[1:4]
file = pathlib.Path(path)
text = file.read_text(encoding="utf-8")
if old not in text:
    sys.exit("the fake editor did not find " + repr(old))
file.write_text(text.replace(old, new, 1), encoding="utf-8")
"""


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake HOME whose config dir holds the user's playbook (shown as ~/.config/..., so snapshots match)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    return home


def use_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str) -> None:
    script = tmp_path / "fake_editor.py"
    script.write_text(_EDITOR, encoding="utf-8")
    monkeypatch.setenv("VISUAL", shlex.join([sys.executable, str(script), old, new]))


def user_copy() -> Path:
    user = user_playbook_path()
    user.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(default_playbook_path(), user)
    return user


Scenario = Callable[[Pilot[Any], PlaybookScreen], Awaitable[None]]


def run(scenario: Scenario, app: Any = None, *keys: str) -> None:
    """Run ``scenario`` against the playbook screen (standalone unless ``app`` is given)."""

    async def main() -> None:
        target = app if app is not None else PlaybookApp()
        async with target.run_test(size=(80, 24)) as pilot:
            await target.workers.wait_for_complete()  # the live panel starts its runner on a worker
            await pilot.pause()
            await pilot.press(*keys)
            await pilot.pause()
            assert isinstance(target.screen, PlaybookScreen)
            await scenario(pilot, target.screen)

    asyncio.run(main())


def card_text(screen: PlaybookScreen, selector: str) -> str:
    return str(screen.query_one("#pb-card", SuggestionCard).query_one(selector, Static).render())


def move_shown(screen: PlaybookScreen) -> str:
    return card_text(screen, "#move-row .row-text")


def section(screen: PlaybookScreen, key: str) -> str:
    return screen.query_one(f"#pb-{key}", _Section).text


def notices(screen: PlaybookScreen) -> list[tuple[str, str]]:
    return [(n.severity, n.message) for n in screen.app._notifications]


# --- helpers ---------------------------------------------------------------------------------------------


def test_helpers(home: Path) -> None:
    assert short_path(home / ".config" / "callcoach" / "playbook.yaml") == "~/.config/callcoach/playbook.yaml"
    assert short_path(Path("/elsewhere/p.yaml")) == "/elsewhere/p.yaml"
    # In the default, sales rewrites the eyebrow flash's moves but takes its wording and silence from general.
    assert {"moves", "stronger"} <= written_fields(DEFAULT, "eyebrow_flash", "sales")
    assert not {"plain", "say_nothing"} & written_fields(DEFAULT, "eyebrow_flash", "sales")
    script = DEFAULT.script("blink_cluster", "general")
    assert "say nothing (a single cue)" in preview_caption(script, stronger=False, move_index=0)
    assert "stronger move" in preview_caption(script, stronger=True, move_index=0)


# --- browsing --------------------------------------------------------------------------------------------


def test_arrows_and_c_walk_through_cues_and_contexts() -> None:
    async def scenario(pilot: Pilot[Any], screen: PlaybookScreen) -> None:
        assert (screen.cue, screen.context) == ("eyebrow_flash", "general")
        assert "eyebrow_flash" in str(screen.query_one("#pb-heading", Static).render())
        assert OLD_MOVE in section(screen, "moves")
        for key, context in (("c", "sales"), ("right", "negotiation"), ("left", "sales")):
            await pilot.press(key)
            await pilot.pause()
            assert screen.context == context
            assert screen.query_one(Tabs).active == f"pb-ctx-{context}"
        sales = DEFAULT.script("eyebrow_flash", "sales")
        assert all(move in section(screen, "moves") for move in sales.moves)
        assert "from general" in str(screen.query_one("#pb-say_nothing .pb-section-title", Static).render())
        await pilot.press("down")
        await pilot.pause()
        assert screen.cue == "lip_compression"
        assert DEFAULT.script("lip_compression", "sales").moves[0] in section(screen, "moves")

    run(scenario, None, "down", "down")


def test_preview_follows_the_context() -> None:
    async def scenario(pilot: Pilot[Any], screen: PlaybookScreen) -> None:
        general = move_shown(screen)
        assert general == preview(DEFAULT, "eyebrow_flash", "general").move == OLD_MOVE
        await pilot.press("c")
        await pilot.pause()
        sales = move_shown(screen)
        assert sales == preview(DEFAULT, "eyebrow_flash", "sales").move != general
        assert screen.query_one("#pb-card").border_title == "preview · eyebrow_flash · sales"

    run(scenario, None, "down", "down", "v")


def test_stronger_gentle_and_cycling_moves() -> None:
    script = DEFAULT.script("eyebrow_flash", "general")

    async def scenario(pilot: Pilot[Any], screen: PlaybookScreen) -> None:
        assert move_shown(screen) == script.moves[0]
        assert "one signal" in card_text(screen, "#where")
        await pilot.press("s")
        await pilot.pause()
        assert move_shown(screen) == script.stronger
        assert "two signals agree" in card_text(screen, "#where")
        assert "stronger move" in str(screen.query_one("#pb-caption", Static).render())
        await pilot.press("s", "n")
        await pilot.pause()
        assert move_shown(screen) == script.moves[1]
        assert "▸ 2." in section(screen, "moves")
        await pilot.press(*["n"] * (len(script.moves) - 1))  # round to the first again
        await pilot.pause()
        assert move_shown(screen) == script.moves[0]

    run(scenario, None, "down", "down", "v")


def test_a_cue_that_waits_for_support_previews_as_say_nothing() -> None:
    async def scenario(pilot: Pilot[Any], screen: PlaybookScreen) -> None:
        card = screen.query_one("#pb-card", SuggestionCard)
        assert screen.cue == "blink_cluster" and card.has_class("say-nothing")
        assert move_shown(screen) == DEFAULT.script("blink_cluster", "general").say_nothing.line
        await pilot.press("s")
        await pilot.pause()
        assert not card.has_class("say-nothing")
        assert move_shown(screen) == DEFAULT.script("blink_cluster", "general").stronger

    run(scenario, None, *["down"] * 6, "enter")  # enter on a cue opens its preview


# --- editing ---------------------------------------------------------------------------------------------


def test_edit_copies_the_default_opens_the_editor_and_reloads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_editor(tmp_path, monkeypatch, OLD_MOVE, NEW_MOVE)
    assert not user_playbook_path().exists()

    async def scenario(pilot: Pilot[Any], screen: PlaybookScreen) -> None:
        await pilot.press("e")
        await pilot.pause()
        assert NEW_MOVE in user_playbook_path().read_text(encoding="utf-8")
        assert default_playbook_path().read_text(encoding="utf-8").count(NEW_MOVE) == 0
        assert screen.watcher.path == user_playbook_path() and screen.watcher.error is None
        assert NEW_MOVE in section(screen, "moves") and OLD_MOVE not in section(screen, "moves")
        assert move_shown(screen) == NEW_MOVE
        assert "your copy: ~/.config/callcoach/playbook.yaml" in str(screen.query_one("#pb-file", Static).render())
        messages = notices(screen)
        assert any("Copied the default" in m for _, m in messages)
        assert any(s == "information" and m.startswith("Reloaded") for s, m in messages)

    run(scenario, None, "down", "down")


def test_a_bad_edit_shows_the_error_and_keeps_the_last_good_playbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user_copy()
    use_editor(tmp_path, monkeypatch, "version: 1", "version: 12")

    async def scenario(pilot: Pilot[Any], screen: PlaybookScreen) -> None:
        before = screen.watcher.playbook
        await pilot.press("e")
        await pilot.pause()
        assert screen.watcher.playbook is before and screen.playbook is before
        assert OLD_MOVE in section(screen, "moves") and move_shown(screen) == OLD_MOVE
        errors = [m for s, m in notices(screen) if s == "error"]
        assert len(errors) == 1
        assert errors[0].startswith(f"{user_playbook_path()}:") and ": version: " in errors[0]
        assert "\n" not in errors[0]
        shown = screen.query_one("#pb-error", Static)
        assert shown.display and "version" in str(shown.render())
        # Fixing the file clears the error, and the fix takes effect.
        use_editor(tmp_path, monkeypatch, "version: 12", "version: 1")
        await pilot.press("e")
        await pilot.pause()
        assert screen.watcher.error is None and not shown.display
        assert screen.playbook is not before

    run(scenario, None, "down", "down", "v")


def test_a_save_from_elsewhere_shows_up_on_r() -> None:
    user = user_copy()

    async def scenario(pilot: Pilot[Any], screen: PlaybookScreen) -> None:
        assert OLD_MOVE in section(screen, "moves")
        user.write_text(user.read_text(encoding="utf-8").replace(OLD_MOVE, NEW_MOVE), encoding="utf-8")
        await pilot.press("r")
        await pilot.pause()
        assert NEW_MOVE in section(screen, "moves")

    run(scenario, None, "down", "down")


def test_without_an_editor_it_says_where_the_file_is() -> None:
    async def scenario(pilot: Pilot[Any], screen: PlaybookScreen) -> None:
        await pilot.press("e")
        await pilot.pause()
        warnings = [m for s, m in notices(screen) if s == "warning"]
        assert warnings and str(user_playbook_path()) in warnings[0] and "$VISUAL" in warnings[0]
        assert user_playbook_path().is_file()  # copied, ready for any editor

    run(scenario)


# --- from the live panel ---------------------------------------------------------------------------------


def test_b_opens_it_over_the_live_panel_and_an_edit_reaches_the_selector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_editor(tmp_path, monkeypatch, OLD_MOVE, NEW_MOVE)
    h = Harness()
    selector = Selector(PlaybookWatcher(), "sales")
    app = CoachApp(
        h.factory, selector=selector, context="sales", consent_text=CONSENT, acknowledged=True, status_interval_s=0.0
    )

    async def scenario(pilot: Pilot[Any], screen: PlaybookScreen) -> None:
        assert screen.watcher is selector.watcher and screen.context == "sales"
        assert selector.playbook.script("eyebrow_flash", "general").moves[0] == OLD_MOVE
        await pilot.press("e")
        await pilot.pause()
        # The very watcher the live selector reads: coaching now uses the edit.
        assert selector.playbook.script("eyebrow_flash", "general").moves[0] == NEW_MOVE
        await pilot.press("p")  # panel keys stay off while the playbook is open
        assert h.runner.calls == ["start"]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, PlaybookScreen)
        assert app.query_one("#card") is not None

    run(scenario, app, "b")
    assert selector.watcher is not None
    follower = selector.watcher._follower
    assert follower is not None
    follower.join(5.0)
    assert not follower.is_alive()  # the panel gone, the file is no longer polled


def test_b_works_without_a_playbook_selector() -> None:
    h = Harness()

    async def scenario(pilot: Pilot[Any], screen: PlaybookScreen) -> None:
        assert screen.watcher.path == default_playbook_path()

    run(scenario, h.app(), "b")


# --- the command line -----------------------------------------------------------------------------------


def test_cli_edit_tui_needs_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from callcoach.cli import main as cli

    assert cli.main(["playbook", "edit", "--tui"]) == 1  # pytest's stdin is not a terminal
    err = capsys.readouterr().err
    assert "--tui needs a terminal" in err and len(err.strip().splitlines()) == 1
    assert not user_playbook_path().exists()


# --- snapshots (80x24) -----------------------------------------------------------------------------------


def test_snapshot_browse(snap_compare: Any) -> None:
    assert snap_compare(PlaybookApp(), terminal_size=(80, 24), press=["down", "down"])


def test_snapshot_preview(snap_compare: Any) -> None:
    assert snap_compare(PlaybookApp(), terminal_size=(80, 24), press=["down", "down", "c", "v", "s"])
