"""Expression stimuli made by warping a still face along its landmark mesh (the benchmark's own warps).

Each label is a recipe of the benchmark's facial actions at apex. Needs the landmarker (a runtime
dependency) and scipy (the warp's triangulation); ``callcoach.practice.stimuli`` reports clearly when
scipy is missing. The default set is rendered once from the astronaut portrait by
``python -m callcoach.practice.expressions --out callcoach/practice/assets`` and shipped, so a plain
install never needs scikit-image.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:  # the warp modules import scipy, which only --faces and the asset build need
    from callcoach_bench.render import BaseFace
    from callcoach_bench.warp import FaceMesh

Recipe = Callable[..., np.ndarray]


def _recipes() -> dict[str, Recipe]:
    from callcoach_bench import actions as a

    def fear(mesh: FaceMesh, k: float = 1.0) -> np.ndarray:
        # Surprise's raised brows and wide eyes, with the inner brows drawn together and the lips
        # stretched sideways rather than dropped open.
        d = a.brows(mesh, 0.12 * k, 0.06 * k, inward=0.03 * k) + a.both_lids(mesh, -0.4 * k, 0.1 * k)
        d += a.corners(mesh, "r", -0.01 * k, 0.08 * k) + a.corners(mesh, "l", -0.01 * k, 0.08 * k)
        return d + a.jaw(mesh, 0.08 * k)

    return {
        # the seven emotions
        "happiness": a.duchenne_smile,
        "sadness": a.micro_frown,
        "fear": fear,
        "disgust": a.nose_wrinkle,
        "anger": a.micro_anger,
        "surprise": a.micro_surprise,
        "contempt": a.unilateral_lip_pull,
        # the cue vocabulary (single-frame cues only: a blink burst or a glance away is a movement in time)
        "duchenne_smile": a.duchenne_smile,
        "polite_smile": a.polite_smile,
        "eyebrow_flash": a.eyebrow_flash,
        "lip_compression": a.lip_compression,
        "unilateral_lip_pull": a.unilateral_lip_pull,
        "nose_wrinkle": a.nose_wrinkle,
        "micro_frown": a.micro_frown,
        "micro_anger": a.micro_anger,
        "micro_surprise": a.micro_surprise,
    }


def render_expressions(base: BaseFace, labels: Sequence[str], strength: float = 1.0) -> dict[str, np.ndarray]:
    """``{"neutral": image, label: image, ...}`` (RGB) for one ``BaseFace``."""
    from callcoach_bench.render import Effects, Renderer, Track

    recipes = _recipes()
    out = {"neutral": np.ascontiguousarray(base.image)}
    for label in labels:
        disp = recipes[label](base.mesh, strength)
        renderer = Renderer(base, (Track(disp, np.ones(1)),), Effects(), 1, 25.0)
        out[label] = renderer.frame(0)
    return out


def face_box(base: BaseFace, size: int) -> tuple[int, int, int, int]:
    """A square (x, y, w, h) around the face, ``size`` pixels or as large as the image allows."""
    h, w = base.image.shape[:2]
    cx, cy = base.mesh.origin
    cy += 0.55 * base.mesh.unit  # eye midpoint -> middle of the face
    side = min(size, w, h)
    x = int(np.clip(round(cx - side / 2), 0, w - side))
    y = int(np.clip(round(cy - side / 2), 0, h - side))
    return x, y, side, side


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m callcoach.practice.expressions",
        description="render the shipped practice stimuli (needs the dev extra)",
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", type=int, default=300)
    # A little past the benchmark's apex: a 40 ms flash of a faint warp is unreadable to anyone.
    parser.add_argument("--strength", type=float, default=1.3)
    args = parser.parse_args(argv)
    from callcoach_bench.faces import base_face

    base = base_face("neutral")
    images = render_expressions(base, list(_recipes()), args.strength)
    x, y, w, h = face_box(base, args.size)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {
        "source": "scikit-image astronaut portrait (public domain), neutralised and warped by callcoach_bench",
        "files": {},
    }
    files: dict[str, str] = {}
    for label, image in images.items():
        crop = cv2.cvtColor(image[y : y + h, x : x + w], cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 92])
        if not ok:
            raise SystemExit(f"cannot encode {label}")
        data = buf.tobytes()
        (args.out / f"{label}.jpg").write_bytes(data)
        files[label] = hashlib.sha256(data).hexdigest()
    manifest["files"] = files
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{len(files)} stimuli in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
