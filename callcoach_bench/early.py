"""Early cues measured: how often they name what the final cue names, and how much sooner they come.

Each clip goes through vision once; its observations then feed two cue engines, one with early cues and
one without, so the final cues can be checked to be identical, and every early cue checked to be settled
once, by the final cue of its name or by its withdrawal. Figures are printed, never asserted.

    python -m callcoach_bench.early --size standard --seed 1
    python -m callcoach_bench.early --video tests/.cache/pyfeat/feat/tests/data/WolfgangLanger_Pexels.mp4
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

from callcoach.cues.engine import CueEngine, EngineConfig
from callcoach.cues.vocabulary import Cue, EarlyCue, EarlyCueWithdrawn
from callcoach.sources.base import Frame
from callcoach.vision.types import FrameObservation
from callcoach_bench.megc import GroundTruth

Settled = EarlyCue | EarlyCueWithdrawn | Cue


@dataclass
class ClipResult:
    name: str
    #: Final cues with the time of the frame whose processing emitted them (None: flushed at the end).
    finals: list[tuple[Cue, float | None]]
    earlies: list[EarlyCue]
    #: Whether baseline events and final cues were exactly those of the engine without early cues.
    identical: bool
    truths: tuple[GroundTruth, ...] = ()
    #: Early cues, withdrawals and final cues in the order the engine yielded them.
    events: list[Settled] = field(default_factory=list)


def run_engines(
    name: str,
    observations: Sequence[FrameObservation],
    baseline_seconds: float = 2.0,
    truths: tuple[GroundTruth, ...] = (),
    config: EngineConfig | None = None,
) -> ClipResult:
    """The same observations through an engine without and one with early cues."""
    plain = CueEngine(EngineConfig(baseline_seconds=baseline_seconds))
    early = CueEngine(config or EngineConfig(baseline_seconds=baseline_seconds, early=True))
    reference: list[object] = []
    stream: list[object] = []
    finals: list[tuple[Cue, float | None]] = []
    earlies: list[EarlyCue] = []
    events: list[Settled] = []

    def take(event: object, t: float | None) -> None:
        if isinstance(event, (EarlyCue, EarlyCueWithdrawn, Cue)):
            events.append(event)
        if isinstance(event, EarlyCue):
            earlies.append(event)
        elif not isinstance(event, EarlyCueWithdrawn):
            stream.append(event)
            if isinstance(event, Cue):
                finals.append((event, t))

    for obs in observations:
        reference.extend(plain.update(obs))
        for event in early.update(obs):
            take(event, obs.t_s)
    reference.extend(plain.finish())
    for event in early.finish():
        take(event, None)
    return ClipResult(name, finals, earlies, reference == stream, truths, events)


def _holds(c: Cue, t: float) -> bool:
    end = c.offset_s if c.offset_s is not None else math.inf
    return c.onset_s - 1e-6 <= t <= end + 1e-6


@dataclass
class Settlement:
    """How the engine settled each early cue (indices into the early cues, in order)."""

    #: The final cue that confirmed it (same name), or that followed its "renamed" withdrawal.
    final: dict[int, Cue] = field(default_factory=dict)
    withdrawn: dict[int, EarlyCueWithdrawn] = field(default_factory=dict)
    #: Breaches of "each early cue is followed by exactly one of: a final cue of the same name holding its
    #: apex, or its withdrawal" (a "renamed" one is followed at once by a final cue of another name).
    problems: list[str] = field(default_factory=list)


def settle(events: Iterable[Settled]) -> Settlement:
    out = Settlement()
    earlies: list[EarlyCue] = []
    open_: list[int] = []
    renamed: int | None = None
    for event in events:
        if renamed is not None:
            e = earlies[renamed]
            if isinstance(event, Cue) and event.face == e.face and event.cue != e.cue and _holds(event, e.apex_s):
                out.final[renamed] = event
            else:
                out.problems.append(f"early {e.cue} at {e.t_s:.2f}s withdrawn as renamed, then {event}")
            renamed = None
        if isinstance(event, EarlyCue):
            open_.append(len(earlies))
            earlies.append(event)
        elif isinstance(event, EarlyCueWithdrawn):
            match = [i for i in open_ if event.withdraws(earlies[i])]
            if not match:
                out.problems.append(f"withdrawal of no open early cue: {event}")
                continue
            open_.remove(match[0])
            out.withdrawn[match[0]] = event
            renamed = match[0] if event.reason == "renamed" else None
        else:
            match = [
                i
                for i in open_
                if earlies[i].face == event.face and earlies[i].cue == event.cue and _holds(event, earlies[i].apex_s)
            ]
            for i in match:
                open_.remove(i)
                out.final[i] = event
            late = [
                i
                for i, w in out.withdrawn.items()
                if w.reason != "renamed"
                and earlies[i].face == event.face
                and earlies[i].cue == event.cue
                and _holds(event, earlies[i].apex_s)
            ]
            if not match and late:
                out.problems.append(f"early {event.cue} withdrawn, then confirmed by {event}")
    if renamed is not None:
        out.problems.append(f"early {earlies[renamed].cue} withdrawn as renamed, and no final cue followed")
    out.problems.extend(f"early {earlies[i].cue} at {earlies[i].t_s:.2f}s never settled" for i in open_)
    return out


def pair(result: ClipResult, settled: Settlement | None = None) -> list[tuple[EarlyCue | None, Cue | None]]:
    """Each early cue with the final cue of the same movement, as the engine settled it (None: withdrawn
    with no final cue), then the final cues without an early cue (blink clusters left out: they get none)."""
    settled = settled or settle(result.events)
    pairs: list[tuple[EarlyCue | None, Cue | None]] = [(e, settled.final.get(i)) for i, e in enumerate(result.earlies)]
    used = {id(c) for c in settled.final.values()}
    pairs.extend((None, c) for c, _ in result.finals if id(c) not in used and c.cue != "blink_cluster")
    return pairs


def _pct(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None}
    return {
        "n": len(values),
        "p50": round(float(np.percentile(values, 50)) * 1000, 1),
        "p95": round(float(np.percentile(values, 95)) * 1000, 1),
    }


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
    #: Early cues withdrawn, by reason ("renamed" ones have a final cue, of another name).
    withdrawn: Counter[str] = field(default_factory=Counter)
    #: Breaches of the settlement rule (see ``Settlement.problems``); 0 expected.
    unsettled: list[str] = field(default_factory=list)
    finals: int = 0
    finals_with_early: int = 0
    early_latency: list[float] = field(default_factory=list)
    final_latency: list[float] = field(default_factory=list)
    lead: list[float] = field(default_factory=list)
    #: Frame time of the withdrawal minus that of the early cue.
    withdrawal_delay: list[float] = field(default_factory=list)
    truth_early: Counter[str] = field(default_factory=Counter)
    truth_final: Counter[str] = field(default_factory=Counter)
    per_cue: dict[str, Counter[str]] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)

    @property
    def without_final(self) -> int:
        return sum(n for reason, n in self.withdrawn.items() if reason != "renamed")

    def add(self, result: ClipResult) -> None:
        self.clips += 1
        self.identical += result.identical
        settled = settle(result.events)
        self.unsettled.extend(f"{result.name}: {p}" for p in settled.problems)
        withdrawals = {id(result.earlies[i]): w for i, w in settled.withdrawn.items()}
        emitted = {id(c): t for c, t in result.finals}
        for e, c in pair(result, settled):
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
            w = withdrawals.get(id(e))
            if w is not None:
                self.withdrawn[w.reason] += 1
                self.withdrawal_delay.append(w.t_s - e.t_s)
                row["withdrawn"] += 1
                final = f", final {c.cue}" if c is not None else ""
                self.disagreements.append(
                    f"{result.name}: early {e.cue} at {e.t_s:.2f}s withdrawn at {w.t_s:.2f}s ({w.reason}{final})"
                )
            elif c is not None and c.cue == e.cue:
                self.agree += 1
                row["agree"] += 1
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
            "type": "bench_early",
            "clips": self.clips,
            "final_stream_identical": self.identical,
            "early_cues": self.earlies,
            "early_agree": self.agree,
            "agreement": share(self.agree, self.earlies),
            "agreement_when_final": share(self.agree, self.earlies - self.without_final),
            "withdrawn": sum(self.withdrawn.values()),
            "withdrawn_by_reason": dict(sorted(self.withdrawn.items())),
            "withdrawal_after_early_ms": _pct(self.withdrawal_delay),
            "settlement_breaches": len(self.unsettled),
            "final_cues": self.finals,
            "finals_with_early": self.finals_with_early,
            "coverage": share(self.finals_with_early, self.finals),
            "early_apex_latency_ms": _pct(self.early_latency),
            "final_apex_latency_ms": _pct(self.final_latency),
            "lead_ms": _pct(self.lead),
            "early_vs_label": share(self.truth_early["right"], self.truth_early["labelled"]),
            "final_vs_label": share(self.truth_final["right"], self.truth_final["labelled"]),
            "per_cue": {k: dict(v) for k, v in sorted(self.per_cue.items())},
            "disagreements": self.disagreements,
            "unsettled": self.unsettled,
        }


def print_report(report: Report) -> None:
    d = report.as_dict()
    el, fl, lead, wd = (
        d["early_apex_latency_ms"],
        d["final_apex_latency_ms"],
        d["lead_ms"],
        d["withdrawal_after_early_ms"],
    )
    assert isinstance(el, dict) and isinstance(fl, dict) and isinstance(lead, dict) and isinstance(wd, dict)
    print(
        f"clips {report.clips}, final cue stream identical with and without early cues: "
        f"{report.identical}/{report.clips}"
    )
    reasons = ", ".join(f"{k} {v}" for k, v in sorted(report.withdrawn.items())) or "none"
    print(
        f"early cues {report.earlies}: same name as the final cue {report.agree} ({d['agreement']}; "
        f"{d['agreement_when_final']} of those that had a final cue), withdrawn {d['withdrawn']} ({reasons}; "
        f"withdrawal after the early cue p50 {wd['p50']} ms, p95 {wd['p95']} ms)"
    )
    print(
        f"each early cue settled once (a final cue of its name or a withdrawal): "
        f"{'yes' if not report.unsettled else f'NO, {len(report.unsettled)} breaches'}"
    )
    print(
        f"final cues (blink clusters left out) {report.finals}: with an early cue {report.finals_with_early} "
        f"({d['coverage']})"
    )
    print(
        f"apex to announcement, ms p50 / p95: early {el['p50']} / {el['p95']} (n {el['n']}), "
        f"final {fl['p50']} / {fl['p95']} (n {fl['n']}); early ahead of final by p50 {lead['p50']}"
    )
    if d["early_vs_label"] is not None:
        print(f"name matches the labelled event: early {d['early_vs_label']}, final {d['final_vs_label']}")
    parts = []
    for k, v in report.per_cue.items():
        text = f"{k} {v['with_early']}/{v['final']} early, {v['agree']} agree"
        parts.append(text + (f", {v['withdrawn']} withdrawn" if v["withdrawn"] else ""))
    print("per cue: " + "; ".join(parts))
    for line in report.disagreements + report.unsettled:
        print("  " + line)


def observe(frames: Iterable[Frame]) -> list[FrameObservation]:
    from callcoach.vision.pipeline import VisionPipeline  # heavy: mediapipe + onnxruntime

    analyzer = VisionPipeline(live=False)
    try:
        return [analyzer.observe(f) for f in frames]
    finally:
        analyzer.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach_bench.early", description=__doc__.split("\n")[0])
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
        from callcoach_bench.synth import build_clip_set

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
