"""Spotting scores in the style of the MEGC micro-expression challenges.

A spotted interval is a true positive when its intersection-over-union with a still unmatched
ground-truth interval is at least 0.5. Matching is greedy one-to-one by IoU (best pairs first), within
one clip. Scoring is cue-aware (only intervals of the same cue match) or cue-agnostic (MEGC's own
protocol: any spotted interval may match any labelled one). The micro/macro split follows MEGC: true
positives and misses count for the labelled interval's scale, false positives for the spotted one's.

Everything here is pure: plain dataclasses in, plain dataclasses out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from callcoach.cues.vocabulary import MICRO_MAX_S, Cue, Scale

IOU_THRESHOLD = 0.5


def scale_of(duration_s: float) -> Scale:
    return "micro" if duration_s <= MICRO_MAX_S + 1e-9 else "macro"


@dataclass(frozen=True)
class GroundTruth:
    """One labelled movement in a clip (times in seconds from the clip start)."""

    cue: str
    emotion: str | None
    onset_s: float
    apex_s: float
    offset_s: float
    face: int = 0

    @property
    def scale(self) -> Scale:
        return scale_of(self.offset_s - self.onset_s)

    def as_dict(self) -> dict[str, object]:
        return {
            "cue": self.cue,
            "emotion": self.emotion,
            "scale": self.scale,
            "onset_s": round(self.onset_s, 3),
            "apex_s": round(self.apex_s, 3),
            "offset_s": round(self.offset_s, 3),
            "face": self.face,
        }


@dataclass(frozen=True)
class Prediction:
    """One spotted interval; ``offset_s`` None means still under way when the clip ended."""

    cue: str
    onset_s: float
    apex_s: float
    offset_s: float | None
    face: int = 0

    @classmethod
    def from_cue(cls, cue: Cue) -> Prediction:
        return cls(cue.cue, cue.onset_s, cue.apex_s, cue.offset_s, cue.face)


@dataclass(frozen=True)
class ClipInput:
    """What one clip contributes to a score."""

    name: str
    duration_s: float
    truths: tuple[GroundTruth, ...]
    predictions: tuple[Prediction, ...]
    #: Length of one frame. Intervals then cover [onset, offset + frame_s), so a one-frame spot has a
    #: length, as with MEGC's inclusive frame ranges. 0 treats the times as a continuous interval.
    frame_s: float = 0.0


def interval(p: Prediction | GroundTruth, clip_end_s: float, frame_s: float = 0.0) -> tuple[float, float]:
    """The [start, end) a spot or label covers; an open-ended spot runs to the end of the clip."""
    end = clip_end_s if p.offset_s is None else p.offset_s
    end = max(end, p.onset_s)
    return p.onset_s, end + frame_s


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = min(a[1], b[1]) - max(a[0], b[0])
    if inter <= 0:
        return 0.0
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def match(clip: ClipInput, cue_aware: bool = True, threshold: float = IOU_THRESHOLD) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matches as (truth index, prediction index, IoU), best IoU first."""
    truth_iv = [interval(t, clip.duration_s, clip.frame_s) for t in clip.truths]
    pred_iv = [interval(p, clip.duration_s, clip.frame_s) for p in clip.predictions]
    pairs = []
    for ti, t in enumerate(clip.truths):
        for pi, p in enumerate(clip.predictions):
            if cue_aware and t.cue != p.cue:
                continue
            if t.face != p.face:
                continue
            v = iou(truth_iv[ti], pred_iv[pi])
            if v >= threshold:
                pairs.append((-v, ti, pi))
    pairs.sort()
    used_t: set[int] = set()
    used_p: set[int] = set()
    out = []
    for neg, ti, pi in pairs:
        if ti in used_t or pi in used_p:
            continue
        used_t.add(ti)
        used_p.add(pi)
        out.append((ti, pi, -neg))
    return out


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    def as_dict(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass
class Score:
    """Counts per cue (cue-aware), overall, per scale, and per clip."""

    per_cue: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    overall: Counts = field(default_factory=Counts)
    per_scale: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    per_clip: dict[str, Counts] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "overall": self.overall.as_dict(),
            "per_scale": {k: v.as_dict() for k, v in sorted(self.per_scale.items())},
            "per_cue": {k: v.as_dict() for k, v in sorted(self.per_cue.items())},
        }


def score(clips: Iterable[ClipInput], cue_aware: bool = True, threshold: float = IOU_THRESHOLD) -> Score:
    out = Score()
    for clip in clips:
        matches = match(clip, cue_aware, threshold)
        hit_t = {ti for ti, _, _ in matches}
        hit_p = {pi for _, pi, _ in matches}
        clip_counts = Counts()
        for ti, t in enumerate(clip.truths):
            key = t.cue if cue_aware else "any"
            c = Counts(tp=1) if ti in hit_t else Counts(fn=1)
            out.per_cue[key].add(c)
            out.per_scale[t.scale].add(c)
            clip_counts.add(c)
        for pi, p in enumerate(clip.predictions):
            if pi in hit_p:
                continue
            key = p.cue if cue_aware else "any"
            start, end = interval(p, clip.duration_s)
            c = Counts(fp=1)
            out.per_cue[key].add(c)
            out.per_scale[scale_of(end - start)].add(c)
            clip_counts.add(c)
        out.per_clip[clip.name] = clip_counts
        out.overall.add(clip_counts)
    return out


def score_both(clips: Sequence[ClipInput], threshold: float = IOU_THRESHOLD) -> tuple[Score, Score]:
    """Cue-aware and cue-agnostic scores of the same clips."""
    return score(clips, True, threshold), score(clips, False, threshold)
