"""``callcoach demo``: the whole live panel on built-in synthetic clips, with no call, camera or display.

The project's synthetic astronaut clips (``callcoach_bench.synth``, small set: every cue once, then two
distractor clips with nothing to spot) are played at their real rate as a live source and go through the
real runner, vision and cue engine, so what the panel shows is what a call would show. The first cue
arrives a few seconds after the models load (a 2 s baseline, then the first event).

Seed 0 (the default) plays the pre-rendered copy shipped in ``callcoach/ui/assets/`` (see
``callcoach.ui.demo_clip``, which also rebuilds it), so the demo needs no extra; other seeds render
their clips on the fly and need the ``bench`` extra (scikit-image, ``callcoach_bench``).

``--headless-check N`` runs the same thing for N seconds without the terminal UI and prints, line by line,
what the panel would show; it exits 1 if no cue reached the panel (for CI).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TextIO, cast

import numpy as np

from callcoach.contract import Advisor, LiveListener
from callcoach.cues.vocabulary import REGION, Cue
from callcoach.errors import CallcoachError, SourceError, UsageError
from callcoach.live.state import LiveStatus
from callcoach.playbook.types import CONTEXTS, Suggestion
from callcoach.sources.base import Frame, LiveHooks, SourceKind
from callcoach.ui.app import SelectorLike
from callcoach.ui.demo_clip import SEED as SHIPPED_SEED
from callcoach.ui.demo_clip import check_clip, read_frames
from callcoach.ui.widgets import (
    STATE_LABEL,
    cue_line,
    cue_words,
    metrics_text,
    status_text,
    suggestion_view,
)

DEMO_FPS = 25.0
#: What the demo plays, said in its first line (headless) and in the panel's top bar: nobody should take the
#: rendered face for a real person or a call.
SYNTHETIC = "built-in synthetic clips (a rendered face, not a real person)"
PANEL_TITLE = "synthetic demo"
#: --headless-check: the longest wait for the models to load before its N seconds start.
_LOAD_WAIT_S = 120.0


class SynthSource(LiveHooks):
    """The small synthetic clip set as a live source, paced to real time: the shipped pre-rendered copy for
    seed 0, frames rendered on the fly for other seeds.

    ``t_s`` is ``time.monotonic()`` at delivery, as for a camera, so the runner's latency figures mean the
    same thing here as on a call. Clips play back to back (one continuous "person", one baseline), and
    loop until stopped. A little sensor noise is added: rendered stills are pixel-identical from frame to
    frame, which no camera delivers, and the runner skips repeated pictures as "nothing new".
    """

    kind: SourceKind = "video"

    def __init__(self, seed: int = 0, loop: bool = True) -> None:
        self.name = "synthetic demo clips"
        self.fps = DEMO_FPS
        self.frame_count: int | None = None
        self.seed = seed
        self.loop = loop
        self._stop = threading.Event()
        self._hold: threading.Event | None = None

    def hold_until(self, ready: threading.Event) -> bool:
        """Start playing only once ``ready`` is set (the runner's models have loaded), as a video file does:
        the demo then starts with its first clip rather than somewhere in it."""
        self._hold = ready
        return True

    def _clips(self) -> list[tuple[float, Callable[[], Iterator[np.ndarray]]]]:
        """(fps, a fresh iterator over the RGB frames) for each clip, in playing order."""
        if self.seed == SHIPPED_SEED:
            path = check_clip()
            return [(DEMO_FPS, lambda: read_frames(path))]
        build_clip_set = renderer()  # heavy (OpenCV, the face mesh): on the capture thread
        return [(clip.fps, partial(_pictures, clip)) for clip in build_clip_set(self.seed, "small")]

    def frames(self) -> Iterator[Frame]:
        from callcoach.sources.latest import SourceLost, pace

        clips = self._clips()
        rng = np.random.default_rng(self.seed)
        noise: dict[tuple[int, ...], list[np.ndarray]] = {}
        index = 0
        while self._hold is not None and not self._hold.wait(0.05):
            if self._stop.is_set():
                return
        due = time.monotonic()
        while not self._stop.is_set():
            for fps, pictures in clips:
                period = 1.0 / fps
                for picture in pictures():
                    shape = picture.shape
                    if shape not in noise:  # a few fixed patterns, cycled: fresh noise per frame costs ~5 ms
                        noise[shape] = [rng.integers(-2, 3, shape, dtype=np.int16) for _ in range(4)]
                    grain = noise[shape][index % len(noise[shape])]
                    image = np.clip(picture.astype(np.int16) + grain, 0, 255).astype(np.uint8)
                    due = pace(due, period, self._stop)
                    if self._stop.is_set():
                        return
                    yield Frame(index=index, t_s=time.monotonic(), image=image)
                    index += 1
            if not self.loop:
                raise SourceLost("the demo clips have ended")

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()


def renderer() -> Callable[[int, str], list[Any]]:
    """The on-the-fly clip renderer for seeds other than the shipped one; needs the bench extra."""
    try:
        from callcoach_bench.synth import build_clip_set
    except ImportError as exc:
        raise SourceError(
            f"demo clips other than seed {SHIPPED_SEED} are rendered on the fly and need the "
            f"bench extra (pip install 'callcoach[bench]'): {exc}"
        ) from exc
    return build_clip_set


def _pictures(clip: Any) -> Iterator[np.ndarray]:
    return (frame.image for frame in clip.iter_frames())


def load_selector(context: str, out: TextIO = sys.stderr) -> SelectorLike | None:
    """The playbook's selector (the user's playbook, or the default one); None if it cannot be loaded."""
    try:
        from callcoach.playbook.selector import default_selector
    except ImportError:
        return None
    try:
        return default_selector(context)
    except CallcoachError as exc:  # a broken user playbook should not keep anyone from seeing the demo
        print(
            f"callcoach demo: the playbook cannot be used ({exc}); showing cues without suggestions",
            file=out,
            flush=True,
        )
        return None


def playbook_warning(err: TextIO, error: Exception, in_force: str) -> None:
    """One line on stderr for a playbook version that cannot be used (``PlaybookWatcher.listen``'s report)."""
    message = " ".join(str(error).split())
    text = f"callcoach: warning: the playbook was not loaded: {message}; {in_force} stays in force"
    print(text, file=err, flush=True)


def fallback_advisor(context: str) -> Advisor:
    """Without a playbook the panel still shows each cue, with one line saying why there is no advice."""

    def advise(cue: Cue, status: LiveStatus) -> Suggestion:
        return Suggestion(
            t_s=cue.apex_s,
            cue=cue.cue,
            face=cue.face,
            region=REGION.get(cue.cue, "face"),
            plain=f"{cue_words(cue.cue)}, which may mean several things",
            confidence=cue.confidence,
            move="No playbook in this build, so no suggestion: keep listening.",
            repair="",
            say_nothing=False,
            strength="gentle",
            context=context,
            supporting=(cue.cue,),
        )

    return advise


def _advice(context: str) -> tuple[Advisor, SelectorLike | None]:
    selector = load_selector(context)
    if selector is not None:
        return cast(Advisor, selector), selector
    return fallback_advisor(context), None


class PrintListener(LiveListener):
    """Prints what the panel would show: state changes, cues, suggestions. Called from the runner thread."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.start = time.monotonic()
        self.cues = 0
        self.suggestions = 0
        self.last: LiveStatus | None = None
        self._shown_state: tuple[str, str] | None = None
        self._lock = threading.Lock()

    def _say(self, text: str) -> None:
        with self._lock:
            print(f"[{time.monotonic() - self.start:5.1f}s] {text}", file=self.out, flush=True)

    def on_status(self, status: LiveStatus) -> None:
        self.last = status
        key = (status.state, status.message)
        if key == self._shown_state:
            return
        self._shown_state = key
        self._say(f"status  [{STATE_LABEL.get(status.state, status.state)}] {status_text(status)}")

    def on_cue(self, cue: Cue, latency_ms: float) -> None:
        self.cues += 1
        self._say(f"cue     {cue_line(cue, latency_ms)}")

    def on_suggestion(self, suggestion: Suggestion) -> None:
        self.suggestions += 1
        view = suggestion_view(suggestion)
        lines = [f"suggest {view.heading}", f"        {view.where}"]
        if view.say_nothing:
            lines.append("        Better to say nothing right now.")
        lines.append(f"        {view.move_label}: {view.move}")
        if view.repair:
            lines.append(f"        If wrong: {view.repair}")
        self._say("\n".join(lines))


def headless_check(seconds: float, *, seed: int = 0, context: str = "general", out: TextIO = sys.stdout) -> int:
    """Run the demo for ``seconds`` without a UI; 0 when at least one cue (and its suggestion) was shown."""
    from callcoach.live.runner import LiveRunner

    advisor, selector = _advice(context)
    watcher = selector.watcher if selector is not None else None
    if watcher is not None:
        # A playbook the user broke is said in one line (once per bad version) and the demo goes on with
        # the packaged default: without a listener the watcher would fall back to it silently.
        watcher.listen(partial(playbook_warning, sys.stderr))
    listener = PrintListener(out)
    source_note = "the playbook selector" if selector is not None else "no playbook (fallback line)"
    print(
        f"callcoach demo: {seconds:g} s of {SYNTHETIC}, context {context}, suggestions from {source_note}",
        file=out,
        flush=True,
    )
    runner = LiveRunner(SynthSource(seed=seed), listener, advisor=advisor)
    runner.start()
    try:
        # N seconds of coaching, counted once the models have loaded: on a busy machine loading alone can
        # take longer than a short check, which then saw nothing and said so.
        deadline = time.monotonic() + _LOAD_WAIT_S
        while not (runner.models_ready.wait(0.1) or runner.done) and time.monotonic() < deadline:
            pass
        runner.wait(seconds)
    finally:
        runner.stop()
        runner.settle()
    last = listener.last
    metrics = metrics_text(last) if last is not None else "no status"
    # The runner's own bookkeeping is optional here: the check is about what reached the listener.
    frames = getattr(getattr(runner, "stats", None), "frames", "?")
    print(
        f"summary: {_count(listener.cues, 'cue')}, {_count(listener.suggestions, 'suggestion')}, {metrics}, "
        f"{frames} frames analysed",
        file=out,
        flush=True,
    )
    if runner.error is not None:
        raise CallcoachError(f"the demo failed: {runner.error}")
    if listener.cues == 0 or listener.suggestions == 0:
        raise CallcoachError(f"the demo showed no cue and suggestion within {seconds:g} s")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--headless-check",
        type=float,
        default=None,
        metavar="N",
        help="run for N seconds without the terminal UI and print what the panel would show (for CI)",
    )
    parser.add_argument(
        "--context", choices=CONTEXTS, default="general", help="playbook context to start in (default general)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="which synthetic clips to play (default 0; others need the bench extra)"
    )


def main(args: argparse.Namespace) -> int:
    if args.seed != SHIPPED_SEED:
        renderer()  # say at once, not after the models have loaded, that this seed needs the bench extra
    if args.headless_check is not None:
        if not args.headless_check > 0:
            raise UsageError(f"--headless-check needs a positive number of seconds, got {args.headless_check}")
        return headless_check(args.headless_check, seed=args.seed, context=args.context)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("callcoach demo needs a terminal; use --headless-check N to run it without one")

    from callcoach.live.runner import LiveRunner
    from callcoach.ui.app import run_live_app
    from callcoach.ui.runner_slot import RunnerLike

    advisor, selector = _advice(args.context)
    seed = args.seed

    def factory(listener: LiveListener) -> RunnerLike:
        return LiveRunner(SynthSource(seed=seed), listener, advisor=advisor)

    # cue_log: the demo keeps none. The title says at once that the face is synthetic, not a call.
    return run_live_app(factory, selector=selector, context=args.context, cue_log=lambda: False, title=PANEL_TITLE)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
