"""The real photos as posed *sequences*: does the reading hold when the expression builds up gradually?

`callcoach bench real` shows each expression photo after 15 frames of the person's neutral photo, as a
jump. Posed-expression sets are often sequences instead (CK+-style image folders: neutral first, then the
face moving frame by frame to the apex, which ends the folder), read with `--baseline-seconds 0`. No
such sequences are in the shared set, so this bench builds them from the same observations: the neutral
photo's observation for LEAD frames, then RAMP frames blending it linearly into the expression
photo's (blendshapes, landmark measures, pose and the appearance probabilities), then HOLD frames of
the apex; the engine takes the first frame as the resting face, as `--baseline-seconds 0` does. A linear
blend is not how a face moves (muscles do not all start together), so this checks the engine's timing
rules (spotting, the held expression's 0.35 s, naming of an event still under way at the end), not vision.

    python -m callcoach_bench.real_seq --data ../shared/realfaces                  # 1 + 12 + 0 frames
    python -m callcoach_bench.real_seq --data ../shared/realfaces --form 1,12,0 --form 3,24,6
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from callcoach.vision.types import FaceObservation, FrameObservation, HeadPose
from callcoach_bench.posed import SIX
from callcoach_bench.real import DEFAULT_DATA, FPS, PHOTO_SOURCES, PhotoVision, load_manifest, photos_by_person


def _mix(a: Mapping[str, float], b: Mapping[str, float], w: float) -> dict[str, float]:
    """Each key of either side blended (a key one side lacks keeps the other side's value)."""
    return {k: (1 - w) * a.get(k, b.get(k, 0.0)) + w * b.get(k, a.get(k, 0.0)) for k in {**a, **b}}


def blend(neutral: FaceObservation, apex: FaceObservation, w: float) -> FaceObservation:
    """The observation ``w`` of the way from the neutral face to the apex (0: neutral, 1: apex)."""
    pose = HeadPose(
        *(
            (1 - w) * getattr(neutral.pose, f.name) + w * getattr(apex.pose, f.name)
            for f in dataclasses.fields(HeadPose)
        )
    )
    emotion = None
    if neutral.emotion is not None and apex.emotion is not None:
        emotion = _mix(neutral.emotion, apex.emotion, w)
    if w >= 1:
        return apex
    return dataclasses.replace(
        apex,
        bbox=neutral.bbox if w < 0.5 else apex.bbox,
        hidden=neutral.hidden if w < 0.5 else apex.hidden,
        pose=pose,
        blendshapes=_mix(neutral.blendshapes, apex.blendshapes, w),
        geometry=_mix(neutral.geometry, apex.geometry, w),
        emotion=emotion,
    )


def sequence(neutral: FaceObservation, apex: FaceObservation, lead: int, ramp: int, hold: int) -> list[FaceObservation]:
    rising = [blend(neutral, apex, (i + 1) / ramp) for i in range(ramp)]
    return [neutral] * lead + rising + [apex] * hold


def replay(faces: Sequence[FaceObservation]) -> dict[str, Any]:
    from callcoach.cues.engine import CueEngine, EngineConfig
    from callcoach.cues.vocabulary import Cue

    engine = CueEngine(EngineConfig(baseline_seconds=0.0))
    cues: list[Cue] = []
    for i, face in enumerate(faces):
        obs = FrameObservation(index=i, t_s=i / FPS, width=640, height=480, faces=(face,))
        cues.extend(e for e in engine.update(obs) if isinstance(e, Cue))
    reading = engine.face_reading(0)
    cues.extend(e for e in engine.finish() if isinstance(e, Cue))
    strongest = max(cues, key=lambda c: c.intensity, default=None)
    top = None if not reading else max((k for k in reading if k in SIX), key=lambda k: reading[k])
    return {
        "top": top,
        "cue": None if strongest is None else strongest.cue,
        "emotion": None if strongest is None else strongest.emotion,
    }


Pair = tuple[dict[str, Any], FaceObservation | None, FaceObservation | None]


def observe_pairs(data: Path) -> list[Pair]:
    """Each expression photo with its person's neutral photo, observed once (for every form)."""
    from callcoach.sources.files import read_image

    by_person, splits = photos_by_person(load_manifest(data))
    vision = PhotoVision()
    pairs: list[Pair] = []
    try:
        for (source, subject), photos in sorted(by_person.items()):
            neutrals = [r for r in photos if r.label == "neutral"]
            if not neutrals:
                continue
            neutral = vision.observe(read_image(neutrals[0].path))
            for r in (p for p in photos if p.label in SIX):
                meta = {"source": source, "split": splits[source][subject], "label": r.label, "file": r.path.name}
                pairs.append((meta, neutral, vision.observe(read_image(r.path))))
    finally:
        vision.close()
    return pairs


def run(pairs: Sequence[Pair], lead: int, ramp: int, hold: int) -> dict[str, Any]:
    items = []
    for meta, neutral, apex in pairs:
        item = dict(meta)
        if neutral is None or apex is None:
            item.update(top=None, cue=None, emotion=None)
        else:
            item.update(replay(sequence(neutral, apex, lead, ramp, hold)))
        items.append(item)
    return {"form": {"lead": lead, "ramp": ramp, "hold": hold, "fps": FPS}, "scores": score(items), "items": items}


def score(items: Sequence[dict[str, Any]]) -> dict[str, dict[str, dict[str, float | int]]]:
    out: dict[str, dict[str, dict[str, float | int]]] = {}
    for half in ("dev", "report"):
        groups = {src: [i for i in items if i["split"] == half and i["source"] == src] for src in PHOTO_SOURCES}
        groups["kdef+jaffe"] = groups["kdef"] + groups["jaffe"]
        out[half] = {
            name: {
                "n": len(g),
                "apex6": round(sum(i["top"] == i["label"] for i in g) / len(g), 3) if g else 0.0,
                "cue": round(sum(i["emotion"] == i["label"] for i in g) / len(g), 3) if g else 0.0,
                "no_cue": sum(i["cue"] is None for i in g),
            }
            for name, g in groups.items()
        }
    return out


def _form(text: str) -> tuple[int, int, int]:
    lead, ramp, hold = (int(x) for x in text.split(","))
    if lead < 1 or ramp < 1 or hold < 0:
        raise argparse.ArgumentTypeError(f"{text}: LEAD >= 1, RAMP >= 1, HOLD >= 0")
    return lead, ramp, hold


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach_bench.real_seq", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--form",
        type=_form,
        action="append",
        metavar="LEAD,RAMP,HOLD",
        help="neutral frames, frames from neutral to the apex, apex frames after (repeatable; default 1,12,0)",
    )
    parser.add_argument("--items", action="store_true", help="print every item too")
    args = parser.parse_args(argv)
    pairs = observe_pairs(args.data)
    results = [run(pairs, *form) for form in args.form or [(1, 12, 0)]]
    for result in results:
        if not args.items:
            result.pop("items")
    json.dump(results, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
