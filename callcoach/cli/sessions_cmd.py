"""``callcoach sessions list | show ID | delete ID | export ID | retention [DAYS] | record [on|off]`` and
``callcoach summary [ID]``.

Every failure is a ``CallcoachError`` (one line, exit 1; exit 2 for a malformed id or setting). Commands that
only read never create the store: with no file yet, they say there are no sessions.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import sys
from pathlib import Path
from typing import Any

from callcoach.errors import CallcoachError, UsageError
from callcoach.session import settings, storefaults
from callcoach.session.schema import StoreError
from callcoach.session.store import SessionRow, SessionStore

_KEEPS = (
    "'callcoach live' keeps a cue log of each run (never video, pictures or sound) unless switched off: "
    "'callcoach sessions record off'."
)
#: A report "file" named ``-`` is standard output, as for most Unix tools.
STDOUT = "-"
NO_SESSIONS = "no sessions yet: 'callcoach live' keeps one per run (unless --no-record-session)"
#: One table for three kinds of row (``type``: cue, suggestion, self); a row leaves the others' columns empty.
#: The self-coaching columns come last so that readers written for the older header keep working.
CSV_FIELDS = (
    "type",
    "t_s",
    "cue",
    "emotion",
    "scale",
    "onset_s",
    "apex_s",
    "offset_s",
    "intensity",
    "confidence",
    "face",
    "latency_ms",
    "region",
    "plain",
    "move",
    "repair",
    "say_nothing",
    "strength",
    "context",
    "supporting",
    "mark",
    "kind",
    "remote_talking",
    "message",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of whichever command is on the command line (one module serves all seven)."""
    action = parser.prog.split()[-1]
    session_help = "session id from 'callcoach sessions list', or 'last'"
    if action in ("show", "delete", "export"):
        parser.add_argument("id", help=session_help)
    if action == "export":
        parser.add_argument("--format", choices=("json", "csv"), default="json", help="output format (default json)")
        parser.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    elif action == "retention":
        parser.add_argument(
            "days",
            nargs="?",
            metavar="DAYS",
            help="delete sessions older than DAYS days ('off' keeps them until deleted); "
            "without DAYS, show the setting",
        )
    elif action == "record":
        parser.add_argument(
            "switch",
            nargs="?",
            metavar="on|off",
            help="keep a cue log of every live run (on, the default) or of none (off); without it, show the setting",
        )
    elif action == "summary":
        parser.add_argument("id", nargs="?", default="last", help=session_help + " (default: the last session)")
        parser.add_argument(
            "--html",
            metavar="FILE",
            help="also write a self-contained HTML report (with the chart); '-' prints it on standard output instead "
            "of the terminal view",
        )
        parser.add_argument(
            "--markdown",
            metavar="FILE",
            help="also write a Markdown report; '-' prints it on standard output instead of the terminal view",
        )


def _open(*, create: bool = False, read_only_ok: bool = True) -> SessionStore:
    """The store; for reading commands (``read_only_ok``) one that cannot be written is opened read-only
    rather than refused. A message about the file (moved aside, read-only) goes to stderr, once."""
    path = settings.db_path()
    if path.parent.exists() and not path.parent.is_dir():
        # Otherwise the store "does not exist" and a reading command says there are no sessions yet.
        raise StoreError(f"cannot use {path.parent} for callcoach's data: it is a file, not a folder")
    if not create and not path.exists():
        raise StoreError(NO_SESSIONS)
    try:
        store = SessionStore(path)
    except StoreError as exc:
        if not (read_only_ok and storefaults.is_readonly(exc)):
            raise
        store = SessionStore(path, readonly=True)
        store.notice = (
            f"the session store {path} cannot be written here, so it is shown as it is (read-only; "
            "sessions left running are not closed)"
        )
    if store.notice:
        print(f"callcoach: {store.notice}", file=sys.stderr, flush=True)
    return store


def _session(store: SessionStore, text: str) -> SessionRow:
    if text == "last":
        row = store.last_session()
        if row is None:
            raise StoreError(NO_SESSIONS)
        return row
    try:
        number = int(text)
    except ValueError:
        raise UsageError(f"a session id is a number from 'callcoach sessions list' (or 'last'), not {text!r}") from None
    return store.session(number)


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


#: Width of the source column in 'sessions list': at least this much of the name, at most this much.
SOURCE_MIN = 12
SOURCE_MAX = 40


# --- list, show, delete ---------------------------------------------------------------------------------


