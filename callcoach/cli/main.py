"""The ``callcoach`` command line.

Only argparse, the error tree, the version and the command table are imported at module level:
``callcoach --help`` must not pay for mediapipe, onnxruntime or OpenCV. Every subcommand imports what it
needs when it runs.

Adding a subcommand: either write a ``run_*`` handler here, or (for commands that live elsewhere) add
an ``ExternalCommand`` to ``EXTERNAL_COMMANDS`` in ``callcoach.cli.commands``. Its module is imported only
when that command is on the command line.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import contextmanager, suppress
from types import ModuleType
from typing import Any

from callcoach import __version__

# Re-imported from the private module; a test that patches these must patch callcoach.cli._process, whose
# signal handlers call its own copies.
from callcoach.cli._process import (
    _STOPPED_CODES,
    _WRITE_ERRORS,
    _drop_stdout,
    _GuardedStdout,
    _leave,
    _quiet_interrupt_from_now_on,
    _stop_on_termination,
)
from callcoach.cli._process import (
    StdoutFailed as StdoutFailed,
)
from callcoach.cli._process import (
    Stopped as Stopped,
)
from callcoach.cli.commands import EXTERNAL_COMMANDS as EXTERNAL_COMMANDS  # re-exported: tests patch it here
from callcoach.cli.commands import GROUP_HELP
from callcoach.cli.commands import ExternalCommand as ExternalCommand
from callcoach.errors import CallcoachError, UsageError

Handler = Callable[[argparse.Namespace], int | None]


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
                group = sub.add_parser(word, help=GROUP_HELP.get(word, f"{word} commands"))
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
        except KeyboardInterrupt as exc:
            # Ctrl-C or a kill may land here, between two events, instead of inside the generator: hand it
            # over, so the engine is flushed and the summary made just as when it lands there.
            with suppress(type(exc)):
                for event in _rest(events, exc):
                    writer.write(event)
            writer.finish()
            raise
        except CallcoachError:
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


def _rest(events: Generator[Any, None, None], exc: BaseException) -> Iterator[Any]:
    """What ``analyze_source`` still has to say once ``exc`` is thrown into it (its last cues and summary)."""
    try:
        yield events.throw(exc)
    except StopIteration:
        return
    yield from events


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
    _stop_on_termination()
    sys.stdout = _GuardedStdout(sys.stdout)
    argv = sys.argv[1:]
    try:
        words = [a for a in argv if not a.startswith("-")]
        if words and words[0] in _NATIVE_COMMANDS:
            from callcoach.cli.terminal import capture_native_output

            capture_native_output()
        code = _main(argv)
    except Stopped as exc:
        code = exc.code
    except KeyboardInterrupt:
        code = 130
    _quiet_interrupt_from_now_on()
    if code in _STOPPED_CODES:
        # Interrupted: the output is flushed and nothing is left to do. Ending here skips the interpreter's
        # shutdown, which would tear down threads still inside a native library (models loading when the
        # Ctrl-C came) and can abort the process ("FATAL: exception not rethrown") instead of exiting.
        _leave(code)
    return code


def _main(argv: list[str]) -> int:
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and argparse's own usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a full disk behind `> file` shows here, inside the handlers below, not at exit
        return code
    except CallcoachError as exc:
        print(f"callcoach: error: {_one_line(exc)}", file=sys.stderr, flush=True)
        return exc.exit_code
    except Stopped as exc:
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly and keep Python from complaining at exit.
        _drop_stdout()
        return 0
    except StdoutFailed as exc:
        # Standard output cannot take more (`> file` on a full disk): one line on stderr, and nothing more is
        # tried on stdout (its buffer would fail again at exit, with a traceback).
        _drop_stdout()
        print(f"callcoach: error: cannot write the output: {exc.strerror or exc}", file=sys.stderr, flush=True)
        return 1
    except OSError as exc:
        if exc.errno not in _WRITE_ERRORS:
            raise
        # A file of ours (a setting, a log) on a full or failing disk: named when Python knows which.
        what = f"'{exc.filename}'" if exc.filename else "a file"
        print(f"callcoach: error: cannot write {what}: {exc.strerror or exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
