"""callcoach.core.contain: the catch-all at thread and callback edges swallows, but never silently."""

from __future__ import annotations

import logging

import pytest

from callcoach.core.contain import contained

_log = logging.getLogger("callcoach.test_contain")


def test_an_error_is_swallowed_and_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=_log.name)
    reached = False
    with contained(_log, "the state listener"):
        raise RuntimeError("display gone")
    reached = True  # the block's error did not leave the with statement
    assert reached
    [record] = caplog.records
    assert record.levelno == logging.DEBUG
    assert record.getMessage() == "the state listener failed"
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


def test_the_level_can_be_raised(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=_log.name)
    with contained(_log, "closing the camera", level=logging.WARNING):
        raise OSError("no such device")
    assert [r.levelno for r in caplog.records] == [logging.WARNING]


def test_nothing_is_logged_when_the_block_succeeds(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=_log.name)
    with contained(_log, "a quiet block"):
        pass
    assert caplog.records == []


def test_an_interrupt_still_goes_through() -> None:
    # Only Exception is contained: Ctrl-C and SystemExit must still end the program.
    with pytest.raises(KeyboardInterrupt), contained(_log, "a block the user interrupts"):
        raise KeyboardInterrupt
