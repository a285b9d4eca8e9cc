"""The user's side of a live run: their webcam passed through to the virtual camera, their own face coached.

``callcoach live --vcam`` runs a ``CameraCompanion`` next to the ``LiveRunner`` that watches the other
person. The companion owns two things:

- a ``PassThrough`` (callcoach.vcam): webcam -> virtual camera, frames unchanged, at most one frame late;
- optionally a self-coach (callcoach.live.selfcoach), fed through the pass-through's ``on_frame`` hook, so
  it sees exactly the frames the call sees and never any while the privacy pause is on.

The remote run is what matters most: when the virtual camera is missing or fails, the companion says
so once (with what to do) and steps aside, and screen coaching goes on. Nothing here raises into the
runner's threads; states are reported through ``on_vcam(state, message)``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from callcoach.core.contain import contained
from callcoach.cues.vocabulary import Cue
from callcoach.sources.base import Frame, FrameSource, hooks_of

if TYPE_CHECKING:
    from callcoach.vision.selfview import SelfViewReference

_log = logging.getLogger(__name__)

#: What the panel and the jsonl show for the virtual camera (short words for the status bar).
VCAM_LABEL: dict[str, str] = {
    "starting": "camera starting",
    "live": "camera live",
    "paused": "camera private",
    "unavailable": "no virtual camera",
    "lost": "camera lost",
    "ended": "camera ended",
    "stopped": "camera off",
}


class PassThroughLike(Protocol):
    source: FrameSource
    state: str
    message: str
    on_frame: Callable[[Frame], None] | None
    on_state: Callable[[str, str], None] | None

    @property
    def paused(self) -> bool: ...

    @property
    def done(self) -> bool: ...

    def start(self) -> Any: ...

    def stop(self, timeout: float = 2.0) -> None: ...

    def toggle_privacy(self) -> bool: ...


class SelfCoachLike(Protocol):
    #: Set once its models have loaded (or failed to load).
    models_ready: threading.Event

    def start(self, origin_s: float) -> None: ...

    def offer(self, frame: Frame) -> None: ...

    def note_remote_cue(self, cue: Cue) -> None: ...

    def stop(self, timeout: float = 2.0) -> None: ...

    @property
    def stats(self) -> Any: ...


NoteCallback = Callable[[Any], None]
StateCallback = Callable[[str, str], None]
#: ``factory(on_note, remote_talking, on_status) -> self-coach`` (not started); ``on_status`` takes a
#: ``SelfStatus`` (``.state``, ``.message``) and is reported as state ``"self_" + status.state``.
SelfCoachFactory = Callable[[NoteCallback, Callable[[], bool], Callable[[Any], None]], SelfCoachLike]


class CameraCompanion:
    """Pass-through plus self-coaching, started and stopped with the live runner."""

    def __init__(
        self,
        passthrough: PassThroughLike,
        *,
        selfcoach_factory: SelfCoachFactory | None = None,
        preview_factory: Callable[[], PassThroughLike] | None = None,
    ) -> None:
        self.passthrough = passthrough
        #: Without a virtual camera, a pass-through into nowhere that keeps the self-coach fed. Only for a
        #: video file standing in for the webcam: a real webcam is released instead, for the call app.
        self._preview_factory = preview_factory
        self._selfcoach_factory = selfcoach_factory
        self.selfcoach: SelfCoachLike | None = None
        #: The self-coach's figures when it stopped (``SelfStats.as_dict()``), for the run's summary.
        self.self_stats: dict[str, Any] | None = None
        self.state = "starting"
        self.message = "starting the camera pass-through"
        self._on_note: NoteCallback = _ignore_note
        self._on_state: StateCallback = _ignore_state
        self._coaching = threading.Event()  # cleared while the user has paused coaching
        self._coaching.set()
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def privacy(self) -> bool:
        return self.passthrough.paused

    def start(
        self, origin_s: float, *, on_note: NoteCallback, on_state: StateCallback, remote_talking: Callable[[], bool]
    ) -> None:
        self._on_note, self._on_state = on_note, on_state
        if self._selfcoach_factory is not None:
            try:
                self.selfcoach = self._selfcoach_factory(on_note, remote_talking, self._self_status)
                self._hold_file(self.passthrough)
                self.selfcoach.start(origin_s)
            # Coaching the user is a bonus; the call's video must still flow, whatever the models or the
            # webcam raise (native libraries): the reason becomes one line on the panel.
            except Exception as exc:  # noqa: BLE001
                _log.debug("self-coach failed to start", exc_info=True)
                self.selfcoach = None
                self._report("self_error", f"self-coaching is off: {_one_line(exc)}")
        self.passthrough.on_frame = self._offer
        self.passthrough.on_state = self._pass_state
        try:
            self.passthrough.start()
        except Exception as exc:  # noqa: BLE001 - pyvirtualcam's backends raise anything: one line, then step aside
            _log.debug("pass-through failed to start", exc_info=True)
            self._pass_state("sink_error", _one_line(exc))

    def _hold_file(self, passthrough: PassThroughLike) -> None:
        """A video file standing in for the webcam starts once the self-coach's models have loaded, so its
        first frame is analysed (a real webcam never waits: the call must see the user at once)."""
        if self.selfcoach is not None:
            hooks_of(passthrough.source).hold_until(self.selfcoach.models_ready)

    def _start_preview(self) -> None:
        assert self._preview_factory is not None
        factory, self._preview_factory = self._preview_factory, None  # once: a failing preview is final
        try:
            preview = factory()
            preview.on_frame = self._offer
            preview.on_state = self._preview_state
            self._hold_file(preview)
            with self._lock:
                if self._stopped:
                    return
                self.passthrough = preview
            preview.start()
        except Exception as exc:  # noqa: BLE001 - as in start(): the preview is a bonus, its failure one line
            _log.debug("self-view preview failed to start", exc_info=True)
            self._stop_selfcoach()
            self._report("self_error", f"self-coaching is off: {_one_line(exc)}")

    def _preview_state(self, state: str, message: str) -> None:
        # The virtual camera is still "unavailable"; only the end of the file matters to the self-coach.
        if state in ("lost", "sink_error", "ended"):
            self._stop_selfcoach()

    def _self_status(self, status: Any) -> None:
        if status.state == "idle" and not self._coaching.is_set():
            return  # no frames because the user paused coaching: "paused" was said, not "no picture"
        self._report(f"self_{status.state}", str(status.message))

    def _offer(self, frame: Frame) -> None:
        coach = self.selfcoach
        if coach is not None and self._coaching.is_set():
            coach.offer(frame)

    def _pass_state(self, state: str, message: str) -> None:
        if state == "sink_error":
            if self._preview_factory is not None and self.selfcoach is not None and not self._stopped:
                self._report(
                    "unavailable",
                    f"{message}; coaching the other person goes on, and your own "
                    "face is still coached from the video file",
                )
                self._start_preview()
                return
            # Without a virtual camera the webcam is released (the call app may want it back) and the
            # self-coach, which only sees what the call sees, stops with it. Said first: stopping it may
            # take a moment, and the privacy key must not act on a camera that is gone meanwhile.
            self._report("unavailable", f"{message}; coaching the other person goes on")
            self._stop_selfcoach()
            return
        self._report(state, message)
        if state in ("lost", "ended"):
            self._stop_selfcoach()

    def _report(self, state: str, message: str) -> None:
        with self._lock:
            if not state.startswith("self_"):  # the self-coach's states are reported, not the camera's
                self.state = state
                self.message = message
        with contained(_log, "the camera state listener"):  # a display failing must not stop the video
            self._on_state(state, message)

    def note_remote_cue(self, cue: Cue) -> None:
        coach = self.selfcoach
        if coach is not None:
            with contained(_log, "the self-coach's note_remote_cue"):  # called on the remote runner's thread
                coach.note_remote_cue(cue)

    def set_coaching(self, on: bool) -> None:
        """Pause or resume the self-coach with the panel's pause; the video keeps flowing either way."""
        if on == self._coaching.is_set():
            return
        if on:
            self._coaching.set()
        else:
            self._coaching.clear()
        if self.selfcoach is not None:
            self._report(
                "self_paused" if not on else "self_starting",
                "self-coaching paused" if not on else "self-coaching resuming",
            )

    def toggle_privacy(self) -> bool | None:
        """Flip the privacy pause of the outgoing video; None when there is no live pass-through."""
        if self.state not in ("live", "paused", "starting") or self.passthrough.done:
            return None
        return self.passthrough.toggle_privacy()

    def _stop_selfcoach(self, timeout: float = 2.0) -> None:
        coach, self.selfcoach = self.selfcoach, None
        if coach is not None:
            with contained(_log, "stopping the self-coach"):
                coach.stop(timeout=timeout)
            with contained(_log, "reading the self-coach's statistics"):
                self.self_stats = dict(coach.stats.as_dict())

    def stop(self, timeout: float = 2.0) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        deadline = time.monotonic() + timeout
        # The send thread first: once it has ended nothing more is offered to the self-coach.
        with contained(_log, "stopping the pass-through"):  # a camera already gone must not stop the quit
            self.passthrough.stop(timeout)
        self._stop_selfcoach(max(0.0, deadline - time.monotonic()))


