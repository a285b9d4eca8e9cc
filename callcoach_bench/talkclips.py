"""The talking gate on real speech: per second of a clip, does the engine read the face as talking when
the person speaks, and as not talking when they do not?

    python -m callcoach_bench.talkclips --labels callcoach_bench/labels/talking_speech.csv --root DIR

The labels give one row per second of a clip: ``talking``, ``silent`` or ``unsure``, judged by eye on
enlarged crops of the mouth (8 frames a second), with no detector involved (the labels file says how).
Each clip runs whole through what ``callcoach analyze`` runs; a second counts as read "talking" when the
engine's talking flag (``CueEngine.face_talking``) is up on at least half of its frames with a face.
Printed per clip: how many ``talking`` seconds were read as talking (recall), and how many ``silent``
seconds were (false alarms); ``unsure`` seconds, and seconds without a face, are left out. Nothing is
written; the clips are read where they are (see ``talking_smiles.csv`` for where they come from).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from callcoach.errors import CallcoachError, UsageError
from callcoach_bench.smileclips import label_rows

LABELS = ("talking", "silent", "unsure")


def load_labels(path: Path) -> dict[str, dict[int, str]]:
    """clip -> second -> label (lines starting with ``#`` are notes)."""
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for n, row in enumerate(label_rows(path), start=2):
        try:
            second, label, clip = int(row["second"]), row["label"].strip(), row["clip"].strip()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"cannot read the labels {path}, row {n}: {exc!r}") from exc
        if label not in LABELS or second < 0 or not clip:
            raise UsageError(f"cannot read the labels {path}, row {n}: want clip, second >= 0, label in {LABELS}")
        out[clip][second] = label
    return dict(out)


def per_second(flags: Iterable[tuple[float, bool]]) -> dict[int, bool]:
    """Whether each second was read as talking: the flag up on at least half of its frames."""
    frames: dict[int, list[bool]] = defaultdict(list)
    for t, up in flags:
        frames[int(t)].append(up)
    return {s: 2 * sum(v) >= len(v) for s, v in frames.items()}


def score(labels: dict[int, str], read: dict[int, bool]) -> dict[str, int]:
    """Counts of labelled seconds by what was read (seconds without a face are not counted)."""
    out = {"talking": 0, "talking_read": 0, "silent": 0, "silent_read": 0}
    for second, label in labels.items():
        if label == "unsure" or second not in read:
            continue
        out[label] += 1
        out[f"{label}_read"] += int(read[second])
    return out


def talking_flags(path: Path) -> list[tuple[float, bool]]:
    """(time, talking) for every frame with a face, the engine's flag for the first face."""
    from callcoach.analysis import analyze_frames
    from callcoach.cues.engine import CueEngine, EngineConfig
    from callcoach.sources.files import VideoFileSource
    from callcoach.vision.pipeline import VisionPipeline
    from callcoach.vision.types import FrameObservation

    engine = CueEngine(EngineConfig())
    vision = VisionPipeline(live=False)
    out = []
    try:
        for event in analyze_frames(VideoFileSource(path).frames(), vision, engine, path.name):
            # The engine has read the frame before its observation is yielded.
            if isinstance(event, FrameObservation) and event.faces:
                out.append((event.t_s, engine.face_talking(event.faces[0].face_id)))
    finally:
        vision.close()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach_bench.talkclips", description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", required=True, type=Path, help="one row per second: clip,second,label")
    parser.add_argument("--root", required=True, type=Path, help="the folder the labels' clip paths are under")
    args = parser.parse_args(argv)
    try:
        labels = load_labels(args.labels)
        for clip, seconds in labels.items():
            path = args.root / clip
            if not path.is_file():
                raise UsageError(f"no clip {path}: see talking_smiles.csv for how to get it")
            s = score(seconds, per_second(talking_flags(path)))
            print(
                f"{clip:32} talking read as talking {s['talking_read']:3}/{s['talking']:<3} "
                f"silent read as talking {s['silent_read']:3}/{s['silent']:<3} "
                f"(unsure left out: {sum(v == 'unsure' for v in seconds.values())})"
            )
    except CallcoachError as exc:
        print(f"talkclips: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
