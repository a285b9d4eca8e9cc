"""A scripted runner and selector for the panel's tests: no camera, no models, no threads of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from callcoach.core.marks import SelfNote
from callcoach.cues.vocabulary import Cue
from callcoach.live.contract import LiveListener
from callcoach.live.state import LiveStatus
from callcoach.playbook.types import Suggestion
from callcoach.ui.app import CoachApp

#: A fixed note, so the snapshots do not change when the playbook's wording does.
CONSENT = """\
Before you start

- Use callcoach to understand the people you talk with, never to steer or pressure them.
- A cue is a guess about a brief movement, not a reading of anyone's mind. When in doubt, ask.
- Everything stays on this computer: no frames are saved, and nothing is sent anywhere.
- If you would not be comfortable telling the other person you use it, do not use it with them.
"""


class FakeRunner:
    def __init__(self, listener: LiveListener) -> None:
        self.listener = listener
        self.calls: list[str] = []
        self.paused = False
        #: None: no virtual camera in this run (as LiveRunner.toggle_privacy says); else the privacy state.
        self.privacy: bool | None = None

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")

    def pause(self) -> None:
        self.calls.append("pause")
        self.paused = True

    def resume(self) -> None:
        self.calls.append("resume")
        self.paused = False

    def settle(self) -> bool:
        return True  # nothing loads in the background here

    def toggle_privacy(self) -> bool | None:
        self.calls.append("privacy")
        if self.privacy is not None:
            self.privacy = not self.privacy
        return self.privacy


@dataclass
class FakeSelector:
    contexts: list[str] = field(default_factory=list)
    marks: list[tuple[Suggestion, str]] = field(default_factory=list)
    #: A fixed playbook: nothing to watch.
    watcher: None = None

    def set_context(self, name: str) -> None:
        self.contexts.append(name)

    def mark(self, suggestion: Suggestion, verdict: str) -> None:
        self.marks.append((suggestion, verdict))


@dataclass
class Harness:
    """Builds a ``CoachApp`` on fakes and keeps hold of what it made."""

    runners: list[FakeRunner] = field(default_factory=list)
    selector: FakeSelector = field(default_factory=FakeSelector)
    acknowledged_calls: int = 0

    def factory(self, listener: LiveListener) -> FakeRunner:
        self.runners.append(FakeRunner(listener))
        return self.runners[-1]

    def app(self, *, acknowledged: bool = True, context: str = "general", cue_log: bool | None = True) -> CoachApp:
        def remember() -> None:
            self.acknowledged_calls += 1

        # status_interval_s=0: every scripted status reaches the panel, whatever the test's timing.
        return CoachApp(
            self.factory,
            selector=self.selector,
            context=context,
            consent_text=CONSENT,
            acknowledged=acknowledged,
            on_acknowledge=remember,
            status_interval_s=0.0,
            cue_log=None if cue_log is None else lambda: cue_log,
        )

    @property
    def runner(self) -> FakeRunner:
        assert len(self.runners) == 1
        return self.runners[0]


def status(state: str, t_s: float = 5.0, message: str = "", **kw: Any) -> LiveStatus:
    return LiveStatus(t_s, "test", state, message, **kw)  # type: ignore[arg-type]


SUGGESTION = Suggestion(
    t_s=4.0,
    cue="eyebrow_flash",
    face=0,
    region="brows",
    plain="a quick eyebrow raise, maybe interest",
    confidence=0.62,
    move="Match it: a small nod, then ask what caught their interest.",
    repair="Or I may be reading too much into it. Go on.",
    say_nothing=False,
    strength="gentle",
    context="general",
    supporting=("eyebrow_flash",),
)
SAY_NOTHING = Suggestion(
    t_s=6.0,
    cue="lip_compression",
    face=0,
    region="mouth",
    plain="lips pressed together, maybe holding back",
    confidence=0.48,
    move="They may be choosing their words: give them the pause.",
    repair="",
    say_nothing=True,
    strength="gentle",
    context="general",
)
MIRROR_MISSED = SelfNote(
    "mirror_missed", 12.4, "duchenne_smile", 0, "they may have smiled warmly: a smile back might land well", 0.7, False
)
CUE = Cue("eyebrow_flash", None, "micro", 3.84, 3.96, 4.2, 0.67, 0.70, 0)


def pilot_test(scenario: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], None]:
    """Run an async Pilot scenario as a plain test (no asyncio plugin needed)."""

    def test() -> None:
        asyncio.run(scenario())

    return test


async def started(pilot: Pilot[Any], app: CoachApp) -> None:
    """Wait until the app has built and started its runner (that happens on a worker thread)."""
    await app.workers.wait_for_complete()
    await pilot.pause()


def text_of(app: CoachApp, selector: str) -> str:
    return str(app.query_one(selector, Static).render())
