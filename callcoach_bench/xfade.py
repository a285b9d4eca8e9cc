"""The real photos as pixel sequences through the `callcoach analyze` command, as a user would run it.

`callcoach bench real` and `callcoach_bench.real_seq` drive the engine in process (real_seq blends the
observations, not the pixels). This bench writes image folders and runs the product's own command line on
them, `callcoach analyze FOLDER --baseline-seconds 0 --per-frame`, the way posed neutral-to-apex
sequences are read: LEAD frames of the person's neutral photo, RAMP frames cross-fading its pixels into
the expression photo, HOLD frames of the apex (KDEF and JAFFE, the sets the issue's target is on). It
scores the per-frame reading's top emotion on the last frame ("apex") and the strongest cue's emotion
("cue"). The same items are also run as a jump (the neutral photo, then the apex at once) in the same
bench run, as the column to compare with.

A pixel cross-fade is not how a face moves: between the two photos the face is a double exposure
(two mouths, faintly). What it checks is the whole path of the product (image folder, landmarker,
tracker, occlusion memory, appearance model, engine and naming) on gradual onsets of real faces.
Each run of the command loads the models, so a sample of each label is drawn (seeded). ``--look grey`` or
``--look tile`` shows the same pairs grey or as a small compressed call tile, harder than the posed photos
as they are; ``--form slow`` ramps over 24 frames; ``--form morph`` moves the landmarks on the way
(warp, then cross-fade), so the in-between faces are single faces part-way to the apex.

    python -m callcoach_bench.xfade --data ../shared/realfaces --half dev --per-label 12 --seed 3
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from callcoach.core.argtypes import whole_number
from callcoach_bench.posed import SIX
from callcoach_bench.real import DEFAULT_DATA, Row, load_manifest, photos_by_person

FORMS = {"cross-fade": (10, 12, 4), "jump": (10, 1, 4), "slow": (10, 24, 4), "morph": (10, 12, 4)}
#: Forms whose in-between frames are morphs (the landmarks move, then the pixels cross-fade) instead of
#: plain cross-fades.
MORPHS = frozenset({"morph"})
#: How the photos are shown: as they are; grey (three equal channels, as JAFFE and Yale are, and many posed
#: sets); or as a small compressed call tile (the longer side 200 px, JPEG quality 60, frame by frame).
LOOKS = ("colour", "grey", "tile")
TILE_PX = 200
TILE_JPEG = 60
#: One folder of 26 frames takes a few seconds; far past that the command is stuck, not slow.
TIMEOUT_S = 300.0


def frames(neutral: Any, apex: Any, lead: int, ramp: int, hold: int) -> list[Any]:
    """LEAD neutral images, RAMP-1 pixel blends on the way, then HOLD apex images."""
    import cv2

    blends = [cv2.addWeighted(neutral, 1 - k / ramp, apex, k / ramp, 0) for k in range(1, ramp)]
    return [neutral] * lead + blends + [apex] * hold


def morph(neutral: Any, apex: Any, lead: int, ramp: int, hold: int) -> list[Any]:
    """As ``frames``, but each in-between frame is a morph, the way film and face research build
    in-between faces: both photos are warped onto the landmarks moved part of the way (piecewise affine
    over the face mesh, the synthetic set's warper), then cross-faded. The mouth opens and the brows rise
    on the way instead of showing two faint mouths. Raises ValueError when either photo has no face."""
    import cv2

    from callcoach.errors import UsageError
    from callcoach_bench.faces import detect_mesh, morpher

    try:
        # The photos are BGR (as OpenCV reads them); the landmarker reads RGB.
        start = detect_mesh(cv2.cvtColor(neutral, cv2.COLOR_BGR2RGB))
        end = detect_mesh(cv2.cvtColor(apex, cv2.COLOR_BGR2RGB))
    except UsageError as exc:
        raise ValueError(f"no face to morph: {exc}") from exc
    at = morpher(neutral, apex, start, end)
    return [neutral] * lead + [at(k / ramp) for k in range(1, ramp)] + [apex] * hold


def grey(image: Any) -> Any:
    import cv2

    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)


def tile(image: Any) -> Any:
    import cv2

    h, w = image.shape[:2]
    scale = TILE_PX / max(h, w)
    small = cv2.resize(image, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, TILE_JPEG])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def shown(neutral: Any, apex: Any, form: str, look: str = "colour") -> list[Any]:
    """The frames of one pair in ``form`` and ``look`` (BGR, as OpenCV reads the photos)."""
    if look not in LOOKS:
        raise ValueError(f"unknown look {look!r}: choose among {', '.join(LOOKS)}")
    if look == "grey":
        neutral, apex = grey(neutral), grey(apex)
    images = (morph if form in MORPHS else frames)(neutral, apex, *FORMS[form])
    return [tile(image) for image in images] if look == "tile" else images


def analyze(images: Sequence[Any]) -> dict[str, Any]:
    """`callcoach analyze` on a folder of ``images``: the last frame's top emotion and the strongest cue."""
    import cv2

    with tempfile.TemporaryDirectory(prefix="callcoach-xfade-") as folder:
        for i, image in enumerate(images):
            cv2.imwrite(f"{folder}/f{i:03d}.png", image)
        cmd = [sys.executable, "-m", "callcoach", "analyze", folder, "--baseline-seconds", "0", "--per-frame", "-q"]
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            return {"error": f"callcoach analyze ran past {TIMEOUT_S:.0f} s"}
    if done.returncode != 0:
        last_line = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return {"error": f"callcoach analyze failed: {last_line}"}
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    last = [line for line in lines if line.get("type") == "frame"][-1:]
    reading = last[0].get("emotion") if last else None
    cues = [line for line in lines if line.get("type") == "cue"]
    strongest = max(cues, key=lambda c: float(c.get("intensity", 0.0)), default=None)
    return {
        "top": max(SIX, key=lambda e: float(reading.get(e, 0.0))) if isinstance(reading, dict) and reading else None,
        "cue": None if strongest is None else strongest.get("cue"),
        "emotion": None if strongest is None else strongest.get("emotion"),
    }


def sample(data: Path, half: str, per_label: int, seed: int, labels: Sequence[str] = SIX) -> list[tuple[Row, Row]]:
    """(neutral, expression) photo pairs of ``half``'s people, ``per_label`` of each of ``labels``, seeded."""
    by_person, splits = photos_by_person(load_manifest(data), ("kdef", "jaffe"))
    pool: dict[str, list[tuple[Row, Row]]] = {label: [] for label in SIX}
    for (source, subject), photos in sorted(by_person.items()):
        if splits[source][subject] != half:
            continue
        neutrals = [r for r in photos if r.label == "neutral"]
        for r in photos:
            if neutrals and r.label in SIX:
                pool[r.label].append((neutrals[0], r))
    rng = random.Random(seed)
    # Every label is drawn, then filtered: a run on some labels gets the same pairs as the full run.
    drawn = {label: rng.sample(pool[label], min(per_label, len(pool[label]))) for label in SIX}
    return [pair for label in SIX if label in labels for pair in drawn[label]]


def run(
    pairs: Sequence[tuple[Row, Row]],
    out: Any = None,
    forms: Sequence[str] = ("cross-fade", "jump"),
    look: str = "colour",
) -> dict[str, Any]:
    import cv2

    items = []
    for neutral, expression in pairs:
        a, b = cv2.imread(str(neutral.path)), cv2.imread(str(expression.path))
        item: dict[str, Any] = {"file": expression.path.name, "source": expression.source, "label": expression.label}
        for form in forms:
            if a is None or b is None or a.shape != b.shape:
                item[form] = {"error": "the two photos cannot be read, or differ in size"}
            else:
                try:
                    images = shown(a, b, form, look)
                except ValueError as exc:
                    item[form] = {"error": str(exc)}
                else:
                    item[form] = analyze(images)
        items.append(item)
        if out is not None:
            print(json.dumps(item), file=out, flush=True)
    scores = {}
    for form in forms:
        # Items the command could not read are counted apart, not as misses: a broken setup must not print a
        # believable table.
        read = [i for i in items if "error" not in i[form]]
        scores[form] = {
            "n": len(read),
            "apex": sum(i[form]["top"] == i["label"] for i in read),
            "cue": sum(i[form]["emotion"] == i["label"] for i in read),
            "no_cue": sum(i[form]["cue"] is None for i in read),
            "errors": len(items) - len(read),
        }
    return {
        "forms": {f: dict(zip(("lead", "ramp", "hold"), FORMS[f], strict=True)) for f in forms},
        "look": look,
        "scores": scores,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach_bench.xfade", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--half", choices=("dev", "report"), default="dev")
    parser.add_argument("--per-label", type=whole_number(1), default=12, metavar="N")
    parser.add_argument("--seed", type=whole_number(0), default=3)
    parser.add_argument("--form", choices=tuple(FORMS), action="append", help="run only this form (repeatable)")
    parser.add_argument(
        "--look", choices=LOOKS, default="colour", help="colour (as they are), grey, or tile (small JPEG)"
    )
    parser.add_argument("--labels", default=",".join(SIX), help="comma-separated emotions (default all six)")
    parser.add_argument("--items", action="store_true", help="print every item as it is read (jsonl on stderr)")
    args = parser.parse_args(argv)
    labels = [x.strip() for x in args.labels.split(",") if x.strip()]
    if not labels or set(labels) - set(SIX):
        parser.error(f"--labels: choose among {', '.join(SIX)}")
    pairs = sample(args.data, args.half, args.per_label, args.seed, labels)
    result = run(pairs, sys.stderr if args.items else None, args.form or ("cross-fade", "jump"), args.look)
    json.dump({"half": args.half, "seed": args.seed, **result}, sys.stdout, indent=1)
    print()
    errors = sum(s["errors"] for s in result["scores"].values())
    if errors:
        print(f"{errors} runs of callcoach analyze failed (see --items)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
