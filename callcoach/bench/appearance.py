"""`callcoach bench appearance [--data DIR]`: the appearance models alone on the real labelled photos.

Each photo of ``realfaces`` (KDEF, JAFFE, Yale; ``manifest.csv``) is landmarked once (Face Landmarker,
IMAGE mode) and its face is cropped several ways; each crop goes through one of the two shipped
expression CNNs:
- ``fer/haar``: fer's own pipeline (its Haar cascade, padding, squaring, 64x64 grey; ``bench posed``);
- ``fer/aligned``: the crop the live engine used before this bench (eye-levelled, mesh box x1.25);
- ``fer/<spec>`` and ``faceapi/<spec>``: the landmark crops of ``VARIANTS``;
- ``fused``: the average of the two models' log-probabilities (weight chosen on the dev half).

Scored per person half (``callcoach.bench.split.is_dev``): 7-class top-1 over every photo labelled with
one of ``APPEARANCE_CLASSES`` (neutral included); and 6-class top-1 on the expression photos, plain and
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

from callcoach.bench.split import is_dev
from callcoach.errors import SourceError
from callcoach.vision.appearance import ALIGNED, CropSpec, crop
from callcoach.vision.types import APPEARANCE_CLASSES

DEFAULT_DATA = Path("../shared/realfaces")
SOURCES = ("kdef", "jaffe", "yale")
SIX = APPEARANCE_CLASSES[:6]

#: Landmark crops measured, per model. Explored on the dev half only.
VARIANTS: dict[str, tuple[str, CropSpec]] = {
    "fer/aligned": ("fer", ALIGNED),
}


@dataclass(frozen=True)
class Photo:
    path: Path
    source: str
    subject: str
    label: str

    @property
    def dev(self) -> bool:
        return is_dev(self.subject)


def photos(data: Path, limit: int | None = None) -> list[Photo]:
    """The manifest's photos labelled with one of the seven classes (Yale's ``wink`` event is left out)."""
    manifest = data / "manifest.csv"
    try:
        with manifest.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise SourceError(f"cannot read {manifest}: {exc}") from exc
    out = [
        Photo(data / r["path"], r["path"].split("/")[0], r["subject"], r["label"])
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
    return (p / p.sum()).tolist()


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
