"""Single key presses from a terminal, without waiting for Enter, for commands that have no Textual panel.

POSIX terminals are put in cbreak mode (keys arrive one by one, Ctrl+C still interrupts, output is left
alone) and restored on the way out, whatever happens; Windows consoles are read with ``msvcrt.getwch``.
Where stdin is not a terminal (a pipe, CI) there are no keys: ``single_keys`` yields None.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
from collections.abc import Iterator
from typing import Any, TextIO


@contextlib.contextmanager
def single_keys(stream: TextIO) -> Iterator[Iterator[str] | None]:
    """``with single_keys(sys.stdin) as keys``: ``keys`` yields each key pressed, or is None."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        yield None
        return
    if not os.isatty(fd):
        yield None
        return
    if sys.platform == "win32":
        yield _windows_keys()
        return
    import termios
    import tty

    saved: Any = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield _posix_keys(fd)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _posix_keys(fd: int) -> Iterator[str]:
    while True:
        # select with a timeout, so the reading thread never blocks shutdown for long.
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        data = os.read(fd, 32)
        if not data:
            return  # the terminal went away
        yield from data.decode("utf-8", "replace")


def _windows_keys() -> Iterator[str]:  # pragma: no cover - Windows only
    if sys.platform != "win32":  # never called there; it tells mypy (checking for Linux) to skip the rest
        return
    import msvcrt
    import time

    while True:
        if msvcrt.kbhit():
            yield msvcrt.getwch()
        else:
            time.sleep(0.05)
