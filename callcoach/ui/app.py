"""The live panel: a Textual app fed by a runner through ``PanelListener``.

The app owns no capture or inference. It builds the runner with ``runner_factory(listener)`` once the
user has acknowledged the consent note, so tests (and the demo) can hand it any object with
start/stop/pause/resume.

Building and starting the runner (opening the session store, the camera) and stopping it (joining its
threads, flushing the session record) can each take seconds, so both run on worker threads and the event
loop never waits on them: while a quit is under way the panel says so and keeps answering keys.

What the runner's reports change on screen is in ``callcoach.ui.panel_view`` (``PanelView``, this app's base).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import ClassVar, Protocol

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from callcoach.live.companion import VCAM_LABEL
from callcoach.live.state import LiveStatus
from callcoach.playbook.guardrails import CONSENT_TEXT, acknowledge_consent, consent_acknowledged
from callcoach.playbook.types import CONTEXTS, Suggestion
from callcoach.playbook.watcher import PlaybookWatcher
from callcoach.session.settings import cue_log_badge
from callcoach.session.summary import SessionSummary
from callcoach.ui.messages import PanelListener, StatusChanged
from callcoach.ui.panel_view import STOPPING_TEXT as STOPPING_TEXT
from callcoach.ui.panel_view import PanelView, Verdict
from callcoach.ui.playbook_screen import PlaybookScreen
from callcoach.ui.runner_slot import RunnerFactory, RunnerLike, RunnerSlot
from callcoach.ui.screens import ConsentScreen, HelpScreen
from callcoach.ui.summary_screen import SummaryScreen, finish_session
from callcoach.ui.widgets import CueLog, Notice, SelfLine, StatusBar, SuggestionCard, TopBar

_log = logging.getLogger(__name__)

_STOP_WORKER = "stop runner"


class RunnerBuilt(Message):
    """Posted by the start worker once the runner is built: the session store has opened, or failed to."""


class SelectorLike(Protocol):
    """What the panel needs from the playbook's selector: the context, the user's feedback, and the watcher
    of its playbook file (None when the playbook is fixed), which the playbook screen edits through."""

    @property
    def watcher(self) -> PlaybookWatcher | None: ...

    def set_context(self, name: str) -> None: ...

    def mark(self, suggestion: Suggestion, verdict: Verdict) -> None: ...


@dataclass(frozen=True)
class Consent:
    text: str
    acknowledged: bool
    #: Called once when the user agrees, to remember it (None: ask again next time).
    on_acknowledge: Callable[[], None] | None = None


def load_consent() -> Consent:
    """The playbook's consent & etiquette text, and whether this machine has acknowledged it."""
    return Consent(CONSENT_TEXT, consent_acknowledged(), _remember_consent)


