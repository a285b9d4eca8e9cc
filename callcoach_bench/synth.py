"""The synthetic labelled clip set for ``callcoach bench accuracy``.

A real face (scikit-image's public-domain astronaut portrait) is animated by warping it along moved
face-mesh landmarks, so every expression has a known onset, apex and offset. Each clip opens with
about 2 s of neutral face (the cue engine's baseline window), then 1-3 events at least 1 s apart;
distractor clips add talking, head turns, ordinary blinks, lighting changes, compression and camera
noise with nothing labelled. Clips render lazily, a frame at a time.

    python -m callcoach_bench.synth --out DIR [--size small|standard] [--seed N]

writes every clip as .mp4 plus ``labels.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from callcoach.cues.vocabulary import CUE_NAMES
from callcoach.errors import UsageError
from callcoach.sources.base import Frame
from callcoach_bench.faces import base_face
from callcoach_bench.megc import GroundTruth
from callcoach_bench.plan import FPS, ClipBuilder, event_shape
from callcoach_bench.render import Effects, Renderer, Track

ClipKind = Literal["cue", "distractor", "mixed"]
Slot = tuple[str, str]  # (cue, "micro" | "macro")

#: Framings the cue clips rotate through after the plain neutral one.
OTHER_BASES = ("neutral_small", "neutral_flip", "neutral_close", "smiling")
#: Cues that make sense on a face already holding an open smile; lip presses, frowns or a one-sided
#: pull would first have to undo the smile, which is a different movement from the labelled one.
ON_A_SMILE = ("duchenne_smile", "eyebrow_flash", "blink_cluster", "gaze_aversion", "micro_surprise")
#: What a "mixed" clip may add on top of its events (ordinary blinks are always there).
MIXED_POOL = ("lighting", "side_light", "jpeg", "jitter_noise", "head_turn", "talking", "soft")


@dataclass(frozen=True, eq=False)
class SynthClip:
    name: str
    fps: float
    n_frames: int
    events: tuple[GroundTruth, ...]
    kind: ClipKind
    base: str
    distractors: tuple[str, ...]
    tracks: tuple[Track, ...] = field(repr=False)
    effects: Effects = field(repr=False)

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    @property
    def size(self) -> tuple[int, int]:
        h, w = base_face(self.base).image.shape[:2]
        return w, h

    def iter_frames(self) -> Iterator[Frame]:
        """Render the clip frame by frame (RGB uint8), so only one frame is in memory at a time."""
        return iter(Renderer(base_face(self.base), self.tracks, self.effects, self.n_frames, self.fps))

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "base": self.base,
            "fps": self.fps,
            "frames": self.n_frames,
            "duration_s": round(self.duration_s, 3),
            "distractors": list(self.distractors),
            "events": [e.as_dict() for e in self.events],
        }


def _apply(builder: ClipBuilder, name: str, talk: tuple[float, float] | None, clear: list[tuple[float, float]]) -> None:
    if name == "blinks":
        builder.add_blinks(0.0, builder.duration_s, clear)
    elif name == "talking" and talk is not None:
        builder.add_talking(*talk)
    elif name == "head_turn":
        # Mild during labelled clips, and after the baseline window: people do turn while reacting,
        # but a cue clip should test the cue, not recovery from a baseline taken mid-turn.
        if clear:
            builder.add_head_turns((3.0, 8.0), 2, start=2.0)
        else:
            builder.add_head_turns((6.0, 15.0), 3)
    elif name == "head_nod_roll":
        builder.add_nods_and_roll()
    elif name in ("lighting", "side_light"):
        builder.add_lighting(side=name == "side_light")
    elif name == "jpeg":
        builder.add_compression()
    elif name == "jitter_noise":
        builder.add_jitter()
    elif name == "soft":
        builder.add_soften()


def cue_clip(
    name: str,
    kind: ClipKind,
    base: str,
    slots: Sequence[Slot],
    rng: np.random.Generator,
    distractors: Sequence[str] = (),
) -> SynthClip:
    """A clip with labelled events (and, for ``mixed``, distractors kept clear of the events)."""
    shapes = [event_shape(cue, scale, rng) for cue, scale in slots]
    t = rng.uniform(2.0, 2.3)
    talk = None
    if "talking" in distractors:
        talk = (t, t + rng.uniform(1.2, 1.8))
        t = talk[1] + rng.uniform(0.8, 1.0)
    starts = []
    for i, (length, _) in enumerate(shapes):
        starts.append(t)
        t += length + (rng.uniform(1.0, 1.4) if i < len(shapes) - 1 else 0.0)
    builder = ClipBuilder(base_face(base), max(4.0, t + rng.uniform(0.8, 1.2)), rng)
    for (cue, _), (_, shape), start in zip(slots, shapes, starts, strict=True):
        builder.add_event(cue, start, shape)
    clear = [(e.onset_s, e.offset_s) for e in builder.events]
    for d in distractors:
        _apply(builder, d, talk, clear)
    tracks, effects, events = builder.build()
    return SynthClip(name, FPS, builder.n, events, kind, base, tuple(builder.labels), tracks, effects)


def distractor_clip(name: str, base: str, kinds: Sequence[str], rng: np.random.Generator) -> SynthClip:
    """A clip with nothing labelled: every cue spotted in it is a false positive."""
    builder = ClipBuilder(base_face(base), rng.uniform(6.0, 8.0), rng)
    talk = (rng.uniform(0.5, 1.5), builder.duration_s - rng.uniform(0.3, 1.0))
    for d in kinds:
        _apply(builder, d, talk, [])
    tracks, effects, _ = builder.build()
    labels = tuple(builder.labels) or ("still",)
    return SynthClip(name, FPS, builder.n, (), "distractor", base, labels, tracks, effects)


DISTRACTORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("talk_1", "neutral", ("talking",)),
    ("talk_2", "smiling", ("talking", "head_turn")),
    ("talk_3", "neutral_small", ("talking", "jpeg")),
    ("turn_1", "neutral", ("head_turn",)),
    ("nod_roll_1", "neutral_close", ("head_nod_roll",)),
    ("blinks_1", "neutral", ("blinks",)),
    ("blinks_2", "neutral_flip", ("blinks", "jitter_noise")),
    ("light_1", "neutral", ("lighting",)),
    ("light_2", "neutral_small", ("side_light",)),
    ("jpeg_1", "neutral", ("jpeg", "blinks")),
    ("jitter_1", "neutral_close", ("jitter_noise",)),
    ("still_1", "neutral", ()),
    ("combo_1", "neutral", ("talking", "blinks", "head_turn", "jpeg")),
    ("combo_2", "neutral_flip", ("talking", "lighting", "jitter_noise")),
    ("soft_1", "neutral_small", ("soft", "blinks", "talking")),
)


def _standard(rng: np.random.Generator) -> list[SynthClip]:
    clips = []
    for i, cue in enumerate(CUE_NAMES):
        bases = [b for b in OTHER_BASES if cue in ON_A_SMILE or b != "smiling"]
        rot = [bases[(i + j) % len(bases)] for j in range(2)]
        pair: list[Slot] = [(cue, "micro"), (cue, "macro")]
        if rng.random() < 0.5:
            pair.reverse()
        clips.append(cue_clip(f"{cue}_1", "cue", "neutral", pair, rng))
        clips.append(cue_clip(f"{cue}_2", "cue", rot[0], [(cue, "micro"), (cue, "micro")], rng))
        extra = rng.choice(len(MIXED_POOL), size=int(rng.integers(1, 3)), replace=False)
        mixed = ("blinks", *(MIXED_POOL[int(j)] for j in extra))
        clips.append(cue_clip(f"{cue}_3", "mixed", rot[1], [(cue, "macro")], rng, mixed))
    for name, base, kinds in DISTRACTORS:
        clips.append(distractor_clip(f"distractor_{name}", base, kinds, rng))
    return clips


SMALL: tuple[tuple[Slot, ...], ...] = (
    (("duchenne_smile", "micro"), ("eyebrow_flash", "micro"), ("lip_compression", "macro")),
    (("polite_smile", "macro"), ("blink_cluster", "macro"), ("nose_wrinkle", "micro")),
    (("unilateral_lip_pull", "micro"), ("gaze_aversion", "macro"), ("micro_frown", "micro")),
    (("micro_anger", "micro"), ("micro_surprise", "micro")),
)


def _small(rng: np.random.Generator) -> list[SynthClip]:
    clips = [cue_clip(f"small_{i + 1}", "cue", "neutral", slots, rng) for i, slots in enumerate(SMALL)]
    clips.append(distractor_clip("distractor_talk", "neutral", ("talking", "blinks"), rng))
    clips.append(distractor_clip("distractor_turn_light", "neutral", ("head_turn", "lighting", "jpeg"), rng))
    return clips


def build_clip_set(seed: int = 0, size: str = "standard") -> list[SynthClip]:
    """The labelled clip set: "small" (6 clips, every cue once) or "standard" (48 clips: every cue
    3x micro and 2x macro across 3 clips, plus 15 distractor clips). Same seed, same clips."""
    rng = np.random.default_rng(seed)
    if size == "small":
        return _small(rng)
    if size == "standard":
        return _standard(rng)
    raise UsageError(f"unknown clip set size {size!r}; use 'small' or 'standard'")


def save_clip(clip: SynthClip, path: str | Path) -> Path:
    """Write a clip as .mp4 (mp4v) for a person to look at."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), clip.fps, clip.size)
    if not writer.isOpened():
        raise UsageError(f"cannot write video {path}")
    try:
        for frame in clip.iter_frames():
            writer.write(cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach_bench.synth", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the .mp4 files and labels.json")
    parser.add_argument("--size", choices=("small", "standard"), default="standard")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    clips = build_clip_set(args.seed, args.size)
    args.out.mkdir(parents=True, exist_ok=True)
    labels = []
    for clip in clips:
        save_clip(clip, args.out / f"{clip.name}.mp4")
        labels.append({"file": f"{clip.name}.mp4", **clip.as_dict()})
        print(f"{clip.name}: {clip.n_frames} frames, {len(clip.events)} events", file=sys.stderr)
    doc = {"seed": args.seed, "size": args.size, "fps": FPS, "clips": labels}
    (args.out / "labels.json").write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
