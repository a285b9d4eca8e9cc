"""face-api's expression net (npm tarball, TF.js uint8 weights) -> ONNX, checked against an independent numpy run.

The reference shares no code with the converter: it parses the weights manifest and the .bin itself,
dequantises, and runs face-api's graph as ``denseBlock4``/``depthwiseSeparableConv``/``fullyConnectedLayer``
define it, in NHWC float64 with TF's 'same' padding. Agreement to 1e-4 checks the byte layout, the
dequantisation, the kernel transposes, the padding, the dense-block sums, the mean subtraction and the
class reordering together. The tarball comes from the npm registry (``npm pack``); without npm the tests
skip with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
import onnxruntime as ort

from callcoach.convert.faceapi_onnx import convert_faceapi_expression
from callcoach.convert.rebuild import NpmUnavailable, fetch_npm
from callcoach.errors import ModelError
from callcoach.vision.models import MODELS
from callcoach.vision.types import APPEARANCE_CLASSES

#: Where the npm tarball is cached; CALLCOACH_TEST_NPM_CACHE points elsewhere (a read-only tests/.cache).
CACHE = Path(os.environ.get("CALLCOACH_TEST_NPM_CACHE", Path(__file__).parent / ".cache"))
SPEC = MODELS["emotion_faceapi"]
FACEAPI_ORDER = ("neutral", "happiness", "sadness", "anger", "fear", "disgust", "surprise")


@pytest.fixture(scope="session")
def tarball() -> Path:
    try:
        return fetch_npm(SPEC.wheel, CACHE)
    except NpmUnavailable as exc:
        pytest.skip(f"face-api conversion test needs npm: {exc}")
    except ModelError as exc:
        pytest.fail(f"cannot fetch {SPEC.wheel}: {exc}")


@pytest.fixture(scope="session")
def onnx_bytes(tarball: Path) -> bytes:
    return convert_faceapi_expression(tarball)


@pytest.fixture(scope="session")
def session(onnx_bytes: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])


# --- independent reference ------------------------------------------------------------------------


def reference_weights(tarball: Path) -> dict[str, np.ndarray]:
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("package/model/face_expression_model-weights_manifest.json"))  # type: ignore[arg-type]
        data = tar.extractfile("package/model/face_expression_model.bin").read()  # type: ignore[union-attr]
    weights, pos = {}, 0
    for entry in manifest[0]["weights"]:
        n = int(np.prod(entry["shape"]))
        q = entry.get("quantization")
        if q:
            raw = np.array(list(data[pos : pos + n]), dtype=np.float64)
            values, pos = raw * q["scale"] + q["min"], pos + n
        else:
            values, pos = np.array(np.frombuffer(data[pos : pos + 4 * n], "<f4"), dtype=np.float64), pos + 4 * n
        weights[entry["name"]] = values.reshape(entry["shape"])
    assert pos == len(data)
    return weights


def _same_pad(x: np.ndarray, stride: int) -> np.ndarray:
    """TF 'same' for a 3x3 kernel: pad so out = ceil(in/stride), any odd pixel on the bottom/right."""
    size = x.shape[1]
    out = -(-size // stride)
    total = max((out - 1) * stride + 3 - size, 0)
    a, b = total // 2, total - total // 2
    return np.pad(x, ((0, 0), (a, b), (a, b), (0, 0)))


def _conv(x: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    """NHWC conv with an HWIO 3x3 kernel."""
    p = _same_pad(x, stride)
    out = -(-x.shape[1] // stride)
    y = np.zeros((x.shape[0], out, out, w.shape[3]))
    for i in range(3):
        for j in range(3):
            patch = p[:, i : i + stride * out : stride, j : j + stride * out : stride, :]
            y += patch @ w[i, j]
    return y


def _depthwise(x: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    p = _same_pad(x, stride)
    out = -(-x.shape[1] // stride)
    y = np.zeros((x.shape[0], out, out, x.shape[3]))
    for i in range(3):
        for j in range(3):
            y += p[:, i : i + stride * out : stride, j : j + stride * out : stride, :] * w[i, j, :, 0]
    return y


def _relu(v: np.ndarray) -> np.ndarray:
    positive: np.ndarray = np.maximum(v, 0)
    return positive


def _separable(x: np.ndarray, w: dict[str, np.ndarray], prefix: str, stride: int) -> np.ndarray:
    y = _depthwise(x, w[f"{prefix}/depthwise_filter"], stride)
    out: np.ndarray = y @ w[f"{prefix}/pointwise_filter"][0, 0] + w[f"{prefix}/bias"]
    return out


def reference_forward(weights: dict[str, np.ndarray], rgb: np.ndarray) -> np.ndarray:
    """face-api's probabilities (its own class order) for N x 112 x 112 x 3 RGB 0..255."""
    relu = _relu
    x = (rgb.astype(np.float64) - np.array([122.782, 117.001, 104.298])) / 255
    for k in range(4):
        b = f"dense{k}"
        if k == 0:
            out1 = relu(_conv(x, weights[f"{b}/conv0/filters"], 2) + weights[f"{b}/conv0/bias"])
        else:
            out1 = relu(_separable(x, weights, f"{b}/conv0", 2))
        out2 = _separable(out1, weights, f"{b}/conv1", 1)
        out3 = _separable(relu(out1 + out2), weights, f"{b}/conv2", 1)
        out4 = _separable(relu(out1 + out2 + out3), weights, f"{b}/conv3", 1)
        x = relu(out1 + out2 + out3 + out4)
    feats = x.mean(axis=(1, 2))  # the 7x7 average pool over the whole 7x7 map
    logits = feats @ weights["fc/weights"] + weights["fc/bias"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return probs


def _ours(session: ort.InferenceSession, rgb: np.ndarray) -> np.ndarray:
    """Our ONNX output, put back into face-api's class order for the comparison."""
    probs: np.ndarray = session.run(["probs"], {"input": rgb.transpose(0, 3, 1, 2).astype(np.float32)})[0]
    return probs[:, [APPEARANCE_CLASSES.index(c) for c in FACEAPI_ORDER]]


def astronaut_face() -> np.ndarray:
    cv2 = pytest.importorskip("cv2")
    data = pytest.importorskip("skimage.data")
    face: np.ndarray = cv2.resize(data.astronaut()[30:200, 150:320], (112, 112)).astype(np.float32)
    return face


# --- tests ----------------------------------------------------------------------------------------


def test_graph_interface(session: ort.InferenceSession) -> None:
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.type, inp.shape[1:]) == ("input", "tensor(float)", [3, 112, 112])
    assert (out.name, out.type, out.shape[1:]) == ("probs", "tensor(float)", [7])


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_reference_on_random_input(tarball: Path, session: ort.InferenceSession, seed: int) -> None:
    rng = np.random.default_rng(seed)
    rgb = rng.uniform(0, 255, size=(3, 112, 112, 3))
    rgb[1:] = np.cumsum(rng.normal(0, 8, size=(2, 112, 112, 3)), axis=2) + 128
    rgb = np.clip(rgb, 0, 255).astype(np.float32)
    expected, got = reference_forward(reference_weights(tarball), rgb), _ours(session, rgb)
    assert np.max(np.abs(got - expected)) < 1e-4
    assert np.array_equal(got.argmax(axis=1), expected.argmax(axis=1))


