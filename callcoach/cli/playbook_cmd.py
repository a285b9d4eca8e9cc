"""``callcoach playbook show | validate [FILE] | edit | export | reset``.

Every failure is a ``PlaybookError`` or ``CallcoachError`` so the command line prints one line and exits 1;
``validate`` in particular prints exactly the loader's ``FILE:LINE: FIELD: problem``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from callcoach.cues.vocabulary import CUE_NAMES, REGION
from callcoach.errors import CallcoachError
from callcoach.playbook.loader import (
    active_playbook_path,
    default_playbook_path,
    load_playbook,
    read_playbook_text,
    user_playbook_path,
)
from callcoach.playbook.model import CueScript, Playbook, playbook_json_schema
from callcoach.playbook.types import CONTEXT_LABELS, CONTEXTS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of whichever playbook subcommand is on the command line (one module serves all five)."""
    action = parser.prog.split()[-1]
    if action == "show":
        parser.add_argument("--cue", choices=CUE_NAMES, help="show only this cue (default: all)")
        parser.add_argument(
            "--context",
            choices=(*CONTEXTS, "all"),
            default="general",
            help="conversation context (default general; 'all' shows every context)",
        )
        parser.add_argument("--file", metavar="FILE", help="show this playbook file instead of the active one")
    elif action == "validate":
        parser.add_argument("file", nargs="?", help="playbook YAML file to check (default: the playbook in use)")
    elif action == "edit":
        parser.add_argument(
            "--tui",
            action="store_true",
            help="browse, preview and edit in a terminal screen instead of opening the editor at once",
        )
    elif action == "export":
        parser.add_argument("--schema", action="store_true", help="export the JSON Schema instead of the YAML")
        parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")


# --- show -----------------------------------------------------------------------------------------------


def _render_script(cue: str, context: str, script: CueScript, threshold: float) -> object:
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    lines: list[Text] = [Text(script.plain, style="italic"), Text()]
    readings = script.hypotheses
    lines.append(Text("Possible readings", style="bold"))
    for label, text in (
        ("positive", readings.positive),
        ("neutral", readings.neutral),
        ("negative", readings.negative),
    ):
        if text:
            lines.append(Text.assemble(f"  {label}: ", (text, "")))
    lines.append(Text("Gentle moves", style="bold"))
    lines.extend(Text(f"  - {move}") for move in script.moves)
    if script.stronger:
        lines.append(Text("Stronger move (only with two supporting cues)", style="bold"))
        lines.append(Text(f"  - {script.stronger}"))
    lines.append(Text("If it was a misread", style="bold"))
    lines.extend(Text(f"  - {repair}") for repair in script.repairs)
    quiet = script.say_nothing
    if quiet.when != "never":
        when = "always" if quiet.when == "always" else "when it is the only cue"
        lines.append(Text(f"Say nothing {when}", style="bold"))
        lines.append(Text(f"  {quiet.line}"))
    title = f"{cue} · {REGION.get(cue, '')} · {CONTEXT_LABELS[context]}"
    subtitle = f"min confidence {threshold:.2f}"
    return Panel(Group(*lines), title=title, subtitle=subtitle, title_align="left", subtitle_align="right")


def show(args: argparse.Namespace) -> int:
    from rich.console import Console

    path = Path(args.file) if getattr(args, "file", None) else active_playbook_path()
    playbook = load_playbook(path)
    console = Console(file=sys.stdout)
    context = getattr(args, "context", "general") or "general"
    contexts = CONTEXTS if context == "all" else (context,)
    cues = (args.cue,) if getattr(args, "cue", None) else CUE_NAMES
    console.print(
        f"playbook: {path}  (cool-down {playbook.cooldown_s:g} s, two cues within "
        f"{playbook.support_window_s:g} s count as support)",
        highlight=False,
    )
    for cue in cues:
        for ctx in contexts:
            console.print(_render_script(cue, ctx, playbook.script(cue, ctx), playbook.threshold(cue, ctx)))
    return 0


# --- validate, export -----------------------------------------------------------------------------------


def _summary(playbook: Playbook) -> str:
    written = sum(
        1 for cue in CUE_NAMES for ctx in CONTEXTS if ctx == "general" or getattr(getattr(playbook.cues, cue), ctx)
    )
    fallback = len(CUE_NAMES) * len(CONTEXTS) - written
    text = f"{len(CUE_NAMES)} cues x {len(CONTEXTS)} contexts"
    return text + (f", {fallback} of them from general" if fallback else "")


def validate(args: argparse.Namespace) -> int:
    path = args.file if args.file is not None else active_playbook_path()
    playbook = load_playbook(path)
    print(f"ok: {path} ({_summary(playbook)})", flush=True)
    return 0


def schema_text() -> str:
    """The JSON Schema exactly as published in docs/playbook.schema.json."""
    return json.dumps(playbook_json_schema(), indent=2, ensure_ascii=False) + "\n"


def export(args: argparse.Namespace) -> int:
    if getattr(args, "schema", False):
        text = schema_text()
    else:
        path = active_playbook_path()
        load_playbook(path)  # refuse to hand on a file that does not load
        text = read_playbook_text(path)
    output = getattr(args, "output", None)
    if not output:
        sys.stdout.write(text)
        sys.stdout.flush()
        return 0
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CallcoachError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {output}", file=sys.stderr, flush=True)
    return 0


# --- edit, reset ----------------------------------------------------------------------------------------


def _install_default(user: Path) -> None:
    try:
        user.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(default_playbook_path(), user)
    except OSError as exc:
        raise CallcoachError(f"cannot write {user}: {exc.strerror or exc}") from None


def edit(args: argparse.Namespace) -> int:
    if getattr(args, "tui", False):
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise CallcoachError("--tui needs a terminal; without it, edit opens $VISUAL/$EDITOR or prints the path")
        from callcoach.ui.playbook_screen import run_playbook_app  # Textual only loads for the screen

        return run_playbook_app()
    user = user_playbook_path()
    if not user.exists():
        _install_default(user)
        print(f"copied the default playbook to {user}", file=sys.stderr, flush=True)
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not editor or not (sys.stdin.isatty() and sys.stdout.isatty()):
        # Nothing to open it with here: give the path, so a script or another editor can take over.
        print(user, flush=True)
        return 0
    try:
        subprocess.run([*shlex.split(editor), str(user)], check=False)
    except OSError as exc:
        reason = exc.strerror or exc
        raise CallcoachError(f"cannot start the editor {editor!r} ({reason}); the file is {user}") from None
    playbook = load_playbook(user)  # a bad edit is reported as FILE:LINE: FIELD; the session keeps the old one
    print(f"ok: {user} ({_summary(playbook)})", flush=True)
    return 0


def _backup_name(user: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = user.with_name(f"{user.name}.{stamp}.bak")
    n = 1
    while candidate.exists():
        candidate = user.with_name(f"{user.name}.{stamp}-{n}.bak")
        n += 1
    return candidate


def reset(_args: argparse.Namespace) -> int:
    user = user_playbook_path()
    if user.exists():
        backup = _backup_name(user)
        try:
            shutil.copy2(user, backup)
        except OSError as exc:
            raise CallcoachError(f"cannot back up {user}: {exc.strerror or exc}; nothing was changed") from None
        print(f"backed up {user} to {backup}", flush=True)
    _install_default(user)
    print(f"restored the default playbook at {user}", flush=True)
    return 0
