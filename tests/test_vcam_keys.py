"""``callcoach vcam``'s single-key privacy toggle: a real pseudo-terminal, and the key loop on a fake."""

from __future__ import annotations

import io
import os
import sys
import threading

import pytest

from callcoach.cli.keys import single_keys
from callcoach.cli.vcam_cmd import _privacy_keys


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pseudo-terminals")
def test_keys_arrive_one_by_one_and_the_terminal_is_restored() -> None:
    import termios

    master, slave = os.openpty()
    try:
        with open(slave, closefd=False) as stream:
            before = termios.tcgetattr(slave)
            with single_keys(stream) as keys:
                assert keys is not None
                assert not termios.tcgetattr(slave)[3] & termios.ICANON  # no waiting for Enter
                os.write(master, b"v q")
                assert [next(keys), next(keys), next(keys)] == ["v", " ", "q"]
            assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_no_terminal_no_keys() -> None:
    with single_keys(io.StringIO("v\n")) as keys:
        assert keys is None


class FakePass:
    def __init__(self) -> None:
        self.paused = False

    def toggle_privacy(self) -> bool:
        self.paused = not self.paused
        return self.paused


ON = "privacy pause on: sending a still, blurred picture (v: live again)"


def test_v_space_and_enter_toggle_and_q_quits(capsys: pytest.CaptureFixture[str]) -> None:
    fake, quit_event = FakePass(), threading.Event()
    _privacy_keys(fake, iter(["v", "x", " ", "\r", "q", "v"]), quit_event)  # type: ignore[arg-type]
    assert fake.paused is True and quit_event.is_set()  # three toggles, then q stopped the loop
    err = capsys.readouterr().err
    assert err.splitlines() == [ON, "live again", ON]
