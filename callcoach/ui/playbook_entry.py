"""How the playbook screen lays out one entry: the sections of a cue's script, line by line, and the caption
under its preview. Apart from the screen so the layout can be read (and tested) without its keys and file
handling.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from callcoach.playbook.model import CueScript, Playbook

#: Section titles with the YAML key each one shows (so what is on screen can be found in the file), and the
#: most lines the model allows in it.
_SECTIONS: tuple[tuple[str, str, int], ...] = (
    ("hypotheses", "Possible readings", 3),
    ("moves", "Gentle moves", 8),
    ("stronger", "Stronger move, only when two cues agree", 1),
    ("repairs", "If it was a misread", 6),
    ("say_nothing", "Say nothing", 1),
)

Item = tuple[str, str]


def short_path(path: Path) -> str:
    """``path`` with the home directory written as ~ (shorter, and the same on every machine)."""
    try:
        return "~/" + path.relative_to(Path.home()).as_posix()
    except ValueError:
        return str(path)


def written_fields(playbook: Playbook, cue: str, context: str) -> frozenset[str]:
    """Fields the file writes for ``cue`` in ``context`` itself; the rest come from general."""
    if context == "general":
        return frozenset(CueScript.model_fields)
    override = getattr(getattr(playbook.cues, cue), context)
    return frozenset(override.model_fields_set) if override is not None else frozenset()


def _aligned(items: list[Item]) -> list[Item]:
    width = max((len(marker) for marker, _ in items), default=0)
    return [(marker.ljust(width), text) for marker, text in items]


def section_items(script: CueScript, move_index: int) -> dict[str, list[Item]]:
    """Each section as (marker, text) lines; the gentle move the preview shows is marked with ▸."""
    readings = script.hypotheses
    current = move_index % len(script.moves)
    quiet = script.say_nothing
    return {
        "hypotheses": _aligned(
            [
                (f"{label}:", text)
                for label, text in (
                    ("positive", readings.positive),
                    ("neutral", readings.neutral),
                    ("negative", readings.negative),
                )
                if text
            ]
        ),
        "moves": [(f"{'▸' if i == current else ' '} {i + 1}.", move) for i, move in enumerate(script.moves)],
        "stronger": [("-", script.stronger) if script.stronger else ("", "none here: two cues get a gentle move")],
        "repairs": [("-", repair) for repair in script.repairs],
        "say_nothing": [
            (
                f"{quiet.when}:",
                {
                    "never": "a move is always suggested",
                    "alone": f"when it is the only cue. {quiet.line}",
                    "always": f"in this context. {quiet.line}",
                }[quiet.when],
            )
        ],
    }


def preview_caption(script: CueScript, stronger: bool, move_index: int) -> str:
    """What the preview shows and why, in one or two lines under the card."""
    n = len(script.moves)
    gentle = f"gentle move {move_index % n + 1} of {n}"
    quiet = script.say_nothing.when == "always" or (script.say_nothing.when == "alone" and not stronger)
    if quiet:
        shown = "say nothing " + ("(always here)" if script.say_nothing.when == "always" else "(a single cue)")
    elif stronger:
        shown = "stronger move (two cues agree)" if script.stronger else f"no stronger move here: {gentle}"
    else:
        shown = gentle
    return f"Preview of {shown} · s {'gentle' if stronger else 'stronger'} · n next move · v fields"


class _Item(Horizontal):
    """One line of a section; a wrapped line stays indented under its text, not under its marker."""

    def compose(self) -> ComposeResult:
        yield Static(classes="pb-marker")
        yield Static(classes="pb-text")

    def set(self, marker: str, text: str) -> None:
        self.query_one(".pb-marker", Static).update(Content(marker))
        self.query_one(".pb-marker", Static).display = bool(marker)
        self.query_one(".pb-text", Static).update(Content(text))


class _Section(Vertical):
    def __init__(self, key: str, title: str, lines: int) -> None:
        super().__init__(id=f"pb-{key}", classes="pb-section")
        # As many rows as the model allows, shown or hidden, so switching cues never mounts widgets.
        self._key, self._title, self._lines = key, title, lines
        self.items: list[Item] = []

    def compose(self) -> ComposeResult:
        yield Static(classes="pb-section-title")
        for _ in range(self._lines):
            yield _Item(classes="pb-item")

    def set(self, items: list[Item], inherited: bool) -> None:
        self.items = items
        note = " · from general" if inherited else ""
        title = Content.assemble((self._title, "bold"), (f"  {self._key}{note}", "dim"))
        self.query_one(".pb-section-title", Static).update(title)
        for i, row in enumerate(self.query(_Item)):
            row.display = i < len(items)
            if row.display:
                row.set(*items[i])

    @property
    def text(self) -> str:
        return "\n".join(f"{marker} {text}".strip() for marker, text in self.items)
