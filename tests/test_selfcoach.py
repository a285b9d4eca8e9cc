"""Self-coaching: the user's own face through the real cue engine, with scripted vision and explicit times.

Frames are offered one at a time with capture times on a made-up timeline (``ORIGIN + t``), and the test
waits until the self thread has taken each one, so the engine sees every frame and nothing depends on the
machine's speed. Remote cues are handed in at chosen moments of that timeline, as late as the remote engine
would deliver them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import pytest
from fakeclock import FakeClock
from memorysink import MemorySink
from scripted import CRINKLE, LIP_PRESS, SMILE, Move, Script

from callcoach.cues.vocabulary import Cue
from callcoach.live.selfcoach import SelfCoach, SelfNote, SelfStatus
from callcoach.sources.base import Frame, LiveHooks, SourceKind
from callcoach.sources.latest import pace
from callcoach.vcam import PassThrough
from callcoach.vision.types import FrameObservation, HeadPose

FPS = 25.0
IMAGE = np.zeros((36, 64, 3), np.uint8)
WARM = {**SMILE, **CRINKLE}
Span = tuple[float, float]


class ScriptedVision:
    """The Script's observation for each frame's time (seconds since origin); no face inside ``gone``."""

    def __init__(self, script: Script, gone: tuple[Span, ...] = (), delay_s: float = 0.0) -> None:
        self.obs = list(script.frames())
        self.gone, self.delay_s = gone, delay_s
        self.closed = False

    def observe(self, frame: Frame) -> FrameObservation:
        if self.delay_s:
            time.sleep(self.delay_s)
        obs = self.obs[min(len(self.obs) - 1, max(0, round(frame.t_s * FPS)))]
        faces = () if any(a <= frame.t_s < b for a, b in self.gone) else obs.faces
        return replace(obs, index=frame.index, t_s=frame.t_s, faces=faces)

    def close(self) -> None:
        self.closed = True


class Harness:
    """One self-coach on a scripted face; ``run`` feeds frames up to a time, calling ``at`` hooks on the way."""

    def __init__(
        self,
        moves: list[Move],
        *,
        talking: Callable[[float], bool] = lambda t: False,
        gone: tuple[Span, ...] = (),
        vision: ScriptedVision | None = None,
        **kwargs: object,
    ) -> None:
        self.t = 0.0
        self.notes: list[tuple[SelfNote, float]] = []  # note, feed time when it arrived
        self.statuses: list[SelfStatus] = []
        self.vision = vision or ScriptedVision(Script(duration=30.0, fps=FPS, moves=moves), gone=gone)
        # Time passes only as frames are fed: the self thread's own timing (idle after a second without
        # pictures) never fires because the machine was slow to run it.
        self.clock = FakeClock()
        self.origin = self.clock.now()
        kwargs.setdefault("max_fps", None)
        self.coach = SelfCoach(
            lambda note: self.notes.append((note, self.t)),
            clock=self.clock,
            remote_talking=lambda: talking(self.t),
            vision_factory=lambda: self.vision,
            on_status=self.statuses.append,
            baseline_seconds=1.0,
            **kwargs,  # type: ignore[arg-type]
        )
        self.coach.start(self.origin)
        self.i = 0

    def run(self, until_s: float, at: dict[float, Callable[[], None]] | None = None) -> None:
        hooks = sorted((at or {}).items())
        while self.i / FPS < until_s:
            self.t = self.i / FPS
            while hooks and hooks[0][0] <= self.t:
                hooks.pop(0)[1]()
            self.clock.set(self.origin + self.t)
            self.coach.offer(Frame(self.i, self.origin + self.t, IMAGE))
            self.i += 1
            self._handled()
        # Remote cues and mirror checks are also taken on the turn after the last frame: wait for it.
        self.coach.wait_turns(self.coach.turns + 1, 30.0)

    def _handled(self) -> None:
        """Wait, turn by turn of the self thread, until it has handled every frame offered (30 s: a hang)."""
        deadline = time.monotonic() + 30.0
        while True:
            s = self.coach.stats
            if s.frames + s.skipped + s.dropped >= s.offered or self.coach.done:
                return
            assert time.monotonic() < deadline, "the self thread never took the frame"
            self.coach.wait_turns(self.coach.turns + 1, 0.1)

    def kinds(self) -> list[str]:
        return [n.kind for n, _ in self.notes]

    def close(self) -> None:
        self.coach.stop()
        assert self.coach.stopped


def remote(apex: float, name: str = "duchenne_smile", face: int = 1, confidence: float = 0.7) -> Cue:
    return Cue(name, "happiness", "macro", apex - 0.4, apex, apex + 0.4, 0.6, confidence, face)


# --- leaks ---------------------------------------------------------------------------------------------


def test_lip_press_while_they_talk_is_a_leak_note() -> None:
    h = Harness([Move(1.6, 2.0, LIP_PRESS)], talking=lambda t: 1.0 <= t < 3.0)
    h.run(2.8)
    h.close()
    assert h.kinds() == ["leak"]
    note = h.notes[0][0]
    assert note.cue == "lip_compression" and note.face is None and note.remote_talking
    assert 1.6 <= note.t_s <= 2.0 and note.confidence >= 0.55
    assert "may have" in note.message and "while they were talking" in note.message
    d = note.as_dict()
    assert d["type"] == "self" and d["kind"] == "leak" and d["t_s"] == round(note.t_s, 3)
    assert d["confidence"] == round(note.confidence, 3) and d["remote_talking"] is True
    states = [s.state for s in h.statuses]
    assert states[:3] == ["idle", "calibrating", "ready"] and states[-1] == "stopped", states
    assert h.coach.stats.baseline_ready and h.coach.stats.face_seen and h.coach.stats.leaks == 1


def test_lip_press_while_nobody_talks_is_quiet_by_default_and_plain_in_always_mode() -> None:
    h = Harness([Move(1.6, 2.0, LIP_PRESS)])
    h.run(2.8)
    h.close()
    assert h.notes == [] and h.coach.stats.leaks_quiet == 1

    h = Harness([Move(1.6, 2.0, LIP_PRESS)], leak_mode="always")
    h.run(2.8)
    h.close()
    assert h.kinds() == ["leak"]
    note = h.notes[0][0]
    assert not note.remote_talking and "while they" not in note.message and "pressed your lips" in note.message


def test_they_had_just_stopped_talking_still_counts_as_listening() -> None:
    h = Harness([Move(1.6, 2.0, LIP_PRESS)], talking=lambda t: t < 1.2)
    h.run(2.8)
    h.close()
    assert h.kinds() == ["leak"] and h.notes[0][0].remote_talking


def test_cool_down_keeps_the_quiet_line_from_nagging() -> None:
    moves = [Move(1.6, 2.0, LIP_PRESS), Move(3.6, 4.0, LIP_PRESS)]
    h = Harness(moves, talking=lambda t: True)
    h.run(4.8)
    h.close()
    assert h.kinds() == ["leak"] and h.coach.stats.leaks_quiet == 1

    h = Harness(moves, talking=lambda t: True, leak_cooldown_s=2.0, leak_gap_s=0.0)
    h.run(4.8)
    h.close()
    assert h.kinds() == ["leak", "leak"]


def test_low_confidence_leaks_are_not_shown() -> None:
    h = Harness([Move(1.6, 2.0, LIP_PRESS)], talking=lambda t: True, leak_min_confidence=0.95)
    h.run(2.8)
    h.close()
    assert h.notes == [] and h.coach.stats.leaks_quiet == 1


# --- the mirror check ------------------------------------------------------------------------------------


def test_smiling_back_a_second_after_their_smile_is_met() -> None:
    h = Harness([Move(2.8, 3.8, WARM)])
    h.run(4.0, at={3.2: lambda: h.coach.note_remote_cue(remote(2.0))})
    h.close()
    assert h.kinds() == ["mirror_met"]
    note, fed_at = h.notes[0]
    assert note.cue == "duchenne_smile" and note.face == 1 and note.t_s == 2.0
    assert note.message == "you seem to have smiled back"
    assert fed_at < 3.6, "met is said as soon as the smile is seen, not at the window's end"
    assert h.coach.stats.mirror_met == 1 and h.coach.stats.mirror_checks == 1


def test_no_smile_back_is_missed_once_the_window_has_passed() -> None:
    h = Harness([], talking=lambda t: 1.5 < t < 2.5)
    h.run(5.6, at={3.0: lambda: h.coach.note_remote_cue(remote(2.0))})
    h.close()
    assert h.kinds() == ["mirror_missed"]
    note, fed_at = h.notes[0]
    assert 5.0 <= fed_at < 5.3 and note.remote_talking
    assert "smile back" in note.message and "might" in note.message
    assert 0.5 < note.confidence <= 0.7


def test_already_smiling_at_their_apex_counts_as_met() -> None:
    h = Harness([Move(1.2, 2.6, WARM)])
    h.run(3.4, at={3.0: lambda: h.coach.note_remote_cue(remote(2.0))})
    h.close()
    assert h.kinds() == ["mirror_met"] and h.notes[0][1] == 3.0


def test_a_cue_arriving_after_its_window_is_judged_on_that_window() -> None:
    # Their apex at 2.0, the cue delivered at 5.4 (past the 3 s window): the smile at 4-5 s answers it...
    h = Harness([Move(3.0, 4.0, WARM)])
    h.run(5.6, at={5.4: lambda: h.coach.note_remote_cue(remote(2.0))})
    h.close()
    assert h.kinds() == ["mirror_met"] and h.notes[0][1] == 5.4
    # ...and a smile after the window does not, even though it comes soon after the late delivery.
    h = Harness([Move(5.6, 6.6, WARM)])
    h.run(6.8, at={5.4: lambda: h.coach.note_remote_cue(remote(2.0))})
    h.close()
    assert h.kinds() == ["mirror_missed"] and h.notes[0][1] == 5.4


def test_no_face_in_the_window_gives_no_note() -> None:
    h = Harness([], gone=((1.5, 5.5),))
    h.run(6.0, at={3.0: lambda: h.coach.note_remote_cue(remote(2.0))})
    h.close()
    assert h.notes == [] and h.coach.stats.mirror_unresolved == 1
    assert "no_face" in [s.state for s in h.statuses[2:]]


def test_a_face_turned_away_for_half_a_second_is_said_unreadable() -> None:
    """The shared face-state timing (callcoach.live.facestate) on the self-coach: a glance away shorter than
    half a second says nothing; a longer one turns "ready" into "unreadable", and facing the camera again back."""

    def pose(t: float) -> HeadPose:
        return HeadPose(yaw=40.0 if 2.0 <= t < 2.2 or 3.0 <= t < 4.0 else 0.0, pitch=0.0, roll=0.0)

    h = Harness([], vision=ScriptedVision(Script(duration=30.0, fps=FPS, pose=pose)))
    h.run(2.9)
    assert [s.state for s in h.statuses] == ["idle", "calibrating", "ready"]  # the short glance said nothing
    h.run(3.4)
    assert [s.state for s in h.statuses][-1] == "ready"  # under half a second into the turn
    h.run(3.7)
    assert [s.state for s in h.statuses][-1] == "unreadable"
    h.run(5.0)
    h.close()
    assert [s.state for s in h.statuses] == ["idle", "calibrating", "ready", "unreadable", "ready", "stopped"]


def test_overlapping_warm_cues_are_one_check_and_polite_smiles_start_none() -> None:
    h = Harness([])
    h.run(
        7.8,
        at={
            3.0: lambda: h.coach.note_remote_cue(remote(2.0)),
            4.0: lambda: h.coach.note_remote_cue(remote(3.5, face=2)),
            4.5: lambda: h.coach.note_remote_cue(remote(6.0, name="polite_smile")),
        },
    )
    h.close()
    assert h.kinds() == ["mirror_missed"]
    stats = h.coach.stats
    assert stats.mirror_checks == 1 and stats.mirror_merged == 1


def test_user_smiles_are_never_leaks_and_own_smile_alone_starts_no_check() -> None:
    h = Harness([Move(1.6, 2.6, WARM)], talking=lambda t: True)
    h.run(3.4)
    h.close()
    assert h.notes == []


@pytest.mark.parametrize("pressing", ["large", "small"])
def test_only_the_largest_face_is_coached(pressing: str) -> None:
    """A second, smaller face (a passer-by, a photo) is neither calibrated nor coached."""
    press = [Move(1.6, 2.0, LIP_PRESS)]
    large = ScriptedVision(Script(duration=30.0, fps=FPS, moves=press if pressing == "large" else []))
    small = ScriptedVision(Script(duration=30.0, fps=FPS, moves=press if pressing == "small" else [], seed=1))

    class TwoFaces(ScriptedVision):
        def observe(self, frame: Frame) -> FrameObservation:
            a, b = large.observe(frame), small.observe(frame)
            little = replace(b.faces[0], face_id=0, bbox=(0.8, 0.1, 0.1, 0.15))
            return replace(a, faces=(little, replace(a.faces[0], face_id=1)))

    h = Harness([], talking=lambda t: True, vision=TwoFaces(Script(duration=1.0)))
    h.run(2.8)
    h.close()
    assert h.kinds() == (["leak"] if pressing == "large" else [])
    assert h.coach.stats.leaks_quiet == 0


# --- threads, failures ------------------------------------------------------------------------------------


class StuckVision(ScriptedVision):
    """Vision that hangs inside its first analysis until the test lets it go."""

    def __init__(self) -> None:
        super().__init__(Script(duration=30.0, fps=FPS))
        self.inside, self.release = threading.Event(), threading.Event()

    def observe(self, frame: Frame) -> FrameObservation:
        self.inside.set()
        assert self.release.wait(60.0)
        return super().observe(frame)


def test_offer_never_blocks_on_slow_vision_and_stop_is_quick() -> None:
    vision = StuckVision()
    coach = SelfCoach(lambda note: None, vision_factory=lambda: vision, max_fps=None)
    origin = time.monotonic()
    coach.start(origin)
    coach.offer(Frame(0, origin, IMAGE))
    assert vision.inside.wait(60.0)

    # The analysis is stuck: offering must still return at once, every time (a blocking offer would hang
    # this thread, so it runs on its own and must finish while vision is still stuck).
    def feed() -> None:
        for i in range(1, 60):
            coach.offer(Frame(i, origin + i / FPS, IMAGE))

    feeder = threading.Thread(target=feed)
    feeder.start()
    feeder.join(30.0)
    assert not feeder.is_alive() and not vision.release.is_set()
    stats = coach.stats
    # One frame under analysis, one waiting in the slot; every other one was replaced by a newer one.
    assert stats.offered == 60 and stats.frames == 0 and stats.dropped == 58
    vision.release.set()
    coach.stop(timeout=30.0)
    assert coach.stopped and coach.wait(0)
    stats = coach.stats
    assert stats.frames + stats.dropped + stats.skipped <= stats.offered and stats.frames >= 1
    assert coach.status.state == "stopped" and vision.closed
    coach.offer(Frame(99, origin + 5.0, IMAGE))  # after stop: ignored, no error
    assert coach.stats.offered == 60


def test_max_fps_skips_frames_to_spare_the_cpu() -> None:
    h = Harness([], max_fps=10.0)
    h.run(2.0)
    h.close()
    stats = h.coach.stats
    assert stats.frames == 20 and stats.skipped == 30


def test_a_vision_factory_that_raises_ends_in_the_error_state() -> None:
    def broken() -> ScriptedVision:
        raise RuntimeError("landmarker model missing")

    coach = SelfCoach(lambda note: None, vision_factory=broken)
    coach.start()
    assert coach.wait(2.0)
    assert coach.status.state == "error" and "landmarker model missing" in coach.status.message
    coach.offer(Frame(0, time.monotonic(), IMAGE))  # no exception out of the hook
    stats = coach.stats
    assert stats.errors == 1 and stats.error is not None
    coach.stop()
    assert coach.stopped


def test_a_listener_that_raises_ends_the_self_coach_not_the_caller() -> None:
    def listener(note: SelfNote) -> None:
        raise ValueError("panel went away")

    h = Harness([Move(1.6, 2.0, LIP_PRESS)], talking=lambda t: True)
    h.coach.listener = listener
    h.run(2.8)
    assert h.coach.wait(1.0) and h.coach.status.state == "error" and "panel went away" in h.coach.status.message
    h.close()


def test_stop_before_start_is_clean() -> None:
    coach = SelfCoach(lambda note: None, vision_factory=lambda: ScriptedVision(Script(duration=1.0)))
    coach.stop()
    assert coach.stopped and coach.wait(0) and coach.status.state == "stopped"


class PacedCamera(LiveHooks):
    kind: SourceKind = "camera"
    name = "fake camera"
    fps = 30.0
    frame_count: int | None = None

    def __init__(self, n: int) -> None:
        self.n = n
        self._stop = threading.Event()

    def frames(self) -> Iterator[Frame]:
        due = time.monotonic()
        rng = np.random.default_rng(0)
        for i in range(self.n):
            if self._stop.is_set():
                return
            due = pace(due, 1.0 / self.fps, self._stop)
            yield Frame(i, time.monotonic(), rng.integers(0, 256, (36, 64, 3), dtype=np.uint8))

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()


@pytest.mark.parametrize("fail", [False, True])
def test_as_the_pass_through_hook_the_video_is_untouched(fail: bool) -> None:
    def vision_factory() -> ScriptedVision:
        if fail:
            raise RuntimeError("no models")
        return ScriptedVision(Script(duration=30.0, fps=FPS), delay_s=0.08)

    coach = SelfCoach(lambda note: None, vision_factory=vision_factory)
    coach.start()
    sink = MemorySink(keep="none")
    passthrough = PassThrough(PacedCamera(15), sink, on_frame=coach.offer)
    passthrough.start()
    # A generous deadline: the wait ends as soon as the 15 frames are through, however loaded the machine.
    assert passthrough.wait(60.0) and passthrough.state == "ended"
    passthrough.stop()
    coach.stop()
    # The pass-through's one-frame slot may replace a frame under load: sent + dropped is what was offered.
    assert sink.count + passthrough.buffer.dropped == passthrough.buffer.put_count == 15
    assert sink.count >= 1 and passthrough.hook_errors == 0
    assert coach.status.state == ("error" if fail else "stopped")
    if not fail:
        taken = coach.stats.dropped + coach.stats.frames + coach.stats.skipped
        offered = coach.stats.offered
        assert offered == sink.count  # every frame that went out was offered, and only those
        assert coach.stats.frames >= 1 and offered - 1 <= taken <= offered  # the newest may still sit in the slot
