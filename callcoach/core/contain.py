"""A catch-all that is never silent, for the few places where any failure must not stop the caller.

Those places are the edges of the live threads: a listener or display callback the worker calls (the
video must keep flowing when the panel fails), and the clean-up of a source, a camera or a self-coach
while stopping (quitting must not crash on a device that already went away). What the callee may raise
is not known there (native libraries, user callbacks), so everything is caught; ``contained`` logs it
through ``logging`` instead of dropping it, so a developer who turns on debug logging sees every one.
Anywhere else, catch the exceptions that can actually happen.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def contained(log: logging.Logger, what: str, level: int = logging.DEBUG) -> Iterator[None]:
    """Run the block; an ``Exception`` it raises is logged (with its traceback) as ``what failed`` and
    swallowed. Debug by default: these failures are expected on the way out, and the panel owns the
    terminal, so nothing may be printed on it."""
    try:
        yield
    except Exception:  # the point of this helper (see the module docstring); logged below, so BLE001 allows it
        log.log(level, "%s failed", what, exc_info=True)
