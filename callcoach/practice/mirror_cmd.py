"""``callcoach practice mirror``: the webcam (or a video of the user) through the cue engine, one expression asked
for at a time, one line of feedback each. Frames go through the vision stage and are dropped: nothing is
recorded, not even the results."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from callcoach.cues.vocabulary import Cue
from callcoach.errors import UsageError
from callcoach.practice.mirror import PROMPT_BY_CUE, PROMPTS, Attempt, Prompt, judge
from callcoach.sources.base import FrameSource

#: Cues are reported when a movement ends: an attempt is judged this long after its window closes.
GRACE_S = 1.0


@dataclass
class Window:
    prompt: Prompt
    start: float
    end: float
    cues: list[Cue] = field(default_factory=list)
    #: Each action unit's peak over the window (the first face's, 0..1 against its resting face).
    au_peaks: dict[str, float] = field(default_factory=dict)

    def take_aus(self, t_s: float, aus: Mapping[str, float]) -> None:
        if self.start <= t_s < self.end:
            for name, value in aus.items():
                self.au_peaks[name] = max(value, self.au_peaks.get(name, 0.0))


def _consent(camera: bool) -> None:
    from callcoach.playbook.guardrails import CONSENT_TEXT, acknowledge_consent, consent_acknowledged

    if not camera or consent_acknowledged():
        return
    if not sys.stdin.isatty():
        raise UsageError(
            "the mirror drill uses your camera: read and accept the consent note first "
            "(run 'callcoach practice mirror' in a terminal, or 'callcoach live' once)"
        )
    print(CONSENT_TEXT, "\n", sep="")
    if input("Type 'yes' to accept and go on: ").strip().lower() != "yes":
        raise UsageError("the consent note was not accepted; nothing was started")
    acknowledge_consent()


def _say(args: argparse.Namespace, text: str) -> None:
    if args.format == "text":
        print(text, flush=True)


def _prompts(args: argparse.Namespace) -> list[Prompt]:
    """The prompts to run, once the options are checked."""
    if args.seconds <= 1.0 or args.seconds > 60:
        raise UsageError(f"--seconds is more than 1 and at most 60, got {args.seconds}")
    if args.target is not None and args.target not in PROMPT_BY_CUE:
        raise UsageError(f"--target is one of {', '.join(PROMPT_BY_CUE)}, not {args.target!r}")
    return [PROMPT_BY_CUE[args.target]] if args.target else list(PROMPTS)


def _open_source(args: argparse.Namespace) -> FrameSource:
    if args.video is not None:
        from callcoach.sources import open_source

        return open_source(args.video)
    from callcoach.sources.camera import CameraSource

    return CameraSource(args.camera)


def _feed(windows: list[Window], event: object) -> None:
    """Give the user's own cues and action units to the prompt windows they fall in."""
    from callcoach.vision.types import FrameObservation

    if isinstance(event, Cue) and event.face == 0:
        for w in windows:
            if w.start <= event.onset_s < w.end:
                w.cues.append(event)
    if isinstance(event, FrameObservation) and event.faces and event.faces[0].aus is not None:
        for w in windows:
            w.take_aus(event.t_s, event.faces[0].aus)


def run_mirror(args: argparse.Namespace) -> int:
    prompts = _prompts(args)
    _consent(camera=args.video is None)
    from callcoach.analysis import analyze_source
    from callcoach.cues.vocabulary import BaselineEvent

    source = _open_source(args)
    # A video with one target: the whole recording after the baseline is that one attempt.
    one_window = args.video is not None and args.target is not None
    _say(args, "Hold a relaxed, neutral face for a moment while callcoach learns your resting face...")
    attempts: list[Attempt] = []
    windows: list[Window] = []
    ready_at: float | None = None
    t = 0.0
    events = analyze_source(source)
    try:
        for event in events:
            if isinstance(event, BaselineEvent) and event.status == "ready" and ready_at is None:
                ready_at = event.t_s
            _feed(windows, event)
            t = float(getattr(event, "t_s", t))
            if ready_at is None:
                continue
            i = len(windows)
            if i < len(prompts) and (i == 0 or t >= windows[-1].end):
                start = ready_at if i == 0 else windows[-1].end
                end = float("inf") if one_window else start + args.seconds
                windows.append(Window(prompts[i], start, end))
                _say(args, f"Now: {prompts[i].ask}")
            while len(attempts) < len(windows) and t >= windows[len(attempts)].end + GRACE_S:
                attempts.append(_report(args, windows[len(attempts)]))
            if len(attempts) == len(prompts):
                break
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()
        source.close()
    if ready_at is None:
        raise UsageError(
            "no steady face was seen long enough to learn its resting state; face the camera in "
            "good light" + (f" ({args.video})" if args.video else "")
        )
    while len(attempts) < len(windows):  # the recording ended: judge what it showed
        attempts.append(_report(args, windows[len(attempts)]))
    met = sum(a.appeared for a in attempts)
    _say(args, f"{met} of {len(attempts)} shown clearly. Nothing was recorded.")
    return 0


def _report(args: argparse.Namespace, window: Window) -> Attempt:
    attempt = judge(window.prompt, window.cues, window.au_peaks)
    if args.format == "json":
        print(json.dumps(attempt.as_json()), flush=True)
    else:
        print(f"  -> {attempt.feedback}", flush=True)
    return attempt
