"""``callcoach practice recognize`` in its real window under Xvfb, answered by key presses (XTest), as a person
would: the score, the stored trials (measured durations, answers, the replay after a miss)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from session_fakes import data_dir
from xvfb import virtual_display

from callcoach.cues.vocabulary import EMOTIONS
from callcoach.practice.drill import NONE, schedule
from callcoach.practice.store import PracticeStore
from callcoach.practice.window import ASK_SHADE
from callcoach.session.store import SessionStore

__all__ = ["data_dir"]
REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def asking(sct: object, x: int = 60, y: int = 40) -> bool:
    """The answer screen is up: its plain dark grey where every face picture has its light background."""
    grab = np.asarray(sct.grab({"left": x + 340, "top": y + 340, "width": 10, "height": 10}))[..., :3]  # type: ignore[attr-defined]
    return bool(np.all(np.abs(grab.astype(int) - ASK_SHADE) <= 2))


def test_a_window_run_answered_by_keys_is_scored_and_stored(data_dir: Path) -> None:
    import mss
    from Xlib import XK, X
    from Xlib import display as xdisplay
    from Xlib.ext import xtest

    labels = [label for label, _, _ in schedule(5, 4, "emotions")]
    # Right on every trial but the first expression one, which gets a wrong emotion (and so a replay).
    first = next(i for i, label in enumerate(labels) if label != NONE)
    keys = ["0" if label == NONE else str(EMOTIONS.index(label) + 1) for label in labels]
    keys[first] = str((EMOTIONS.index(labels[first]) + 1) % len(EMOTIONS) + 1)
    with virtual_display() as display:
        env = {**os.environ, "DISPLAY": display, "PYTHONPATH": str(REPO)}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "callcoach",
                "practice",
                "recognize",
                "--trials",
                "4",
                "--seed",
                "5",
                "--durations",
                "200",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        dpy = xdisplay.Display(display)
        xtest.fake_input(dpy, X.MotionNotify, x=200, y=200)  # no window manager: focus follows the pointer
        dpy.sync()
        saved = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = display
        answered = 0
        try:
            with mss.MSS() as sct:
                # Generous: on a loaded 2-core machine the models, the window and each flash can be slow.
                deadline = time.monotonic() + 300
                while proc.poll() is None and answered < len(keys) and time.monotonic() < deadline:
                    if not asking(sct):
                        time.sleep(0.05)
                        continue
                    code = dpy.keysym_to_keycode(XK.string_to_keysym(keys[answered]))
                    xtest.fake_input(dpy, X.KeyPress, code)
                    xtest.fake_input(dpy, X.KeyRelease, code)
                    dpy.sync()
                    answered += 1
                    while proc.poll() is None and asking(sct) and time.monotonic() < deadline:
                        time.sleep(0.02)  # the key was taken when the answer screen goes
        finally:
            if saved is not None:
                os.environ["DISPLAY"] = saved
        try:
            out, err = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"practice recognize did not end after {answered} answers: {err[-2000:]}")
        dpy.close()
    assert proc.returncode == 0, err[-2000:]
    assert out.splitlines()[0] == "4 trials: 75% right, false positives " + ("0%" if NONE in labels else "n/a")
    with SessionStore() as store:
        stored = [s.trial for s in PracticeStore(store).trials()]
    assert [t.label for t in stored] == labels
    assert [t.correct for t in stored] == [i != first for i in range(4)]
    assert [t.replayed for t in stored] == [i == first for i in range(4)]
    assert all(t.measured and t.asked_ms == 200.0 and t.rt_ms > 0 for t in stored)
    # Measured, not asked: near 200 ms (the timing itself is checked by test_practice_window.py).
    assert all(100.0 < t.shown_ms < 400.0 for t in stored) and len({t.shown_ms for t in stored}) > 1
