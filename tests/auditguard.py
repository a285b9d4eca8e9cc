"""The no-recording, local-only audit the tests run analyses and live sessions under (``AuditGuard``).

It lived in callcoach.playbook.guardrails, but only tests use it: the product never audits itself, so it
ships no audit hook. Tests import it as ``from auditguard import AuditGuard`` (tests/ is on pytest's path);
a test that runs it in a fresh process puts tests/ on that process's PYTHONPATH.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

IMAGE_VIDEO_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".mp4", ".avi", ".mov", ".mkv", ".gif"}
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
# Interpreter bookkeeping and the null device are not data leaving the process.
_ALWAYS_ALLOWED_FILES = frozenset({os.devnull})

FindingKind = Literal["write", "image", "connect"]


@dataclass(frozen=True)
class AuditFinding:
    kind: FindingKind
    #: The event that triggered it ("open", "os.rename", "socket.connect"...).
    event: str
    detail: str


_guards: list[AuditGuard] = []
_guards_lock = threading.Lock()
_installed = False
_in_hook = threading.local()


def _as_path(value: Any) -> str | None:
    if isinstance(value, int):  # an already open file descriptor: nothing new is created
        return None
    try:
        return os.path.abspath(os.fsdecode(os.fspath(value)))
    except TypeError:
        return None


def _written_path(event: str, args: tuple[Any, ...]) -> str | None:
    if event == "open":
        path, mode, flags = (*args, None, None, None)[:3]
        writing = bool(flags & _WRITE_FLAGS) if isinstance(flags, int) else any(c in (mode or "") for c in "wax+")
        return _as_path(path) if writing else None
    if event in ("os.rename", "shutil.copyfile", "shutil.copytree", "os.link", "os.symlink") and len(args) > 1:
        return _as_path(args[1])
    if event == "os.mkdir" and args:
        return _as_path(args[0])
    return None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    # Audit hooks see every event of the process for the rest of its life: bail out fast when no guard is on,
    # and never re-enter (a hook that opens a file would otherwise audit itself).
    if not _guards or getattr(_in_hook, "busy", False):
        return
    if event != "socket.connect" and event != "open" and not event.startswith(("os.", "shutil.")):
        return
    _in_hook.busy = True
    try:
        if event == "socket.connect":
            address = args[1] if len(args) > 1 else None
            finding = AuditFinding("connect", event, repr(address))
            for guard in list(_guards):
                guard._record(finding)
            return
        path = _written_path(event, args)
        if path is not None:
            for guard in list(_guards):
                guard._check_write(event, path)
    finally:
        _in_hook.busy = False


def _roots(dirs: Iterable[str | os.PathLike[str]]) -> tuple[str, ...]:
    roots: set[str] = set()
    for d in dirs:
        roots.add(os.path.abspath(os.fspath(d)))
        roots.add(os.path.realpath(os.fspath(d)))  # the temp dir is often reached through a symlink
    return tuple(sorted(roots))


def _depth(path: str, roots: tuple[str, ...]) -> int:
    """Length of the longest root containing ``path`` (0 when none does)."""
    best = 0
    for root in roots:
        if path == root or path.startswith(root.rstrip(os.sep) + os.sep):
            best = max(best, len(root))
    return best


def _install() -> None:
    global _installed
    with _guards_lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True


class AuditGuard:
    """Record, while entered, every file written outside ``allowed_dirs``, every image or video written, and
    every ``socket.connect`` of this process (any thread).

    Python's audit hooks cannot be removed, so one module-level hook is installed on first use and only does
    work while a guard is entered. Native libraries that write through the C library (OpenCV, MediaPipe,
    onnxruntime) raise no audit events; for them, ``watch_dirs`` are walked on exit and every file that
    appeared or changed there while the guard was on is checked by the same rules. Where an allowed and a
    watched directory nest, the more specific one decides (allow the temp dir, watch a fake home inside it).
    Starting a subprocess is not recorded.
    """

    def __init__(
        self, allowed_dirs: Iterable[str | os.PathLike[str]] = (), watch_dirs: Iterable[str | os.PathLike[str]] = ()
    ) -> None:
        self.allowed_dirs = _roots(allowed_dirs)
        self.watch_dirs = _roots(watch_dirs)
        self.findings: list[AuditFinding] = []
        self._started = 0.0

    def _record(self, finding: AuditFinding) -> None:
        self.findings.append(finding)

    def _allowed(self, path: str) -> bool:
        if path in _ALWAYS_ALLOWED_FILES or os.path.basename(os.path.dirname(path)) == "__pycache__":
            return True
        allowed = _depth(path, self.allowed_dirs)
        return allowed > 0 and allowed >= _depth(path, self.watch_dirs)

    def _check_write(self, event: str, path: str) -> None:
        if os.path.splitext(path)[1].lower() in IMAGE_VIDEO_EXTENSIONS:
            self._record(AuditFinding("image", event, path))
        if not self._allowed(path):
            self._record(AuditFinding("write", event, path))

    def _scan_watched(self) -> None:
        seen = {f.detail for f in self.findings}
        for root in self.watch_dirs:
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = [d for d in dirnames if d not in (".git", "__pycache__")]
                for name in filenames:
                    path = os.path.join(dirpath, name)
                    try:
                        changed = os.stat(path).st_mtime >= self._started
                    except OSError:
                        continue
                    if changed and path not in seen:
                        seen.add(path)
                        self._check_write("scan", path)

    def __enter__(self) -> AuditGuard:
        _install()
        # File systems store coarse times; a second of slack keeps a file written at entry from slipping by.
        self._started = time.time() - 1.0
        with _guards_lock:
            _guards.append(self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with _guards_lock:
            if self in _guards:
                _guards.remove(self)
        self._scan_watched()

    def of_kind(self, kind: FindingKind) -> list[AuditFinding]:
        return [f for f in self.findings if f.kind == kind]

    @property
    def clean(self) -> bool:
        return not self.findings

    def report(self) -> str:
        if not self.findings:
            return "no writes outside the allowed directories, no images or videos written, no connections"
        return "\n".join(f"{f.kind}: {f.event} {f.detail}" for f in self.findings)
