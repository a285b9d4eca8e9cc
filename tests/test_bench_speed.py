"""`callcoach bench speed`'s whole-process measurement: a child's CPU time is its own, counted once.

No timing is asserted (that is the bench's job, on a quiet machine); these check that the CPU figure is
measured at all and belongs to the child that was asked for.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callcoach.errors import CallcoachError
from callcoach_bench import speed


def _importable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Modules in ``folder`` importable by the child processes (they inherit the environment)."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]))


def test_a_child_that_burns_cpu_reports_it_and_an_idle_one_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy = tmp_path / "busy.py"
    busy.write_text("import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end:\n    pass\n")
    idle = tmp_path / "idle.py"
    idle.write_text("import time\ntime.sleep(0.3)\n")
    _importable(monkeypatch, tmp_path)
    wall_b, cpu_b, rss_b = speed._child("busy", [])
    wall_i, cpu_i, rss_i = speed._child("idle", [])
    # The busy child spun 0.3 s of its own CPU; the sleeping one used only the interpreter's start-up.
    assert cpu_b >= 0.3 and wall_b >= cpu_b * 0.5
    assert cpu_i < cpu_b - 0.2 and wall_i >= 0.3
    assert rss_b > 1 and rss_i > 1


def test_a_failing_child_is_reported_not_measured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken.py").write_text("raise SystemExit(3)\n")
    _importable(monkeypatch, tmp_path)
    with pytest.raises(CallcoachError, match="exit code 3"):
        speed._child("broken", [])
