"""The playbook screen: browse every cue in every context, preview what the panel would show, edit the file.

Opened with ``b`` from the live panel, or on its own with ``callcoach playbook edit --tui``. It reads the
playbook through a ``PlaybookWatcher``: in a live session the selector's own, so an edit made here is what
coaching uses as soon as it loads, and a bad edit leaves the last good playbook in force exactly as it does
during a call. Editing always opens the user's copy (created from the default first), never the package.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from typing import ClassVar

from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, OptionList, Static, Tab, Tabs
from textual.widgets.option_list import Option

from callcoach.cues.vocabulary import REGION
from callcoach.playbook.loader import default_playbook_path, user_playbook_path
from callcoach.playbook.selector import context_choices, cue_names, preview
from callcoach.playbook.watcher import PlaybookWatcher
from callcoach.ui.playbook_entry import _SECTIONS, section_items
from callcoach.ui.playbook_entry import _Section as _Section  # re-exported for the tests
from callcoach.ui.playbook_entry import preview_caption as preview_caption
from callcoach.ui.playbook_entry import short_path as short_path
from callcoach.ui.playbook_entry import written_fields as written_fields
from callcoach.ui.widgets import SuggestionCard, cue_words, region_words


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


class PlaybookScreen(Screen[None]):
    """Cues down the side, contexts across the top; the entry's fields, or the suggestion it would make."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "context(1)", "context"),
        # Priority: the focused pane would otherwise take the arrows for horizontal scrolling it never needs.
        Binding("right", "context(1)", "next context", show=False, priority=True),
        Binding("left", "context(-1)", "previous context", show=False, priority=True),
        Binding("v", "toggle_view", "preview"),
        Binding("s", "stronger", "stronger"),
        Binding("n", "next_move", "next move"),
        Binding("e", "edit", "edit"),
        Binding("r", "reload", "reload", show=False),
        Binding("escape", "close", "back"),
    ]

    def __init__(
        self,
        watcher: PlaybookWatcher | None = None,
        *,
        cue: str | None = None,
        context: str = "general",
        standalone: bool = False,
    ) -> None:
        super().__init__()
        self.watcher = watcher if watcher is not None else PlaybookWatcher()
        self.playbook = self.watcher.playbook
        self.cue = cue if cue in cue_names() else cue_names()[0]
        self.context = context if context in dict(context_choices()) else "general"
        self.stronger = False
        self.move_index = 0
        self._standalone = standalone
        self._error = self.watcher.error

    def compose(self) -> ComposeResult:
        with Horizontal(id="pb-top"):
            yield Static("playbook", id="pb-title")
            yield Static(id="pb-file")
        yield Static(id="pb-error")
        tabs = Tabs(
            *(Tab(label, id=f"pb-ctx-{key}") for key, label in context_choices()),
            active=f"pb-ctx-{self.context}",
            id="pb-contexts",
        )
        tabs.can_focus = False  # ←/→ and c switch context from anywhere; clicking a tab still works
        yield tabs
        with Horizontal(id="pb-body"):
            cues = OptionList(*(Option(name, id=name) for name in cue_names()), id="pb-cues", markup=False)
            cues.border_title = "cues"
            yield cues
            with ContentSwitcher(initial="pb-fields", id="pb-views"):
                with VerticalScroll(id="pb-fields"):
                    yield Static(id="pb-heading")
                    yield Static(id="pb-plain")
                    for key, title, lines in _SECTIONS:
                        yield _Section(key, title, lines)
                with VerticalScroll(id="pb-preview"):
                    yield SuggestionCard(id="pb-card")
                    yield Static(id="pb-caption")
                    yield Static(
                        "Shown at the cue's threshold; live, the confidence is the detector's. "
                        "Thresholds, cool-down and the calibration wait are not applied here.",
                        id="pb-note",
                    )
        yield Footer()

    def on_mount(self) -> None:
        cues = self.query_one("#pb-cues", OptionList)
        cues.highlighted = cue_names().index(self.cue)
        cues.focus()
        self.show_entry()
        self._show_file()
        # An edit saved from another terminal shows up here too, as it does in the live session.
        self.set_interval(1.0, self._poll)

    # --- showing -----------------------------------------------------------------------------------

    def show_entry(self) -> None:
        playbook, cue, context = self.playbook, self.cue, self.context
        script = playbook.script(cue, context)
        label = dict(context_choices())[context]
        where = region_words(REGION.get(cue, "face"))
        self.query_one("#pb-heading", Static).update(
            Content.assemble(
                (cue, "bold"),
                f" · {cue_words(cue)}\n",
                (f"{where} · {label} · min confidence {playbook.threshold(cue, context):.2f}", "dim"),
            )
        )
        written = written_fields(playbook, cue, context)
        self.query_one("#pb-plain", Static).update(
            Content.assemble((script.plain, "italic"), ("  · from general" if "plain" not in written else "", "dim"))
        )
        for key, items in section_items(script, self.move_index).items():
            self.query_one(f"#pb-{key}", _Section).set(items, key not in written)
        card = self.query_one("#pb-card", SuggestionCard)
        card.show_suggestion(preview(playbook, cue, context, stronger=self.stronger, index=self.move_index))
        card.border_title = f"preview · {cue} · {label}"
        self.query_one("#pb-caption", Static).update(Content(preview_caption(script, self.stronger, self.move_index)))

    def _show_file(self) -> None:
        user, path = user_playbook_path(), self.watcher.path
        if path == user:
            text = f"your copy: {short_path(user)}"
        elif path == default_playbook_path():
            text = f"the default · e makes your copy at {short_path(user)}"
        else:
            text = short_path(path)
        self.query_one("#pb-file", Static).update(Content(text))
        error = self.query_one("#pb-error", Static)
        error.display = self.watcher.error is not None
        if self.watcher.error is not None:
            error.update(Content(f"Not in force: {_one_line(self.watcher.error)}"))

    def _sync(self, *, edited: bool = False) -> None:
        """Show the watcher's playbook and error; after an edit, say what came of it."""
        changed = self.watcher.playbook is not self.playbook
        error = self.watcher.error
        if changed:
            self.playbook = self.watcher.playbook
            self.show_entry()
        self._show_file()
        if error is not None and (edited or error is not self._error):
            self.notify(
                _one_line(error),
                title="Not loaded: the last good playbook stays in force",
                severity="error",
                timeout=12,
                markup=False,
            )
        elif edited:
            self.notify(
                "Reloaded: this is the playbook in force now." if changed else "No changes.", timeout=4, markup=False
            )
        self._error = error

    def _poll(self) -> None:
        self.watcher.poll()
        self._sync()

    # --- keys and events ---------------------------------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.cue:
            self.cue, self.move_index = event.option.id, 0
            self.show_entry()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.action_toggle_view()

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        context = (event.tab.id or "").removeprefix("pb-ctx-")
        if context in dict(context_choices()) and context != self.context:
            self.context, self.move_index = context, 0
            self.show_entry()

    def action_context(self, step: int) -> None:
        keys = [key for key, _ in context_choices()]
        target = keys[(keys.index(self.context) + step) % len(keys)]
        self.query_one("#pb-contexts", Tabs).active = f"pb-ctx-{target}"

    def _show_view(self, view: str) -> None:
        self.query_one("#pb-views", ContentSwitcher).current = view

    def action_toggle_view(self) -> None:
        views = self.query_one("#pb-views", ContentSwitcher)
        self._show_view("pb-fields" if views.current == "pb-preview" else "pb-preview")

    def action_stronger(self) -> None:
        self.stronger = not self.stronger
        self.show_entry()
        self._show_view("pb-preview")

    def action_next_move(self) -> None:
        self.move_index = (self.move_index + 1) % len(self.playbook.script(self.cue, self.context).moves)
        self.show_entry()
        self._show_view("pb-preview")

    def action_reload(self) -> None:
        self.watcher.check()
        self._sync(edited=True)

    def action_close(self) -> None:
        if self._standalone:
            self.app.exit()
        else:
            self.dismiss(None)

    def action_edit(self) -> None:
        user = user_playbook_path()
        if not user.exists():
            try:
                user.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(default_playbook_path(), user)
            except OSError as exc:
                self.notify(f"Cannot write {user}: {exc.strerror or exc}", severity="error", markup=False)
                return
            self.notify(f"Copied the default playbook to {user}", timeout=4, markup=False)
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self.notify(
                f"Set $VISUAL or $EDITOR to edit from here. Your playbook is {user}",
                severity="warning",
                timeout=12,
                markup=False,
            )
            return
        try:
            self._run_editor([*shlex.split(editor), str(user)])
        except (OSError, ValueError) as exc:
            self.notify(
                f"Cannot start the editor {editor!r} ({getattr(exc, 'strerror', None) or exc}); the file is {user}",
                severity="error",
                timeout=12,
                markup=False,
            )
            return
        self.watcher.check()
        self._sync(edited=True)

    def _run_editor(self, command: list[str]) -> None:
        try:
            with self.app.suspend():
                subprocess.run(command, check=False)
            return
        except SuspendNotSupported:
            if not self.app.is_headless:
                raise OSError("this terminal cannot hand the screen over to an editor") from None
        # Headless (tests, scripted editors): there is no terminal to hand over, the command just runs.
        subprocess.run(command, check=False, stdin=subprocess.DEVNULL, capture_output=True)


class PlaybookApp(App[None]):
    """The playbook screen on its own: ``callcoach playbook edit --tui``."""

    CSS_PATH = "app.tcss"
    TITLE = "callcoach playbook"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "quit")]

    def __init__(
        self, watcher: PlaybookWatcher | None = None, *, cue: str | None = None, context: str = "general"
    ) -> None:
        super().__init__()
        self._screen_args = (watcher, cue, context)

    def get_default_screen(self) -> Screen[None]:
        watcher, cue, context = self._screen_args
        return PlaybookScreen(watcher, cue=cue, context=context, standalone=True)


def run_playbook_app(cue: str | None = None, context: str = "general") -> int:
    app = PlaybookApp(cue=cue, context=context)
    app.run()
    return app.return_code or 0
