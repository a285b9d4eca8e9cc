"""Run ``callcoach`` as a plain ``pip install .`` has it: without the bench extra's packages.

``BLOCKED_RUN`` is a ``python -c`` program: it makes scikit-image, scipy and ``callcoach_bench`` unimportable
(a ``sys.meta_path`` finder that refuses them and notes every attempt), runs ``callcoach`` with the rest of the
command line, then prints one ``BLOCKED-REPORT {json}`` line: which of them were asked for and which got
loaded. A command that imports one, even inside a ``try``, shows up in ``asked``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: What the bench extra brings (pyproject.toml: bench = scikit-image, scipy; the package callcoach_bench).
BLOCKED = ("skimage", "scipy", "callcoach_bench")

#: The finder alone, as a prelude to any ``python -c`` program; ``asked`` lists every refused import.
BLOCKER = textwrap.dedent(
    f"""
    import json, runpy, sys
    from importlib.abc import MetaPathFinder

    BLOCKED = {BLOCKED!r}
    asked = []

    class Blocker(MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                asked.append(name)
                # What a missing package raises, so the code under test sees what a plain install gives it.
                raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: not in a plain install)", name=name)
            return None

    sys.meta_path.insert(0, Blocker())

    def blocked_report():
        loaded = sorted(m for m in sys.modules if any(m == b or m.startswith(b + ".") for b in BLOCKED))
        print("BLOCKED-REPORT " + json.dumps({{"asked": asked, "loaded": loaded}}), flush=True)
    """
)

BLOCKED_RUN = BLOCKER + textwrap.dedent(
    """
    sys.argv = ["callcoach", *sys.argv[1:]]
    code = 0
    try:
        runpy.run_module("callcoach", run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    blocked_report()
    sys.exit(code)
    """
)


def run_blocked(
    *args: str, timeout: float = 180, stdin: str | None = None, cwd: Path = REPO, program: str = BLOCKED_RUN
) -> tuple[subprocess.CompletedProcess[str], dict[str, list[str]]]:
    """``callcoach ARGS`` (or ``program``, which must call ``blocked_report()``) without the bench extra;
    the process and its ``BLOCKED-REPORT``."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-c", program, *args],
        capture_output=True,
        text=True,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("BLOCKED-REPORT ")]
    assert lines, proc.stdout + proc.stderr
    report = json.loads(lines[-1].removeprefix("BLOCKED-REPORT "))
    return proc, report
