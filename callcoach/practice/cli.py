"""``callcoach practice recognize | mirror | stats | plan``: one module serves the four; the leaf name comes
from ``parser.prog`` (as in ``callcoach.cli.playbook_cmd``)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING

from callcoach.core.argtypes import whole_number
from callcoach.errors import UsageError
from callcoach.practice.drill import DURATIONS_MS, LABELS, PracticeError, Recognition, ScheduledPresenter, Trial

if TYPE_CHECKING:  # imported where a store is opened, as before: not every practice command keeps records
    from callcoach.session.store import SessionStore


def _durations(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"durations are milliseconds separated by commas, not {text!r}") from None
    if not values or any(not (1 <= v <= 5000) for v in values):
        raise argparse.ArgumentTypeError("each duration is between 1 and 5000 ms")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    action = parser.prog.split()[-1]
    if action == "recognize":
        parser.add_argument(
            "--mode",
            choices=tuple(LABELS),
            default="emotions",
            help="name the seven emotions (default) or the cue vocabulary",
        )
        parser.add_argument("--trials", type=int, default=20, help="number of trials (default 20)")
        parser.add_argument("--seed", type=int, default=None, help="same seed, same stimuli (default: random)")
        parser.add_argument(
            "--durations",
            type=_durations,
            default=DURATIONS_MS,
            metavar="MS,MS,...",
            help="flash lengths the staircase moves between (default 500,200,100,67,40)",
        )
        parser.add_argument(
            "--headless",
            action="store_true",
            help="no window: read one answer per line on stdin, write one JSON line per trial",
        )
        parser.add_argument(
            "--faces", metavar="DIR", help="warp the faces in these photos or videos (instead of the built-in face)"
        )
        parser.add_argument(
            "--photos",
            metavar="DIR",
            help="labelled expression photos (neutral plus expressions per person; labels.csv "
            "or names like anna_happiness.jpg)",
        )
        parser.add_argument("--no-record", action="store_true", help="do not keep the trials in the store")
    elif action == "mirror":
        parser.add_argument("--video", metavar="FILE", help="a recording of your face instead of the webcam")
        parser.add_argument("--camera", type=whole_number(0), default=0, help="webcam index (default 0)")
        parser.add_argument("--target", help="the expression to make (default: one after the other)")
        parser.add_argument("--seconds", type=float, default=6.0, help="time per expression (default 6)")
        parser.add_argument("--format", choices=("text", "json"), default="text")
    elif action == "stats":
        parser.add_argument("--format", choices=("table", "json"), default="table")
        parser.add_argument(
            "--html",
            metavar="FILE",
            help="also write the progress page as one HTML file; '-' prints it on standard output instead",
        )
        parser.add_argument("--mode", choices=tuple(LABELS), default=None, help="only this test mode")
    elif action == "plan":
        parser.add_argument("--day", type=int, default=None, help="show this day of the plan instead of today")
        parser.add_argument("--format", choices=("text", "json"), default="text")


def _open_store() -> SessionStore:
    from callcoach.session.store import SessionStore

    return SessionStore()


def _emit(out: IO[str], record: dict[str, object]) -> None:
    out.write(json.dumps(record) + "\n")
    out.flush()


def run_headless(
    rec: Recognition, stdin: IO[str], stdout: IO[str], record: Callable[[Trial], None], clock: Callable[[], float]
) -> int:
    """One answer per line in, one JSON line per trial out (after its answer), the score last.

    Input that ends early or an answer that names nothing stops the test with one clear error; the trials
    answered so far are kept and scored.
    """
    presenter = ScheduledPresenter(clock)
    problem: str | None = None
    while not rec.done:
        stimulus = rec.next_stimulus()
        shown = presenter.present(stimulus)
        line = stdin.readline()
        if not line:
            problem = f"standard input ended after {len(rec.trials)} of {len(rec.plan)} answers"
            break
        try:
            trial = rec.answer(stimulus, shown, line)
        except UsageError as exc:
            problem = f"answer {stimulus.n}: {exc}"
            break
        record(trial)
        _emit(stdout, trial.as_json())
    _emit(stdout, rec.score().as_json())
    if problem:
        raise PracticeError(problem)
    return 0


def recognize(
    args: argparse.Namespace,
    *,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    if args.trials < 1 or args.trials > 1000:
        raise UsageError(f"--trials is 1 to 1000, got {args.trials}")
    seed = args.seed if args.seed is not None else int(time.time() * 1000) % (2**31)
    stimuli = None
    faces = None
    if args.faces or args.photos or not args.headless:
        from callcoach.practice.stimuli import load_stimuli

        stimuli = load_stimuli(args.mode, faces_dir=args.faces, photos_dir=args.photos)
        faces = stimuli.labels_by_face()
    rec = Recognition(seed=seed, trials=args.trials, mode=args.mode, clock=clock, durations=args.durations, faces=faces)
    store = None if args.no_record else _open_store()
    try:
        record: Callable[[Trial], None] = lambda trial: None  # noqa: E731
        if store is not None:
            from callcoach.practice.store import PracticeStore

            practice = PracticeStore(store)
            run_id = practice.begin_run(
                mode=args.mode,
                seed=seed,
                stimuli=_stimuli_name(args),
                presenter="headless" if args.headless else "window",
                planned=args.trials,
            )
            record = lambda trial: practice.add_trial(run_id, trial)  # noqa: E731
        try:
            if args.headless:
                return run_headless(rec, stdin or sys.stdin, stdout or sys.stdout, record, clock)
            from callcoach.practice.window import run_window

            assert stimuli is not None
            return run_window(rec, stimuli, record, clock, stdout or sys.stdout)
        finally:
            if store is not None:
                practice.end_run(run_id)
    finally:
        if store is not None:
            store.close()


def _stimuli_name(args: argparse.Namespace) -> str:
    parts = [] if args.faces or args.photos else ["builtin"]
    if args.faces:
        parts.append("faces")
    if args.photos:
        parts.append("photos")
    return "+".join(parts)


def stats(args: argparse.Namespace) -> int:
    from callcoach.practice.report import print_progress, render_html
    from callcoach.practice.stats import build_progress

    store = _open_store()
    try:
        progress = build_progress(store, mode=args.mode)
    finally:
        store.close()
    if args.html == "-":  # as for most Unix tools (and `callcoach summary --html -`): standard output
        sys.stdout.write(render_html(progress))
        sys.stdout.flush()
        return 0
    if args.html:
        from pathlib import Path

        try:
            Path(args.html).write_text(render_html(progress), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.html}: {exc.strerror or exc}") from exc
    if args.format == "json":
        _emit(sys.stdout, progress.as_json())
    else:
        print_progress(progress)
        if args.html:
            print(f"progress page: {args.html}")
    return 0


def plan(args: argparse.Namespace) -> int:
    from callcoach.practice.plan import today
    from callcoach.practice.report import print_plan
    from callcoach.practice.stats import build_progress

    store = _open_store()
    try:
        progress = build_progress(store)
    finally:
        store.close()
    day = args.day if args.day is not None else (progress.day or 1)
    if day < 1:
        raise UsageError(f"--day is 1 or more, got {day}")
    t = today(day)
    if args.format == "json":
        phase = t.phase
        _emit(
            sys.stdout,
            {
                "type": "plan",
                "day": t.day,
                "week": t.week,
                "started": progress.first_day is not None,
                "phase": None if phase is None else phase.name,
                "drills": []
                if phase is None
                else [{"what": d.what, "minutes": d.minutes, "command": d.command} for d in phase.drills],
            },
        )
    else:
        print_plan(t, progress)
    return 0


def mirror(args: argparse.Namespace) -> int:
    from callcoach.practice.mirror_cmd import run_mirror

    return run_mirror(args)
