"""Stimulus images for the recognition test: the shipped set, the user's own faces warped, labelled photos.

- built in: ``assets/`` holds the astronaut portrait neutralised and warped into each label (rendered by
  ``callcoach.practice.expressions``); each file is checked against the sha256 in ``manifest.json``.
- ``--faces DIR``: photos (or the first frame of videos) of faces, warped the same way at start-up. That
  needs the landmarker (shipped) and scipy (the warp's triangulation); without scipy it is one clear error.
- ``--photos DIR``: labelled photos the user already has, neutral plus expressions per person; labels from
  ``labels.csv`` (``file,person,label``) or file names ``PERSON_LABEL.jpg``.

Images live in memory only while the test runs; nothing is written anywhere.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from callcoach.practice.drill import LABELS, NONE, Mode, PracticeError

ASSETS = Path(__file__).with_name("assets")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")
SIDE = 360  # shown size: the face is scaled to this square once, at load time, never during a flash


@dataclass
class StimulusSet:
    #: face name -> label (and "neutral") -> BGR image, all SIDE x SIDE.
    faces: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def labels_by_face(self) -> dict[str, tuple[str, ...]]:
        return {f: tuple(k for k in imgs if k != "neutral") for f, imgs in self.faces.items()}

    def image(self, face: str, label: str) -> np.ndarray:
        imgs = self.faces[face]
        return imgs["neutral"] if label == NONE else imgs[label]


def _fit(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    side = min(h, w)
    y, x = (h - side) // 2, (w - side) // 2
    return np.ascontiguousarray(
        cv2.resize(
            image[y : y + side, x : x + side],
            (SIDE, SIDE),
            interpolation=cv2.INTER_AREA if side > SIDE else cv2.INTER_CUBIC,
        )
    )


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise PracticeError(f"{path}: not a readable image")
    return image


def builtin(mode: Mode) -> dict[str, np.ndarray]:
    try:
        manifest = json.loads((ASSETS / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise PracticeError(f"the built-in practice faces are missing ({ASSETS}/manifest.json); reinstall") from exc
    out = {}
    for label in ("neutral", *LABELS[mode]):
        path = ASSETS / f"{label}.jpg"
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PracticeError(f"the built-in practice face {path.name} is missing; reinstall callcoach") from exc
        if hashlib.sha256(data).hexdigest() != manifest["files"].get(label):
            raise PracticeError(f"the built-in practice face {path.name} is altered (sha256); reinstall callcoach")
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise PracticeError(f"the built-in practice face {path.name} cannot be decoded; reinstall callcoach")
        out[label] = _fit(image)
    return out


def _label_of(word: str, mode: Mode) -> str | None:
    from callcoach.errors import UsageError
    from callcoach.practice.drill import parse_answer

    if word.lower() in ("neutral", "rest", "calm"):
        return "neutral"
    try:
        label = parse_answer(word, mode)
    except UsageError:
        return None
    return None if label == NONE else label


def photos(directory: str, mode: Mode) -> dict[str, dict[str, np.ndarray]]:
    root = Path(directory)
    if not root.is_dir():
        raise PracticeError(f"--photos {directory}: not a folder")
    entries: list[tuple[Path, str, str]] = []
    table = root / "labels.csv"
    if table.exists():
        with table.open(newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh), start=2):
                if not {"file", "person", "label"} <= set(row):
                    raise PracticeError(f"{table}: the header must name file, person and label")
                label = _label_of(row["label"], mode)
                if label is None:
                    continue  # a label of the other vocabulary, or one the test does not use
                entries.append((root / row["file"], row["person"], label))
                if not (root / row["file"]).exists():
                    raise PracticeError(f"{table} line {i}: {row['file']} does not exist")
    else:
        for path in sorted(root.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            person, _, word = path.stem.rpartition("_")
            label = _label_of(word, mode) if person else None
            if label is not None:
                entries.append((path, person, label))
    faces: dict[str, dict[str, np.ndarray]] = {}
    for path, person, label in entries:
        faces.setdefault(person, {})[label] = _fit(_read(path))
    faces = {p: imgs for p, imgs in faces.items() if "neutral" in imgs and len(imgs) > 1}
    if not faces:
        raise PracticeError(
            f"--photos {directory}: no person with a neutral photo and at least one {mode} "
            "expression (labels.csv with file,person,label, or names like anna_neutral.jpg, "
            "anna_happiness.jpg)"
        )
    return faces


def _first_frame(path: Path) -> np.ndarray:
    if path.suffix.lower() in VIDEO_SUFFIXES:
        cap = cv2.VideoCapture(str(path))
        ok, frame = cap.read()
        cap.release()
        if not ok:
            raise PracticeError(f"{path}: no frame could be read")
        return frame
    return _read(path)


def warped_faces(directory: str, mode: Mode) -> dict[str, dict[str, np.ndarray]]:
    root = Path(directory)
    if not root.is_dir():
        raise PracticeError(f"--faces {directory}: not a folder")
    try:
        import scipy.spatial  # noqa: F401  # the warp's triangulation
    except ImportError as exc:
        raise PracticeError(
            "--faces warps your photos along the face mesh, which needs scipy: "
            "pip install 'callcoach[bench]' (or use the built-in faces or --photos)"
        ) from exc
    from callcoach.errors import UsageError
    from callcoach.practice.expressions import face_box, render_expressions
    from callcoach_bench import actions
    from callcoach_bench.eyes import iris_model, without_irises
    from callcoach_bench.faces import detect_mesh, make_warper
    from callcoach_bench.render import EYES, BaseFace
    from callcoach_bench.warp import lid_skin

    out: dict[str, dict[str, np.ndarray]] = {}
    for path in sorted(root.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES + VIDEO_SUFFIXES:
            continue
        rgb = np.ascontiguousarray(cv2.cvtColor(_first_frame(path), cv2.COLOR_BGR2RGB))
        try:
            mesh = detect_mesh(rgb)
        except UsageError:
            continue  # no face in it: skipped, and said so below if nothing is left
        skins = tuple(lid_skin(rgb, mesh, upper) for upper, _ in EYES)
        irises = (
            iris_model(rgb, mesh, actions.LIDS["r"], actions.IRIS["r"]),
            iris_model(rgb, mesh, actions.LIDS["l"], actions.IRIS["l"]),
        )
        base = BaseFace(path.stem, rgb, mesh, make_warper(rgb, mesh), skins, irises, without_irises(rgb, mesh, irises))
        rendered = render_expressions(base, LABELS[mode], 1.3)
        # A square around the face (about 3.5 eye distances), not the whole photo.
        x, y, w, h = face_box(base, int(3.5 * mesh.unit))
        out[path.stem] = {
            k: _fit(cv2.cvtColor(v[y : y + h, x : x + w], cv2.COLOR_RGB2BGR)) for k, v in rendered.items()
        }
    if not out:
        raise PracticeError(f"--faces {directory}: no photo or video there shows a face the landmarker finds")
    return out


def load_stimuli(mode: Mode, *, faces_dir: str | None = None, photos_dir: str | None = None) -> StimulusSet:
    # The user's own faces replace the built-in one: training on the faces one meets is the point of them.
    s = StimulusSet({} if faces_dir or photos_dir else {"builtin": builtin(mode)})
    if faces_dir:
        s.faces.update(warped_faces(faces_dir, mode))
    if photos_dir:
        s.faces.update(photos(photos_dir, mode))
    return s
