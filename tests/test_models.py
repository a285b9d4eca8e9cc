"""The model registry: finds the shipped files, pins their bytes, and says how to fix a bad one."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from callcoach.errors import ModelError
from callcoach.vision import models
from callcoach.vision.models import (
    EMOTION_INPUT,
    EMOTION_OUTPUT,
    EMOTION_SIZE,
    ENV_VAR,
    MODELS,
    clear_cache,
    file_sha256,
    model_path,
)
from callcoach.vision.types import APPEARANCE_CLASSES

REPO_MODELS = Path(__file__).resolve().parents[1] / "models"
FIX = "python -m callcoach.convert.rebuild"


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENV_VAR, raising=False)
    clear_cache()
    yield
    clear_cache()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_registry_finds_and_verifies_shipped_file(name: str) -> None:
    path = model_path(name)
    assert path.name == MODELS[name].filename
    assert file_sha256(path) == MODELS[name].sha256


def test_registry_metadata_is_complete() -> None:
    for spec in MODELS.values():
        assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0
        assert spec.licence in {"MIT", "Apache-2.0"}
        assert spec.path_in_wheel and spec.upstream
        if spec.wheel.startswith("npm:"):  # an npm package: version and tarball both pinned
            assert "@" in spec.wheel.removeprefix("npm:@") and len(spec.source_sha256) == 64
        else:
            assert "==" in spec.wheel


def test_models_readme_lists_every_hash() -> None:
    readme = (REPO_MODELS / "README.md").read_text(encoding="utf-8")
    for spec in MODELS.values():
        assert spec.filename in readme and spec.sha256 in readme and spec.wheel in readme


def test_hash_is_computed_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    model_path("emotion")
    calls: list[Path] = []

    def counted(path: Path) -> str:
        calls.append(path)
        return "x"

    monkeypatch.setattr(models, "file_sha256", counted)
    model_path("emotion")
    assert calls == []


def _copy_models(dest: Path) -> None:
    for spec in MODELS.values():
        shutil.copyfile(REPO_MODELS / spec.filename, dest / spec.filename)


def test_env_dir_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _copy_models(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert model_path("face_landmarker") == (tmp_path / "face_landmarker.task").resolve()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_tampered_copy_is_refused(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _copy_models(tmp_path)
    spec = MODELS[name]
    data = bytearray((tmp_path / spec.filename).read_bytes())
    data[len(data) // 2] ^= 0x01
    (tmp_path / spec.filename).write_bytes(bytes(data))
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    clear_cache()
    with pytest.raises(ModelError) as info:
        model_path(name)
    message = str(info.value)
    assert spec.filename in message and spec.sha256 in message and FIX in message
    assert "\n" not in message
    # The untouched model in the same directory is still fine.
    other = next(n for n in MODELS if n != name)
    assert model_path(other).parent == tmp_path.resolve()


def test_missing_file_is_refused_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path))  # an explicit directory is not silently bypassed
    with pytest.raises(ModelError) as info:
        model_path("emotion")
    message = str(info.value)
    assert "emotion_fer_minixception.onnx" in message and "missing" in message and FIX in message
    assert str(tmp_path) in message and "\n" not in message


def test_unknown_model_name() -> None:
    with pytest.raises(ModelError, match="unknown model"):
        model_path("nope")


def test_rebuild_check_passes_on_shipped_models(capsys: pytest.CaptureFixture[str]) -> None:
    from callcoach.convert.rebuild import main

    assert main(["--check", "--dest", str(REPO_MODELS)]) == 0
    assert capsys.readouterr().out.count("ok ") == len(MODELS)


def test_rebuild_check_fails_on_empty_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from callcoach.convert.rebuild import main

    assert main(["--check", "--dest", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and FIX in err


def test_emotion_model_runs_on_a_face() -> None:
    ort = pytest.importorskip("onnxruntime")
    cv2 = pytest.importorskip("cv2")
    data = pytest.importorskip("skimage.data")
    session = ort.InferenceSession(str(model_path("emotion")), providers=["CPUExecutionProvider"])
    grey = cv2.cvtColor(data.astronaut()[30:200, 150:320], cv2.COLOR_RGB2GRAY)
    crop = cv2.resize(grey, (EMOTION_SIZE, EMOTION_SIZE)).astype(np.float32)[None, None]
    (probs,) = session.run([EMOTION_OUTPUT], {EMOTION_INPUT: crop})
    assert probs.shape == (1, len(APPEARANCE_CLASSES))
    assert abs(float(probs.sum()) - 1.0) < 1e-5 and np.all(probs >= 0)
    assert APPEARANCE_CLASSES[int(probs.argmax())] == "happiness"
