"""The panel's runner slot without Textual: one start, one stop, never a stop half-way through a start."""

from __future__ import annotations

import threading
import time

from ui_fakes import FakeRunner

from callcoach.live.contract import LiveListener
from callcoach.ui.runner_slot import RunnerSlot


class Listener:
    pass


def test_a_stop_during_the_build_releases_the_runner_without_starting_it() -> None:
    building, release = threading.Event(), threading.Event()
    built: list[FakeRunner] = []

    def factory(listener: LiveListener) -> FakeRunner:
        building.set()
        release.wait(5)
        built.append(FakeRunner(listener))
        return built[-1]

    slot = RunnerSlot(factory)
    assert slot.schedule()
    starter = threading.Thread(target=slot.start, args=(Listener(), lambda: None))
    starter.start()
    assert building.wait(5)
    stopper = threading.Thread(target=slot.stop)
    stopper.start()
    time.sleep(0.1)
    assert stopper.is_alive()  # it waits for the start worker, off the event loop
    release.set()
    starter.join(5)
    stopper.join(5)
    assert built[0].calls == ["stop"] and slot.runner is None
    assert not slot.schedule()  # nothing starts after a stop


def test_many_stops_from_many_threads_stop_once_and_all_return_after_it() -> None:
    slot = RunnerSlot(FakeRunner)
    assert slot.schedule()
    built: list[str] = []
    slot.start(Listener(), lambda: built.append("built"))  # type: ignore[arg-type]
    runner = slot.runner
    assert isinstance(runner, FakeRunner) and runner.calls == ["start"] and built == ["built"]
    threads = [threading.Thread(target=slot.stop) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert runner.calls == ["start", "stop"] and slot.runner is None


def test_a_stop_before_any_start_waits_for_nothing() -> None:
    slot = RunnerSlot(FakeRunner)
    t0 = time.monotonic()
    slot.stop()
    slot.stop()
    assert time.monotonic() - t0 < 1.0 and slot.runner is None
