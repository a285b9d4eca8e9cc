"""The flash window: an OpenCV window that shows rest, expression, mask with measured timing; answers by keys.

Timing: each frame is drawn with ``imshow`` and pushed to the display with ``waitKey(1)``; the time right
after that returns is the frame's presentation time. The expression is replaced by the mask when its time
is up (a coarse sleep, then a short spin on the clock for the last milliseconds), and the shown duration
is the mask's presentation time minus the expression's, as measured, never as asked. On a display with a
refresh rate the frame becomes visible at the next vertical refresh, so a flash can differ from what was
asked by up to one refresh period (16.7 ms at 60 Hz); docs/practice.md has the figures measured here.

    python -m callcoach.practice.window --flash-check 500,200,100,67,40 [--repeat N] [--x X --y Y]

flashes the built-in face at those durations, printing one JSON line per flash (asked and measured
``shown_ms``); the tests capture the window meanwhile to check what was really on screen.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import IO

os.environ.setdefault("QT_LOGGING_RULES", "*.debug=false;qt.qpa.*=false")

import cv2
import numpy as np

from callcoach.practice.drill import (
    LABELS,
    MASK_MS,
    Mode,
    PracticeError,
    Presentation,
    Recognition,
    Stimulus,
    Trial,
)
from callcoach.practice.stimuli import SIDE, StimulusSet, load_stimuli

TITLE = "callcoach practice"
#: The answer screen's grey, darker than the "get ready" one, so a test (or a script) can tell them apart.
ASK_SHADE = 24
#: One frame of a 60 Hz display: the tolerance of a flash.
FRAME_MS = 1000.0 / 60.0
_SPIN_S = 0.012  # sleep() can wake late on a busy machine; the last 12 ms are spun
_KEYS_QUIT = (27, ord("q"))
#: At most this many keys typed before the question are thrown away (a key held down repeats).
_FLUSH_MAX = 20


class _Rush:
    """Real-time scheduling for the few hundred milliseconds of a flash where the system allows it (as
    psychophysics tools do), so a busy machine does not stretch a flash; silently nothing where it does not."""

    def __init__(self) -> None:
        self.active = False

    def __enter__(self) -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
            self.active = True
        except (AttributeError, OSError):
            self.active = False

    def __exit__(self, *exc: object) -> None:
        if self.active:
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
            self.active = False


def mask_for(image: np.ndarray, seed: int = 7, block: int = 24) -> np.ndarray:
    """The face cut into blocks and shuffled: as bright and coloured as the face, with no face left in it,
    so it wipes the after-image of the flash (backward masking)."""
    h, w = image.shape[:2]
    rows, cols = h // block, w // block
    tiles = [image[r * block : (r + 1) * block, c * block : (c + 1) * block] for r in range(rows) for c in range(cols)]
    order = np.random.default_rng(seed).permutation(len(tiles))
    out = image.copy()
    for i, j in enumerate(order):
        r, c = divmod(i, cols)
        out[r * block : (r + 1) * block, c * block : (c + 1) * block] = tiles[j]
    return out


def _painted(title: str) -> bool | None:
    """Whether the window's area on screen shows anything but black; None when that cannot be read."""
    import mss
    from mss.exception import ScreenShotError

    try:
        x, y, w, h = cv2.getWindowImageRect(title)
        if w <= 0 or h <= 0:
            return None
        with mss.MSS() as sct:
            return bool(np.asarray(sct.grab({"left": x, "top": y, "width": w, "height": h}))[..., :3].max() > 0)
    # A window OpenCV no longer knows (cv2.error), a capture refused (Wayland, no permission: mss's
    # ScreenShotError, or OSError from its native calls): cannot tell, so do not block the drill.
    except (cv2.error, ScreenShotError, OSError):
        return None