def _remember_consent() -> None:
    acknowledge_consent()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class CoachApp(PanelView):
    CSS_PATH = "app.tcss"
    TITLE = "callcoach"
    # The palette would add a key and a footer entry the panel does not need.
    ENABLE_COMMAND_PALETTE = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "toggle_pause", "pause"),
        Binding("c", "cycle_context", "context"),
        Binding("h", "mark('helped')", "helped"),
        Binding("m", "mark('misread')", "misread"),
        Binding("d", "toggle_details", "details"),
        Binding("b", "playbook", "playbook"),
        Binding("v", "privacy", "blur"),  # the privacy pause: the call sees a blurred still
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "quit", "quit"),
        # Ctrl-C ends the panel at once, as it ends every other command (status 130), not Textual's hint.
        Binding("ctrl+c", "interrupt", show=False, priority=True),
    ]
    #: Panel keys do nothing until the user has agreed, or while another screen is on top.
    _PANEL_ACTIONS = frozenset(
        {"toggle_pause", "cycle_context", "mark", "toggle_details", "playbook", "help", "privacy"}
    )
    #: Keys that act on the runner: off once a quit is under way.
    _RUNNER_ACTIONS = frozenset({"toggle_pause", "privacy"})
    #: Virtual camera states in which the privacy key does something.
    _VCAM_ON = frozenset({"starting", "live", "paused"})

    def __init__(
        self,
        runner_factory: RunnerFactory,
        *,
        selector: SelectorLike | None = None,
        context: str = "general",
        consent_text: str = CONSENT_TEXT,
        acknowledged: bool = False,
        on_acknowledge: Callable[[], None] | None = None,
        status_interval_s: float = 0.1,
        stale_after_s: float = 20.0,
        cue_log: Callable[[], bool | None] | None = None,
        title: str = "callcoach",
    ) -> None:
        super().__init__()
        #: The top bar's name: "callcoach", or the demo's, which says its clips are synthetic.
        self._title = title
        #: Whether this run keeps a cue log, asked again once the runner is built (the store may not open).
        self._cue_log = cue_log
        self.selector = selector
        self.context = context if context in CONTEXTS else "general"
        self._consent_text = consent_text
        self.acknowledged = acknowledged
        self._on_acknowledge = on_acknowledge
        self._stale_after_s = stale_after_s
        self.listener = PanelListener(self, min_interval_s=status_interval_s)
        # Built and started on a worker thread, stopped on another: the event loop never waits on it.
        self._slot = RunnerSlot(runner_factory)
        #: A quit is under way (the runner is stopping on a worker thread).
        self.stopping = False
        self._exit_code = 0
        self.paused = False
        self.status = LiveStatus(0.0, "", "starting", "")
        self.suggestion: Suggestion | None = None
        self._marked: Verdict | None = None
        #: The suggestion on the card came from an early cue whose movement was then not confirmed.
        self._unconfirmed = False
        self._cues_seen = 0
        #: The virtual camera's state ("" without --vcam: the privacy key is then hidden).
        self.vcam_state = ""

    @property
    def runner(self) -> RunnerLike | None:
        return self._slot.runner

    def compose(self) -> ComposeResult:
        yield TopBar(self._badge(), title=self._title, id="top")
        with Vertical(id="main"):
            yield Notice(id="notice")
            yield SuggestionCard(id="card")
            yield SelfLine(id="self-line")
            log = CueLog(id="details")
            log.display = False
            yield log
        yield StatusBar(id="status")
        yield Footer(compact=True)  # nine keys must fit in 80 columns

    def on_mount(self) -> None:
        self.query_one(TopBar).set_context(self.context)
        self._show_status()
        if self.acknowledged:
            self._begin()
        else:
            self.push_screen(ConsentScreen(self._consent_text, now=self._badge()), self._after_consent)

    def on_unmount(self) -> None:
        # The playbook file is followed for this panel: once it is gone, stop polling the file.
        watcher = self.selector.watcher if self.selector is not None else None
        if watcher is not None:
            watcher.close()

    def _badge(self) -> str:
        return cue_log_badge(self._cue_log() if self._cue_log is not None else None)

    def _show_badge(self) -> None:
        self.query_one(TopBar).set_badge(self._badge())

    def _after_consent(self, agreed: bool | None) -> None:
        if not agreed:
            self.exit()
            return
        self.acknowledged = True
        if self._on_acknowledge is not None:
            try:
                self._on_acknowledge()
            except OSError as exc:  # a read-only or full config dir must not stop the session
                self.notify(
                    f"Could not save that you agreed ({_one_line(exc)}); you will be asked again.", severity="warning"
                )
        self.refresh_bindings()
        self._begin()

    def _begin(self) -> None:
        if self.selector is not None:
            self.selector.set_context(self.context)
            watcher = self.selector.watcher
            if watcher is not None:
                watcher.listen(self.listener.on_playbook_error)
        if not self._slot.schedule():
            return
        # Opening a camera or loading models can take seconds: keep the panel responsive meanwhile.
        self.run_worker(self._start_runner, thread=True, name="start runner", exit_on_error=False)

    def _start_runner(self) -> None:
        """On a worker thread: build the runner, then start it, unless a quit came first."""
        try:
            # Posting never blocks (``call_from_thread`` would hang if the app were already gone).
            self._slot.start(self.listener, lambda: self.post_message(RunnerBuilt()))
        # Opening the camera and loading the models runs native code that raises anything; on this worker
        # thread an escaped error would vanish, so each becomes one line on the panel.
        except Exception as exc:  # noqa: BLE001
            _log.debug("the runner failed to start", exc_info=True)
            self.post_message(StatusChanged(LiveStatus(0.0, "", "error", f"Could not start: {_one_line(exc)}")))

    def stop_runner(self) -> None:
        """Stop the runner once and return when it has stopped; safe from any thread but the event loop's
        (which uses ``begin_stop``), any number of times."""
        self._slot.stop()

    def begin_stop(self, *, summary: bool = True, return_code: int = 0) -> None:
        """From the event loop: stop the runner on a worker thread, then show the session's summary (if
        ``summary`` and one was recorded) or exit with ``return_code``."""
        if self.stopping:
            return
        self.stopping = True
        self._show_status()
        self.refresh_bindings()
        self._exit_code = return_code
        work = partial(self._stop_and_finish, summary)
        self.run_worker(work, thread=True, name=_STOP_WORKER, exit_on_error=False)

    def _stop_and_finish(self, summary: bool) -> SessionSummary | None:
        """On a worker thread. Its end reaches the loop as a worker state change: a blocking hand-over
        (``call_from_thread``) would hang if the app were already gone."""
        self.stop_runner()
        return finish_session(self) if summary else None  # closes the session record: every event written

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.name != _STOP_WORKER or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        summary = worker.result if event.state == WorkerState.SUCCESS else None
        if summary is not None:  # the recorded session's summary is now on screen; its q quits
            self.push_screen(SummaryScreen(summary))
            return
        self.exit(return_code=self._exit_code)

    def on_runner_built(self, message: RunnerBuilt) -> None:
        self._show_badge()

    # -- keys -------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "privacy" and self.vcam_state not in self._VCAM_ON:
            return False  # no virtual camera in this run: keep the key out of the footer
        if action in self._RUNNER_ACTIONS and self.stopping:
            return False  # the runner is going away
        if action in self._PANEL_ACTIONS:
            return self.acknowledged and len(self.screen_stack) == 1
        return True

    def action_toggle_pause(self) -> None:
        runner = self._slot.runner
        if runner is None:
            self.notify("Not started yet.", timeout=2)
            return
        if runner.paused:
            runner.resume()
            if self.status.state == "paused":
                self.status = replace(self.status, state="starting", message="Resuming.")
        else:
            runner.pause()
        self.paused = runner.paused
        self._show_status()

    def action_privacy(self) -> None:
        runner = self._slot.runner
        on = runner.toggle_privacy() if runner is not None else None
        if on is None:
            self.notify("No virtual camera is running in this session.", timeout=3)
            return
        self.vcam_state = "paused" if on else "live"
        self.query_one(StatusBar).show_vcam(VCAM_LABEL[self.vcam_state], False)
        self.notify(
            "Privacy pause: the call now sees a still, blurred picture. v to go live again."
            if on
            else "Live again: the call sees your camera.",
            title="Your camera",
            timeout=4,
        )

    def action_cycle_context(self) -> None:
        index = CONTEXTS.index(self.context) if self.context in CONTEXTS else -1
        self.context = CONTEXTS[(index + 1) % len(CONTEXTS)]
        if self.selector is not None:
            self.selector.set_context(self.context)
        self.query_one(TopBar).set_context(self.context)

    def action_mark(self, verdict: Verdict) -> None:
        suggestion = self.suggestion
        if suggestion is None:
            self.notify("No suggestion to mark yet.", timeout=2)
            return
        if self._marked is not None:
            self.notify(f"Already marked as {self._marked}.", timeout=2)
            return
        if self.selector is None:
            self.notify("No playbook in this session: marks are not kept.", severity="warning", timeout=3)
            return
        self.selector.mark(suggestion, verdict)
        self._marked = verdict
        self.query_one(SuggestionCard).border_subtitle = f"marked: {verdict}"

    def action_toggle_details(self) -> None:
        log = self.query_one(CueLog)
        log.display = not log.display

    def action_playbook(self) -> None:
        # The selector's own watcher, when there is one: an edit made there is what coaching uses next.
        watcher = self.selector.watcher if self.selector is not None else None
        self.push_screen(PlaybookScreen(watcher, context=self.context))

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self._consent_text, now=self._badge()))

    def action_interrupt(self) -> None:
        if self.stopping:  # a second Ctrl-C: out at once (``run_live_app`` still waits for the stop)
            self.exit(return_code=130)
            return
        self.begin_stop(summary=False, return_code=130)

    async def action_quit(self) -> None:
        if isinstance(self.screen, SummaryScreen):
            self.exit()  # already showing the summary: this quit is meant
            return
        self.begin_stop()


def run_live_app(
    runner_factory: RunnerFactory,
    *,
    selector: SelectorLike | None = None,
    context: str = "general",
    consent: Consent | None = None,
    cue_log: Callable[[], bool | None] | None = None,
    title: str = "callcoach",
) -> int:
    """Run the panel in this terminal until the user quits; the runner is stopped on every way out."""
    consent = consent if consent is not None else load_consent()
    app = CoachApp(
        runner_factory,
        selector=selector,
        context=context,
        consent_text=consent.text,
        acknowledged=consent.acknowledged,
        on_acknowledge=consent.on_acknowledge,
        cue_log=cue_log,
        title=title,
    )
    try:
        app.run()
    finally:
        app.stop_runner()
    return app.return_code or 0
