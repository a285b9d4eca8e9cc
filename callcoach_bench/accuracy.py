"""``callcoach bench accuracy``: run the cue detector on the synthetic labelled set and score it.

Scores follow the MEGC spotting protocol (``callcoach_bench.megc``): cue-aware per cue and overall,
cue-agnostic overall, a micro/macro split, and the false positives each kind of distractor caused.
Figures are printed, never asserted: this is a measuring instrument for tuning, not a test.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO

from callcoach.core.argtypes import whole_number
from callcoach.cues.vocabulary import CUE_NAMES, Cue
from callcoach_bench.megc import ClipInput, Counts, Prediction, Score, match, score_both
from callcoach_bench.synth import SynthClip, build_clip_set

#: Runs one clip through a detector and returns what it spotted.
RunFn = Callable[[SynthClip], Iterable[Cue | Prediction]]


@dataclass(frozen=True)
class ClipRun:
    name: str
    kind: str
    distractors: tuple[str, ...]
    duration_s: float
    frames: int
    truths: int
    predictions: tuple[Prediction, ...]
    wall_s: float


@dataclass
class DistractorStats:
    clips: int = 0
    seconds: float = 0.0
    false_positives: int = 0
    by_cue: Counter[str] = field(default_factory=Counter)

    @property
    def per_minute(self) -> float:
        return 60.0 * self.false_positives / self.seconds if self.seconds else 0.0


@dataclass
class Report:
    aware: Score
    agnostic: Score
    runs: list[ClipRun]
    distractors: dict[str, DistractorStats]
    wall_s: float

    @property
    def frames(self) -> int:
        return sum(r.frames for r in self.runs)

    def as_dict(self) -> dict[str, object]:
        return {
            "type": "bench_accuracy",
            "cue_aware": self.aware.as_dict(),
            "cue_agnostic": {k: v for k, v in self.agnostic.as_dict().items() if k != "per_cue"},
            "distractors": {
                k: {
                    "clips": v.clips,
                    "seconds": round(v.seconds, 2),
                    "false_positives": v.false_positives,
                    "per_minute": round(v.per_minute, 3),
                    "by_cue": dict(sorted(v.by_cue.items())),
                }
                for k, v in sorted(self.distractors.items())
            },
            "clips": [
                {
                    "name": r.name,
                    "kind": r.kind,
                    "truths": r.truths,
                    "predictions": [p.cue for p in r.predictions],
                    **self.aware.per_clip[r.name].as_dict(),
                }
                for r in self.runs
            ],
            "frames": self.frames,
            "wall_s": round(self.wall_s, 3),
        }


def _as_prediction(item: Cue | Prediction) -> Prediction:
    return Prediction.from_cue(item) if isinstance(item, Cue) else item


def score_clips(clips: Sequence[SynthClip], run_fn: RunFn) -> Report:
    """Run every clip through ``run_fn`` and score what it spotted against the labels."""
    start = time.perf_counter()
    runs, inputs = [], []
    for clip in clips:
        t0 = time.perf_counter()
        preds = tuple(_as_prediction(p) for p in run_fn(clip))
        runs.append(
            ClipRun(
                clip.name,
                clip.kind,
                clip.distractors,
                clip.duration_s,
                clip.n_frames,
                len(clip.events),
                preds,
                time.perf_counter() - t0,
            )
        )
        inputs.append(ClipInput(clip.name, clip.duration_s, clip.events, preds, frame_s=1.0 / clip.fps))
    aware, agnostic = score_both(inputs)
    distractors: dict[str, DistractorStats] = {}
    for clip_in, run in zip(inputs, runs, strict=True):
        matched = {pi for _, pi, _ in match(clip_in, cue_aware=True)}
        false = [p for i, p in enumerate(clip_in.predictions) if i not in matched]
        for label in run.distractors:
            stats = distractors.setdefault(label, DistractorStats())
            stats.clips += 1
            stats.seconds += run.duration_s
            stats.false_positives += len(false)
            stats.by_cue.update(p.cue for p in false)
    return Report(aware, agnostic, runs, distractors, time.perf_counter() - start)


def pipeline_run_fn(baseline_seconds: float = 2.0) -> RunFn:
    """The real detector: vision pipeline and cue engine, fresh for every clip (a clip is a new call)."""
    from callcoach.analysis import analyze_frames
    from callcoach.cues.engine import CueEngine, EngineConfig
    from callcoach.vision.pipeline import VisionPipeline

    def run(clip: SynthClip) -> list[Cue]:
        analyzer = VisionPipeline(live=False)
        try:
            engine = CueEngine(EngineConfig(baseline_seconds=baseline_seconds))
            return [e for e in analyze_frames(clip.iter_frames(), analyzer, engine, clip.name) if isinstance(e, Cue)]
        finally:
            analyzer.close()

    return run


def _counts_row(name: str, c: Counts) -> list[str]:
    return [name, str(c.tp), str(c.fp), str(c.fn), f"{c.precision:.2f}", f"{c.recall:.2f}", f"{c.f1:.2f}"]


def print_table(report: Report, out: IO[str] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out or sys.stdout)
    head = ("", "TP", "FP", "FN", "P", "R", "F1")

    def table(title: str, rows: Iterable[list[str]]) -> Table:
        t = Table(title=title, title_justify="left")
        for i, h in enumerate(head):
            t.add_column(h, justify="left" if i == 0 else "right")
        for row in rows:
            t.add_row(*row)
        return t

    cues = [c for c in CUE_NAMES if c in report.aware.per_cue] + sorted(
        c for c in report.aware.per_cue if c not in CUE_NAMES
    )
    console.print(table("Per cue (cue-aware, IoU >= 0.5)", (_counts_row(c, report.aware.per_cue[c]) for c in cues)))
    console.print(
        table(
            "Overall",
            [
                _counts_row("cue-aware", report.aware.overall),
                _counts_row("cue-agnostic (MEGC)", report.agnostic.overall),
            ],
        )
    )
    scale_rows = []
    for scale in ("micro", "macro"):
        scale_rows.append(_counts_row(f"{scale}, cue-aware", report.aware.per_scale.get(scale, Counts())))
        scale_rows.append(_counts_row(f"{scale}, cue-agnostic", report.agnostic.per_scale.get(scale, Counts())))
    console.print(table("Micro / macro", scale_rows))
    fp = Table(title="False positives by distractor (clips that contain it)", title_justify="left")
    for h in ("distractor", "clips", "seconds", "FP", "FP/min", "cues"):
        fp.add_column(h, justify="left" if h in ("distractor", "cues") else "right")
    for label, s in sorted(report.distractors.items()):
        cues_text = ", ".join(f"{c} {n}" for c, n in s.by_cue.most_common())
        fp.add_row(
            label, str(s.clips), f"{s.seconds:.0f}", str(s.false_positives), f"{s.per_minute:.2f}", cues_text or "-"
        )
    console.print(fp)
    fps = report.frames / report.wall_s if report.wall_s else 0.0
    console.print(f"{len(report.runs)} clips, {report.frames} frames in {report.wall_s:.1f} s ({fps:.1f} frames/s)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--size",
        choices=("small", "standard"),
        default="standard",
        help="clip set: small (6 clips, quick) or standard (48 clips; default)",
    )
    parser.add_argument("--seed", type=whole_number(0), default=0, help="seed of the synthetic set (default 0)")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output (default table)")
    parser.add_argument(
        "--baseline-seconds",
        type=float,
        default=2.0,
        metavar="S",
        help="seconds of each clip used as the neutral baseline (default 2.0)",
    )


def main(args: argparse.Namespace | Sequence[str] | None = None) -> int:
    if not isinstance(args, argparse.Namespace):
        parser = argparse.ArgumentParser(prog="callcoach bench accuracy", description=__doc__.split("\n")[0])
        add_arguments(parser)
        args = parser.parse_args(args)
    try:
        clips = build_clip_set(args.seed, args.size)
    except ModuleNotFoundError as exc:  # scikit-image is a dev dependency
        from callcoach.errors import CallcoachError

        raise CallcoachError(f"the benchmark set needs '{exc.name}'; install it with pip install -e '.[dev]'") from exc
    report = score_clips(clips, pipeline_run_fn(args.baseline_seconds))
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
