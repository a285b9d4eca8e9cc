"""The practice window's answer screen takes a key pressed the moment it appears (OpenCV's HighGUI faked).

The question reaches the screen inside the draw's own ``waitKey(1)``; a key pressed right then is returned by
that call. It used to be dropped, and a quick answer on a busy machine was lost: the window sat on the
question (tests/test_practice_window_keys.py, under two CPU hogs, "did not end after 1 answers")."""

from __future__ import annotations

import time

import cv2
import pytest

from callcoach.practice.window import FlashWindow


def _window() -> FlashWindow:
    win = FlashWindow.__new__(FlashWindow)  # no display: the drawing calls are faked below
    win.title, win.clock, win.x, win.y = "t", time.monotonic, 0, 0
    win._costs, win._key = [], -1
    return win


@pytest.mark.parametrize(("keys", "answer"), [([ord("3")], "3"), ([-1, -1, ord("0")], "0"), ([-1, 27], None)])
def test_the_answer_screen_takes_a_key_from_its_own_draw_or_after(
    monkeypatch: pytest.MonkeyPatch, keys: list[int], answer: str | None
) -> None:
    calls: list[int] = []
    pending = iter(keys)

    def wait_key(ms: int) -> int:
        calls.append(ms)
        return next(pending, 27)  # then Esc: a lost key ends the question instead of hanging the test

    monkeypatch.setattr(cv2, "imshow", lambda *_: None)
    monkeypatch.setattr(cv2, "waitKey", wait_key)
    monkeypatch.setattr(cv2, "getWindowProperty", lambda *_: 1.0)
    assert _window().ask("emotions") == answer
    assert calls[0] == 1  # the first key read is the draw's own
    assert len(calls) == len(keys)  # no key read past the answer
