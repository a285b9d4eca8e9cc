"""The panel's event loop never waits on the runner: a slow start or a slow stop happens on worker threads
while keys and timers go on being handled (the real app under Pilot, with a scripted slow fake runner)."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field

from session_fakes import data_dir
from ui_fakes import CONSENT, CUE, SUGGESTION, FakeRunner, FakeSelector, Harness, pilot_test, started, text_of

from callcoach.live.contract import LiveListener
from callcoach.session.recorder import LiveRecording
from callcoach.ui.app import STOPPING_TEXT, CoachApp
from callcoach.ui.summary_screen import SummaryScreen
from callcoach.ui.widgets import CueLog

__all__ = ["data_dir"]

#: How long a slow call is held open while the test watches the loop's timer.
SLOW_S = 3.0
#: Well below SLOW_S (a blocked loop would miss ticks for all of it), well above what a loaded 2-core machine
#: (a full test suite and a benchmark beside it) adds between two 20 ms ticks.
MAX_GAP_S = 2.0
#: A slow call never outlasts this, so an app that wrongly waits on it fails the test instead of hanging it.
GATE_S = 30.0


class SlowRunner(FakeRunner):
    """A runner whose start or stop does not return until the test lets it (a camera that opens slowly,
    threads that join late). Gated rather than timed, so "it was still under way" is a fact, not a race:
    Pilot's ``press`` alone can take 2 s while another thread keeps the process busy."""

    def __init__(self, listener: LiveListener, *, slow_start: bool, slow_stop: bool) -> None:
        super().__init__(listener)
        self.slow_start, self.slow_stop = slow_start, slow_stop
        self.starting = threading.Event()
        self.stopping = threading.Event()
        self.release = threading.Event()
        self.released_at: float | None = None

    def _hold(self) -> None:
        self.release.wait(GATE_S)
        self.released_at = time.monotonic()

    def start(self) -> None:
        self.starting.set()
        if self.slow_start:
            self._hold()
        super().start()

    def stop(self) -> None:
        self.stopping.set()
        if self.slow_stop:
            self._hold()
        super().stop()


@dataclass
class Ticks:
    """Times at which a 20 ms timer on the app actually fired."""

    times: list[float] = field(default_factory=list)

    def tick(self) -> None:
        self.times.append(time.monotonic())

    def max_gap(self, since: float, until: float) -> float:
        inside = [since, *(t for t in self.times if since <= t <= until), until]
        return max(b - a for a, b in itertools.pairwise(inside))


def make(slow_start: bool, slow_stop: bool) -> tuple[CoachApp, list[SlowRunner]]:
    runners: list[SlowRunner] = []

    def factory(listener: LiveListener) -> SlowRunner:
        runners.append(SlowRunner(listener, slow_start=slow_start, slow_stop=slow_stop))
        return runners[-1]

    return CoachApp(factory, consent_text=CONSENT, acknowledged=True, status_interval_s=0.0), runners


async def wait_for(event: threading.Event, pilot: object) -> None:
    for _ in range(200):
        if event.is_set():
            return
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    raise AssertionError("the runner was never called")


async def hold_then_release(runner: SlowRunner, pilot: object) -> None:
    """Keep the runner's call open for SLOW_S while the loop goes on, then let it end."""
    await pilot.pause(SLOW_S)  # type: ignore[attr-defined]
    assert not runner.release.is_set()
    runner.release.set()


@pilot_test
async def test_keys_and_timers_are_handled_while_the_runner_starts_slowly() -> None:
    app, runners = make(slow_start=True, slow_stop=False)
    ticks = Ticks()
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_interval(0.02, ticks.tick)
        await wait_for_runner(runners, pilot)
        await wait_for(runners[0].starting, pilot)
        t0 = time.monotonic()
        log = app.query_one(CueLog)
        shown_before = log.display
        await pilot.press("d")  # a key handled mid-start
        assert log.display is not shown_before
        assert "start" not in runners[0].calls  # the start is held open until released below
        await hold_then_release(runners[0], pilot)
        await app.workers.wait_for_complete()
        assert runners[0].calls == ["start"] and runners[0].released_at is not None
        assert ticks.max_gap(t0, runners[0].released_at) < MAX_GAP_S, ticks.max_gap(t0, runners[0].released_at)
        await pilot.press("q")
    assert runners[0].calls == ["start", "stop"]


