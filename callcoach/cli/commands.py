"""The commands that live outside ``callcoach.cli.main``: one ``ExternalCommand`` each, imported only when it
is on the command line.

Adding one: add an ``ExternalCommand`` to ``EXTERNAL_COMMANDS``. If its module defines
``add_arguments(parser)``, that declares the command's own options; otherwise anything after the positionals
is passed through untouched as ``args.extra`` (a list of strings). The target function is then called with
the parsed ``argparse.Namespace``. This module imports nothing but the standard library: it is read on every
``callcoach`` run, ``--help`` included.
"""

from __future__ import annotations

from dataclasses import dataclass


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


GROUP_HELP = {
    "bench": "benchmarks that print figures: accuracy, speed, posed, real, appearance, live",
    "models": "the shipped model files",
    "playbook": "show, validate, edit, export or reset the response playbook",
    "sessions": "list, show, delete or export kept sessions, set how long they are kept, or keep none",
    "practice": "drills between calls: timed recognition, mirror, progress, the 60-day plan",
}
