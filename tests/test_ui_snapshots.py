"""Snapshots of the live panel (pytest-textual-snapshot). Regenerate after a deliberate change with

    python -m pytest tests/test_ui_snapshots.py --snapshot-update

and look at the SVGs under tests/__snapshots__/test_ui_snapshots/ before committing them. Every value on
screen is scripted (fps, latency, times), so nothing depends on the clock.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from ui_fakes import CUE, MIRROR_MISSED, SAY_NOTHING, SUGGESTION, Harness, started, status

from callcoach.live.state import LiveStatus
from callcoach.playbook.types import Suggestion

LOCKED = status("locked", fps=25.0, latency_ms_p95=180.0, faces=1, message="face locked: coaching")


def scripted(h: Harness, *events: LiveStatus | Suggestion | tuple[Any, float]) -> Any:
    """A run_before that starts the fake runner and plays ``events`` through its listener."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await started(pilot, pilot.app)  # type: ignore[arg-type]
        listener = h.runner.listener
        for event in events:
            if isinstance(event, LiveStatus):
                listener.on_status(event)
            elif isinstance(event, Suggestion):
                listener.on_suggestion(event)
            else:
                listener.on_cue(*event)
        await pilot.pause()

    return run_before


def test_calibrating(snap_compare: Any) -> None:
    h = Harness()
    calibrating = status(
        "calibrating",
        baseline_progress=0.6,
        fps=25.0,
        latency_ms_p95=180.0,
        faces=1,
        message="calibrating: learning this face's resting expression",
    )
    assert snap_compare(h.app(), run_before=scripted(h, calibrating))


def test_suggestion(snap_compare: Any) -> None:
    h = Harness()
    assert snap_compare(h.app(), run_before=scripted(h, LOCKED, (CUE, 150.0), SUGGESTION))


def test_say_nothing_with_details(snap_compare: Any) -> None:
    h = Harness()
    run_before = scripted(h, LOCKED, (CUE, 150.0), SUGGESTION, (CUE, 140.0), SAY_NOTHING)
    assert snap_compare(h.app(), press=["d"], run_before=run_before)


@pytest.mark.parametrize("size", [(120, 40)], ids=["120x40"])
def test_suggestion_large(snap_compare: Any, size: tuple[int, int]) -> None:
    h = Harness()
    assert snap_compare(
        h.app(context="negotiation"), terminal_size=size, run_before=scripted(h, LOCKED, (CUE, 150.0), SUGGESTION)
    )


def test_source_lost(snap_compare: Any) -> None:
    h = Harness()
    lost = status("source_lost", t_s=9.0, message="the window 'Team call' has closed")
    assert snap_compare(h.app(), run_before=scripted(h, LOCKED, SUGGESTION, lost))


def test_self_line_and_camera(snap_compare: Any) -> None:
    """With --vcam: the camera's state in the status bar, the privacy key, the user's own quiet line."""
    h = Harness()
    base = scripted(h, LOCKED, (CUE, 150.0), SUGGESTION)

    async def run_before(pilot: Pilot[Any]) -> None:
        await base(pilot)
        h.runner.listener.on_vcam("live", "live: passing the camera through")
        h.runner.listener.on_self(MIRROR_MISSED)
        await pilot.pause()

    assert snap_compare(h.app(), run_before=run_before)


def test_help(snap_compare: Any) -> None:
    h = Harness()
    assert snap_compare(h.app(), press=["question_mark"], run_before=scripted(h, LOCKED))


def test_consent(snap_compare: Any) -> None:
    h = Harness()
    assert snap_compare(h.app(acknowledged=False))
