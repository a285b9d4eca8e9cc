"""Hot reload of the playbook during a call: the file is read off the caller's thread, with a time bound.

A person edits the playbook by hand, often during a call, and whatever they save must never hold up the
live analysis: the inference thread only stats the file; reading and validating it happen on a worker
thread, and the last good playbook stays in force until a new one has been read whole.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from callcoach.errors import PlaybookError
from callcoach.playbook import loader
from callcoach.playbook.loader import active_playbook_path, default_playbook_path
from callcoach.playbook.model import Playbook

_log = logging.getLogger(__name__)

Signature = tuple[str, int, int]

#: A reload that has not finished after this long is given up (the file is reported, the last good
#: playbook stays). The limits in ``callcoach.playbook.limits`` keep real loads far below it.
LOAD_TIMEOUT_S = 10.0


class _Load:
    """One load of one version of the file, on its own daemon thread (a stuck one is simply abandoned)."""

    def __init__(self, path: Path, started: float, finish: Callable[[_Load], None]) -> None:
        self.path, self.started = path, started
        self.result: Playbook | PlaybookError | None = None
        self.done = threading.Event()
        self._finish = finish

    def start(self) -> None:
        threading.Thread(target=self._run, name="playbook load", daemon=True).start()

    def _run(self) -> None:
        try:
            self.result = loader.load_playbook(self.path)
        except PlaybookError as exc:
            self.result = exc
        except Exception as exc:  # noqa: BLE001 - whatever slipped past the loader must not vanish with the thread
            self.result = PlaybookError(f"{self.path}: cannot be read ({type(exc).__name__}: {exc})")
        try:
            self._finish(self)  # in force before ``done``: whoever waits for it sees the new playbook
        finally:
            self.done.set()


class PlaybookWatcher:
    """Keeps a good playbook in force while its file is edited, reloading it when it changes on disk.

    ``poll()`` never waits: at most every ``interval_s`` it stats the file and, when it changed, starts
    reading it on a worker thread; the new playbook takes effect when that read is done. So the live
    runner's inference thread can call it on every cue, whatever the user saves. ``check()`` reads now and
    waits for the result (for the playbook screen, right after a save). A bad version never raises into the
    caller: the previous good playbook stays in force and ``on_error`` gets the one-line error, once per bad
    version of the file; so does a read that takes more than ``timeout_s``. ``on_change`` and ``on_error``
    may be called from the worker thread.

    With ``path=None`` it follows ``active_playbook_path()``: the user's copy once it exists (so a first
    ``callcoach playbook edit`` during a call takes effect), the packaged default when it is removed.
    """

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        on_change: Callable[[Playbook], None] | None = None,
        on_error: Callable[[PlaybookError], None] | None = None,
        interval_s: float = 1.0,
        timeout_s: float = LOAD_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fixed = Path(path) if path is not None else None
        self.on_change = on_change
        self.on_error = on_error
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._clock = clock
        self._lock = threading.Lock()  # one poll or check at a time
        self._state = threading.Lock()  # the playbook in force, the error and the load under way
        self._next_check = float("-inf")
        self._pending: _Load | None = None
        self._applied = False
        self._closed = threading.Event()
        self._follower: threading.Thread | None = None
        self.error: PlaybookError | None = None
        self._path = self._target()
        self._signature = self._stat(self._path)
        self._playbook: Playbook | None = None
        load = self._start(self._path)
        if not self._settle(load):
            # Start with the packaged default rather than nothing; the user still hears what is wrong.
            self._playbook = loader.load_playbook(default_playbook_path())
        self._applied = False

    @property
    def playbook(self) -> Playbook:
        playbook = self._playbook
        assert playbook is not None  # set before __init__ returns
        return playbook

    @property
    def path(self) -> Path:
        """The file being followed (its last good version is in force)."""
        return self._path

    def listen(self, report: Callable[[PlaybookError, str], None]) -> None:
        """Send every version of the file that cannot be used to ``report(error, what_stays_in_force)``: the
        one found at the start (the packaged default is then in force), then each bad save, once."""
        started = self.error

        def on_error(error: PlaybookError) -> None:
            report(error, "the last good playbook")

        self.on_error = on_error
        if started is not None:
            report(started, "the packaged default playbook")
        if self._follower is None:
            # Cues arrive irregularly (none for minutes in a quiet stretch); a bad save is reported within
            # about ``interval_s`` all the same.
            self._follower = threading.Thread(target=self._follow, name="playbook watch", daemon=True)
            self._follower.start()

    def _follow(self) -> None:
        while not self._closed.wait(max(self.interval_s, 0.2)):
            self.poll()

    def close(self) -> None:
        """Stop following the file (the playbook in force stays readable)."""
        self._closed.set()

    def _target(self) -> Path:
        return self._fixed if self._fixed is not None else active_playbook_path()

    @staticmethod
    def _stat(path: Path) -> Signature | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        # Size as well as time: two saves within the file system's time resolution still differ.
        return (str(path), st.st_mtime_ns, st.st_size)

    def _report(self, error: PlaybookError) -> None:
        self.error = error
        if self.on_error is not None:
            try:
                self.on_error(error)
            except Exception:  # noqa: BLE001 - a broken listener must not stop the caller's thread (logged)
                _log.exception("playbook error listener failed")

    def _start(self, path: Path) -> _Load:
        load = _Load(path, self._clock(), self._finished)
        with self._state:
            self._pending = load
        load.start()
        return load

    def _finished(self, load: _Load) -> None:
        """Put a finished load's result in force (on the worker thread, or on the caller's for a fast one)."""
        with self._state:
            if self._pending is not load and self._playbook is not None:
                return  # abandoned after its timeout, or overtaken by a newer version of the file
            self._pending = None
            result, first = load.result, self._playbook is None
            if isinstance(result, Playbook):
                self._playbook, self.error, self._applied = result, None, True
        if isinstance(result, PlaybookError):
            self._report(result)
        elif result is not None and self.on_change is not None and not first:
            try:
                self.on_change(result)
            except Exception:  # noqa: BLE001 - as for the error listener: logged, the thread goes on
                _log.exception("playbook change listener failed")

    def _settle(self, load: _Load) -> bool:
        """Wait for ``load`` (at most ``timeout_s``); True when its playbook is in force."""
        if not load.done.wait(self.timeout_s):
            self._abandon(load)
            return False
        return isinstance(load.result, Playbook) and self._playbook is load.result

    def _abandon(self, load: _Load) -> None:
        with self._state:
            if self._pending is not load:
                return
            self._pending = None
        self._report(
            PlaybookError(
                f"{load.path}: reading it took more than {self.timeout_s:g} s, so it was "
                "given up; the last good playbook stays in force"
            )
        )

    def _take_applied(self) -> bool:
        with self._state:
            applied, self._applied = self._applied, False
        return applied

    def poll(self) -> bool:
        """Start reloading if the file changed and the interval has passed; never waits. True when a new
        playbook has taken effect since the last ``poll()`` or ``check()``."""
        if self._clock() >= self._next_check and self._lock.acquire(blocking=False):
            try:
                self._next_check = self._clock() + self.interval_s
                pending = self._pending
                if pending is not None and self._clock() - pending.started > self.timeout_s:
                    self._abandon(pending)
                elif pending is None:
                    self._start_if_changed()
            finally:
                self._lock.release()
        return self._take_applied()

    def check(self) -> bool:
        """Reload now if the file changed, and wait for it (at most ``timeout_s``); True when a new
        playbook has taken effect since the last ``poll()`` or ``check()``."""
        # Another thread may be polling: it holds the lock only for a moment (poll never waits), so wait for
        # it. Returning at once left a file just written by the editor unread until the next poll (seen under
        # load: the playbook screen's edit had not reached the live selector).
        if not self._lock.acquire(timeout=self.timeout_s):
            return False
        try:
            self._next_check = self._clock() + self.interval_s
            pending = self._pending
            if pending is not None:
                self._settle(pending)
            # A load a poll had started may have read the file before the save this check is for: once it
            # is over, look at the file again (unless it was given up, which the user has just been told).
            if pending is None or pending.done.is_set():
                load = self._start_if_changed()
                if load is not None:
                    self._settle(load)
        finally:
            self._lock.release()
        return self._take_applied()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for a reload under way to finish (tests; callers that can afford to block)."""
        load = self._pending
        return load is None or load.done.wait(self.timeout_s if timeout_s is None else timeout_s)

    def _start_if_changed(self) -> _Load | None:
        target = self._target()
        signature = self._stat(target)
        if signature == self._signature and target == self._path:
            return None
        self._path, self._signature = target, signature
        return self._start(target)