def list_sessions(args: argparse.Namespace) -> int:
    from rich.table import Table

    from callcoach.session.report import clock, short_name, when

    try:
        store = _open()
    except StoreError as exc:
        if str(exc) != NO_SESSIONS:
            raise
        print(f"No sessions yet. {_KEEPS}")
        return 0
    with store:
        rows = store.sessions()
    if not rows:
        print(f"No sessions yet. {_KEEPS}")
        return 0
    # A plain listing like ``ls -l``: one line a session. The source takes what the other columns leave
    # (never less than SOURCE_MIN) and a long name is cut with an ellipsis, never folded mid-word; the full
    # name is in 'callcoach sessions show ID'.
    names = ("id", "started", "length", "source", "context", "status", "cues", "sugg.", "marks")
    cells = [
        (
            str(r.id),
            when(r.started_at),
            clock(r.duration_s()),
            f"{r.source_kind}: {short_name(r.source_kind, r.source_name, SOURCE_MAX)}",
            r.context,
            r.status,
            str(r.cues),
            str(r.suggestions),
            str(r.marks),
        )
        for r in rows
    ]
    console = _console()
    # The other columns keep their full width (a cut date or count would be wrong, not just short); the
    # source gets the rest of the line. Left to itself rich would squeeze or drop other columns first.
    natural = [max(len(name), *(len(row[i]) for row in cells)) for i, name in enumerate(names)]
    source_at = names.index("source")
    others = sum(natural) - natural[source_at] + len(names)  # each column has one space after it
    source_width = max(SOURCE_MIN, min(natural[source_at], SOURCE_MAX, console.width - others))
    table = Table(box=None, padding=(0, 1, 0, 0), header_style="bold")
    for name, width in zip(names, natural, strict=True):
        table.add_column(
            name,
            no_wrap=True,
            overflow="ellipsis",
            justify="right" if name in ("id", "cues", "sugg.", "marks") else "left",
            width=source_width if name == "source" else width,
        )
    for row in cells:
        table.add_row(*row)
    console.print(table)
    console.print(
        f"{len(rows)} session(s) in {settings.db_path()}; {settings.retention_text(settings.retention_days())}.",
        markup=False,
    )
    return 0


def show(args: argparse.Namespace) -> int:
    from rich.table import Table

    from callcoach.session.report import clock, when

    with _open() as store:
        row = _session(store, args.id)
        cues, suggestions, own = store.cue_events(row.id), store.suggestions(row.id), store.self_notes(row.id)
    console = _console()
    console.print(
        f"Session {row.id}: {row.source_kind} '{row.source_name}', context {row.context}, {row.status}; "
        f"started {when(row.started_at)}, ended {when(row.ended_at)}, {clock(row.duration_s())} long; "
        f"playbook {row.playbook_version or '-'}",
        markup=False,
    )
    table = Table(title="Cue events (guesses)", title_justify="left")
    for name in ("apex", "cue", "emotion", "scale", "intensity", "confidence", "face", "latency ms"):
        table.add_column(name)
    for c in cues:
        table.add_row(
            clock(c.apex_s),
            c.cue,
            c.emotion or "-",
            c.scale,
            f"{c.intensity:.2f}",
            f"{c.confidence:.2f}",
            str(c.face),
            "-" if c.latency_ms is None else f"{c.latency_ms:.0f}",
        )
    console.print(table)
    table = Table(title="Suggestions shown", title_justify="left")
    for name in ("at", "cue", "suggestion", "move", "mark"):
        table.add_column(name, overflow="fold")
    for g in suggestions:
        table.add_row(clock(g.t_s), g.cue, g.plain, g.move, g.mark or "-")
    console.print(table)
    if own:  # only sessions with self-coaching (vcam) have these
        table = Table(title="Notes on your own face (guesses, for you only)", title_justify="left")
        for name in ("at", "kind", "cue", "while they talked", "confidence", "note"):
            table.add_column(name, overflow="fold")
        for n in own:
            table.add_row(
                clock(n.t_s), n.kind, n.cue, "yes" if n.remote_talking else "no", f"{n.confidence:.2f}", n.message
            )
        console.print(table)
    console.print("Full report: callcoach summary " + str(row.id), markup=False)
    return 0


def delete(args: argparse.Namespace) -> int:
    with _open(read_only_ok=False) as store:
        row = _session(store, args.id)
        if row.status == "running":
            raise CallcoachError(f"session {row.id} is still being recorded; end that 'callcoach live' first")
        store.delete_session(row.id)
    print(f"Deleted session {row.id} ({row.cues} cue events, {row.suggestions} suggestions, {row.marks} marks).")
    return 0


# --- export ---------------------------------------------------------------------------------------------