@pilot_test
async def test_quitting_shows_stopping_and_the_loop_runs_while_the_runner_stops_slowly() -> None:
    app, runners = make(slow_start=False, slow_stop=True)
    ticks = Ticks()
    async with app.run_test(size=(80, 24)) as pilot:
        app.set_interval(0.02, ticks.tick)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert runners[0].calls == ["start"]
        t0 = time.monotonic()
        await pilot.press("q")
        assert "stop" not in runners[0].calls  # q was handled and returned; the stop goes on elsewhere
        await wait_for(runners[0].stopping, pilot)
        await pilot.pause()
        assert app.is_running and app.stopping
        assert text_of(app, "#notice") == STOPPING_TEXT
        assert app.check_action("toggle_pause", ()) is False  # the runner is going away
        await pilot.press("d")  # keys that only change the view still work
        assert app.query_one(CueLog).display
        await pilot.press("q")  # a second q does not start a second stop
        await pilot.pause(SLOW_S)
        assert app.is_running  # the app waits for the held stop to end
        runners[0].release.set()
        while app.is_running:
            await pilot.pause(0.05)
    assert runners[0].calls == ["start", "stop"]
    released = runners[0].released_at
    assert released is not None and released - t0 > SLOW_S * 0.8
    assert ticks.max_gap(t0, released) < MAX_GAP_S, ticks.max_gap(t0, released)


@pilot_test
async def test_a_quit_during_a_slow_start_stops_the_runner_once_the_start_is_over() -> None:
    app, runners = make(slow_start=True, slow_stop=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_runner(runners, pilot)
        await wait_for(runners[0].starting, pilot)
        await pilot.press("q")
        assert "start" not in runners[0].calls  # q was handled while the start was still under way
        assert app.is_running and text_of(app, "#notice") == STOPPING_TEXT
        await pilot.pause(0.5)
        assert app.is_running and runners[0].calls == []  # it waits for the start to end before stopping
        runners[0].release.set()
        while app.is_running:
            await pilot.pause(0.05)
    assert runners[0].calls == ["start", "stop"]  # never stopped half-way through its start
    app.stop_runner()  # a later way out waits for nothing and stops nothing twice
    assert runners[0].calls == ["start", "stop"]


async def wait_for_runner(runners: list[SlowRunner], pilot: object) -> None:
    for _ in range(200):
        if runners:
            return
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    raise AssertionError("the runner was never built")


@pilot_test
async def test_ctrl_c_stops_off_the_loop_and_a_second_ctrl_c_leaves_at_once() -> None:
    app, runners = make(slow_start=False, slow_stop=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("ctrl+c")
        assert "stop" not in runners[0].calls  # handled and returned; the stop goes on elsewhere
        await wait_for(runners[0].stopping, pilot)
        assert app.is_running and text_of(app, "#notice") == STOPPING_TEXT
        await pilot.press("ctrl+c")  # the user insists
        await pilot.pause()
        assert not app.is_running and "stop" not in runners[0].calls  # left with the stop still held open
    assert app.return_code == 130
    runners[0].release.set()
    app.stop_runner()  # what run_live_app does on the way out: waits for the stop under way, does not repeat it
    assert runners[0].calls == ["start", "stop"]


def test_the_real_quit_closes_the_recorded_session_off_the_loop_then_shows_its_summary(data_dir: object) -> None:
    harness = Harness()
    recording = LiveRecording(source_kind="window", source_name="Zoom Meeting", context="general")
    selector = FakeSelector()

    @pilot_test
    async def scenario() -> None:
        app = CoachApp(
            recording.wrap_factory(harness.factory),
            selector=recording.wrap_selector(selector),
            consent_text=CONSENT,
            acknowledged=True,
            status_interval_s=0.0,
        )
        async with app.run_test(size=(110, 40)) as pilot:
            await started(pilot, app)
            harness.runner.listener.on_cue(CUE, 30.0)
            harness.runner.listener.on_suggestion(SUGGESTION)
            await pilot.pause()
            await pilot.press("h", "q")
            for _ in range(200):
                if isinstance(app.screen, SummaryScreen):
                    break
                await pilot.pause(0.05)
            assert isinstance(app.screen, SummaryScreen) and harness.runner.calls[-1] == "stop"
            await pilot.press("q")  # the summary's own q quits
            await pilot.pause()
        assert app.return_code == 0 and selector.marks == [(SUGGESTION, "helped")]

    scenario()
    line = recording.finish()
    assert line is not None and "1 cues, 1 suggestions, 1 marks" in line
