"""The practice window's answer screen takes a key pressed the moment it appears (OpenCV's HighGUI faked).

The question reaches the screen inside the draw's own ``waitKey(1)``; a key pressed right then is returned by
that call. It used to be dropped, and a quick answer on a busy machine was lost: the window sat on the
question (tests/test_practice_window_keys.py, under two CPU hogs, "did not end after 1 answers"). Keys typed
before the question (during the flash or the mask, whose waits read no key) are thrown away first."""

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


@pytest.mark.parametrize(
    ("before", "keys", "answer"),
    [
        ([], [ord("3")], "3"),  # pressed as the question appeared: read by the draw itself
        ([], [-1, -1, ord("0")], "0"),  # pressed later
        ([], [-1, 27], None),  # Esc quits
        ([ord("5"), ord("2")], [-1, ord("4")], "4"),  # typed during the mask: not the answer
    ],
)
def test_the_answer_is_the_first_key_since_the_question_appeared(
    monkeypatch: pytest.MonkeyPatch, before: list[int], keys: list[int], answer: str | None
) -> None:
    queue = [*before, -1, *keys]  # the flush reads the waiting keys until the queue is empty (-1)
    calls: list[int] = []
    shown: list[object] = []

    def wait_key(ms: int) -> int:
        calls.append(ms)
        return queue.pop(0) if queue else 27  # then Esc: a lost key ends the question instead of hanging

    monkeypatch.setattr(cv2, "imshow", lambda _title, image: shown.append(image))
    monkeypatch.setattr(cv2, "waitKey", wait_key)
    monkeypatch.setattr(cv2, "getWindowProperty", lambda *_: 1.0)
    assert _window().ask("emotions") == answer
    assert len(shown) == 1
    flush = len(before) + 1
    assert calls[:flush] == [1] * flush
    assert calls[flush] == 1  # the question's own draw, whose key is the first one read
    assert not queue  # no key read past the answer