def export_json(store: SessionStore, row: SessionRow) -> str:
    record = {
        "session": dataclasses.asdict(row),
        "cue_events": [dataclasses.asdict(c) for c in store.cue_events(row.id)],
        "suggestions": [dataclasses.asdict(g) for g in store.suggestions(row.id)],
        "marks": [dataclasses.asdict(m) for m in store.marks(row.id)],
        "self_notes": [dataclasses.asdict(n) for n in store.self_notes(row.id)],
    }
    return json.dumps(record, indent=2, allow_nan=False) + "\n"


def export_csv(store: SessionStore, row: SessionRow) -> str:
    """One row per cue event, suggestion and self-coaching note, in time order (a suggestion carries its mark)."""
    rows: list[dict[str, Any]] = []
    for c in store.cue_events(row.id):
        rows.append({"type": "cue", "t_s": c.apex_s, **dataclasses.asdict(c)})
    for g in store.suggestions(row.id):
        record = dataclasses.asdict(g)
        record.pop("id")
        record["supporting"] = " ".join(g.supporting)
        rows.append({"type": "suggestion", **record})
    for n in store.self_notes(row.id):
        rows.append({"type": "self", **dataclasses.asdict(n), "remote_talking": int(n.remote_talking)})
    rows.sort(key=lambda r: (r["t_s"], r["type"]))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def export(args: argparse.Namespace) -> int:
    with _open() as store:
        row = _session(store, args.id)
        text = export_json(store, row) if args.format == "json" else export_csv(store, row)
    if args.output:
        _write(Path(args.output), text)
        print(f"Wrote session {row.id} as {args.format} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CallcoachError(f"cannot write {path}: {exc.strerror or exc}") from exc


# --- retention, summary ---------------------------------------------------------------------------------


def retention(args: argparse.Namespace) -> int:
    if args.days is None:
        days = settings.retention_days()
        print(
            f"Sessions are {settings.retention_text(days)} (set with 'callcoach sessions retention DAYS|off'; "
            f"{settings.RETENTION_ENV} overrides)."
        )
        return 0
    days = settings.parse_retention(args.days, where="retention")
    try:
        path = settings.set_retention_days(days)
    except OSError as exc:
        raise CallcoachError(f"cannot save the retention setting: {exc}") from exc
    deleted = 0
    if days is not None and settings.db_path().exists():
        with SessionStore(retention_days=None) as store:
            deleted = store.delete_older_than(days)
    print(f"Sessions are now {settings.retention_text(days)} (saved in {path}); {deleted} older session(s) deleted.")
    return 0


def record(args: argparse.Namespace) -> int:
    """Show or switch whether ``callcoach live`` keeps a cue log; switching it off deletes nothing."""
    if args.switch is None:
        on = settings.record_sessions()
        state = "keep a cue log" if on else "keep no cue log"
        print(
            f"Live runs {state}. A cue log holds {settings.CUE_LOG_HOLDS}; {settings.CUE_LOG_NEVER}, ever. "
            f"Switch with 'callcoach sessions record on|off'; {settings.RECORD_ENV} overrides; "
            "--no-record-session skips one run."
        )
        return 0
    on = settings.parse_switch(args.switch, where="record")
    try:
        path = settings.set_record_sessions(on)
    except OSError as exc:
        raise CallcoachError(f"cannot save the setting: {exc}") from exc
    kept = "" if on else " Sessions kept so far stay until you delete them ('callcoach sessions delete ID')."
    print(f"Live runs now {'keep a' if on else 'keep no'} cue log (saved in {path}).{kept}")
    return 0


def summary(args: argparse.Namespace) -> int:
    from callcoach.session.report import print_terminal, render_html, render_markdown
    from callcoach.session.summary import build_summary

    reports = [(name, target) for name, target in (("Markdown", args.markdown), ("HTML", args.html)) if target]
    piped = [name for name, target in reports if target == STDOUT]
    if len(piped) > 1:
        raise UsageError("only one of --markdown and --html can be '-' (standard output); give the other a file name")
    with _open() as store:
        row = _session(store, args.id)
        built = build_summary(store, row.id)
    render = {"Markdown": render_markdown, "HTML": render_html}
    # Files first: a path that cannot be written is one error line, not a report followed by a failure.
    # A report on standard output replaces the terminal view (it is meant for a pipe or a redirect), so the
    # lines naming the files written then go to stderr.
    notes = sys.stderr if piped else sys.stdout
    written = []
    for name, target in reports:
        if target != STDOUT:
            _write(Path(target), render[name](built))
            written.append(f"Wrote the {name} report to {target}")
    if piped:
        sys.stdout.write(render[piped[0]](built))
        sys.stdout.flush()
    else:
        print_terminal(built, _console())
    for line in written:
        print(line, file=notes)
    return 0
