"""The demo's shipped clip: the small synthetic clip set, pre-rendered so a plain install can play it.

Rendering the clips needs the benchmark's face (scikit-image's astronaut portrait) and its warps, which
come with the ``bench`` extra only; ``callcoach demo`` must work from a plain ``pip install .``. So the
small set for seed 0 (every cue once, then two distractor clips with nothing to spot) is rendered once,
cropped to the face and written as a low-bitrate MPEG-4 file in ``callcoach/ui/assets/``, pinned by
sha256 like the models. Rebuild it (needs the bench extra; byte-identical with the same OpenCV build)::

    python -m callcoach.ui.demo_clip --out callcoach/ui/assets

and put the printed sha256 in ``DEMO_CLIP_SHA256``. Reading it needs OpenCV only (a runtime dependency).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from callcoach.errors import SourceError

DEMO_CLIP = Path(__file__).with_name("assets") / "demo_clips.mp4"
DEMO_CLIP_SHA256 = "5ba2571e4290f1bf90f78321a3490cf91803c920977fcc9eaac9635d6cd06f8d"
#: The rendered clips are 640x360; this square holds the face through the head turns of the distractors.
CROP = (192, 56, 256, 256)  # x, y, w, h
BITRATE = 60_000  # bits per second: about 330 KB for the 42 s set, and every cue still reads
FPS = 25.0
SEED = 0


def check_clip(path: Path = DEMO_CLIP, sha256: str = DEMO_CLIP_SHA256) -> Path:
    """``path`` if its content is the pinned one; a clear ``SourceError`` if it is missing or altered."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"the demo clip {path} cannot be read ({exc.strerror}); reinstall callcoach") from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise SourceError(
            f"the demo clip {path} is not the one this version ships (sha256 differs); reinstall callcoach"
        )
    return path


def read_frames(path: Path) -> Iterator[np.ndarray]:
    """The clip's frames in order, RGB uint8, one at a time."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise SourceError(f"the demo clip {path} cannot be decoded by this OpenCV build")
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                return
            yield cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    finally:
        capture.release()


def build(out_dir: Path, seed: int = SEED) -> Path:
    """Render the small clip set and write it as the demo clip; returns the file written."""
    from callcoach_bench.synth import build_clip_set  # bench extra: scikit-image's portrait, the warps

    x, y, w, h = CROP
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / DEMO_CLIP.name
    writer = cv2.VideoWriter(
        str(path), cv2.CAP_FFMPEG, cv2.VideoWriter.fourcc(*"mp4v"), FPS, (w, h), [cv2.VIDEOWRITER_PROP_BITRATE, BITRATE]
    )
    if not writer.isOpened():
        raise SourceError(f"cannot write {path}: this OpenCV build has no MPEG-4 encoder")
    try:
        for clip in build_clip_set(seed, "small"):
            for frame in clip.iter_frames():
                crop = frame.image[y : y + h, x : x + w]
                writer.write(np.ascontiguousarray(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR)))
    finally:
        writer.release()
    return path


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m callcoach.ui.demo_clip", description="render the demo's shipped clip (needs the bench extra)"
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to write demo_clips.mp4 into")
    args = parser.parse_args(argv)
    path = build(args.out)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    print(f"{path}: {path.stat().st_size} bytes, sha256 {digest}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
