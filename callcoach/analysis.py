"""Offline analysis: a frame source through vision and the cue engine, as a stream of events.

This is the seam the CLI, the benchmarks and the tests share. Vision and the cue engine are injected so
tests can replay scripted observations without a camera or a model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field, replace

from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.vocabulary import BaselineEvent, Cue, EarlyCue, EarlyCueWithdrawn
from callcoach.errors import CallcoachError
from callcoach.sources.base import Frame, FrameSource
from callcoach.vision.analyzer import FrameAnalyzer
from callcoach.vision.types import FrameObservation


@dataclass(frozen=True)
class Summary:
    frames: int
    frames_with_face: int
    duration_s: float
    faces: int
    cues: int
    cues_by_name: dict[str, int] = field(default_factory=dict)
    baseline_ready: bool = False
    source: str = ""
    #: False when the input stopped early (a corrupt frame, Ctrl-C); ``error`` says why.
    complete: bool = True
    error: str | None = None

    @property
    def face_share(self) -> float:
        return self.frames_with_face / self.frames if self.frames else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "type": "summary",
            "frames": self.frames,
            "frames_with_face": self.frames_with_face,
            "face_share": round(self.face_share, 4),
            "duration_s": round(self.duration_s, 3),
            "faces": self.faces,
            "cues": self.cues,
            "cues_by_name": dict(sorted(self.cues_by_name.items())),
            "baseline_ready": self.baseline_ready,
            "source": self.source,
            "complete": self.complete,
            **({"error": self.error} if self.error else {}),
        }


Event = FrameObservation | Cue | BaselineEvent | Summary


def analyze_frames(
    frames: Iterable[Frame],
    analyzer: FrameAnalyzer,
    engine: CueEngine,
    source_name: str = "",
) -> Generator[Event, None, None]:
    """Yield, in time order, each frame's observation, baseline changes, cues, and a final summary."""
    n = with_face = 0
    last_t = first_t = 0.0
    face_ids: set[int] = set()
    counts: Counter[str] = Counter()
    stopped: BaseException | None = None
    try:
        for frame in frames:
            obs = analyzer.observe(frame)
            if n == 0:
                first_t = obs.t_s
            n += 1
            last_t = obs.t_s
            if obs.faces:
                with_face += 1
                face_ids.update(f.face_id for f in obs.faces)
            # The engine reads the frame first so the frame line carries its action units and reading.
            events = list(engine.update(obs))
            yield with_readings(obs, engine)
            for event in events:
                if isinstance(event, (EarlyCue, EarlyCueWithdrawn)):
                    continue  # provisional, for the live panel; a file's analysis reports final cues only
                if isinstance(event, Cue):
                    counts[event.cue] += 1
                yield event
    except (CallcoachError, KeyboardInterrupt) as exc:
        # Keep what was found before a corrupt frame or Ctrl-C: flush the engine and summarise, then
        # let the caller report the error.
        stopped = exc
    for event in engine.finish():
        if isinstance(event, EarlyCueWithdrawn):
            continue
        if isinstance(event, Cue):
            counts[event.cue] += 1
        yield event
    yield Summary(
        frames=n,
        frames_with_face=with_face,
        duration_s=max(0.0, last_t - first_t),
        faces=len(face_ids),
        cues=sum(counts.values()),
        cues_by_name=dict(counts),
        baseline_ready=engine.any_baseline_ready,
        source=source_name,
        complete=stopped is None,
        error=None if stopped is None else (str(stopped) or "interrupted"),
    )
    if stopped is not None:
        raise stopped


def with_readings(obs: FrameObservation, engine: CueEngine) -> FrameObservation:
    """The observation with each face's action units and fused emotion reading from the engine."""
    if not obs.faces:
        return obs
    faces = tuple(replace(f, aus=engine.face_aus(f.face_id), reading=engine.face_reading(f.face_id)) for f in obs.faces)
    return replace(obs, faces=faces)


def analyze_source(
    source: FrameSource,
    baseline_seconds: float = 2.0,
    analyzer: FrameAnalyzer | None = None,
    engine: CueEngine | None = None,
) -> Generator[Event, None, None]:
    """Analyse a source with the shipped models (or the injected stages)."""
    if analyzer is None:
        from callcoach.vision.pipeline import VisionConfig, VisionPipeline  # heavy: mediapipe + onnxruntime

        # A folder of photos is no clip: the next photo's face may sit where the last one's did, so the
        # appearance CNN's result of one photo must never stand in for the next (video: every 2nd frame).
        period = 1 if source.kind in ("images", "image") else VisionConfig().appearance_period
        analyzer = VisionPipeline(live=False, config=VisionConfig(appearance_period=period))
    if engine is None:
        engine = CueEngine(EngineConfig(baseline_seconds=baseline_seconds))
    try:
        yield from analyze_frames(source.frames(), analyzer, engine, source_name=source.name)
    finally:
        analyzer.close()
        source.close()