def test_matches_reference_on_a_face(tarball: Path, session: ort.InferenceSession) -> None:
    rgb = astronaut_face()[None]
    expected, got = reference_forward(reference_weights(tarball), rgb), _ours(session, rgb)
    assert np.max(np.abs(got - expected)) < 1e-4
    assert FACEAPI_ORDER[int(got.argmax())] == "happiness"  # she is smiling


def test_conversion_is_deterministic_and_matches_registry(tarball: Path, onnx_bytes: bytes) -> None:
    assert hashlib.sha256(tarball.read_bytes()).hexdigest() == SPEC.source_sha256
    assert convert_faceapi_expression(tarball) == onnx_bytes
    assert hashlib.sha256(onnx_bytes).hexdigest() == SPEC.sha256


def test_fetch_npm_without_npm_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    def no_npm(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("npm")

    monkeypatch.setattr(subprocess, "run", no_npm)
    with pytest.raises(NpmUnavailable, match="npm is not installed"):
        fetch_npm(SPEC.wheel, tmp_path)


def test_fetch_npm_needs_a_pinned_version(tmp_path: Path) -> None:
    from callcoach.errors import UsageError

    with pytest.raises(UsageError, match="pin a version"):
        fetch_npm("npm:@vladmandic/face-api", tmp_path)


def test_rebuild_refuses_a_tarball_with_another_hash(tmp_path: Path) -> None:
    from callcoach.convert.rebuild import build

    fake = tmp_path / "vladmandic-face-api-1.7.15.tgz"  # where fetch_npm would find a cached tarball
    fake.write_bytes(b"not the pinned tarball")
    with pytest.raises(ModelError, match=SPEC.source_sha256):
        build("emotion_faceapi", SPEC, tmp_path, tmp_path)
