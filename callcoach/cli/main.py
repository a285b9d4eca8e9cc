"""The ``callcoach`` command line.

Only argparse, the error tree and the version are imported at module level: ``callcoach --help`` must not
pay for mediapipe, onnxruntime or OpenCV. Every subcommand imports what it needs when it runs.

Adding a subcommand: either write a ``run_*`` handler here, or (for commands that live elsewhere) add
an ``ExternalCommand`` to ``EXTERNAL_COMMANDS``. Its module is imported only when that command is on the
command line. If the module defines ``add_arguments(parser)``, that declares the command's own options;
otherwise anything after the positionals is passed through untouched as ``args.extra`` (a list of
strings). The target function is then called with the parsed ``argparse.Namespace``.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import ModuleType

from callcoach import __version__
from callcoach.errors import CallcoachError, UsageError

Handler = Callable[[argparse.Namespace], int | None]


@dataclass(frozen=True)
class ExternalCommand:
    #: Words after ``callcoach``, e.g. ("bench", "speed").
    words: tuple[str, ...]
    #: "package.module:function"; the function takes the Namespace and returns an exit code (or None).
    target: str
    help: str
    #: Positional arguments: (name, help).
    positionals: tuple[tuple[str, str], ...] = ()


EXTERNAL_COMMANDS: tuple[ExternalCommand, ...] = (
    ExternalCommand(
        ("bench", "accuracy"),
        "callcoach_bench.accuracy:main",
        "score the cue detector on the labelled benchmark set",
    ),
    ExternalCommand(
        ("bench", "speed"),
        "callcoach_bench.speed:main",
        "measure frames per second of the full pipeline on a video",
        positionals=(("video", "video file to time"),),
    ),
    ExternalCommand(
        ("bench", "posed"),
        "callcoach_bench.posed:main",
        "appearance model on labelled posed photos: fer's own face crop against callcoach's aligned crop",
        # DIR is optional, which positionals cannot express: callcoach_bench.posed.add_arguments declares it.
    ),
    ExternalCommand(
        ("bench", "real"),
        "callcoach_bench.real:main",
        "the whole detector on real labelled faces (KDEF, JAFFE, Yale, CASME II) next to fer's pipeline",
    ),
    ExternalCommand(
        ("bench", "appearance"),
        "callcoach_bench.appearance:main",
        "appearance models alone on the real labelled photos (realfaces): crops, fer vs face-api vs fused",
    ),
    ExternalCommand(
        ("live",),
        "callcoach.cli.live_cmd:main",
        "coach on a call as it happens: a window, screen region, monitor, camera or video, in real time",
    ),
    ExternalCommand(
        ("bench", "live"),
        "callcoach_bench.live:main",
        "live pipeline figures: fps, dropped frames, latency percentiles, time to the first analysed frame",
    ),
    ExternalCommand(
        ("models", "check"),
        "callcoach.vision.models:check_main",
        "verify the shipped model files (present and unaltered, by sha256)",
    ),
    ExternalCommand(
        ("demo",),
        "callcoach.ui.demo:main",
        "the live panel on built-in synthetic clips: no call, camera or display needed",
    ),
    # One module serves the five playbook commands; its add_arguments reads the leaf name from parser.prog.
    ExternalCommand(
        ("playbook", "show"),
        "callcoach.cli.playbook_cmd:show",
        "show the playbook in force (or one cue, one context)",
    ),
    ExternalCommand(
        ("playbook", "validate"),
        "callcoach.cli.playbook_cmd:validate",
        "check a playbook file (default: the one in use): 'ok', or one line naming the file, line and field",
        # FILE is optional, which positionals cannot express: callcoach.cli.playbook_cmd.add_arguments declares it.
    ),
    ExternalCommand(
        ("playbook", "edit"),
        "callcoach.cli.playbook_cmd:edit",
        "open your own playbook in $VISUAL/$EDITOR (created from the default if missing)",
    ),
    ExternalCommand(
        ("playbook", "export"),
        "callcoach.cli.playbook_cmd:export",
        "print the playbook in force as YAML, or its JSON Schema with --schema",
    ),
    ExternalCommand(
        ("playbook", "reset"),
        "callcoach.cli.playbook_cmd:reset",
        "back up your playbook with a timestamp and restore the default",
    ),
    # One module serves the session commands and summary; its add_arguments reads the leaf name from parser.prog.
    ExternalCommand(
        ("sessions", "list"),
        "callcoach.cli.sessions_cmd:list_sessions",
        "the kept sessions (cue logs, never video), newest first",
    ),
    ExternalCommand(
        ("sessions", "show"), "callcoach.cli.sessions_cmd:show", "one session's cue events and suggestions"
    ),
    ExternalCommand(("sessions", "delete"), "callcoach.cli.sessions_cmd:delete", "delete one session"),
    ExternalCommand(("sessions", "export"), "callcoach.cli.sessions_cmd:export", "one session as JSON or CSV"),
    ExternalCommand(
        ("sessions", "retention"),
        "callcoach.cli.sessions_cmd:retention",
        "show or set how many days sessions are kept ('off': until deleted)",
    ),
    ExternalCommand(
        ("sessions", "record"),
        "callcoach.cli.sessions_cmd:record",
        "show or switch whether live runs keep a cue log ('off': keep none; never video)",
    ),
    ExternalCommand(
        ("summary",),
        "callcoach.cli.sessions_cmd:summary",
        "the post-call summary of a session (default: the last), in the terminal, HTML or Markdown",
    ),
    ExternalCommand(
        ("vcam",),
        "callcoach.cli.vcam_cmd:main",
        "pass the webcam through, unchanged, to the 'CallCoach Camera' virtual camera",
    ),
    ExternalCommand(
        ("privacy",),
        "callcoach.privacy.check:main",
        "check 'local only' on this machine: network attempts, files written, what the store keeps",
    ),
    # Practice drills between calls; one module serves the four, its add_arguments reads the leaf from parser.prog.
    ExternalCommand(
        ("practice", "recognize"),
        "callcoach.practice.cli:recognize",
        "timed recognition test: name brief expressions flashed on a face",
    ),
    ExternalCommand(
        ("practice", "mirror"),
        "callcoach.practice.cli:mirror",
        "make an expression on camera and see whether it showed, how long and what moved",
    ),
    ExternalCommand(
        ("practice", "stats"),
        "callcoach.practice.cli:stats",
        "practice progress by week against the targets, with the live-call measures",
    ),
    ExternalCommand(("practice", "plan"), "callcoach.practice.cli:plan", "today's drills in the 60-day plan"),
)


_GROUP_HELP = {
    "bench": "benchmarks that print figures: accuracy, speed, posed, real, appearance, live",
    "models": "the shipped model files",
    "playbook": "show, validate, edit, export or reset the response playbook",
    "sessions": "list, show, delete or export kept sessions, set how long they are kept, or keep none",
    "practice": "drills between calls: timed recognition, mirror, progress, the 60-day plan",
}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


#: What the bench extra installs (pyproject.toml): its package and the libraries only it needs.
_BENCH_PACKAGES = frozenset({"callcoach_bench", "skimage", "scipy"})


def _import_command(command: ExternalCommand) -> ModuleType:
    label = "callcoach " + " ".join(command.words)
    module_name = command.target.partition(":")[0]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        top = module_name.partition(".")[0]
        if missing == module_name or (missing != top and module_name.startswith(missing + ".")):
            raise CallcoachError(f"'{label}' is not available in this build (no {module_name})") from exc
        if top == "callcoach_bench" or missing.partition(".")[0] in _BENCH_PACKAGES:
            # The benchmarks' package or a library they import: the bench extra brings them.
            raise CallcoachError(
                f"'{label}' needs the bench extra (the Python package '{missing}' is missing): "
                "pip install 'callcoach[bench]' (in a source checkout: pip install '.[bench]')"
            ) from exc
        raise CallcoachError(f"'{label}' needs the Python package '{missing}', which is not installed") from exc


def _selected(command: ExternalCommand, argv: Sequence[str]) -> bool:
    words = [a for a in argv if not a.startswith("-")][: len(command.words)]
    return tuple(words) == command.words


def _external_handler(command: ExternalCommand) -> Handler:
    label = "callcoach " + " ".join(command.words)

    def run(args: argparse.Namespace) -> int | None:
        module = _import_command(command)
        func_name = command.target.partition(":")[2]
        func = getattr(module, func_name, None)
        if not callable(func):
            raise CallcoachError(f"'{label}' is not available in this build ({command.target} is missing)")
        result = func(args)
        return int(result) if result is not None else 0

    return run


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    return value


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The full parser; ``argv`` only decides which external command (if any) may declare its options."""
    parser = argparse.ArgumentParser(
        prog="callcoach",
        description="Local-only facial-cue spotter for video calls. Cues are guesses, never verdicts.",
    )
    parser.add_argument("--version", action="version", version=f"callcoach {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    analyze = commands.add_parser(
        "analyze",
        help="spot cues in a video, a folder of frames or an image",
        description="Analyse a file offline. Every frame is processed; nothing leaves this machine.",
    )
    analyze.add_argument("path", help="video file, image, or folder of images (natural name order)")
    analyze.add_argument(
        "--fps",
        type=_number,
        default=None,
        help="frame rate for folders of images (default 30); for a video, overrides the file's timing",
    )
    analyze.add_argument(
        "--baseline-seconds",
        type=_number,
        default=2.0,
        metavar="S",
        help="seconds of each face used as its neutral baseline (default 2.0; 0 = the first frame)",
    )
    analyze.add_argument("--per-frame", action="store_true", help="jsonl: also write one line per frame")
    analyze.add_argument(
        "--format", choices=("jsonl", "table", "csv"), default="jsonl", help="output format (default jsonl)"
    )
    analyze.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    analyze.set_defaults(handler=run_analyze)

    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for command in EXTERNAL_COMMANDS:
        *parents, leaf = command.words
        sub = commands
        for depth, word in enumerate(parents):
            key = " ".join(parents[: depth + 1])
            if key not in groups:
                group = sub.add_parser(word, help=_GROUP_HELP.get(word, f"{word} commands"))
                groups[key] = group.add_subparsers(dest=f"{word}_command", metavar="COMMAND")
                group.set_defaults(handler=_group_help(group))
            sub = groups[key]
        leaf_parser = sub.add_parser(leaf, help=command.help, description=command.help)
        for name, help_text in command.positionals:
            leaf_parser.add_argument(name, help=help_text)
        add_arguments = None
        if _selected(command, argv):
            # Import failures are reported when the command runs, as one clean error line.
            with suppress(CallcoachError):
                add_arguments = getattr(_import_command(command), "add_arguments", None)
        if callable(add_arguments):
            add_arguments(leaf_parser)
        else:
            leaf_parser.add_argument("extra", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        leaf_parser.set_defaults(handler=_external_handler(command))
    parser.set_defaults(handler=_group_help(parser))
    return parser


def _group_help(parser: argparse.ArgumentParser) -> Handler:
    def run(_args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return run


@contextmanager
def _progress(total: int | None, enabled: bool) -> Iterator[Callable[[], None]]:
    """Yield a per-frame ``advance`` callback; a no-op unless a progress bar is wanted."""
    if not enabled:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [TextColumn("analysing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=Console(file=sys.stderr), transient=True) as progress:
        task = progress.add_task("frames", total=total)
        yield lambda: progress.advance(task)


def run_analyze(args: argparse.Namespace) -> int:
    baseline = float(args.baseline_seconds)
    if not math.isfinite(baseline) or baseline < 0:
        raise UsageError(f"--baseline-seconds must be 0 or more, got {args.baseline_seconds}")

    if args.per_frame and args.format != "jsonl":
        raise UsageError("--per-frame writes one JSON line per frame, so it needs --format jsonl")

    from callcoach.cli.output import make_writer
    from callcoach.sources import open_source
    from callcoach.vision.types import FrameObservation

    source = open_source(args.path, fps=args.fps)
    events = None
    try:
        from callcoach.analysis import analyze_source  # heavy: pulls in the cue engine

        writer = make_writer(args.format, sys.stdout, sys.stderr, per_frame=args.per_frame, baseline_seconds=baseline)
        events = analyze_source(source, baseline_seconds=baseline)
        show = not args.quiet and sys.stderr.isatty()
        try:
            with _progress(source.frame_count, show) as advance:
                for event in events:
                    if isinstance(event, FrameObservation):
                        advance()
                    writer.write(event)
        except (CallcoachError, KeyboardInterrupt):
            writer.finish()  # the summary of what was read came before the error: show it, then report
            raise
        writer.finish()
    finally:
        # The generator closes the vision stage and the source, but only if it ever started.
        close = getattr(events, "close", None)
        if callable(close):
            close()
        source.close()
    return 0


#: Commands that load the native libraries; only these move fd 2 (``playbook edit`` runs the user's editor, which
#: must keep the terminal's stderr).
_NATIVE_COMMANDS = frozenset({"analyze", "live", "demo", "vcam", "bench", "models", "practice"})


def main(argv: Sequence[str] | None = None) -> int:
    """The command line. Called without ``argv`` it is the ``callcoach`` process itself: native output is then
    kept off the terminal for the whole run, and Ctrl-C at any moment ends it quietly with status 130."""
    if argv is not None:
        return _main(list(argv))
    # The real command line (tests pass argv and keep their own process free): telemetry off and the
    # network wall up before any native library loads or starts a thread. See callcoach/privacy.
    from callcoach.privacy import lockdown

    lockdown()
    argv = sys.argv[1:]
    try:
        words = [a for a in argv if not a.startswith("-")]
        if words and words[0] in _NATIVE_COMMANDS:
            from callcoach.cli.terminal import capture_native_output

            capture_native_output()
        code = _main(argv)
    except KeyboardInterrupt:
        code = 130
    _quiet_interrupt_from_now_on()
    if code == 130:
        # Interrupted: the output is flushed and nothing is left to do. Ending here skips the interpreter's
        # shutdown, which would tear down threads still inside a native library (models loading when the
        # Ctrl-C came) and can abort the process ("FATAL: exception not rethrown") instead of exiting 130.
        _leave(130)
    return code


def _leave(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with suppress(ValueError, OSError):  # a closed stream, or a reader gone (broken pipe)
            stream.flush()
    os._exit(code)


def _quiet_interrupt_from_now_on() -> None:
    """A Ctrl-C while the interpreter winds down (joining threads, closing native libraries) ends it at once:
    the command's work is done and its output flushed, and a traceback from the shutdown helps nobody."""
    import signal

    def leave(_signum: int, _frame: object) -> None:
        _leave(130)

    with suppress(ValueError, OSError):  # not the main thread, or no signals here
        signal.signal(signal.SIGINT, leave)


def _main(argv: list[str]) -> int:
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and argparse's own usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        return int(args.handler(args) or 0)
    except CallcoachError as exc:
        print(f"callcoach: error: {_one_line(exc)}", file=sys.stderr, flush=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