class UnavailableCompanion:
    """Stands in when the webcam or the virtual camera could not even be opened: says why, once, at start."""

    selfcoach = None
    self_stats: dict[str, Any] | None = None
    privacy = False

    def __init__(self, message: str) -> None:
        self.state = "unavailable"
        self.message = f"{message}; coaching the other person goes on"

    def start(
        self, origin_s: float, *, on_note: NoteCallback, on_state: StateCallback, remote_talking: Callable[[], bool]
    ) -> None:
        with contained(_log, "the camera state listener"):
            on_state(self.state, self.message)

    def note_remote_cue(self, cue: Cue) -> None:
        return None

    def set_coaching(self, on: bool) -> None:
        return None

    def toggle_privacy(self) -> bool | None:
        return None

    def stop(self, timeout: float = 2.0) -> None:
        return None


class Companion(Protocol):
    """What the live runner needs from its companion (``CameraCompanion`` or ``UnavailableCompanion``)."""

    state: str
    message: str
    self_stats: dict[str, Any] | None

    def start(
        self, origin_s: float, *, on_note: NoteCallback, on_state: StateCallback, remote_talking: Callable[[], bool]
    ) -> None: ...

    def note_remote_cue(self, cue: Cue) -> None: ...

    def set_coaching(self, on: bool) -> None: ...

    def toggle_privacy(self) -> bool | None: ...

    def stop(self, timeout: float = 2.0) -> None: ...


