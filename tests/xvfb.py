"""A private virtual X display (Xvfb) for the live capture tests.

Xvfb picks a free display number itself (``-displayfd``), so parallel runs and a developer's own X server
never collide. Tests that need it skip, with the reason, only when Xvfb is not installed (.ci/run installs
it, so on CI they run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

SCREEN = "1280x720x24"


def require_xvfb() -> str:
    path = shutil.which("Xvfb")
    if path is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb; .ci/run installs it)")
    return path


@contextmanager
def virtual_display(screen: str = SCREEN) -> Iterator[str]:
    """Start Xvfb and yield its DISPLAY (":N"); the server is stopped afterwards."""
    xvfb = require_xvfb()
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + 20
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(read_fd, 16)
            if not chunk:
                break
            number += chunk
        if not number.strip().isdigit():
            raise RuntimeError(f"Xvfb did not report a display number (exit code {proc.poll()})")
        yield f":{int(number)}"
    finally:
        os.close(read_fd)
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
