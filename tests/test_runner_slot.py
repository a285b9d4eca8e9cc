"""The panel's runner slot without Textual: one start, one stop, never a stop half-way through a start."""

from __future__ import annotations

import threading

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
        assert release.wait(60)
        built.append(FakeRunner(listener))
        return built[-1]

    slot = RunnerSlot(factory)
    assert slot.schedule()
    starter = threading.Thread(target=slot.start, args=(Listener(), lambda: None))
    starter.start()
    assert building.wait(30)
    stopper = threading.Thread(target=slot.stop)
    stopper.start()
    stopper.join(0.1)  # however long it is given, it cannot end before the build does
    assert stopper.is_alive()  # it waits for the start worker, off the event loop
    release.set()
    starter.join(30)
    stopper.join(30)
    assert not starter.is_alive() and not stopper.is_alive()
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
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert runner.calls == ["start", "stop"] and slot.runner is None


def test_a_stop_before_any_start_waits_for_nothing() -> None:
    slot = RunnerSlot(FakeRunner)

    # Nothing will ever start: a stop that waited for a start would never return.
    def stop_twice() -> None:
        slot.stop()
        slot.stop()

    stopper = threading.Thread(target=stop_twice)
    stopper.start()
    stopper.join(30)
    assert not stopper.is_alive() and slot.runner is None