def _ignore_note(note: Any) -> None:
    return None


def _ignore_state(state: str, message: str) -> None:
    return None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def build_companion(
    *,
    camera: int | None,
    video: str | None,
    device: str | None,
    backend: str | None,
    self_coach: bool,
    baseline_seconds: float,
    self_view: SelfViewReference | None = None,
) -> CameraCompanion:
    """The real thing: a camera (or a paced video file standing in for one) into pyvirtualcam. ``self_view``
    (for ``--auto``) is fed the user's face by the self-coach."""
    from callcoach.vcam.passthrough import PassThrough
    from callcoach.vcam.sink import PyVirtualCamSink

    preview: Callable[[], PassThroughLike] | None = None
    if video is not None:
        from callcoach.sources.paced import PacedFileSource
        from callcoach.vcam.sink import NullSink

        source: Any = PacedFileSource(video, loop=True)
        if self_coach:

            def preview() -> PassThroughLike:
                return PassThrough(PacedFileSource(video, loop=True), NullSink())
    else:
        from callcoach.sources.camera import CameraSource

        source = CameraSource(0 if camera is None else camera)
    passthrough = PassThrough(source, PyVirtualCamSink(device=device, backend=backend))
    factory: SelfCoachFactory | None = None
    if self_coach:

        def factory(
            on_note: NoteCallback, remote_talking: Callable[[], bool], on_status: Callable[[Any], None]
        ) -> SelfCoachLike:
            from callcoach.live.selfcoach import SelfCoach

            return SelfCoach(
                on_note,
                remote_talking=remote_talking,
                on_status=on_status,
                baseline_seconds=baseline_seconds,
                on_face=self_view.update if self_view is not None else None,
            )

    return CameraCompanion(passthrough, selfcoach_factory=factory, preview_factory=preview)
