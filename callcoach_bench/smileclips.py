"""Smile presence on real talking clips: does a clip (or a window of one) get a smile cue when the person
smiles in it, and none when they do not? The figure the issue's independent check asks for (smile presence
F1 on real talking clips), on the only real talking video this machine can get.

    python -m callcoach_bench.smileclips --labels callcoach_bench/labels/talking_smiles.csv --root DIR

Each labels row is one item: a clip (relative to ``--root``), a window ``start_s``-``end_s`` of it, and
whether the person smiles or laughs in that window (1/0), as judged by eye. Each window runs as a clip of
its own through what ``callcoach analyze`` runs (a fresh vision pipeline and cue engine, the default 2 s
baseline), so a window that opens on a smile is read as a clip that opens on one. Smile present: any
``duchenne_smile`` or ``polite_smile`` cue. In the same command, the peer: fer's pipeline (its face box,
crop and CNN, as ``bench real`` reproduces it) on every second frame, smile present when happiness is its
top class for ``HELD_S`` in a row (the engine's own shortest held expression); and answering "smile"
every time. Nothing is written; the clips are read where they are (their licences are in the labels file).

Two asymmetries to keep in mind: presence is scored per window, so a cue anywhere in a window counts
(not only inside the labelled smile), and a callcoach cue counts however short it is (its spotters
already require a movement to last), while fer's frames must agree for ``HELD_S``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callcoach.errors import CallcoachError, UsageError

SMILE_CUES = ("duchenne_smile", "polite_smile")
HELD_S = 0.35


@dataclass(frozen=True)
class Item:
    clip: str
    start_s: float
    end_s: float
    smile: bool


def label_rows(path: Path) -> list[dict[str, str]]:
    """A labels CSV's rows, numbered from 2 as in the file's header line 1 (lines starting with ``#`` are notes)."""
    try:
        lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the labels {path}: {exc}") from exc
    return list(csv.DictReader(lines))


def load_labels(path: Path) -> list[Item]:
    """The labelled windows (lines starting with ``#`` are notes)."""
    items = []
    for n, r in enumerate(label_rows(path), start=2):
        try:
            start, end, smile = float(r["start_s"]), float(r["end_s"]), r["smile"].strip()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(f"cannot read the labels {path}, row {n}: {exc!r}") from exc
        if smile not in ("0", "1") or not (0.0 <= start < end < math.inf) or not r.get("clip"):
            raise UsageError(f"cannot read the labels {path}, row {n}: want clip, 0 <= start_s < end_s, smile 0 or 1")
        items.append(Item(r["clip"], start, end, smile == "1"))
    return items


def scores(truth: Sequence[bool], said: Sequence[bool]) -> dict[str, float | int]:
    """Precision, recall and F1 of "smile present" (the positive class)."""
    tp = sum(t and s for t, s in zip(truth, said, strict=True))
    fp = sum(s and not t for t, s in zip(truth, said, strict=True))
    fn = sum(t and not s for t, s in zip(truth, said, strict=True))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def held(flags: Sequence[tuple[float, bool]], seconds: float = HELD_S) -> bool:
    """Whether the flag is up on consecutive samples spanning at least ``seconds``."""
    since: float | None = None
    for t, up in flags:
        if not up:
            since = None
            continue
        since = t if since is None else since
        if t - since >= seconds:
            return True
    return False


def run_items(items: Sequence[Item], root: Path) -> list[dict[str, Any]]:
    """Each window through callcoach and through fer; what each said."""
    from callcoach.analysis import analyze_frames
    from callcoach.cues.engine import CueEngine, EngineConfig
    from callcoach.cues.vocabulary import Cue
    from callcoach.sources.base import Frame
    from callcoach.sources.files import VideoFileSource
    from callcoach.vision.pipeline import VisionPipeline
    from callcoach_bench.real import FerPeer

    fer = FerPeer(None, root)
    out = []
    for item in items:
        path = root / item.clip
        if not path.is_file():
            raise UsageError(f"no clip {path}: see the labels file for how to get it")
        frames = []
        for f in VideoFileSource(path).frames():
            if f.t_s >= item.end_s:
                break  # frames come in time order: no need to decode the rest of the file
            if f.t_s >= item.start_s:
                frames.append(Frame(index=f.index, t_s=f.t_s - item.start_s, image=f.image))
        if not frames:
            raise UsageError(f"no frames in {item.clip} between {item.start_s} and {item.end_s} s")
        vision = VisionPipeline(live=False)
        try:
            cues = [
                e
                for e in analyze_frames(iter(frames), vision, CueEngine(EngineConfig()), item.clip)
                if isinstance(e, Cue)
            ]
        finally:
            vision.close()
        smiles = [c for c in cues if c.cue in SMILE_CUES]
        fer_flags = []
        for f in frames[::2]:
            probs = fer.probs(f.image)
            fer_flags.append((f.t_s, probs is not None and max(probs, key=probs.__getitem__) == "happiness"))
        out.append(
            {
                "clip": item.clip,
                "start_s": item.start_s,
                "end_s": item.end_s,
                "smile": item.smile,
                "callcoach": bool(smiles),
                "fer": held(fer_flags),
                "smile_cues": [(c.cue, round(c.onset_s, 2)) for c in smiles],
            }
        )
    return out


def report(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    truth = [r["smile"] for r in rows]
    return {
        "items": len(rows),
        "with_smile": sum(truth),
        "callcoach": scores(truth, [r["callcoach"] for r in rows]),
        "fer": scores(truth, [r["fer"] for r in rows]),
        "always_smile": scores(truth, [True] * len(rows)),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach_bench.smileclips", description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", required=True, type=Path, help="the labelled windows (CSV)")
    parser.add_argument("--root", required=True, type=Path, help="the folder the labels' clip paths are under")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    args = parser.parse_args(argv)
    try:
        rows = run_items(load_labels(args.labels), args.root)
    except CallcoachError as exc:
        print(f"smileclips: {exc}", file=sys.stderr)
        return 2
    summary = report(rows)
    if args.format == "json":
        print(json.dumps({"summary": summary, "rows": rows}, indent=1))
        return 0

    def mark(b: bool) -> str:
        return "smile" if b else "-"

    for r in rows:
        print(
            f"{r['clip']:32} {r['start_s']:6.1f}-{r['end_s']:6.1f}  label {mark(r['smile']):5}  "
            f"callcoach {mark(r['callcoach']):5}  fer {mark(r['fer']):5}  {r['smile_cues']}"
        )
    print(f"{summary['items']} items, {summary['with_smile']} with a smile")
    for who in ("callcoach", "fer", "always_smile"):
        s = summary[who]
        counts = f"TP {s['tp']:3} FP {s['fp']:3} FN {s['fn']:3}"
        print(f"{who:13} {counts}  P {s['precision']:.2f}  R {s['recall']:.2f}  F1 {s['f1']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
