"""How the ``callcoach`` process meets its terminal: SIGTERM and SIGHUP handled as Ctrl-C is, a quiet end once
the command's work is done, and standard output whose failures say where they happened.

Kept apart from ``callcoach.cli.main`` (which imports from here) so that the command line stays a table of
commands and its error handling.
"""

from __future__ import annotations

import errno
import os
import sys
from contextlib import suppress
from typing import Any


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a `kill`, a closed terminal): handled as Ctrl-C is, so what was found is kept
    and summarised (``analyze``'s summary line, a live session closed), then exit 128 + the signal."""

    def __init__(self, signum: int) -> None:
        import signal

        self.code = 128 + signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


def _termination_signals() -> list[int]:
    """SIGTERM and SIGHUP where this platform has them (Windows has no SIGHUP), unless ignored on purpose:
    ``nohup`` and ``trap '' TERM`` hand the process an ignored signal, and that choice is kept."""
    import signal

    found = (getattr(signal, name, None) for name in ("SIGTERM", "SIGHUP"))
    return [s for s in found if s is not None and signal.getsignal(s) is not signal.SIG_IGN]


_STOPPED_CODES = frozenset({130, *(128 + s for s in _termination_signals())})


def _stop_on_termination() -> None:
    import signal

    def stop(signum: int, _frame: object) -> None:
        raise Stopped(signum)

    for signum in _termination_signals():
        with suppress(ValueError, OSError):  # not the main thread
            signal.signal(signum, stop)


def _leave(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with suppress(ValueError, OSError):  # a closed stream, or a reader gone (broken pipe)
            stream.flush()
    os._exit(code)


def _quiet_interrupt_from_now_on() -> None:
    """A Ctrl-C while the interpreter winds down (joining threads, closing native libraries) ends it at once:
    the command's work is done and its output flushed, and a traceback from the shutdown helps nobody."""
    import signal

    def leave(signum: int, _frame: object) -> None:
        _leave(130 if signum == signal.SIGINT else 128 + signum)

    for signum in (signal.SIGINT, *_termination_signals()):
        with suppress(ValueError, OSError):  # not the main thread, or no signals here
            signal.signal(signum, leave)


class StdoutFailed(OSError):
    """A write to standard output failed (not a broken pipe): told apart from a file of ours failing."""


class _GuardedStdout:
    """``sys.stdout`` whose failed writes say they were writes to standard output: after a failed write the
    buffer is gone, so nothing later can tell which stream failed."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            raise  # the reader left: handled apart, quietly
        except OSError as exc:
            raise StdoutFailed(exc.errno, exc.strerror) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutFailed(exc.errno, exc.strerror) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _drop_stdout() -> None:
    with suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