class FlashWindow:
    def __init__(
        self,
        stimuli: StimulusSet,
        clock: Callable[[], float] = time.perf_counter,
        *,
        x: int = 60,
        y: int = 40,
        title: str = TITLE,
    ) -> None:
        self.stimuli, self.clock, self.title = stimuli, clock, title
        self.masks = {face: mask_for(imgs["neutral"]) for face, imgs in stimuli.faces.items()}
        self._costs: list[float] = []
        self._key = -1  # the key the last draw's waitKey returned (-1: none)
        self.x, self.y = x, y
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            # Qt would abort the whole process without a display: say so first.
            raise PracticeError("no display for the practice window (DISPLAY is not set); use --headless")
        try:
            self._open()
        except cv2.error as exc:
            raise PracticeError(
                f"cannot open the practice window ({' '.join(str(exc).split())[:120]}); "
                "without a display, use --headless"
            ) from exc

    def _open(self) -> None:
        """Open the window and make sure it really paints.

        On an X server without a window manager, Qt sometimes maps the window but never paints it (about one
        start in five under Xvfb here, as tests/window_player.py found); destroying and re-creating it heals
        that. Where the screen cannot be read back, the first window is trusted.
        """
        probe = self._blank("get ready")
        for _ in range(5):
            cv2.namedWindow(self.title, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)
            cv2.moveWindow(self.title, self.x, self.y)
            for _ in range(10):  # warms the drawing path up and the cost estimate with it
                self._show(probe)
                cv2.waitKey(30)
            if _painted(self.title) is not False:
                return
            cv2.destroyWindow(self.title)
            cv2.waitKey(50)
        raise PracticeError("the practice window stays black on this display; try again, or use --headless")

    def _show(self, image: np.ndarray) -> float:
        """Draw ``image``; returns when the draw has been handed to the display (the presentation time)."""
        start = self.clock()
        cv2.imshow(self.title, image)
        # The draw reaches the screen inside this waitKey, so a quick answer can arrive in it: kept for ask().
        self._key = int(cv2.waitKey(1))
        done = self.clock()
        # Drawing takes a few ms (more on a busy machine): the estimate lets the mask's draw start that much
        # early, so that it lands on time.
        self._costs = [*self._costs[-8:], min(done - start, 0.05)]
        return done

    @property
    def draw_cost(self) -> float:
        """The median time a draw took lately (a median: one slow draw on a busy machine must not cut the
        next flash short)."""
        return float(np.median(self._costs)) if self._costs else 0.0

    def _blank(self, text: str, lines: Sequence[str] = (), shade: int = 40) -> np.ndarray:
        img = np.full((SIDE, SIDE, 3), shade, np.uint8)
        cv2.putText(img, text, (16, 36), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (240, 240, 240), 2, cv2.LINE_AA)
        for i, line in enumerate(lines):
            cv2.putText(img, line, (16, 72 + 24 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (220, 220, 220), 1, cv2.LINE_AA)
        return img

    def _wait_until(self, deadline: float) -> None:
        while True:
            left = deadline - self.clock()
            if left <= 0:
                return
            if left > _SPIN_S + 0.002:
                time.sleep(left - _SPIN_S)  # coarse; the spin below takes the last few ms exactly

    def present(self, stimulus: Stimulus) -> Presentation:
        imgs = self.stimuli.faces[stimulus.face]
        rest_end = self._show(imgs["neutral"]) + stimulus.rest_ms / 1000.0
        expression = self.stimuli.image(stimulus.face, stimulus.label)
        self._wait_until(rest_end - 0.02)
        with _Rush():
            self._wait_until(rest_end)
            on = self._show(expression)
            self._wait_until(on + stimulus.asked_ms / 1000.0 - self.draw_cost)
            off = self._show(self.masks[stimulus.face])
        self._wait_until(off + MASK_MS / 1000.0)
        return Presentation((off - on) * 1000.0, True, off)

    def present_timed(self, stimulus: Stimulus, tries: int = 3) -> tuple[Presentation, int]:
        """Present until the measured flash is within one 60 Hz frame of what was asked (a busy machine can
        stretch one), at most ``tries`` times; the last presentation and how many were made. A user who saw
        a stretched flash sees it again after a fresh rest, so a score is never taken on a mistimed one."""
        attempt = 0
        for attempt in range(1, tries + 1):  # noqa: B007  # the count is returned
            shown = self.present(stimulus)
            if abs(shown.shown_ms - stimulus.asked_ms) <= FRAME_MS:
                break
        return shown, attempt

    def ask(self, mode: Mode) -> str | None:
        """The answer by key: 1..n in the legend's order, 0 for none; None when the user quits (Esc, q)."""
        labels = LABELS[mode]
        legend = [f"{i + 1}  {label.replace('_', ' ')}" for i, label in enumerate(labels)] + ["0  nothing shown"]
        # Keys typed during the flash or the mask wait in the queue (the waits read none): they are no answer.
        for _ in range(_FLUSH_MAX):
            if cv2.waitKey(1) == -1:
                break
        self._show(self._blank("What did you see?", legend, shade=ASK_SHADE))
        # A key pressed as the question appears arrives in the draw's own waitKey: it answers (it was
        # dropped before, and a quick answer on a busy machine was lost).
        key = self._key & 0xFF
        while True:
            if key in _KEYS_QUIT:
                return None
            if ord("0") <= key <= ord("9") and key - ord("0") <= len(labels):
                return str(key - ord("0"))
            if cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
                return None
            key = cv2.waitKey(50) & 0xFF

    def replay(self, stimulus: Stimulus, seconds: float = 2.0) -> None:
        """Slow motion after a miss: rest to apex and back over ``seconds``, the right label written on it."""
        imgs = self.stimuli.faces[stimulus.face]
        a, b = imgs["neutral"].astype(np.float32), self.stimuli.image(stimulus.face, stimulus.label).astype(np.float32)
        steps = 30
        for i in range(steps + 1):
            w = 1.0 - abs(2.0 * i / steps - 1.0)
            frame = (a * (1 - w) + b * w).astype(np.uint8)
            cv2.putText(
                frame,
                f"it was: {stimulus.label.replace('_', ' ')}",
                (12, SIDE - 16),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.7,
                (255, 255, 255),
                2,
                cv2.LINE_AA,
            )
            self._show(frame)
            cv2.waitKey(max(1, int(seconds * 1000 / steps)))

    def close(self) -> None:
        cv2.destroyAllWindows()
        cv2.waitKey(50)


def run_window(
    rec: Recognition, stimuli: StimulusSet, record: Callable[[Trial], None], clock: Callable[[], float], out: IO[str]
) -> int:
    """The test in the window: flash, answer by key, replay in slow motion after a miss; then the score."""
    win = FlashWindow(stimuli, clock=clock)  # one clock for the flash and the answer's reaction time
    try:
        while not rec.done:
            stimulus = rec.next_stimulus()
            shown, _ = win.present_timed(stimulus)
            key = win.ask(rec.mode)
            if key is None:
                break
            trial = rec.answer(stimulus, shown, key)
            record(trial)
            if trial.replayed:
                win.replay(stimulus)
    finally:
        win.close()
    s = rec.score()
    from callcoach.practice.report import pct

    out.write(f"{s.trials} trials: {pct(s.accuracy)} right, false positives {pct(s.false_positive_rate)}\n")
    out.write("See your progress with 'callcoach practice stats'.\n")
    return 0


def flash_check(durations: Sequence[float], repeat: int, x: int, y: int, out: IO[str]) -> int:
    stimuli = load_stimuli("emotions")
    win = FlashWindow(stimuli, x=x, y=y)
    print(json.dumps({"type": "ready", "x": x, "y": y, "side": SIDE}), file=out, flush=True)
    n = 0
    try:
        for _ in range(repeat):
            for ms in durations:
                n += 1
                stim = Stimulus(n, "surprise", "builtin", float(ms), 600.0)
                shown, tries = win.present_timed(stim)
                print(
                    json.dumps(
                        {"type": "flash", "n": n, "asked_ms": ms, "shown_ms": round(shown.shown_ms, 2), "tries": tries}
                    ),
                    file=out,
                    flush=True,
                )
    finally:
        win.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach.practice.window")
    parser.add_argument("--flash-check", required=True, help="durations in ms, comma-separated")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--x", type=int, default=0)
    parser.add_argument("--y", type=int, default=0)
    args = parser.parse_args(argv)
    return flash_check([float(v) for v in args.flash_check.split(",")], args.repeat, args.x, args.y, sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
